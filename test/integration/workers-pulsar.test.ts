/**
 * Engine threads over a real Pulsar partitioned topic (4 partitions, WebSocket API): 2 threads, each reading
 * 2 partitions as topics of their own, merge to exactly the counts of 1 thread reading the whole topic.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { repoRoot, useBroker, type Broker } from '../helpers/broker';
import { ShardedPipeline } from '../../server/scale/shardedPipeline';
import { resolvePipelineConfig, type PipelineSettings } from '../../server/engine/config';
import type { MetricsEvent } from '../../server/engine/events';
import { parseSourceUrl } from '../../server/sources/url';
import { sleep } from '../helpers/sources';

let web: string;
let broker: Broker;
const topic = `public/default/clean-test-workers-${process.pid}-${Date.now()}`;

/** 2,000 real flights: delay null in every 10th, a retried copy every 30th (same key), a cut message every 70th. */
function flights(): Array<{ key: string; payload: string }> {
  const data = JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', 'vega-datasets', 'data', 'flights-2k.json'), 'utf8')) as Array<Record<string, unknown>>;
  const out: Array<{ key: string; payload: string }> = [];
  data.forEach((f, i) => {
    const r = { ...f };
    if (i % 10 === 0) r.delay = null;
    const key = `${String(f.origin)}-${String(f.destination)}`;
    const payload = JSON.stringify(r);
    out.push({ key, payload });
    if (i % 30 === 0) out.push({ key, payload });
    if (i % 70 === 0) out.push({ key, payload: payload.slice(0, 25) });
  });
  return out;
}
const records = flights();

/** Publishes through the broker's WebSocket producer endpoint, every message acknowledged. */
async function produce(messages: Array<{ key: string; payload: string }>): Promise<void> {
  const socket = new WebSocket(`ws://${web}/ws/v2/producer/persistent/${topic}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let acked = 0;
  const all = new Promise<void>((resolve, reject) =>
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString()) as { result: string; errorMsg?: string };
      if (reply.result !== 'ok') return reject(new Error(`publish failed: ${reply.errorMsg ?? reply.result}`));
      if (++acked === messages.length) resolve();
    }),
  );
  messages.forEach((m, i) => socket.send(JSON.stringify({ payload: Buffer.from(m.payload).toString('base64'), key: m.key, context: String(i) })));
  await all;
  socket.close();
}

before(async () => {
  broker = await useBroker('pulsar');
  web = broker.url.replace(/^pulsar\+ws:\/\//, '');
  const res = await fetch(`http://${web}/admin/v2/persistent/${topic}/partitions`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: '4' });
  assert.equal(res.status, 204);
  await produce(records);
});

after(async () => {
  await fetch(`http://${web}/admin/v2/persistent/${topic}/partitions?force=true`, { method: 'DELETE' }).catch(() => undefined);
  await broker?.release();
});

const SETTINGS: PipelineSettings = { windowSize: 10000, detectors: ['duplicates', 'missing', 'parse'], checkInterval: { seconds: 0.5 } };

async function mergedWith(workers: number): Promise<{ m: MetricsEvent; threads: number; partitions: string[] }> {
  const p = new ShardedPipeline(`p${workers}`, parseSourceUrl(`pulsar+ws://${web}/${topic}`, { kind: 'earliest' }), resolvePipelineConfig({ ...SETTINGS, workers }));
  const running = p.run().catch((err: unknown) => err);
  let m: MetricsEvent | null = null;
  for (let i = 0; i < 120 && (m === null || m.records < records.length) && p.state !== 'error'; i++) {
    await sleep(500);
    m = await p.check();
  }
  const out = { m: m!, threads: p.shardCount, partitions: Object.keys(p.merged?.positions ?? {}).sort() };
  await p.stop();
  const failure = await running;
  if (failure !== undefined) throw failure;
  return out;
}

test('2 engine threads over a 4-partition Pulsar topic merge to the counts of 1 thread, exactly', { timeout: 120_000 }, async () => {
  const one = await mergedWith(1);
  const two = await mergedWith(2);
  assert.deepEqual([one.threads, two.threads], [1, 2]);
  const counts = (m: MetricsEvent) => ({ records: m.records, window: m.window, score: m.score, detectors: m.detectors, fields: m.fields });
  assert.deepEqual(counts(two.m), counts(one.m));
  assert.equal(two.m.records, records.length);
  assert.deepEqual(Object.fromEntries(Object.entries(two.m.detectors).map(([d, x]) => [d, x!.count])), { duplicates: 67, missing: 0, parse: 29 });
  // Each thread files its positions under the partitions it read.
  assert.deepEqual(two.partitions, [0, 1, 2, 3].map((i) => `${topic}-partition-${i}`));
});
