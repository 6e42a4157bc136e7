/** The clean/* protocol end to end against the spawned, built agent, on the demo source. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient } from './agentClient';
import type { HistoryResult, ListPipelinesResult, MetricsParams, PipelineInfo, StatusParams } from '../../shared/protocol';
import type { SampleRecord } from '../../server/engine/events';

/** The checks of one pipeline the client was sent so far, in arrival order. */
const eventsOf = (agent: AgentClient, pipeline: string) =>
  agent.of('clean/metrics').flatMap((r) => (r.params as MetricsParams).events.filter((e) => e.pipeline === pipeline));

describe('pipelines over the clean/* protocol (spawned agent, demo source)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ settings: { windowSize: 400, logLevel: 'info' } });
  });
  after(async () => {
    await agent.stop();
  });

  it('starts a demo pipeline, reports connecting -> running -> paused -> running -> stopped, in that order', async () => {
    const info = await agent.request<PipelineInfo>('clean/startPipeline', {
      name: 'lifecycle',
      url: 'demo:orders?rate=400&seed=3&calm=1&episode=1',
      settings: { checkInterval: { seconds: 0.1 } },
    });
    assert.equal(info.id, 'lifecycle');
    assert.equal(info.backend, 'demo');
    assert.equal(info.topic, 'orders');
    assert.equal(info.threshold, 0.8);
    assert.equal(info.cliCommand, "clean-agent watch 'demo:orders?rate=400&seed=3&calm=1&episode=1' --from earliest --window 400 --check-every 100ms");
    await agent.waitFor('lifecycle running', () => agent.statesOf('lifecycle').includes('running'));
    await agent.waitFor('a check of lifecycle', () => eventsOf(agent, 'lifecycle').length > 0);
    const paused = await agent.request<PipelineInfo>('clean/pausePipeline', { pipeline: 'lifecycle' });
    assert.equal(paused.state, 'paused');
    const resumed = await agent.request<PipelineInfo>('clean/resumePipeline', { pipeline: 'lifecycle' });
    assert.equal(resumed.state, 'running');
    const checked = eventsOf(agent, 'lifecycle').length;
    await agent.waitFor('a check of lifecycle after resuming', () => eventsOf(agent, 'lifecycle').length > checked);
    const stopped = await agent.request<PipelineInfo>('clean/stopPipeline', { pipeline: 'lifecycle' });
    assert.equal(stopped.state, 'stopped');
    await agent.waitFor('lifecycle stopped', () => agent.statesOf('lifecycle').includes('stopped'));
    assert.deepEqual(agent.statesOf('lifecycle'), ['connecting', 'running', 'paused', 'running', 'stopped']);
    const last = agent.of('clean/status').filter((r) => r.params.pipeline === 'lifecycle').at(-1)!.params as StatusParams;
    assert.equal(last.info.state, 'stopped');
    assert.equal(last.message, 'stopped');
  });

  // The pace (one notification per 250 ms at most) is asserted exactly with a mocked clock in historyRing.test.ts.
  it('batches metrics: several checks per notification, each check sent once, in time order', async () => {
    const t0 = Date.now();
    await agent.request<PipelineInfo>('clean/startPipeline', { name: 'fast', url: 'demo:orders?rate=1000&seed=4', settings: { checkInterval: 100 } });
    await agent.waitFor('fast running', () => agent.statesOf('fast').includes('running'));
    // Every 100 records at 1000 records/s is ~10 checks a second; the agent sends them in batches.
    await agent.waitFor('30 checks of fast', () => eventsOf(agent, 'fast').length >= 30, 30_000);
    const notes = agent.of('clean/metrics').filter((r) => (r.params as MetricsParams).events.some((e) => e.pipeline === 'fast'));
    const events = eventsOf(agent, 'fast');
    assert.ok(events.length > notes.length, `expected batches of several events: ${events.length} events in ${notes.length} notifications`);
    assert.equal(new Set(events.map((e) => e.records)).size, events.length, 'each check sent once');
    for (let i = 1; i < events.length; i++) {
      assert.ok(events[i].time >= events[i - 1].time, 'event times go forward');
      assert.equal(events[i].records - events[i - 1].records, 100, 'a check every 100 records, none dropped');
    }
    for (const e of events) assert.ok(e.score >= 0 && e.score <= 1);
    assert.ok(t0 <= events[0].time);
  });

  it('answers clean/history for a chart opened late, with columns that match the metrics sent', async () => {
    const all = await agent.request<HistoryResult>('clean/history', { pipeline: 'fast' });
    assert.equal(all.pipelines.length, 1);
    const h = all.pipelines[0];
    assert.equal(h.pipeline, 'fast');
    assert.equal(h.threshold, 0.8);
    assert.deepEqual(Object.keys(h.thresholds).sort(), ['duplicates', 'missing', 'outliers', 'parse', 'rules', 'schema']);
    assert.ok(h.time.length >= 3, `history has ${h.time.length} points`);
    for (const col of [h.score, h.throughput, h.records]) assert.equal(col.length, h.time.length);
    for (const [d, col] of Object.entries(h.detectors)) assert.equal(col!.length, h.time.length, d);
    for (let i = 1; i < h.time.length; i++) {
      assert.ok(Math.floor(h.time[i] / 1000) > Math.floor(h.time[i - 1] / 1000), 'at most one point per second');
    }
    const sent = new Map<number, number>();
    for (const r of agent.of('clean/metrics')) for (const e of (r.params as MetricsParams).events) if (e.pipeline === 'fast') sent.set(e.time, e.score);
    // Every point up to the newest check the client has seen is a check it was sent (later ones may wait for their batch).
    const lastSent = Math.max(...sent.keys());
    const seen = h.time.filter((t) => t <= lastSent);
    assert.ok(seen.length >= 2, `${seen.length} points already sent`);
    for (let i = 0; i < seen.length; i++) assert.equal(sent.get(h.time[i]), h.score[i], `point ${i} at ${h.time[i]}`);
    const since = h.time[h.time.length - 2];
    const tail = (await agent.request<HistoryResult>('clean/history', { pipeline: 'fast', since })).pipelines[0];
    assert.ok(tail.time.length >= 2);
    assert.ok(tail.time.every((t) => t >= since));
    // Only the newest point can still change (a later check in the same second replaces it).
    assert.equal(tail.time[0], since);
    assert.equal(tail.score[0], h.score[h.score.length - 2]);
    const both = await agent.request<HistoryResult>('clean/history', {});
    assert.deepEqual(both.pipelines.map((p) => p.pipeline), ['lifecycle', 'fast']);
  });

  it('returns the samples behind a detector with their positions', async () => {
    // 300 distinct orders, then lines 301-306 repeat line 300: six duplicates at known file lines.
    const dir = mkdtempSync(path.join(tmpdir(), 'clean-samples-'));
    const file = path.join(dir, 'orders.jsonl');
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: `o-${i + 1}`, amount: 10 + (i % 17) }));
    for (let i = 0; i < 6; i++) lines.push(lines[299]);
    writeFileSync(file, lines.join('\n') + '\n');
    try {
      await agent.request('clean/startPipeline', { name: 'replay', url: `file:${file}`, settings: { checkInterval: 50 } });
      await agent.waitFor('replay stopped at the end of the file', () => agent.statesOf('replay').includes('stopped'));
      const samples = await agent.request<SampleRecord[]>('clean/samples', { pipeline: 'replay', detector: 'duplicates', limit: 10 });
      assert.deepEqual(samples.map((s) => s.position).sort(), [301, 302, 303, 304, 305, 306]);
      assert.deepEqual(samples.map((s) => s.record).sort(), [301, 302, 303, 304, 305, 306]);
      for (const s of samples) {
        assert.equal(s.detector, 'duplicates');
        assert.equal(s.text, lines[299]);
      }
      const two = await agent.request<SampleRecord[]>('clean/samples', { pipeline: 'replay', detector: 'duplicates', limit: 2 });
      assert.equal(two.length, 2);
      await assert.rejects(agent.request('clean/samples', { pipeline: 'replay', detector: 'labels' }), /does not run the labels detector/);
      await agent.request('clean/stopPipeline', { pipeline: 'replay', remove: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('isolates a failing source: only its pipeline goes to error, with the reason', async () => {
    await agent.request('clean/startPipeline', { name: 'broken', url: 'file:/nonexistent/clean-streams/missing.jsonl' });
    await agent.waitFor('broken in error', () => agent.statesOf('broken').includes('error'));
    const status = agent.of('clean/status').find((r) => r.params.pipeline === 'broken' && r.params.state === 'error')!.params as StatusParams;
    assert.match(status.message, /missing\.jsonl/);
    const list = await agent.request<ListPipelinesResult>('clean/listPipelines', {});
    const byId = Object.fromEntries(list.pipelines.map((p) => [p.id, p.state]));
    assert.deepEqual(byId, { lifecycle: 'stopped', fast: 'running', broken: 'error' });
    const before = agent.of('clean/metrics').length;
    await agent.waitFor('more metrics from fast', () => agent.of('clean/metrics').length > before + 1);
  });

  it('answers an unknown request with MethodNotFound and keeps serving', async () => {
    await assert.rejects(agent.request('clean/noSuchMethod', {}), (err: { code?: number }) => err.code === -32601);
    const list = await agent.request<ListPipelinesResult>('clean/listPipelines', {});
    assert.equal(list.pipelines.length, 3);
  });

  it('reports an unexpected failure inside a handler to the client and keeps serving', async () => {
    const before = agent.of('window/logMessage').length;
    await assert.rejects(agent.request('clean/samples', null), (err: { code?: number; message?: string }) => err.code === -32603 && /^samples failed inside the agent: .+\. The agent keeps running/.test(err.message ?? ''));
    await agent.waitFor('clean/agentError', () => agent.of('clean/agentError').length === 1);
    const note = agent.of('clean/agentError')[0].params as { message: string; origin: string };
    assert.equal(note.origin, 'agent');
    assert.match(note.message, /^samples failed: /);
    assert.ok(agent.of('window/logMessage').slice(before).some((r) => r.params.type === 1 && r.params.message.startsWith('samples failed: ')));
    await assert.rejects(agent.request('clean/startPipeline', { spec: { backend: 'ftp', topic: 'x' } }), /spec\.backend must be one of kafka, redis, pulsar, file, demo \(got "ftp"\)\./);
    const list = await agent.request<ListPipelinesResult>('clean/listPipelines', {});
    assert.equal(list.pipelines.length, 3);
  });

  it('refuses requests for unknown pipelines with a message that says what exists', async () => {
    await assert.rejects(agent.request('clean/pausePipeline', { pipeline: 'nope' }), /No pipeline "nope" in the agent\. Running: lifecycle, fast, broken\./);
    await assert.rejects(agent.request('clean/startPipeline', {}), /needs \{configUri, pipelineName\}/);
    await assert.rejects(agent.request('clean/startPipeline', { url: 'ftp://x/y' }), /is not a source URL/);
  });

  it('removes a stopped pipeline on request', async () => {
    await agent.request('clean/stopPipeline', { pipeline: 'fast', remove: true });
    const list = await agent.request<ListPipelinesResult>('clean/listPipelines', {});
    assert.deepEqual(list.pipelines.map((p) => p.id), ['lifecycle', 'broken']);
    const removed = agent.of('clean/status').filter((r) => r.params.pipeline === 'fast').at(-1)!.params as StatusParams;
    assert.equal(removed.removed, true);
  });
});
