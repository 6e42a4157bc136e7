/**
 * `npm run bench -- redis [--json]`: the monitor (RedisStreamSource from earliest + RealtimePipeline with the
 * default detectors) against a bare ioredis `XREAD COUNT 1000` + `JSON.parse` loop, over the same stream of
 * 250,000 records of ~200 bytes, filled by pipelined XADD in this run. Each side is timed from its first command
 * to its last record (the monitor's time includes its connect). ratio = monitor records/s / bare records/s.
 */
import os from 'node:os';
import Redis from 'ioredis';
import { RedisStreamSource } from '../server/sources/redis';
import { MemorySource } from '../server/sources/memory';
import { RealtimePipeline } from '../server/engine/pipeline';
import { resolvePipelineConfig } from '../server/engine/config';
import type { SourceSpec } from '../server/sources/types';
import { silentLogger } from '../server/sources/types';
import { useBroker } from '../test/helpers/broker';
import { orderEvent } from './records';

const RECORDS = 250_000;
const ROUNDS = 3;
const READ_COUNT = 1000;


async function fill(client: Redis, key: string, payloads: Buffer[]): Promise<{ seconds: number; bytes: number }> {
  const t0 = performance.now();
  let bytes = 0;
  const CHUNK = 5000;
  for (let start = 0; start < RECORDS; start += CHUNK) {
    const pipeline = client.pipeline();
    for (let i = start; i < Math.min(RECORDS, start + CHUNK); i++) {
      const payload = orderEvent(i, 42);
      bytes += payload.length;
      payloads.push(Buffer.from(payload));
      pipeline.xadd(key, '*', 'data', payload);
    }
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }
  return { seconds: (performance.now() - t0) / 1000, bytes };
}

/** The baseline: XREAD COUNT 1000 from the start, JSON.parse of each entry's payload, nothing else. */
async function bare(client: Redis, key: string): Promise<number> {
  const t0 = performance.now();
  let last = '0-0';
  let count = 0;
  let sink = 0;
  while (count < RECORDS) {
    const reply = (await client.call('XREAD', 'COUNT', READ_COUNT, 'STREAMS', key, last)) as Array<[string, Array<[string, string[]]>]> | null;
    const entries = reply?.[0]?.[1];
    if (!entries || entries.length === 0) throw new Error(`the stream ended after ${count} of ${RECORDS} records`);
    for (let i = 0; i < entries.length; i++) sink += (JSON.parse(entries[i][1][1]) as { items: number }).items;
    last = entries[entries.length - 1][0];
    count += entries.length;
  }
  const elapsed = performance.now() - t0;
  if (sink === 0) throw new Error('nothing parsed');
  return (RECORDS / elapsed) * 1000;
}

async function monitor(url: string, key: string): Promise<{ rps: number; score: number }> {
  const ctx = quietContext;
  const spec: SourceSpec = { backend: 'redis', url, topic: key, from: { kind: 'earliest' } };
  const t0 = performance.now();
  const pipeline = new RealtimePipeline('bench', new RedisStreamSource(spec, ctx), resolvePipelineConfig({}), { limit: RECORDS });
  await pipeline.run();
  const elapsed = performance.now() - t0;
  if (pipeline.engine.records !== RECORDS) throw new Error(`the monitor saw ${pipeline.engine.records} records, expected ${RECORDS}`);
  return { rps: (RECORDS / elapsed) * 1000, score: pipeline.snapshot().score };
}

const quietContext = { log: silentLogger, status: () => {}, secret: async () => undefined };

/** Where the monitor's time goes, part 1: the source alone (XREAD and mapping to messages, no engine). */
async function sourceAlone(url: string, key: string): Promise<number> {
  const source = new RedisStreamSource({ backend: 'redis', url, topic: key, from: { kind: 'earliest' } }, quietContext);
  const t0 = performance.now();
  await source.connect();
  let count = 0;
  for await (const batch of source.consume()) {
    count += batch.length;
    if (count >= RECORDS) break;
  }
  const elapsed = performance.now() - t0;
  await source.close();
  return (RECORDS / elapsed) * 1000;
}

/** Part 2: the engine alone on the same payload bytes, from memory. */
async function engineAlone(payloads: Buffer[]): Promise<number> {
  const t0 = performance.now();
  const pipeline = new RealtimePipeline('bench-engine', new MemorySource(payloads), resolvePipelineConfig({}));
  await pipeline.run();
  return (RECORDS / (performance.now() - t0)) * 1000;
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const out = (s: string): void => void process.stdout.write(s + '\n');
  const broker = await useBroker('redis');
  const { hostname, port } = new URL(broker.url);
  const client = new Redis({ host: hostname, port: Number(port), protocol: 2 });
  const key = `bench:redis:${process.pid}:${Date.now()}`;
  try {
    const payloads: Buffer[] = [];
    const filled = await fill(client, key, payloads);
    out(
      `filled ${key}: ${RECORDS} records, ${Math.round(filled.bytes / RECORDS)} bytes each on average, ` +
        `in ${filled.seconds.toFixed(1)} s (${Math.round(RECORDS / filled.seconds)} XADD/s pipelined)`,
    );
    let bareRps = 0;
    let monitorRps = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const b = await bare(client, key);
      const m = await monitor(broker.url, key);
      const s = await sourceAlone(broker.url, key);
      const e = await engineAlone(payloads);
      out(
        `round ${round}: bare ${Math.round(b)} rec/s, monitor ${Math.round(m.rps)} rec/s (score ${m.score.toFixed(3)}), ratio ${(m.rps / b).toFixed(3)}; ` +
          `parts: source alone ${Math.round(s)} rec/s, engine alone ${Math.round(e)} rec/s`,
      );
      bareRps = Math.max(bareRps, b);
      monitorRps = Math.max(monitorRps, m.rps);
    }
    const ratio = monitorRps / bareRps;
    out(
      `redis: ${RECORDS} records; bare ioredis XREAD COUNT ${READ_COUNT} + JSON.parse ${Math.round(bareRps)} rec/s; ` +
        `monitor ${Math.round(monitorRps)} rec/s; ratio ${ratio.toFixed(3)} (best of ${ROUNDS}; goal >= 0.85; ` +
        `load average ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs)`,
    );
    if (json) out(JSON.stringify({ bench: 'redis', records: RECORDS, bareRps: Math.round(bareRps), monitorRps: Math.round(monitorRps), ratio: Number(ratio.toFixed(3)) }));
  } finally {
    await client.del(key).catch(() => undefined);
    client.disconnect();
    await broker.release();
  }
}
