/**
 * `npm run bench -- kafka [--json] [--format json|avro] [--tsx]`: the monitor (KafkaSource from earliest + RealtimePipeline with the default
 * detectors) against a bare kafkajs eachBatch consumer that only JSON.parses, on the same 1,000,000 records of
 * ~200 bytes, in the same run. The topic is filled once and reused by later runs (its name carries the count).
 * ratio = monitor records/s / bare records/s, measured from the first batch to the last record.
 *
 * `--format avro`: the same records as Confluent wire-format Avro (bench/avro.ts) in a topic of their own; the
 * monitor decodes them through its decode stage with the schema as a schema file (`schemas:`, no registry), the
 * baseline with the same avsc decoder in its eachBatch.
 *
 * Both sides' per-record code (bench/kafkaSides.ts) runs as esbuild bundles it, as dist/agent.js ships it: under
 * tsx every use of another module's export is a getter call, which costs the engine's path for decoded records
 * about half its speed (measured 2026-12-02). `--tsx` runs them through tsx instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';
import { Kafka, logLevel } from 'kafkajs';
import { useBroker } from '../test/helpers/broker';
import { benchFormat } from './avro';
import type { Format } from './kafkaSides';
import { PARTITIONS, RECORDS } from './kafkaTopic';

type Sides = typeof import('./kafkaSides');

/** The build's esbuild plugin that puts the monitor's Kafka record decoder in kafkajs's place (as dist/ has it). */
async function kafkajsRecords(): Promise<Plugin> {
  const file = pathToFileURL(path.join(path.dirname(__dirname), 'scripts', 'kafkajs-records.mjs')).href;
  return ((await import(file)) as { kafkajsRecords: Plugin }).kafkajsRecords;
}

const ROUNDS = 3;

/**
 * The per-record sides (bench/kafkaSides.ts) bundled by esbuild into a temporary folder, with the Kafka fetch
 * thread's own bundle beside them as kafka-fetcher.js (as dist/ holds it), or as tsx loads them (`--tsx`).
 */
async function loadSides(viaTsx: boolean): Promise<Sides> {
  if (viaTsx) return import('./kafkaSides');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-bench-kafka-'));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const common: BuildOptions = { bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', external: ['pulsar-client'], plugins: [await kafkajsRecords()] };
  const root = path.dirname(__dirname);
  await build({ ...common, entryPoints: [path.join(__dirname, 'kafkaSides.ts')], outfile: path.join(dir, 'kafka-sides.js') });
  await build({ ...common, entryPoints: [path.join(root, 'server/sources/kafka/worker.ts')], outfile: path.join(dir, 'kafka-fetcher.js') });
  return require(path.join(dir, 'kafka-sides.js')) as Sides;
}

async function ensureRecords(kafka: Kafka, f: Format, out: (s: string) => void): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(f.topic)) {
      await admin.createTopics({ topics: [{ topic: f.topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    }
    const have = (await admin.fetchTopicOffsets(f.topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    if (have >= RECORDS) return;
    if (have > 0) throw new Error(`${f.topic} holds ${have} records, not ${RECORDS}: delete the topic and run again.`);
    out(`producing ${RECORDS} records to ${f.topic} (once)...`);
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    const t0 = Date.now();
    const CHUNK = 10_000;
    const inFlight: Promise<unknown>[] = [];
    for (let start = 0; start < RECORDS; start += CHUNK) {
      const messages = [];
      for (let i = start; i < Math.min(RECORDS, start + CHUNK); i++) messages.push({ key: String(i % 1024), value: f.encode(i) });
      inFlight.push(producer.send({ topic: f.topic, acks: 1, messages }));
      if (inFlight.length >= 4) await inFlight.shift();
    }
    await Promise.all(inFlight);
    await producer.disconnect();
    out(`produced in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } finally {
    await admin.disconnect();
  }
}

/** The baseline: kafkajs eachBatch, JSON.parse (or the Avro decoder) of each value, nothing else. */
async function bare(kafka: Kafka, f: Format): Promise<number> {
  const read = f.read;
  const consumer = kafka.consumer({ groupId: `clean-bench-bare-${process.pid}-${Date.now()}`, maxBytes: 16 << 20, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 500 });
  await consumer.connect();
  await consumer.subscribe({ topics: [f.topic], fromBeginning: true });
  let count = 0;
  let first = 0;
  let sink = 0;
  const elapsed = await new Promise<number>((resolve) => {
    void consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (first === 0) first = performance.now();
        for (const m of batch.messages) sink += read(m.value!);
        count += batch.messages.length;
        if (count >= RECORDS) resolve(performance.now() - first);
      },
    });
  });
  await consumer.disconnect();
  if (sink === 0) throw new Error('nothing parsed');
  return (RECORDS / elapsed) * 1000;
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const format = benchFormat(argv);
  const viaTsx = argv.includes('--tsx');
  const { formatOf, monitor } = await loadSides(viaTsx);
  const f = formatOf(format);
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const broker = await useBroker('kafka');
  const brokers = [broker.url.replace(/^kafka:\/\//, '').replace(/\/.*$/, '')];
  const kafka = new Kafka({ clientId: 'clean-bench', brokers, logLevel: logLevel.NOTHING });
  try {
    await ensureRecords(kafka, f, out);
    let bareRps = 0;
    let monitorRps = 0;
    let mainThreadRps = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const b = await bare(kafka, f);
      const m = await monitor(brokers, true, f);
      const l = await monitor(brokers, false, f);
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
      `kafka${format === 'avro' ? ' --format avro' : ''} (${viaTsx ? 'through tsx' : 'bundled by esbuild'}): ${RECORDS} records of ~200 B${format === 'avro' ? ' (as JSON; Avro in the wire format)' : ''}, ${PARTITIONS} partitions, best of ${ROUNDS}: ` +
        `bare kafkajs eachBatch + ${format === 'avro' ? 'the same avsc decoder' : 'JSON.parse'} ${Math.round(bareRps)} rec/s; ` +
        `monitor ${Math.round(monitorRps)} rec/s (ratio ${ratio.toFixed(3)}); monitor with fetchThread=false ${Math.round(mainThreadRps)} rec/s (ratio ${(mainThreadRps / bareRps).toFixed(3)})`,
    );
    if (json) {
      out(
        JSON.stringify({
          bench: 'kafka',
          format,
          build: viaTsx ? 'tsx' : 'esbuild',
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
