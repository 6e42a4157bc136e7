/**
 * Learned baselines over the protocol: "This is normal" (clean/acceptNormal), undo and reset, and a baseline
 * that outlives the agent in its storage folder, so a restarted agent resumes without relearning or re-alerting.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient } from './agentClient';
import type { AlertEvent, BaselineChangeResult, MetricsParams, PipelineInfo, StatusParams } from '../../shared/protocol';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-baseline-'));
const storage = path.join(dir, 'storage');

function orders(from: number, n: number, promoFrom = Infinity): string {
  let seed = 7 + from;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const lines: string[] = [];
  for (let i = from; i < from + n; i++) {
    const o: Record<string, unknown> = { id: i, amount: Math.round(Math.exp(3 + rnd()) * 100) / 100 };
    if (i >= promoFrom) o.promo = 'WINTER';
    lines.push(JSON.stringify(o));
  }
  return lines.join('\n') + '\n';
}

async function runFile(agent: AgentClient, file: string): Promise<{ alerts: AlertEvent[]; first: MetricsParams['events'][number] }> {
  await agent.request<PipelineInfo>('clean/startPipeline', { name: 'orders', url: `file:${file}`, settings: { windowSize: 200, checkInterval: 50 } });
  await agent.waitFor('orders at the end of its file', () => agent.of('clean/status').some((r) => r.params.pipeline === 'orders' && /^end of source/.test(r.params.message)));
  const metrics = agent.of('clean/metrics').flatMap((r) => (r.params as MetricsParams).events).filter((e) => e.pipeline === 'orders');
  return { alerts: agent.of('clean/alert').map((r) => r.params as AlertEvent).filter((e) => e.type === 'alert'), first: metrics[0] };
}

describe('learned baselines over the protocol (spawned agent, storage folder)', () => {
  const agents: AgentClient[] = [];
  after(async () => {
    for (const a of agents) if (a.process.exitCode === null) await a.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a new field as normal, keeps it across an agent restart, and undoes and resets on request', async () => {
    const first = path.join(dir, 'first.jsonl');
    writeFileSync(first, orders(0, 1000, 700));
    let agent = await AgentClient.start({ storagePath: storage });
    agents.push(agent);
    const run1 = await runFile(agent, first);
    // The new field is flagged in every record that carries it; the alert names it.
    assert.deepEqual(run1.alerts.map((a) => [a.records, a.detector, a.severity, a.fields.map((f) => f.name)]), [[750, 'schema', 'critical', ['promo']]]);
    assert.deepEqual(run1.first.baseline, { state: 'learning', records: 50, needed: 200 });

    const accepted = await agent.request<BaselineChangeResult>('clean/acceptNormal', { pipeline: 'orders', detector: 'schema', field: 'promo' });
    assert.deepEqual([accepted.changed, accepted.message, accepted.info.canUndoBaseline], [1, 'Accepted the current level of schema on "promo" as normal.', true]);
    const unknown = await agent.request('clean/acceptNormal', { pipeline: 'orders', detector: 'labels' }).catch((e: Error) => e.message);
    assert.equal(unknown, 'Pipeline "orders" does not run the labels detector; it runs outliers, duplicates, missing, schema, parse.');
    assert.equal(await agent.stop(), 0);
    assert.equal(existsSync(path.join(storage, 'baselines', 'orders.baseline.json')), true);

    // A new agent on the same storage: ready from its first check, and the accepted field raises nothing.
    const second = path.join(dir, 'second.jsonl');
    writeFileSync(second, orders(1000, 300, 0));
    agent = await AgentClient.start({ storagePath: storage });
    agents.push(agent);
    const run2 = await runFile(agent, second);
    assert.deepEqual(run2.first.baseline, { state: 'ready', records: 1000, needed: 200, restored: true });
    // Not even its first status ("connecting") says learning: the saved baseline is taken in before the pipeline announces itself.
    const statuses = agent.of('clean/status').map((r) => r.params as StatusParams).filter((p) => p.pipeline === 'orders');
    assert.deepEqual([statuses[0]?.state, [...new Set(statuses.map((p) => p.info.baseline?.state))]], ['connecting', ['ready']]);
    assert.deepEqual(run2.alerts, []);

    const undone = await agent.request<BaselineChangeResult>('clean/undoBaseline', { pipeline: 'orders' });
    assert.deepEqual([undone.changed, undone.message], [1, 'Restored the baseline as it was before the last change.']);
    const reset = await agent.request<BaselineChangeResult>('clean/resetBaseline', { pipeline: 'orders' });
    // Learning afresh from the reset on: none of the next window's records seen yet.
    assert.deepEqual([reset.changed, reset.info.baseline, reset.info.canUndoBaseline], [1, { state: 'learning', records: 0, needed: 200 }, true]);
    assert.equal(existsSync(path.join(storage, 'baselines', 'orders.baseline.json')), false);
    assert.equal(await agent.stop(), 0);
  });
});
