import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeStatusBar, levelOf } from '../../client/model/statusBarState';
import { PipelineStore } from '../../client/model/pipelineStore';
import { childrenOf, pipelineNode } from '../../client/model/topicTree';
import type { MetricsEvent, PipelineInfo } from '../../shared/protocol';

function info(id: string, over: Partial<PipelineInfo> = {}): PipelineInfo {
  return {
    id,
    name: id,
    topic: id,
    backend: 'kafka',
    description: `kafka 127.0.0.1:9092/${id}`,
    state: 'running',
    message: '',
    threshold: 0.8,
    detectors: ['duplicates', 'missing'],
    cliCommand: `clean-agent watch kafka://127.0.0.1:9092/${id}`,
    ...over,
  };
}

function metrics(pipeline: string, time: number, score: number): MetricsEvent {
  return {
    type: 'metrics',
    pipeline,
    time,
    records: 12_345,
    window: 1000,
    score,
    throughput: 1234.5,
    detectors: { duplicates: { rate: 0.12, count: 120, threshold: 0.05 }, missing: { rate: 0.01, count: 10, threshold: 0.1 }, parse: { rate: 0.08, count: 80, threshold: 0.05 } },
    fields: { amount: { missing: 0.01, outliers: 0.02, type: 'number' }, id: { missing: 0, type: 'string' }, note: { missing: 0.3 } },
    baseline: { state: 'ready', records: 5000, needed: 1000 },
  };
}

test('status bar: worst score relative to its threshold, coloured, hidden when nothing runs', () => {
  assert.deepEqual(computeStatusBar([]), { visible: false, text: '', level: 'ok', tooltip: '', worst: undefined });
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

test('tree: pipeline row with score and rate, detector rows against thresholds, field rows worst first', () => {
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
  assert.match(node.tooltip, /^orders — running\nkafka 127\.0\.0\.1:9092\/orders\nQuality score 0\.70 \(alert below 0\.80\)\n1\.2k rec\/s · 12,345 records · window 1,000\nLast check \d\d:\d\d:\d\d$/);
  const rows = childrenOf(store.get('orders')!).map((n) => [n.kind, n.label, n.description, n.icon.id, n.icon.color, n.contextValue]);
  assert.deepEqual(rows, [
    ['detector', 'duplicates', '12% / 5.0%', 'warning', 'charts.yellow', 'detector.flagged'],
    ['detector', 'missing', '1.0% / 10%', 'pass', 'charts.green', 'detector'],
    ['detector', 'parse', '8.0% / 5.0%', 'warning', 'charts.yellow', 'detector.flagged'],
    ['field', 'note', 'missing 30%', 'symbol-field', undefined, 'field'],
    ['field', 'amount', 'missing 1.0% · outliers 2.0%', 'symbol-field', undefined, 'field'],
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
