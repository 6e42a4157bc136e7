/**
 * `workers: 2` in the editor's agent (issue 15): a pipeline started over the protocol on a real Kafka topic of 8
 * partitions runs on two engine threads, merged per check, and gives the exact counts a single-thread pipeline
 * gives on the same records; pause stops its record count and resume goes on; "This is normal", reset and undo
 * answer as a single pipeline's do; its status info names its 2 threads.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { AgentClient, ROOT } from './agentClient';
import { useBroker, type Broker } from '../helpers/broker';
import { tempDir } from '../helpers/tempDir';
import type { BaselineChangeResult, MetricsEvent, MetricsParams, PipelineInfo, StatusParams } from '../../shared/protocol';

const topic = `clean-test-lsp-workers-${process.pid}-${Date.now()}`;
/** Customers keep their partition (keyed), so a retried copy lands beside its original. */
const CUSTOMERS = 40;

/**
 * Orders `from`…`to`-1 with known faults: after every 50th (i % 50 = 7) a retried copy (a duplicate), every
 * 100th (i % 100 = 13) cut short (a parse issue), and `amount` over its rule's max of 100 in 49 of every 150.
 */
function orders(from: number, to: number): Array<{ key: string; value: string }> {
  const out: Array<{ key: string; value: string }> = [];
  for (let i = from; i < to; i++) {
    const key = `c${i % CUSTOMERS}`;
    const value = JSON.stringify({ id: i, customer: key, amount: i % 150 });
    out.push({ key, value: i % 100 === 13 ? value.slice(0, 12) : value });
    if (i % 50 === 7) out.push({ key, value });
  }
  return out;
}

const BATCH_A = orders(0, 2000);
const BATCH_B = orders(2000, 3000);
const TOTAL = BATCH_A.length + BATCH_B.length;
const SETTINGS = { windowSize: 20000, detectors: ['duplicates', 'missing', 'schema', 'parse', 'rules'], fields: { amount: { max: 100 } }, checkInterval: '500ms' };

