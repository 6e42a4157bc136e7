/**
 * The per-record sides of `npm run bench -- kafka` (bench/kafka.ts): what each format's records are and how the
 * baseline reads them, and the monitor. In a module of their own so that the benchmark can run them as esbuild
 * bundles them (as dist/agent.js ships them; the fetch thread then runs its own bundle beside this one) rather
 * than through tsx's per-module transform.
 */
import { KafkaSource } from '../server/sources/kafka';
import { RealtimePipeline } from '../server/engine/pipeline';
import { resolvePipelineConfig } from '../server/engine/config';
import type { SourceMessage, StreamSource } from '../server/sources/types';
import { silentLogger } from '../server/sources/types';
import { WIRE_HEADER } from '../server/decode/wire';
import type { DecodeSettings } from '../server/decode/types';
import { orderEvent } from './records';
import { ORDER_EVENT_SCHEMA, avroEncoder, schemaFolder, stageDecoder } from './avro';
import { PARTITIONS, RECORDS } from './kafkaTopic';

/** Milliseconds per 100 records before the pipeline gives up (the default, 50, is for editors sharing a machine). */
const BUDGET_MS_PER_100 = 1000;

/** How one benchmark format writes and reads its records. */
export interface Format {
  topic: string;
  /** The bytes of record i. */
  encode(i: number): Buffer | string;
  /** What the baseline does with a value: parse or decode it, and read a field. */
  read(value: Buffer): number;
  /** The monitor's decode settings (undefined: the pipeline's default, auto). */
  decode?: DecodeSettings;
}

export function formatOf(name: 'json' | 'avro'): Format {
  if (name === 'json') {
    return { topic: `bench-kafka-${RECORDS}-p${PARTITIONS}-v1`, encode: (i) => orderEvent(i, 20), read: (v) => (JSON.parse(v.toString()) as { items: number }).items };
  }
  const encode = avroEncoder(ORDER_EVENT_SCHEMA);
  const decoder = stageDecoder(ORDER_EVENT_SCHEMA);
  return {
    topic: `bench-kafka-avro-${RECORDS}-p${PARTITIONS}-v1`,
    encode: (i) => encode(orderEvent(i, 20)),
    read: (v) => decoder.decode(v, WIRE_HEADER).items as number,
    decode: { format: 'avro', schemas: [schemaFolder({ 'order-event': ORDER_EVENT_SCHEMA })] },
  };
}

/** Times the monitor from its first batch: a pass-through wrapper around the real source. */
class FirstBatchClock implements StreamSource {
  first = 0;
  constructor(private readonly inner: StreamSource) {}
  get description(): string {
    return this.inner.description;
  }
  connect(): Promise<void> {
    return this.inner.connect();
  }
  async *consume(): AsyncIterable<SourceMessage[]> {
    for await (const batch of this.inner.consume()) {
      if (this.first === 0) this.first = performance.now();
      yield batch;
    }
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

export async function monitor(brokers: string[], fetchThread: boolean, f: Format): Promise<{ rps: number; score: number }> {
  const ctx = { log: silentLogger, status: () => {}, secret: async () => undefined };
  const kafkaSource = new KafkaSource({ backend: 'kafka', brokers, topic: f.topic, from: { kind: 'earliest' } }, ctx, { fetchThread });
  const source = new FirstBatchClock(kafkaSource);
  // The check budget pauses a pipeline whose slices run long; on a loaded shared machine a descheduled slice
  // can trip it, and a paused bench would wait forever: a wide budget, and a failure with the figures past it.
  const config = resolvePipelineConfig({ checkBudgetMs: BUDGET_MS_PER_100 });
  const pipeline = new RealtimePipeline('bench', source, config, { limit: RECORDS, overBudget: 'fail', ...(f.decode ? { decode: f.decode } : {}) });
  await pipeline.run();
  const elapsed = performance.now() - source.first;
  if (pipeline.engine.records !== RECORDS) throw new Error(`monitor saw ${pipeline.engine.records} records, expected ${RECORDS}`);
  if (f.decode && pipeline.engine.flagged('parse') !== 0) throw new Error(`the monitor could not decode ${pipeline.engine.flagged('parse')} records`);
  if (kafkaSource.threaded !== fetchThread) throw new Error(`the monitor ran with fetchThread=${kafkaSource.threaded}, expected ${fetchThread}`);
  return { rps: (RECORDS / elapsed) * 1000, score: pipeline.snapshot().score };
}
