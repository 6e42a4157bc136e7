/**
 * `clean-agent watch … --workers 2 --state <dir>` (the built CLI, a real Kafka topic of 8 partitions): the merged
 * view's learned baseline is saved in the same store a single-thread pipeline uses, and a restarted threaded
 * pipeline resumes `ready` from its first check; --reset-baseline learns afresh (the old file kept for undo).
 * And pause in the threads themselves: a check while paused finds every thread's count standing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { repoRoot, useBroker, type Broker } from '../helpers/broker';
import { tempDir } from '../helpers/tempDir';
import { sleep } from '../helpers/sources';
import { ShardedPipeline } from '../../server/scale/shardedPipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import { parseSourceUrl } from '../../server/sources/url';
import type { MetricsEvent } from '../../server/engine/events';

const run = promisify(execFile);
const AGENT = path.join(repoRoot, 'bin', 'clean-agent.js');
const topic = `clean-test-workers-state-${process.pid}-${Date.now()}`;
const RECORDS = 3000;
let broker: Broker;
let admin: Admin;
let producer: Producer;

before(async () => {
  assert.ok(existsSync(path.join(repoRoot, 'dist', 'scale-worker.js')), 'dist/scale-worker.js is missing: run npm run build first');
  broker = await useBroker('kafka');
  const kafka = new Kafka({ clientId: 'clean-test-workers-state', brokers: [broker.url.replace(/^kafka:\/\//, '')], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
  await admin.createTopics({ topics: [{ topic, numPartitions: 8, replicationFactor: 1 }, { topic: `${topic}-pause`, numPartitions: 8, replicationFactor: 1 }], waitForLeaders: true });
  // 3,000 orders of 40 customers (a customer keeps its partition): every partition has some.
  const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: `c${i % 40}`, value: JSON.stringify({ id: i, customer: `c${i % 40}`, amount: 10 + (i % 17) }) }));
  await producer.send({ topic, acks: -1, messages });
});

after(async () => {
  await admin?.deleteTopics({ topics: [topic, `${topic}-pause`] }).catch(() => undefined);
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  await broker?.release();
});

/** One run of the CLI over the whole topic; its NDJSON metrics events. */
async function watch(state: string, ...extra: string[]): Promise<Array<Record<string, any>>> {
  const args = [AGENT, 'watch', `${broker.url}/${topic}`, '--from', 'earliest', '--workers', '2', '--state', state, '--window', '500', '--check-every', '500', '--limit', String(RECORDS), '--detectors', 'duplicates,missing,schema,parse', '--json', ...extra];
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, timeout: 90_000, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>).filter((e) => e.type === 'metrics');
}

test('a threaded pipeline saves its merged baseline with --state, and resumes ready after a restart', { timeout: 240_000 }, async () => {
  const state = tempDir('clean-workers-state-');
  const file = path.join(state, `${topic}.baseline.json`);

  const first = await watch(state);
  assert.equal(first.at(-1)!.records, RECORDS);
  assert.equal(first.at(-1)!.shards, 2);
  // Learnt in this run (whether its first check came before or after its first merged window): nothing restored.
  assert.equal(first[0].baseline.restored, undefined);
  assert.equal(first.at(-1)!.baseline.state, 'ready');
  assert.equal(existsSync(file), true);
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; windowSize: number; learnedRecords: number; fields: Array<{ name: string }> };
  // The merged view's state in the single-thread file format: its learning, the pipeline's window, the merged fields.
  assert.deepEqual([saved.version, saved.windowSize, saved.learnedRecords, saved.fields.map((f) => f.name).sort()], [1, 500, first.at(-1)!.baseline.records, ['amount', 'customer', 'id']]);

  // Restarted: ready from its first check, on what the first run learnt (and it goes on learning from there).
  const second = await watch(state);
  const { records: learnt, ...rest } = second[0].baseline;
  assert.deepEqual(rest, { state: 'ready', needed: 500, restored: true });
  // What the first run learnt, plus a merged window more when the first check came after one (checks follow the threads' progress).
  assert.ok(learnt >= saved.learnedRecords, `${learnt} records learnt, ${saved.learnedRecords} saved`);
  assert.equal(second.at(-1)!.records, RECORDS);
  assert.ok(second.every((m) => m.baseline.state === 'ready' && m.baseline.restored === true));
  const resaved = JSON.parse(readFileSync(file, 'utf8')) as { learnedRecords: number };
  assert.equal(resaved.learnedRecords, second.at(-1)!.baseline.records);

  // --reset-baseline: learnt afresh (nothing restored), the old file kept beside it for `clean-agent baseline undo`.
  const third = await watch(state, '--reset-baseline');
  assert.equal(third[0].baseline.restored, undefined);
  assert.equal(third.at(-1)!.baseline.state, 'ready');
  assert.equal(existsSync(path.join(state, `${topic}.baseline.prev.json`)), true);
});

test('pause stops every engine thread: a check while paused finds the count standing; resume reads on', { timeout: 120_000 }, async () => {
  const paused = `${topic}-pause`;
  const batch = (from: number) => Array.from({ length: 1000 }, (_, i) => ({ key: `c${(from + i) % 40}`, value: JSON.stringify({ id: from + i }) }));
  await producer.send({ topic: paused, acks: -1, messages: batch(0) });
  const p = new ShardedPipeline('paused', parseSourceUrl(`${broker.url}/${paused}`, { kind: 'earliest' }), resolvePipelineConfig({ windowSize: 5000, workers: 2, checkInterval: { seconds: 0.5 } }));
  const running = p.run().catch((err: unknown) => err);
  const until = async (records: number): Promise<MetricsEvent> => {
    let m: MetricsEvent | null = null;
    for (let i = 0; i < 120 && (m === null || m.records < records) && p.state !== 'error'; i++) {
      await sleep(250);
      m = await p.check();
    }
    return m!;
  };
  assert.equal((await until(1000)).records, 1000);
  p.pause();
  assert.equal(p.state, 'paused');
  await producer.send({ topic: paused, acks: -1, messages: batch(1000) });
  await sleep(2500);
  // Asked for their summaries while paused, both threads answer, with what they had read before the pause.
  const held = await p.check();
  assert.deepEqual([held!.records, held!.shards, p.state], [1000, 2, 'paused']);
  p.resume();
  assert.equal(p.state, 'running');
  assert.equal((await until(2000)).records, 2000);
  await p.stop();
  assert.equal(await running, undefined);
});
