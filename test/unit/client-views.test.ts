import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStatusBar, levelOf } from '../../client/model/statusBarState';
import { PipelineStore } from '../../client/model/pipelineStore';
import { childrenOf, detectorLevel, detectorNodes, pipelineNode } from '../../client/model/topicTree';
import type { MetricsEvent, PipelineInfo } from '../../shared/protocol';
import { pipelineInfo } from '../helpers/clientModel';

const info = pipelineInfo;

function metrics(pipeline: string, time: number, score: number): MetricsEvent {
  return {
    type: 'metrics',
    pipeline,
    time,
    records: 12_345,
    window: 1000,
    score,
    throughput: 1234.5,
    // duplicates stands out; parse is past its threshold but does not stand out (the threshold no longer decides).
    detectors: { duplicates: { rate: 0.12, count: 120, threshold: 0.05, out: true }, missing: { rate: 0.01, count: 10, threshold: 0.1, out: false }, parse: { rate: 0.08, count: 80, threshold: 0.05, out: false } },
    fields: { amount: { missing: 0.01, outliers: 0.02, type: 'number' }, id: { missing: 0, type: 'string' }, note: { missing: 0.3 } },
    baseline: { state: 'ready', records: 5000, needed: 1000 },
  };
}

test('status bar: worst score relative to its threshold, coloured, hidden when nothing runs', () => {
  assert.deepEqual(computeStatusBar([]), { visible: false, text: '', level: 'ok', tooltip: '', worst: undefined, command: 'clean.openChart' });
  assert.deepEqual(computeStatusBar([{ name: 'a', state: 'stopped', score: 0.1, threshold: 0.8, throughput: 0 }]).visible, false);
  const s = computeStatusBar([
    { name: 'orders', state: 'running', score: 0.93, threshold: 0.8, throughput: 500 },
    { name: 'payments', state: 'running', score: 0.74, threshold: 0.8, throughput: 12_000 },
    { name: 'clicks', state: 'connecting', score: undefined, threshold: 0.8, throughput: undefined },
  ]);
  assert.equal(s.text, '$(pulse) 0.74');
  assert.equal(s.level, 'warning');
  assert.equal(s.worst, 'payments');
  assert.equal(
    s.tooltip,
    'Clean Streams — worst quality score (payments)\norders: 0.93 (running, 500 rec/s)\npayments: 0.74 (running, 12k rec/s)\nclicks: – (connecting)\nClick to open the chart',
  );
  const critical = computeStatusBar([{ name: 'orders', state: 'running', score: 0.6, threshold: 0.8, throughput: 1 }]);
  assert.equal(critical.level, 'error');
  assert.equal(critical.text, '$(pulse) 0.60');
  const waiting = computeStatusBar([{ name: 'orders', state: 'connecting', score: undefined, threshold: 0.8, throughput: undefined }]);
  assert.equal(waiting.text, '$(pulse) –');
  assert.equal(waiting.worst, 'orders');
  // A paused pipeline's stale score does not colour the item.
  assert.equal(computeStatusBar([{ name: 'p', state: 'paused', score: 0.1, threshold: 0.8, throughput: 0 }]).level, 'ok');
});

test('health levels follow the agent: below threshold warns, 0.2 below is critical', () => {
  assert.equal(levelOf(0.8, 0.8), 'ok');
  assert.equal(levelOf(0.79, 0.8), 'warning');
  assert.equal(levelOf(0.6, 0.8), 'error');
  assert.equal(levelOf(0.61, 0.8), 'warning');
});

test('store: status, metrics and alerts build one entry per pipeline; removal and stale metrics', () => {
  const store = new PipelineStore();
  let changes = 0;
  store.onChange(() => changes++);
  store.upsert(info('orders', { state: 'connecting' }));
  store.applyMetrics([metrics('orders', 2000, 0.9), metrics('unknown', 2000, 0.1)]);
  store.applyMetrics([metrics('orders', 1000, 0.2)]);
  assert.equal(store.get('orders')!.info.score, 0.9);
  assert.equal(store.get('orders')!.info.records, 12_345);
  store.applyAlert({ type: 'alert', pipeline: 'orders', time: 1, severity: 'warning', detector: 'duplicates', value: 0.12, threshold: 0.05, records: 1, message: 'duplicates 12% > 5%', samples: [], fields: [] });
  assert.equal(store.get('orders')!.activeAlerts.size, 1);
  store.applyAlert({ type: 'recovered', pipeline: 'orders', time: 2, severity: 'warning', detector: 'duplicates', value: 0.01, threshold: 0.05, records: 2, message: 'ok', samples: [], fields: [] });
  assert.equal(store.get('orders')!.activeAlerts.size, 0);
  store.applyStatus({ type: 'status', pipeline: 'orders', time: 3, state: 'stopped', message: '', info: info('orders', { state: 'stopped' }), removed: true });
  assert.equal(store.size, 0);
  assert.equal(changes, 5);
});

