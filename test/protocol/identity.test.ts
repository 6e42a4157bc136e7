/**
 * Issues 17.1, 17.5 and 17.9 over the protocol, against the spawned agent: the identity rules of clean/startPipeline
 * (the same request twice, another origin, another address, a start after a stop), the history archive across an
 * agent restart, and clean/samples for one alert.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient, fileUri } from './agentClient';
import type { AlertParams, HistoryResult, PipelineInfo } from '../../shared/protocol';
import type { SampleRecord } from '../../server/engine/events';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-identity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('clean/startPipeline identity', () => {
  let agent: AgentClient;
  after(async () => {
    await agent?.stop();
  });

  it('the same request twice is one pipeline; another origin or address is another; a stopped one is replaced', async () => {
    agent = await AgentClient.start({ settings: { windowSize: 200 } });
    const a = { name: 'orders', url: 'demo:orders?rate=200&seed=1' };
    const first = await agent.request<PipelineInfo>('clean/startPipeline', a);
    assert.deepEqual([first.id, first.reused], ['orders', undefined]);
    const twice = await agent.request<PipelineInfo>('clean/startPipeline', a);
    assert.deepEqual([twice.id, twice.reused], ['orders', true]);

    const other = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'orders', url: 'demo:orders?rate=200&seed=2' });
    assert.deepEqual([other.id, other.reused], ['orders (2)', undefined]);

    const file = path.join(dir, 'clean.yaml');
    writeFileSync(file, 'connections:\n  d:\n    backend: demo\n    options:\n      rate: 200\n      seed: 1\npipelines:\n  - name: orders\n    connection: d\n    topic: orders\n');
    const configured = await agent.request<PipelineInfo>('clean/startPipeline', { configUri: fileUri(file), pipelineName: 'orders' });
    assert.deepEqual([configured.id, configured.configUri], ['orders (3)', fileUri(file)]);
    const configuredTwice = await agent.request<PipelineInfo>('clean/startPipeline', { configUri: fileUri(file), pipelineName: 'orders' });
    assert.deepEqual([configuredTwice.id, configuredTwice.reused], ['orders (3)', true]);

    await agent.waitFor('orders running', () => agent.statesOf('orders').includes('running'));
    await agent.request('clean/stopPipeline', { pipeline: 'orders' });
    const again = await agent.request<PipelineInfo>('clean/startPipeline', a);
    assert.deepEqual([again.id, again.reused], ['orders', undefined]);

    const listed = await agent.request<{ pipelines: PipelineInfo[] }>('clean/listPipelines', {});
    assert.deepEqual(listed.pipelines.map((p) => p.id).sort(), ['orders', 'orders (2)', 'orders (3)']);
  });

  it('a restore asks for its id: a pipeline comes back under the id it had, whatever the order', async () => {
    await agent.stop();
    agent = await AgentClient.start({ settings: { windowSize: 200 } });
    const second = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'orders', url: 'demo:orders?rate=200&seed=2', id: 'orders (2)' });
    const first = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'orders', url: 'demo:orders?rate=200&seed=1', id: 'orders' });
    assert.deepEqual([second.id, first.id], ['orders (2)', 'orders']);
  });
});

describe('history archive and alert samples', () => {
  let agent: AgentClient;
  after(async () => {
    await agent?.stop();
  });

  it('a restarted agent returns the 10 s points saved before it stopped, then its own', { timeout: 90_000 }, async () => {
    const storagePath = path.join(dir, 'storage');
    const start = { name: 'hist', url: 'demo:orders?rate=500&seed=4', settings: { checkInterval: '500ms' } };
    agent = await AgentClient.start({ settings: { windowSize: 200 }, storagePath });
    await agent.request<PipelineInfo>('clean/startPipeline', start);
    // Points in three 10 s steps: the archive then holds at least two complete ones.
    let before: HistoryResult['pipelines'][number] | undefined;
    await agent.waitFor('points spanning 20 s', () => {
      const times = agent.of('clean/metrics').flatMap((r) => r.params.events.filter((e: { pipeline: string }) => e.pipeline === 'hist').map((e: { time: number }) => e.time));
      return times.length > 0 && Math.floor(times[times.length - 1] / 10_000) - Math.floor(times[0] / 10_000) >= 2;
    }, 40_000);
    before = (await agent.request<HistoryResult>('clean/history', { pipeline: 'hist' })).pipelines[0]!;
    await agent.stop(); // shutdown saves the archive

    agent = await AgentClient.start({ settings: { windowSize: 200 }, storagePath });
    await agent.request<PipelineInfo>('clean/startPipeline', { ...start, id: 'hist' });
    const restored = (await agent.request<HistoryResult>('clean/history', { pipeline: 'hist' })).pipelines[0]!;
    // Every complete 10 s step of the first run, by its latest check, score at four decimals.
    const last = new Map<number, number>();
    before.time.forEach((t, i) => last.set(Math.floor(t / 10_000), i));
    const lastStep = Math.max(...last.keys());
    const expected = [...last].filter(([step]) => step < lastStep).map(([, i]) => [before!.time[i], Math.round(before!.score[i]! * 1e4) / 1e4]);
    assert.ok(expected.length >= 2, `${expected.length} complete steps`);
    const got = expected.map(([t]) => [t, restored.score[restored.time.indexOf(t!)]]);
    assert.deepEqual(got, expected);
    assert.ok(restored.time.every((t, i) => i === 0 || t > restored.time[i - 1]!), 'times ascend');
  });

  it('clean/samples {alert} returns exactly the records behind that alert, after newer ones were flagged', { timeout: 60_000 }, async () => {
    await agent.request<PipelineInfo>('clean/startPipeline', { name: 'faults', url: 'demo:orders?rate=2000&seed=3&calm=1&episode=2', settings: { checkInterval: '200ms' } });
    let alert: AlertParams | undefined;
    await agent.waitFor('an alert with samples', () => {
      alert = agent.of('clean/alert').map((r) => r.params as AlertParams).find((a) => a.pipeline === 'faults' && a.type === 'alert' && a.samples.length > 0);
      return alert !== undefined;
    }, 45_000);
    // Wait (check by check, 30 s at most) until the detector flagged records newer than the alert's.
    const behind = alert!.samples.map((s) => s.record);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const newest = await agent.request<SampleRecord[]>('clean/samples', { pipeline: 'faults', detector: alert!.detector ?? undefined, limit: 1 });
      if ((newest[0]?.record ?? 0) > Math.max(...behind)) break;
      if (Date.now() > deadline) throw new Error(`no record newer than ${Math.max(...behind)} was flagged within 30 s`);
      const seen = agent.of('clean/metrics').length;
      await agent.waitFor('the next check', () => agent.of('clean/metrics').length > seen);
    }
    const samples = await agent.request<SampleRecord[]>('clean/samples', { pipeline: 'faults', detector: alert!.detector ?? undefined, alert: alert!.time });
    assert.deepEqual(samples.map((s) => s.record), behind);
    assert.deepEqual(await agent.request('clean/samples', { pipeline: 'faults', alert: 12345 }), []);
  });
});
