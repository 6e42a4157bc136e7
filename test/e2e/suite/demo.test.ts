import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PipelineInfo } from '../../../shared/protocol';
import { cleanApi, eventually, pipelineNamed, workspaceFile, type CleanStreamsApi } from './api';

/**
 * Counts the checks (metrics updates) the tree data receives per pipeline, so a test can wait for a number of
 * further checks of one pipeline instead of sleeping.
 */
function checkCounter(api: CleanStreamsApi, ids: string[]) {
  const counts = new Map<string, number>(ids.map((id) => [id, 0]));
  const lastTime = new Map<string, number | undefined>(ids.map((id) => [id, api.pipelines().find((p) => p.info.id === id)?.metrics?.time]));
  const subscription = api.onDidChangePipelines(() => {
    for (const { info, metrics } of api.pipelines()) {
      if (!counts.has(info.id) || metrics === undefined || metrics.time === lastTime.get(info.id)) continue;
      lastTime.set(info.id, metrics.time);
      counts.set(info.id, counts.get(info.id)! + 1);
    }
  });
  return {
    of: (id: string) => counts.get(id)!,
    /** Resolves once `n` more checks of `id` arrived (with a deadline). */
    more(id: string, n: number): Promise<true> {
      const target = counts.get(id)! + n;
      return eventually(`${n} more checks of ${id}`, () => (counts.get(id)! >= target ? true : undefined));
    },
    dispose: () => subscription.dispose(),
  };
}

/** The pipeline "Start Demo" creates (clean.yaml's orders-fast is a second, faster demo stream). */
function demoPipeline(api: CleanStreamsApi): PipelineInfo | undefined {
  return pipelineNamed(api, 'demo-orders');
}

