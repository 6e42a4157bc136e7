/**
 * The timed loops of `npm run bench -- engine --format avro` (bench/engineAvro.ts), in a module of their own so
 * that they can be measured as esbuild bundles them (as dist/agent.js ships the engine) rather than through
 * tsx's per-module transform.
 */
import { QualityEngine } from '../server/engine/quality';
import { resolvePipelineConfig } from '../server/engine/config';
import { createDecodeStage } from '../server/decode';
import { WIRE_HEADER } from '../server/decode/wire';
import type { Decoder } from '../server/decode/types';
import type { SourceMessage } from '../server/sources/types';
import { silentLogger } from '../server/sources/types';
import { orderPayload, seededRandom } from './records';
import { LARGE_ORDER_SCHEMA, ORDER_SCHEMA, avroEncoder, schemaFolder, stageDecoder } from './avro';

/** Records per batch, as a Kafka fetch hands them over. */
const BATCH = 1000;

export interface Pool {
  /** The records' bytes, cut into batches once. */
  batches: Buffer[][];
  records: number;
  schema: object;
  decoder: Decoder;
  folder: string;
}

export function makePool(n: number, large: boolean): Pool {
  const schema = large ? LARGE_ORDER_SCHEMA : ORDER_SCHEMA;
  const encode = avroEncoder(schema);
  const rnd = seededRandom();
  const batches: Buffer[][] = [];
  for (let i = 0; i < n; i += BATCH) {
    const b: Buffer[] = [];
    for (let k = i; k < Math.min(n, i + BATCH); k++) b.push(encode(orderPayload(k, rnd, large)));
    batches.push(b);
  }
  return { batches, records: n, schema, decoder: stageDecoder(schema), folder: schemaFolder({ [large ? 'large-order' : 'order']: schema }) };
}

let sink = 0;

/** Read at the end, so that no loop's work can be optimised away. */
export function sinkValue(): number {
  return sink;
}

/**
 * A batch as a source hands it over: fresh messages, which die with the batch. (Messages kept across rounds
 * would keep every decoded record alive until its message came round again, and time the old-generation GC.)
 */
function messages(values: Buffer[]): SourceMessage[] {
  const out = new Array<SourceMessage>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = { value: values[i] };
  return out;
}

/** The baseline: the decode stage's own avsc decoder on each record's body, nothing else. */
export function bare(pool: Pool, total: number): number {
  const { batches, decoder } = pool;
  const t = process.hrtime.bigint();
  let done = 0;
  for (let b = 0; done < total; b = (b + 1) % batches.length) {
    const batch = batches[b];
    for (let i = 0; i < batch.length; i++) sink += decoder.decode(batch[i], WIRE_HEADER).items as number;
    done += batch.length;
  }
  return done / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** A rule on every record: the engine reads the rule field's value too. */
const RULE = { amount: { type: 'number' as const, min: 0 } };

/** The decode stage of the pool's schema files, as a pipeline with `format: avro` and `schemas:` makes it. */
function avroStage(pool: Pool): ReturnType<typeof createDecodeStage> {
  return createDecodeStage({ format: 'avro', schemas: [pool.folder] }, { log: silentLogger, status: () => {}, secret: async () => undefined });
}

export function engineRun(pool: Pool, total: number, window: number, rule = false): number {
  const config = resolvePipelineConfig({ windowSize: window, format: 'avro', ...(rule ? { fields: RULE } : {}) });
  const e = new QualityEngine(config);
  const stage = avroStage(pool);
  const { batches } = pool;
  const t = process.hrtime.bigint();
  let done = 0;
  for (let b = 0; done < total; b = (b + 1) % batches.length) {
    const out = stage.decodeBatch(messages(batches[b]));
    if (!Array.isArray(out)) throw new Error('the decode stage fetched a schema: schema files should answer at once');
    for (let i = 0; i < out.length; i++) e.process(out[i]);
    done += batches[b].length;
  }
  const rps = done / (Number(process.hrtime.bigint() - t) / 1e9);
  stage.close();
  if (e.records !== done || e.flagged('parse') !== 0) throw new Error(`the engine saw ${e.records} of ${done} records, ${e.flagged('parse')} of them undecoded`);
  sink += e.score;
  return rps;
}

/** The decode stage alone (no engine): where the time of the engine path goes. */
export function stageOnly(pool: Pool, total: number): number {
  const stage = avroStage(pool);
  const { batches } = pool;
  const t = process.hrtime.bigint();
  let done = 0;
  for (let b = 0; done < total; b = (b + 1) % batches.length) {
    const out = stage.decodeBatch(messages(batches[b])) as SourceMessage[];
    // Records of a flat schema come out marked for the engine to scan (SourceMessage.scan), not decoded.
    sink += out.length;
    done += batches[b].length;
  }
  stage.close();
  return done / (Number(process.hrtime.bigint() - t) / 1e9);
}
