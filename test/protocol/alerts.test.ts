/**
 * clean/alert over LSP from the spawned, built agent: a file with one deterministic fault episode (every other
 * record a duplicate of the one before it, records 401-500) raises a duplicates warning, escalates it to critical,
 * and sends `recovered` once the window is clean again; every field of each notification asserted.
 *
 * Issue 17.9, "every alert is written twice to the Output channel": the Output channel shows the agent's log
 * (window/logMessage) and the extension's own lines, and the extension does not log alerts itself (its notifier
 * only notes, at debug level, why a notice was not shown); so each alert and recovery reaches the agent's log once.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient } from './agentClient';
import type { AlertParams, MetricsParams, PipelineInfo } from '../../shared/protocol';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-alerts-'));
const file = path.join(dir, 'orders.jsonl');

const order = (i: number) => JSON.stringify({ id: `o-${i + 1}`, amount: 10 + (i % 17), country: ['DE', 'FR', 'US'][i % 3] });

before(() => {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) lines.push(order(i));
  // The episode: lines 402, 404, … 500 repeat the line before them (50 duplicates in 100 records).
  for (let i = 400; i < 500; i++) lines.push(order(i % 2 === 0 ? i : i - 1));
  for (let i = 500; i < 900; i++) lines.push(order(i));
  writeFileSync(file, lines.join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('clean/alert and recovered over LSP (spawned agent, file source)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ settings: { windowSize: 100 } });
  });
  after(async () => {
    await agent.stop();
  });

  it('a duplicates episode: warning at 25 %, critical at 50 %, recovered at 0 %, each with its samples and fields', async () => {
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'orders', url: `file:${file}`, settings: { checkInterval: 50 } });
    assert.equal(info.id, 'orders');
    await agent.waitFor('the end of the file', () => agent.of('clean/status').some((r) => r.params.pipeline === 'orders' && r.params.message === 'end of source after 900 records'));
    // Alerts are sent at once; the metrics of the last checks come in their batch.
    await agent.waitFor('all 18 checks', () => agent.of('clean/metrics').flatMap((r) => (r.params as MetricsParams).events).filter((e) => e.pipeline === 'orders').length === 18);
    const notes = agent.of('clean/alert').map((r) => r.params as AlertParams);
    for (const n of notes) assert.equal(typeof n.time, 'number');
    const samples = (last: number) => Array.from({ length: 5 }, (_, k) => ({ record: last - 2 * k, position: last - 2 * k }));
    assert.deepEqual(
      notes.map(({ time: _time, ...rest }) => rest),
      [
        {
          type: 'alert',
          pipeline: 'orders',
          severity: 'warning',
          detector: 'duplicates',
          value: 0.25,
          threshold: 0.094,
          records: 450,
          message: 'duplicates in the last 100 records: 25% of records repeat one earlier in the window (usually 0%). Latest: record 450 (position 450).',
          samples: samples(450),
          fields: [{ name: null, share: 0.25, usual: 0, detail: '25% of records repeat one earlier in the window (usually 0%)' }],
        },
        {
          type: 'alert',
          pipeline: 'orders',
          severity: 'critical',
          detector: 'duplicates',
          value: 0.5,
          threshold: 0.094,
          records: 500,
          message: 'duplicates in the last 100 records: 50% of records repeat one earlier in the window (usually 0%). Latest: record 500 (position 500).',
          samples: samples(500),
          fields: [{ name: null, share: 0.5, usual: 0, detail: '50% of records repeat one earlier in the window (usually 0%)' }],
        },
        {
          type: 'recovered',
          pipeline: 'orders',
          severity: 'critical',
          detector: 'duplicates',
          value: 0,
          threshold: 0.05,
          records: 600,
          message: 'duplicates: back to normal, 0.0% of the last 100 records flagged.',
          samples: [],
          fields: [],
        },
      ],
    );
    // In the order they fired.
    const times = notes.map((n) => n.time);
    assert.deepEqual([...times].sort((a, b) => a - b), times);
  });
});

describe('alerts in the agent log (spawned agent, file source)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ settings: { windowSize: 100, logLevel: 'debug' } });
  });
  after(async () => {
    await agent.stop();
  });

  it('each alert and recovery is logged exactly once, as sent', async () => {
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'orders', url: `file:${file}`, settings: { checkInterval: 50 } });
    assert.equal(info.id, 'orders');
    await agent.waitFor('the end of the file', () => agent.of('clean/status').some((r) => r.params.pipeline === 'orders' && r.params.message === 'end of source after 900 records'));
    const sent = agent.of('clean/alert').map((r) => r.params as AlertParams);
    assert.deepEqual(sent.map((a) => [a.type, a.severity]), [['alert', 'warning'], ['alert', 'critical'], ['recovered', 'critical']]);
    const log = agent.of('window/logMessage').map((r) => String(r.params.message));
    // Every log line that quotes an alert's message, in order: one per notification.
    const quoting = log.filter((line) => sent.some((a) => line.includes(a.message)));
    assert.deepEqual(quoting, [
      `[orders] warning alert: ${sent[0]!.message}`,
      `[orders] critical alert: ${sent[1]!.message}`,
      `[orders] recovered: ${sent[2]!.message}`,
    ]);
  });
});
