/**
 * `npm run bench -- kafka [--json]`: the monitor (KafkaSource from earliest + RealtimePipeline with the default
 * detectors) against a bare kafkajs eachBatch consumer that only JSON.parses, on the same 1,000,000 records of
 * ~200 bytes, in the same run. The topic is filled once and reused by later runs (its name carries the count).
 * ratio = monitor records/s / bare records/s, measured from the first batch to the last record.
 */
import { Kafka, logLevel } from 'kafkajs';
import { KafkaSource } from '../server/sources/kafka';
import { RealtimePipeline } from '../server/engine/pipeline';
import { resolvePipelineConfig } from '../server/engine/config';
import type { SourceMessage, StreamSource } from '../server/sources/types';
import { silentLogger } from '../server/sources/types';
import { useBroker } from '../test/helpers/broker';
import { orderEvent } from './records';

const RECORDS = 1_000_000;
const PARTITIONS = 4;
const TOPIC = `bench-kafka-${RECORDS}-p${PARTITIONS}-v1`;
const ROUNDS = 3;


async function ensureRecords(kafka: Kafka, out: (s: string) => void): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(TOPIC)) {
      await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    }
    const have = (await admin.fetchTopicOffsets(TOPIC)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    if (have >= RECORDS) return;
    if (have > 0) throw new Error(`${TOPIC} holds ${have} records, not ${RECORDS}: delete the topic and run again.`);
    out(`producing ${RECORDS} records to ${TOPIC} (once)...`);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const t0 = Date.now();
    const CHUNK = 10_000;
    const inFlight: Promise<unknown>[] = [];
    for (let start = 0; start < RECORDS; start += CHUNK) {
      const messages = [];
      for (let i = start; i < Math.min(RECORDS, start + CHUNK); i++) messages.push({ key: String(i % 1024), value: orderEvent(i, 20) });
      inFlight.push(producer.send({ topic: TOPIC, acks: 1, messages }));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
    await producer.disconnect();
    out(`produced in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await admin.disconnect();
  }
}

/** The baseline: kafkajs eachBatch, JSON.parse of each value, nothing else. */
async function bare(kafka: Kafka): Promise<number> {
  const consumer = kafka.consumer({ groupId: `clean-bench-bare-${process.pid}-${Date.now()}`, maxBytes: 16 << 20, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  let count = 0;
  let first = 0;
  let sink = 0;
  const elapsed = await new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        for (const m of batch.messages) sink += (JSON.parse(m.value!.toString()) as { items: number }).items;
        count += batch.messages.length;
        if (count >= RECORDS) resolve(performance.now() - first);
      },
    });
  });
  await consumer.disconnect();
  if (sink === 0) throw new Error('nothing parsed');
  return (RECORDS / elapsed) * 1000;
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

async function monitor(brokers: string[], fetchThread: boolean): Promise<{ rps: number; score: number }> {
  const ctx = { log: silentLogger, status: () => {}, secret: async () => undefined };
  const kafkaSource = new KafkaSource({ backend: 'kafka', brokers, topic: TOPIC, from: { kind: 'earliest' } }, ctx, { fetchThread });
  const source = new FirstBatchClock(kafkaSource);
  const pipeline = new RealtimePipeline('bench', source, resolvePipelineConfig({}), { limit: RECORDS });
  await pipeline.run();
  const elapsed = performance.now() - source.first;
  if (pipeline.engine.records !== RECORDS) throw new Error(`monitor saw ${pipeline.engine.records} records, expected ${RECORDS}`);
  if (kafkaSource.threaded !== fetchThread) throw new Error(`the monitor ran with fetchThread=${kafkaSource.threaded}, expected ${fetchThread}`);
  return { rps: (RECORDS / elapsed) * 1000, score: pipeline.snapshot().score };
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const broker = await useBroker('kafka');
  const brokers = [broker.url.replace(/^kafka:\/\//, '').replace(/\/.*$/, '')];
  const kafka = new Kafka({ clientId: 'clean-bench', brokers, logLevel: logLevel.NOTHING });
  try {
    await ensureRecords(kafka, out);
    let bareRps = 0;
    let monitorRps = 0;
    let mainThreadRps = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const b = await bare(kafka);
      const m = await monitor(brokers, true);
      const l = await monitor(brokers, false);
      out(
        `round ${round}: bare ${Math.round(b)} rec/s; monitor ${Math.round(m.rps)} rec/s (fetch thread, score ${m.score.toFixed(3)}), ratio ${(m.rps / b).toFixed(3)}; ` +
          `monitor on one thread ${Math.round(l.rps)} rec/s, ratio ${(l.rps / b).toFixed(3)}`,
      );
      bareRps = Math.max(bareRps, b);
      monitorRps = Math.max(monitorRps, m.rps);
      mainThreadRps = Math.max(mainThreadRps, l.rps);
    }
    const ratio = monitorRps / bareRps;
    out(
      `kafka: ${RECORDS} records of ~200 B, ${PARTITIONS} partitions, best of ${ROUNDS}: bare kafkajs eachBatch + JSON.parse ${Math.round(bareRps)} rec/s; ` +
        `monitor ${Math.round(monitorRps)} rec/s (ratio ${ratio.toFixed(3)}); monitor with fetchThread=false ${Math.round(mainThreadRps)} rec/s (ratio ${(mainThreadRps / bareRps).toFixed(3)})`,
    );
    if (json) {
      out(
        JSON.stringify({
          bench: 'kafka',
          records: RECORDS,
          bareRps: Math.round(bareRps),
          monitorRps: Math.round(monitorRps),
          ratio: Number(ratio.toFixed(3)),
          mainThreadRps: Math.round(mainThreadRps),
          mainThreadRatio: Number((mainThreadRps / bareRps).toFixed(3)),
        }),
      );
    }
  } finally {
    await broker.release();
  }
}