describe('demo pipeline', () => {
  let api: CleanStreamsApi;
  before(async () => {
    api = await cleanApi();
    await api.whenAgentReady();
  });

  it('"Start Demo" gives a running pipeline in the tree data', async () => {
    const started = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.startDemo');
    assert.equal(started?.name, 'demo-orders', `clean.startDemo returned ${JSON.stringify(started)}`);
    let seen: PipelineInfo | undefined;
    const demo = await eventually('a running demo pipeline', () => {
      seen = demoPipeline(api);
      return seen?.state === 'running' ? seen : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; the tree data shows ${JSON.stringify(seen && { state: seen.state, message: seen.message, records: seen.records })}`);
    });
    assert.equal(demo.backend, 'demo');
    assert.equal(demo.topic, 'orders');
  });

  it('metrics arrive: records grow and the score is on a 0..1 scale', async () => {
    const first = await eventually('a first metrics check', () => {
      const p = demoPipeline(api);
      return p?.records !== undefined && p.score !== undefined ? p : undefined;
    });
    const later = await eventually('records to grow', () => {
      const p = demoPipeline(api);
      return p && (p.records ?? 0) > (first.records ?? 0) ? p : undefined;
    });
    assert.ok(later.score! >= 0 && later.score! <= 1, `score ${later.score} is outside 0..1`);
    assert.ok((later.throughput ?? 0) > 0, `throughput ${later.throughput} is not positive`);
  });

  it('a click on its row runs a command of its own, which outlives the tree redraws and opens the chart', async () => {
    const demo = demoPipeline(api);
    assert.ok(demo, 'no demo-orders pipeline: "Start Demo" did not give one');
    const click = () => api.treeRows().find((r) => r.pipeline === demo.id)?.click;
    // A command with arguments would go through VS Code's converter, under an id that dies with each redraw.
    const first = click();
    assert.match(first?.command ?? '', /^clean\.row\.\d+$/);
    assert.equal(first?.arguments, undefined);
    const records = demoPipeline(api)?.records ?? 0;
    await eventually('records to grow (the row redrawn)', () => ((demoPipeline(api)?.records ?? 0) > records ? true : undefined));
    assert.deepEqual(click(), first);
    await vscode.commands.executeCommand(first!.command);
    const tab = await eventually('the chart of demo-orders', () => {
      const active = vscode.window.tabGroups.activeTabGroup.activeTab;
      return active?.label === `Quality: ${demo.id}` ? active : undefined;
    });
    await vscode.window.tabGroups.close(tab);
  });

  it('an alert from a demo fault episode reaches the notification path', async function () {
    this.timeout(90_000);
    // clean.yaml's orders-fast runs 2000 records/s with 3 s of calm, so its first episode comes within seconds.
    const notices: Array<{ text: string; actions: string[]; pipeline: string }> = [];
    const subscription = api.onDidShowAlertNotice((n) => notices.push({ text: n.text, actions: n.actions, pipeline: n.alert.pipeline }));
    try {
      await vscode.commands.executeCommand('clean.startPipeline', { configUri: workspaceFile('clean.yaml').toString(), pipelineName: 'orders-fast' });
      const notice = await eventually('an alert notice for orders-fast', () => notices.find((n) => n.pipeline === 'orders-fast'), 60_000);
      assert.match(notice.text, /^Clean Streams · orders-fast: /);
      assert.ok(notice.actions.includes('Open Chart'), `actions were ${JSON.stringify(notice.actions)}`);
      const entry = api.pipelines().find((p) => p.info.name === 'orders-fast');
      assert.ok(entry && entry.info.score !== undefined);
    } finally {
      subscription.dispose();
    }
  });

  it('pause, resume and stop change the pipeline state and its flow', async function () {
    this.timeout(60_000);
    const demo = pipelineNamed(api, 'demo-orders');
    assert.ok(demo, 'no demo-orders pipeline to pause: "Start Demo" did not give one');
    const id = demo.id;
    // orders-fast (clean.yaml, a check a second; already running after the alert test) is the clock: "nothing more
    // happens" to the paused pipeline is judged over a number of its checks, not over a time.
    await vscode.commands.executeCommand('clean.startPipeline', { configUri: workspaceFile('clean.yaml').toString(), pipelineName: 'orders-fast' });
    const clock = await eventually('orders-fast running with a first check', () => {
      const p = api.pipelines().find((e) => e.info.name === 'orders-fast');
      return p?.info.state === 'running' && p.metrics ? p.info.id : undefined;
    });
    const checks = checkCounter(api, [clock, id]);
    try {
      await vscode.commands.executeCommand('clean.pausePipeline', { pipeline: id });
      await eventually('demo-orders to pause', () => (pipelineNamed(api, 'demo-orders')?.state === 'paused' ? true : undefined));
      // A check already in flight when the pause landed may still arrive, in the agent's next batch of metrics at the
      // latest: two batches carrying an orders-fast check later, the paused count is final.
      await checks.more(clock, 2);
      const paused = pipelineNamed(api, 'demo-orders')!;
      const pausedChecks = checks.of(id);
      await checks.more(clock, 3);
      assert.equal(checks.of(id), pausedChecks, 'demo-orders was checked while paused');
      assert.equal(pipelineNamed(api, 'demo-orders')!.records, paused.records, 'records kept growing while paused');
      assert.equal(pipelineNamed(api, 'demo-orders')!.state, 'paused');

      await vscode.commands.executeCommand('clean.resumePipeline', { pipeline: id });
      await eventually('demo-orders to resume and consume again', () => {
        const p = pipelineNamed(api, 'demo-orders');
        return p?.state === 'running' && (p.records ?? 0) > (paused.records ?? 0) ? p : undefined;
      });

      await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: id });
      // Stop removes the pipeline from the agent, so it leaves the tree.
      await eventually('demo-orders to leave the tree', () => (pipelineNamed(api, 'demo-orders') === undefined ? true : undefined));
      assert.deepEqual(api.pipelines().map((p) => p.info.name).filter((n) => n === 'demo-orders'), []);
    } finally {
      checks.dispose();
    }
  });
});