test('tree: pipeline row with score and rate, detector rows by whether they stand out, field rows worst first', () => {
  const store = new PipelineStore();
  store.upsert(info('orders'));
  const bare = pipelineNode(store.get('orders')!);
  assert.equal(bare.description, '–');
  assert.deepEqual(bare.icon, { id: 'server-process', color: undefined });
  assert.equal(bare.hasChildren, false);
  store.applyMetrics([metrics('orders', 1000, 0.7)]);
  const node = pipelineNode(store.get('orders')!);
  assert.equal(node.label, 'orders');
  assert.equal(node.description, '0.70 · 1.2k rec/s');
  assert.equal(node.contextValue, 'pipeline.running');
  assert.deepEqual(node.icon, { id: 'server-process', color: 'charts.yellow' });
  assert.equal(node.hasChildren, true);
  assert.match(node.tooltip, /^orders — running\nkafka 127\.0\.0\.1:9092\/orders\nQuality score 0\.70 \(alert below 0\.80\)\nBaseline ready, learnt from 5,000 records\.\n1\.2k rec\/s · 12,345 records · window 1,000\nLast check \d\d:\d\d:\d\d$/);
  const rows = childrenOf(store.get('orders')!).map((n) => [n.kind, n.label, n.description, n.icon.id, n.icon.color, n.contextValue]);
  assert.deepEqual(rows, [
    ['detector', 'duplicates', '12% · stands out', 'warning', 'charts.yellow', 'detector.out'],
    ['detector', 'missing', '1.0%', 'pass', 'charts.green', 'detector'],
    ['detector', 'parse', '8.0%', 'pass', 'charts.green', 'detector'],
  ]);
  // Field rows only for detectors standing out: missing and outliers do not here, so "note missing 30%" is no row.
  store.applyMetrics([{ ...metrics('orders', 2000, 0.7), detectors: { ...metrics('orders', 0, 0).detectors, missing: { rate: 0.1, count: 100, threshold: 0.1, out: true }, outliers: { rate: 0.02, count: 20, threshold: 0.05, out: true } } }]);
  const fields = childrenOf(store.get('orders')!).filter((n) => n.kind === 'field').map((n) => [n.label, n.description, n.icon.id, n.contextValue]);
  assert.deepEqual(fields, [
    ['note', 'missing 30%', 'symbol-field', 'field'],
    ['amount', 'missing 1.0% · outliers 2.0%', 'symbol-field', 'field'],
  ]);
});

test('tree: each state has its icon and context value; a renamed pipeline shows its name', () => {
  const store = new PipelineStore();
  const cases: Array<[PipelineInfo['state'], string, string | undefined, string]> = [
    ['connecting', 'loading~spin', undefined, 'connecting'],
    ['reconnecting', 'sync~spin', 'charts.yellow', 'reconnecting'],
    ['paused', 'debug-pause', 'disabledForeground', '0.95 · paused'],
    ['error', 'error', 'errorForeground', 'error'],
  ];
  for (const [state, icon, color, description] of cases) {
    store.upsert(info('orders', { state, score: 0.95 }));
    const node = pipelineNode(store.get('orders')!);
    assert.deepEqual([node.icon.id, node.icon.color, node.contextValue, node.description], [icon, color, `pipeline.${state}`, description]);
  }
  store.upsert(info('orders', { state: 'running', score: 0.95, name: 'orders-eu', backend: 'redis' }));
  const node = pipelineNode(store.get('orders')!);
  assert.equal(node.description, '0.95 · orders-eu');
  assert.deepEqual(node.icon, { id: 'database', color: 'charts.green' });
});