describe('workers: 2 in the editor agent (real Kafka, 8 partitions)', () => {
  let broker: Broker;
  let admin: Admin;
  let producer: Producer;
  let agent: AgentClient;

  before(async () => {
    assert.ok(existsSync(path.join(ROOT, 'dist', 'scale-worker.js')), 'dist/scale-worker.js is missing: run npm run build first');
    broker = await useBroker('kafka');
    const kafka = new Kafka({ clientId: 'clean-test-lsp-workers', brokers: [broker.url.replace(/^kafka:\/\//, '')], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    await admin.createTopics({ topics: [{ topic, numPartitions: 8, replicationFactor: 1 }], waitForLeaders: true });
    await producer.send({ topic, acks: -1, messages: BATCH_A });
    agent = await AgentClient.start({ storagePath: tempDir('clean-lsp-workers-') });
  });

  after(async () => {
    if (agent && agent.process.exitCode === null) await agent.stop();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await Promise.all([admin?.disconnect(), producer?.disconnect()]);
    await broker?.release();
  });

  const metricsOf = (pipeline: string): Array<MetricsEvent & { at: number }> =>
    agent.of('clean/metrics').flatMap((r) => (r.params as MetricsParams).events.filter((e) => e.pipeline === pipeline).map((e) => ({ ...e, at: r.at })));
  const latest = (pipeline: string) => metricsOf(pipeline).at(-1);
  const reach = (pipeline: string, records: number) => agent.waitFor(`${pipeline} at ${records} records`, () => latest(pipeline)?.records === records, 60_000);
  /**
   * What must be equal between the threaded and the single-thread pipeline: every count, rate and field. Not `out`:
   * whether a metric stands out follows its checks' history (a hard limit's hysteresis), and the order records
   * arrive in from 8 partitions differs between two reads.
   */
  const counts = (m: MetricsEvent) => ({
    records: m.records,
    window: m.window,
    score: m.score,
    detectors: Object.fromEntries(Object.entries(m.detectors).map(([d, { out, ...x }]) => [d, x])),
    fields: m.fields,
  });

  it('merges to the exact counts of a single thread, pauses and resumes, changes its baseline as a single pipeline does', { timeout: 180_000 }, async () => {
    const started = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'threaded', url: `${broker.url}/${topic}`, from: 'earliest', settings: { ...SETTINGS, workers: 2 } });
    assert.equal(started.state, 'connecting');
    await reach('threaded', BATCH_A.length);
    // Its status names its threads, and so does the tree's row.
    const statuses = agent.of('clean/status').map((r) => r.params as StatusParams).filter((p) => p.pipeline === 'threaded');
    assert.deepEqual([...new Set(statuses.filter((p) => p.state === 'running').map((p) => p.info.threads))], [2]);
    assert.equal(latest('threaded')!.shards, 2);

    // Paused: batch B arrives on the topic, and the count stands.
    const paused = await agent.request<PipelineInfo>('clean/pausePipeline', { pipeline: 'threaded' });
    assert.deepEqual([paused.state, paused.records, paused.threads], ['paused', BATCH_A.length, 2]);
    const pausedAt = Date.now();
    await producer.send({ topic, acks: -1, messages: BATCH_B });
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual(metricsOf('threaded').filter((m) => m.at > pausedAt && m.records !== BATCH_A.length), []);
    const listed = (await agent.request<{ pipelines: PipelineInfo[] }>('clean/listPipelines', {})).pipelines.find((p) => p.id === 'threaded')!;
    assert.deepEqual([listed.state, listed.records], ['paused', BATCH_A.length]);
    const resumed = await agent.request<PipelineInfo>('clean/resumePipeline', { pipeline: 'threaded' });
    assert.equal(resumed.state, 'running');
    await reach('threaded', TOTAL);

    // A single-thread pipeline over the same records.
    const single = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'single', url: `${broker.url}/${topic}`, from: 'earliest', settings: { ...SETTINGS, workers: 1 } });
    assert.equal(single.threads, undefined);
    await reach('single', TOTAL);
    const two = latest('threaded')!;
    const one = latest('single')!;
    assert.deepEqual(counts(two), counts(one));
    // 3,000 orders (30 of them cut short) and 60 retried copies; amounts over 100: 49 of every 150 orders (980),
    // less the 10 among the cut ones, plus the 20 among the copies.
    assert.equal(two.records, 3060);
    assert.deepEqual(Object.fromEntries(Object.entries(two.detectors).map(([d, x]) => [d, x!.count])), { duplicates: 60, missing: 0, schema: 0, parse: 30, rules: 990 });
    assert.equal(one.shards, undefined);

    // Baseline changes: the same answers, the same baseline state, in both.
    const change = async (method: string, params: Record<string, unknown>) => {
      const out: Array<[number, string, unknown, boolean | undefined]> = [];
      for (const pipeline of ['threaded', 'single']) {
        const r = await agent.request<BaselineChangeResult>(method, { pipeline, ...params });
        out.push([r.changed, r.message, r.info.baseline, r.info.canUndoBaseline]);
      }
      assert.deepEqual(out[0], out[1], `${method}: threaded ${JSON.stringify(out[0])}, single ${JSON.stringify(out[1])}`);
      return out[0];
    };
    const learning = { state: 'learning', records: 3060, needed: 20000 };
    assert.deepEqual(await change('clean/acceptNormal', {}), [8, 'Accepted the current level of every detector as normal.', learning, true]);
    assert.deepEqual(await change('clean/acceptNormal', { detector: 'missing', field: 'amount' }), [1, 'Accepted the current level of missing on "amount" as normal.', learning, true]);
    assert.deepEqual(await change('clean/undoBaseline', {}), [1, 'Restored the baseline as it was before the last change.', learning, undefined]);
    assert.deepEqual(await change('clean/undoBaseline', {}), [0, 'Nothing to undo.', learning, undefined]);
    // A reset: the next window is learnt afresh, none of it seen yet.
    assert.deepEqual(await change('clean/resetBaseline', {}), [1, 'Baseline reset: learning the next 20000 records afresh.', { state: 'learning', records: 0, needed: 20000 }, true]);

    for (const pipeline of ['threaded', 'single']) await agent.request('clean/stopPipeline', { pipeline });
    assert.deepEqual(agent.statesOf('threaded').at(-1), 'stopped');
  });
});
