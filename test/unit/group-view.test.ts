/**
 * The group's bookkeeping without Kafka (server/scale/coverage.ts, groupRecords.ts, mergedView.ts): which offsets an
 * agent's summary covers, gaps and overlaps across agents with their exact offsets, and alerts announced once
 * across the group when the owner of the summaries topic's partition 0 changes. The Kafka side runs in
 * test/integration/group.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualityEngine } from '../../server/engine/quality';
import { resolvePipelineConfig } from '../../server/engine/config';
import { summarize } from '../../server/scale/summary';
import { CoverageTracker, coverageIssues, type Coverage } from '../../server/scale/coverage';
import { GROUP_RECORD_VERSION, parseGroupRecord, type AgentSummaryRecord } from '../../server/scale/groupRecords';
import { GroupMergedView } from '../../server/scale/mergedView';
import { parseCli } from '../../server/cli/args';
import type { SourceMessage } from '../../server/sources/types';

const config = resolvePipelineConfig({ windowSize: 100, detectors: ['parse'] });
const msgs = (partition: number, from: number, values: string[]): SourceMessage[] => values.map((v, i) => ({ value: Buffer.from(v), position: `${partition}@${from + i}` }));
const good = (n: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: i }));
const bad = (n: number) => Array.from({ length: n }, (_, i) => `not json ${i}`);

function engineOf(values: string[]): QualityEngine {
  const e = new QualityEngine(config);
  for (const m of msgs(0, 0, values)) e.process(m);
  return e;
}

function record(agent: string, seq: number, time: number, engine: QualityEngine, coverage: Coverage, extra: Partial<AgentSummaryRecord> = {}): AgentSummaryRecord {
  return { kind: 'summary', version: GROUP_RECORD_VERSION, group: 'g', agent, pipeline: 'orders', seq, time, started: 1, coverage, summary: summarize(engine, agent, {}, 'orders', time), ...extra };
}

const view = (agent: string) => new GroupMergedView({ group: 'g', pipeline: 'orders', config, agent, staleMs: 5000, graceMs: 1000, startedAt: 0 });

test('a coverage range ends at the last record the engine processed, even in the middle of a batch', () => {
  const t = new CoverageTracker();
  t.assigned(3, 100);
  t.handOver(msgs(3, 100, good(5)));
  t.settle(3); // a check after the engine's third record of the batch
  assert.equal(t.next(3), 103);
  t.processed(); // the pipeline asks for the next batch
  assert.equal(t.next(3), 105);
  t.handOver(msgs(3, 105, good(2)));
  t.settle(6);
  assert.equal(t.next(3), 106);
  t.settle(7);
  assert.deepEqual(t.toJSON(), { '3': [[100, 107]] });
  // A restarted pipeline's engine counts from 0 again: the batch in hand is dropped, the ranges stay.
  t.handOver(msgs(3, 107, good(3)));
  t.rebase(0);
  t.settle(2);
  assert.equal(t.next(3), 107);
  t.assigned(3, 107); // kept through a rebalance: the same range goes on
  t.assigned(3, 200); // moved away and back, further on
  t.assigned(5, 40);
  assert.deepEqual(t.toJSON(), { '3': [[100, 107], [200, 200]], '5': [[40, 40]] });
});

test('offsets nobody read and offsets read twice are found with their exact bounds', () => {
  const issues = coverageIssues([
    { partition: 3, from: 0, next: 1200, agent: 'b' },
    { partition: 3, from: 1531, next: 1600, agent: 'a' },
    { partition: 1, from: 0, next: 100, agent: 'a' },
    { partition: 1, from: 80, next: 150, agent: 'b' },
    { partition: 2, from: 0, next: 50, agent: 'a' },
    { partition: 2, from: 50, next: 90, agent: 'b' },
  ]);
  assert.deepEqual(issues, [
    { kind: 'overlap', partition: 1, from: 80, to: 99, agents: ['a', 'b'], message: 'partition 1: offsets 80–99 were read twice (agents a and b); the merged counts hold them twice' },
    { kind: 'gap', partition: 3, from: 1200, to: 1530, agents: ['b', 'a'], message: 'partition 3: offsets 1200–1530 were not read (agent b stopped at 1200, agent a started at 1531)' },
  ]);
});

test('the merged view reports a gap once, after it has stood for the grace period', () => {
  const v = view('a');
  v.add(record('b', 1, 1000, engineOf(good(10)), { '3': [[0, 1200]] }));
  v.add(record('a', 1, 1000, engineOf(good(10)), { '3': [[1531, 1600]] }));
  assert.deepEqual(v.check(1000).issues, []);
  const later = v.check(2000).issues;
  assert.deepEqual(later.map((i) => i.message), ['partition 3: offsets 1200–1530 were not read (agent b stopped at 1200, agent a started at 1531)']);
  assert.deepEqual(v.check(3000).issues, []);
  assert.deepEqual([...v.positions()], [[3, 1600]]);
});

test('a gap that a late summary closes is never reported', () => {
  const v = view('a');
  v.add(record('a', 1, 1000, engineOf(good(10)), { '0': [[0, 50]] }));
  v.add(record('b', 1, 1000, engineOf(good(10)), { '0': [[80, 90]] }));
  assert.deepEqual(v.check(1000).issues, []);
  v.add(record('a', 2, 1500, engineOf(good(10)), { '0': [[0, 80]] }));
  assert.deepEqual(v.check(2500).issues, []);
});

test('counts merge across agents; an agent gone leaves the window but its records still count', () => {
  const v = view('a');
  v.add(record('a', 1, 1000, engineOf([...good(30), ...bad(10)]), { '0': [[0, 40]] }));
  v.add(record('b', 1, 1000, engineOf(good(20)), { '1': [[0, 20]] }));
  const m = v.check(1000).metrics!;
  assert.equal(m.records, 60);
  assert.equal(m.window, 60);
  assert.equal(m.detectors.parse!.count, 10);
  assert.equal(m.shards, 2);
  v.add(record('a', 2, 6500, engineOf([...good(30), ...bad(10)]), { '0': [[0, 40]] }));
  const after = v.check(6500).metrics!; // b's last summary is 5.5 s old: past staleMs
  assert.equal(after.records, 60);
  assert.equal(after.window, 40);
  assert.deepEqual(v.members(6500), { live: ['a'], gone: ['b'] });
});

test('an alert is announced once across the group, also when the owner changes', () => {
  const a = view('a');
  const b = view('b');
  const faulty = record('a', 1, 1000, engineOf([...good(20), ...bad(20)]), { '0': [[0, 40]] });
  for (const v of [a, b]) v.add(faulty);
  a.setOwner(true, 0);
  const first = a.check(1000);
  assert.deepEqual(first.announced.map((e) => [e.type, e.detector, e.severity]), [['alert', 'parse', 'critical']]);
  assert.deepEqual(first.ledger!.alerts, { parse: { state: 'alert', severity: 'critical', time: 1000, agent: 'a' } });
  assert.deepEqual(b.check(1000).announced, []); // not the owner
  // a dies; b takes partition 0 and has the ledger a wrote: the alert is not raised again.
  b.add(first.ledger!, 1000);
  b.setOwner(true, 2000);
  assert.deepEqual(b.check(2500).announced, []); // within the grace: waits for the old owner's ledger
  assert.deepEqual(b.check(3100).announced, []);
  // The fault passes: b announces the recovery of what a raised.
  b.add(record('a', 2, 3200, engineOf(good(40)), { '0': [[0, 40]] }));
  const healed = b.check(3200);
  assert.deepEqual(healed.announced.map((e) => [e.type, e.detector]), [['recovered', 'parse']]);
  assert.equal(healed.ledger!.alerts.parse.state, 'recovered');
});

test('a ledger left by an earlier run of the group does not hold back a new episode', () => {
  const b = view('b');
  b.add({ kind: 'alerts', version: GROUP_RECORD_VERSION, group: 'g', pipeline: 'orders', agent: 'a', time: 1000, alerts: { parse: { state: 'alert', severity: 'critical', time: 1000, agent: 'a' } } }, 90_000);
  b.add(record('b', 1, 90_000, engineOf([...good(20), ...bad(20)]), { '0': [[0, 40]] }));
  b.setOwner(true, 89_000);
  assert.deepEqual(b.check(90_000).announced.map((e) => [e.type, e.detector]), [['alert', 'parse']]);
});

test('an agent restarted under the same id keeps what its earlier run read', () => {
  const v = view('a');
  v.add(record('b', 9, 1000, engineOf(good(50)), { '2': [[0, 50]] }, { started: 1 }));
  v.add(record('b', 1, 2000, engineOf(good(5)), { '2': [[50, 55]] }, { started: 1500 }));
  assert.deepEqual(v.coverage(), { '2': [[0, 50, 'b'], [50, 55, 'b']] });
  assert.equal(v.check(2000).metrics!.records, 55);
  assert.deepEqual(v.members(2000), { live: ['b'], gone: [] });
});

test('a new owner announces an alert that crossed while nobody announced it', () => {
  const b = view('b');
  b.add(record('a', 1, 1000, engineOf([...good(20), ...bad(20)]), { '0': [[0, 40]] }));
  assert.deepEqual(b.check(1000).announced, []);
  b.setOwner(true, 1500);
  assert.deepEqual(b.check(2600).announced.map((e) => [e.type, e.detector]), [['alert', 'parse']]);
  assert.deepEqual(b.check(2900).announced, []);
});

test('records on the summaries topic that are not group records are refused with the reason', () => {
  const ok = record('a', 1, 1000, engineOf(good(3)), { '0': [[0, 3]] });
  assert.deepEqual(parseGroupRecord(Buffer.from(JSON.stringify(ok))), ok);
  assert.deepEqual(parseGroupRecord(null), { problem: 'an empty record' });
  assert.deepEqual(parseGroupRecord(Buffer.from('{not json')), { problem: 'a record that is not JSON' });
  assert.deepEqual(parseGroupRecord(Buffer.from(JSON.stringify({ ...ok, version: 9 }))), { problem: 'a record of version 9 (this agent reads version 1)' });
  assert.deepEqual(parseGroupRecord(Buffer.from(JSON.stringify({ ...ok, coverage: { '0': [[5, 2]] } }))), { problem: 'a summary from agent a with malformed coverage' });
  assert.deepEqual(parseGroupRecord(Buffer.from(JSON.stringify({ ...ok, agent: 'a b' }))), { problem: 'a record without a valid group, pipeline, agent and time' });
  assert.deepEqual(parseGroupRecord(Buffer.from(JSON.stringify({ ...ok, summary: { ...ok.summary, records: -1 } }))), { problem: 'a summary from agent a whose counts do not validate' });
  assert.deepEqual(parseGroupRecord(Buffer.from(JSON.stringify({ ...ok, kind: 'other' }))), { problem: 'a record of unknown kind "other"' });
});

test('--group and its settings on the command line', () => {
  const o = parseCli(['watch', 'kafka://127.0.0.1:9092/orders', '--group', 'east', '--summaries-topic', 'team.summaries', '--agent-id', 'box-1', '--session-timeout', '6s']);
  assert.deepEqual(o.group, { name: 'east', summariesTopic: 'team.summaries', agentId: 'box-1', sessionTimeoutMs: 6000 });
  const d = parseCli(['run', 'clean.yaml', '--group', 'east']);
  assert.equal(d.group!.summariesTopic, 'clean.summaries');
  assert.equal(d.group!.sessionTimeoutMs, 10_000);
  assert.match(d.group!.agentId, /^[A-Za-z0-9._:-]+-\d+$/);
  assert.throws(() => parseCli(['run', 'clean.yaml', '--agent-id', 'x']), /--summaries-topic, --agent-id and --session-timeout go with --group <name>/);
  assert.throws(() => parseCli(['run', 'clean.yaml', '--group', 'a b']), /--group takes a name of letters, digits/);
  assert.throws(() => parseCli(['run', 'clean.yaml', '--group', 'g', '--session-timeout', '500']), /--session-timeout takes a duration/);
  assert.throws(() => parseCli(['demo', '--group', 'g']), /--group goes with run <clean.yaml> or watch <kafka-url>/);
});