test('detector level: ok unless it stands out; an error from 25 % of the window or 3× its threshold', () => {
  assert.equal(detectorLevel({ rate: 0.9, threshold: 0.05, out: false }), 'ok');
  assert.equal(detectorLevel({ rate: 0.9, threshold: 0.05 }), 'ok');
  assert.equal(detectorLevel({ rate: 0.149, threshold: 0.05, out: true }), 'warning');
  assert.equal(detectorLevel({ rate: 0.15, threshold: 0.05, out: true }), 'error');
  assert.equal(detectorLevel({ rate: 0.25, threshold: 0.5, out: true }), 'error');
  assert.equal(detectorLevel({ rate: 0.249, threshold: 0.5, out: true }), 'warning');
  assert.equal(detectorLevel({ rate: 0.1, threshold: 0, out: true }), 'warning');
  assert.equal(detectorLevel({ rate: 0.002, threshold: 0.1, out: true }), 'warning');
});

test('tree: a learning pipeline shows its progress; its tooltip says alerts are held; restored and undo are shown', () => {
  const store = new PipelineStore();
  store.upsert(info('orders'));
  const learning = { ...metrics('orders', 1000, 0.99), records: 450, baseline: { state: 'learning' as const, records: 450, needed: 1000 } };
  store.applyMetrics([learning]);
  assert.deepEqual(store.get('orders')!.info.baseline, { state: 'learning', records: 450, needed: 1000 });
  let node = pipelineNode(store.get('orders')!);
  assert.equal(node.description, '0.99 · 1.2k rec/s · learning 450/1,000');
  assert.equal(node.contextValue, 'pipeline.running');
  assert.match(
    node.tooltip,
    /^orders — running\nkafka 127\.0\.0\.1:9092\/orders\nQuality score 0\.99 \(alert below 0\.80\)\nLearning its baseline: 450 of 1,000 records\.\nAlerts driven by the baseline are held until the first window is learnt; hard limits \(parse, duplicates, your thresholds\) still alert\.\n1\.2k rec\/s · 450 records · window 1,000\nLast check \d\d:\d\d:\d\d$/,
  );
  // Paused while learning: both show; a stopped pipeline's learning is not news.
  store.upsert({ ...store.get('orders')!.info, state: 'paused' });
  assert.equal(pipelineNode(store.get('orders')!).description, '0.99 · learning 450/1,000 · paused');
  store.upsert({ ...store.get('orders')!.info, state: 'stopped' });
  assert.equal(pipelineNode(store.get('orders')!).description, 'stopped');
  // Before its first check (connecting, or a broker never reached) there is no progress to show, in the row or its tooltip.
  store.upsert(info('payments', { state: 'reconnecting', baseline: { state: 'learning', records: 0, needed: 1000 } }));
  const unreached = pipelineNode(store.get('payments')!);
  assert.equal(unreached.description, 'reconnecting');
  assert.equal(unreached.tooltip, 'payments — reconnecting\nkafka 127.0.0.1:9092/payments');
  store.upsert(info('payments', { state: 'reconnecting', score: 0.97, baseline: { state: 'learning', records: 300, needed: 1000 } }));
  assert.equal(pipelineNode(store.get('payments')!).description, 'learning 300/1,000 · reconnecting');
  // Resumed from a saved baseline, with a change that can be undone.
  store.upsert({ ...store.get('orders')!.info, state: 'running', baseline: { state: 'ready', records: 12_000, needed: 1000, restored: true }, canUndoBaseline: true });
  node = pipelineNode(store.get('orders')!);
  assert.equal(node.description, '0.99 · 1.2k rec/s');
  assert.equal(node.contextValue, 'pipeline.running.undo');
  assert.equal(node.tooltip.split('\n')[3], 'Baseline ready, learnt from 12,000 records. It resumed a saved baseline.');
  store.upsert({ ...store.get('orders')!.info, baseline: { state: 'learning', records: 1200, needed: 1000, restored: true }, canUndoBaseline: false });
  node = pipelineNode(store.get('orders')!);
  assert.equal(node.description, '0.99 · 1.2k rec/s · learning 1,000/1,000');
  assert.equal(node.contextValue, 'pipeline.running');
  assert.equal(node.tooltip.split('\n')[3], 'Learning its baseline: 1,000 of 1,000 records. It resumed a saved baseline.');
});

test('tree: detector tooltips say how each is judged now; rules are the user\'s contract', () => {
  const store = new PipelineStore();
  store.upsert(info('orders'));
  const m: MetricsEvent = {
    ...metrics('orders', 1000, 0.9),
    detectors: {
      duplicates: { rate: 0.3, count: 300, threshold: 0.05, out: true },
      missing: { rate: 0.02, count: 20, threshold: 0.1, out: true },
      schema: { rate: 0.01, count: 10, threshold: 0.05, out: false },
      parse: { rate: 0, count: 0, threshold: 0.01, out: false },
      rules: { rate: 0.07, count: 70, threshold: 0.05, out: true },
    },
  };
  store.applyMetrics([m]);
  const rows = detectorNodes(store.get('orders')!).map((n) => [n.label, n.description, n.icon.id, n.contextValue, n.tooltip]);
  assert.deepEqual(rows, [
    ['duplicates', '30% · stands out', 'error', 'detector.out', 'duplicates: 300 of 1,000 window records flagged (30%).\nStands out from what this pipeline learnt as usual or is past its 5.0% limit. If this is the new normal, choose "This is normal".'],
    ['missing', '2.0% · stands out', 'warning', 'detector.out', 'missing: 20 of 1,000 window records flagged (2.0%).\nStands out from what this pipeline learnt as usual. If this is the new normal, choose "This is normal".'],
    ['schema', '1.0%', 'pass', 'detector', 'schema: 10 of 1,000 window records flagged (1.0%).\nWithin what this pipeline learnt as usual.'],
    ['parse', '0%', 'pass', 'detector', 'parse: 0 of 1,000 window records flagged (0%).\nWithin what this pipeline learnt as usual.'],
    ['rules', '7.0% · stands out', 'warning', 'detector.rules.out', 'rules: 70 of 1,000 window records flagged (7.0%).\nPast its 5.0% limit: your field rules are broken.'],
  ]);
  store.applyMetrics([{ ...m, time: 2000, baseline: { state: 'learning', records: 300, needed: 1000 }, detectors: { ...m.detectors, duplicates: { rate: 0, count: 0, threshold: 0.05, out: false }, rules: { rate: 0, count: 0, threshold: 0.05, out: false } } }]);
  const learning = detectorNodes(store.get('orders')!).map((n) => [n.label, n.contextValue, n.tooltip.split('\n')[1]]);
  assert.deepEqual(learning, [
    ['duplicates', 'detector', 'Still learning what is usual; until then it alerts only past its 5.0% limit.'],
    ['missing', 'detector.out', 'Stands out from what this pipeline learnt as usual. If this is the new normal, choose "This is normal".'],
    ['schema', 'detector', 'Still learning what is usual; its alerts are held until then.'],
    ['parse', 'detector', 'Still learning what is usual; until then it alerts only past its 1.0% limit.'],
    ['rules', 'detector.rules', 'Alerts past its 5.0% limit.'],
  ]);
});

test('status bar: its tooltip names the pipelines still learning', () => {
  const s = computeStatusBar([
    { name: 'orders', state: 'running', score: 0.93, threshold: 0.8, throughput: 500, baseline: { state: 'learning', records: 450, needed: 1000 } },
    { name: 'payments', state: 'running', score: 0.91, threshold: 0.8, throughput: 12_000, baseline: { state: 'ready', records: 4000, needed: 1000 } },
    { name: 'clicks', state: 'paused', score: 0.9, threshold: 0.8, throughput: 0, baseline: { state: 'learning', records: 2500, needed: 10_000 } },
    { name: 'old', state: 'stopped', score: 0.9, threshold: 0.8, throughput: 0, baseline: { state: 'learning', records: 1, needed: 1000 } },
    { name: 'new', state: 'connecting', score: undefined, threshold: 0.8, throughput: undefined, baseline: { state: 'learning', records: 0, needed: 1000 } },
  ]);
  assert.equal(
    s.tooltip,
    'Clean Streams — worst quality score (payments)\norders: 0.93 (running, 500 rec/s)\npayments: 0.91 (running, 12k rec/s)\nclicks: 0.90 (paused)\nnew: – (connecting)\nStill learning a baseline (alerts held): orders 450/1,000, clicks 2,500/10,000\nClick to open the chart',
  );
  const ready = computeStatusBar([{ name: 'payments', state: 'running', score: 0.91, threshold: 0.8, throughput: 1, baseline: { state: 'ready', records: 4000, needed: 1000 } }]);
  assert.equal(ready.tooltip.includes('learning'), false);
});
