/** The service parts of `clean-agent run`: metrics (bounded field series), reload plans, JSON logs, the endpoint address, `metrics:` in clean.yaml. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { MemorySource } from '../../server/sources/memory';
import { resolvePipelineConfig } from '../../server/engine/config';
import { FIELD_SERIES_PER_PIPELINE, ServiceMetrics } from '../../server/service/metrics';
import { describeReload, identityOf, planReload, type PlannedPipeline } from '../../server/service/reload';
import { ServiceLog } from '../../server/service/log';
import { parseMetricsAddress } from '../../server/service/http';
import { parseCleanConfig } from '../../server/config/parse';

/** The samples of an exposition text whose name starts with `prefix`: `name{labels}` → value. */
function samples(text: string, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(prefix)) continue;
    const cut = line.lastIndexOf(' ');
    out.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return out;
}

test('clean_field_rate keeps 20 fields per pipeline, the worst now; the rest fold into field="_other" at their highest rate', async () => {
  // 26 fields: id always there, fK missing from K of every 50 records (f24: 48 %).
  const records: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const r: Record<string, unknown> = { id: i };
    for (let k = 0; k < 25; k++) if (i % 50 >= k) r[`f${String(k).padStart(2, '0')}`] = 'x';
    records.push(JSON.stringify(r));
  }
  const p = new RealtimePipeline('wide', new MemorySource(records), resolvePipelineConfig({ windowSize: 1000, checkInterval: { records: 1000 }, detectors: ['missing'] }));
  const metrics = new ServiceMetrics({ processMetrics: false });
  metrics.track(p);
  await p.run();
  const text = await metrics.render();
  const fields = samples(text, 'clean_field_rate{');
  assert.equal(FIELD_SERIES_PER_PIPELINE, 20);
  const expected = new Map<string, number>();
  for (let k = 24; k >= 5; k--) expected.set(`clean_field_rate{pipeline="wide",detector="missing",field="f${String(k).padStart(2, '0')}"}`, Number((k * 0.02).toFixed(2)));
  expected.set('clean_field_rate{pipeline="wide",detector="missing",field="_other"}', 0.08);
  assert.deepEqual(fields, expected);
  assert.deepEqual(samples(text, 'clean_records_total{'), new Map([['clean_records_total{pipeline="wide"}', 1000]]));
  assert.deepEqual(samples(text, 'clean_pipeline_up{'), new Map([['clean_pipeline_up{pipeline="wide"}', 0]]));
  assert.deepEqual(metrics.readiness(), { ready: true, body: 'ready: 1 pipeline connected\n' });
  // Untracked (removed by a reload): no series of it remain.
  metrics.untrack('wide');
  const after = await metrics.render();
  assert.equal(after.split('\n').filter((l) => l.includes('pipeline="wide"')).length, 0);
  assert.deepEqual(metrics.readiness(), { ready: true, body: 'ready: 0 pipelines connected\n' });
});

test('alerts and sink figures are counted with their labels', async () => {
  // Duplicates from record 500 on: a hard limit alerts at once.
  const records = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i < 500 ? i : 499 }));
  const p = new RealtimePipeline('dups', new MemorySource(records), resolvePipelineConfig({ windowSize: 200, checkInterval: { records: 100 }, detectors: ['duplicates'] }));
  const metrics = new ServiceMetrics({ processMetrics: false });
  metrics.track(p);
  metrics.setSinks(() => [{ name: 'hook', kind: 'webhook', failed: 3, dropped: 2 }]);
  const fired: string[] = [];
  p.on('alert', (e) => fired.push(`${e.detector ?? 'score'} ${e.severity}`));
  await p.run();
  const text = await metrics.render();
  const counts = new Map<string, number>();
  for (const f of fired) counts.set(f, (counts.get(f) ?? 0) + 1);
  assert.ok(fired.length > 0);
  assert.deepEqual(
    samples(text, 'clean_alerts_total{'),
    new Map([...counts].map(([k, n]) => [`clean_alerts_total{pipeline="dups",detector="${k.split(' ')[0]}",severity="${k.split(' ')[1]}"}`, n])),
  );
  assert.deepEqual(samples(text, 'clean_sink_failures_total{'), new Map([['clean_sink_failures_total{sink="hook",kind="webhook"}', 3]]));
  assert.deepEqual(samples(text, 'clean_sink_dropped_total{'), new Map([['clean_sink_dropped_total{sink="hook",kind="webhook"}', 2]]));
});

test('planReload: unchanged kept, changed restarted, removed stopped, added started; key order does not matter', () => {
  const demo = (name: string, settings: Record<string, unknown> = {}): PlannedPipeline => ({ name, spec: { backend: 'demo', topic: 'orders', from: { kind: 'earliest' }, options: { rate: 100, seed: 1 } }, settings });
  const running = new Map([
    ['a', identityOf(demo('a', { windowSize: 500, qualityThreshold: 0.7 }))],
    ['b', identityOf(demo('b'))],
    ['c', identityOf(demo('c'))],
  ]);
  const next = [demo('a', { qualityThreshold: 0.7, windowSize: 500 }), demo('b', { windowSize: 10 }), demo('d')];
  const plan = planReload(running, next);
  assert.deepEqual(plan, { keep: ['a'], restart: [next[1]], stop: ['c'], start: [next[2]] });
  assert.equal(describeReload(plan), '1 kept, 1 restarted (b), 1 stopped (c), 1 started (d)');
  assert.equal(describeReload(planReload(running, [demo('b')])), '1 kept, 2 stopped (a, c)');
});

test('--log-format json: one object a line, the pipeline in its own field, secrets masked', () => {
  const lines: string[] = [];
  const log = new ServiceLog({ format: 'json', known: ['hunter2-secret'], write: (l) => void lines.push(l) });
  log.forPipeline('orders').warn('[orders] cannot reach redis://app:hunter2-secret@db:6379 (ECONNREFUSED)');
  log.report('info', 'serving metrics on http://127.0.0.1:9464/metrics');
  const parsed = lines.map((l) => {
    assert.ok(l.endsWith('\n') && !l.slice(0, -1).includes('\n'));
    const { ts, ...rest } = JSON.parse(l);
    assert.match(ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    return rest;
  });
  assert.deepEqual(parsed, [
    { level: 'warn', msg: 'cannot reach redis://app:••••@db:6379 (ECONNREFUSED)', pipeline: 'orders' },
    { level: 'info', msg: 'serving metrics on http://127.0.0.1:9464/metrics' },
  ]);
  const text: string[] = [];
  const t = new ServiceLog({ format: 'text', known: [], quietInfo: true, write: (l) => void text.push(l) });
  t.forPipeline('orders').info('[orders] resumed');
  t.forPipeline('orders').error('[orders] failed');
  t.report('error', 'gone', 'orders');
  assert.deepEqual(text, ['error: [orders] failed\n', 'clean-agent: orders: gone\n']);
});

test('--metrics-port takes a port or host:port', () => {
  assert.deepEqual(parseMetricsAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseMetricsAddress('0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseMetricsAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(parseMetricsAddress('[::1]:9464'), { host: '::1', port: 9464 });
  for (const bad of ['', 'x', '65536', ':9464', '1.2.3.4:']) assert.ok('problem' in parseMetricsAddress(bad), bad);
});

test('metrics: {port, host} in clean.yaml: read, and a port out of range is an error on its line', () => {
  const ok = parseCleanConfig('metrics:\n  port: 9464\n  host: 0.0.0.0\npipelines:\n  - name: d\n    source: demo:orders\n', 'clean.yaml');
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.metrics, { port: 9464, host: '0.0.0.0' });
  const bad = parseCleanConfig('metrics:\n  port: 70000\npipelines:\n  - name: d\n    source: demo:orders\n', 'clean.yaml');
  assert.deepEqual(
    bad.diagnostics.map((d) => [d.line, d.character, d.endCharacter, d.message]),
    [[1, 8, 13, 'metrics.port must be a port from 1 to 65535, or 0 for a free one (got 70000).']],
  );
  assert.equal(bad.metrics, undefined);
  const unknown = parseCleanConfig('metrics:\n  prot: 9464\n', 'clean.yaml');
  assert.deepEqual(unknown.diagnostics.map((d) => d.message), ['A metrics needs port:.', 'Unknown key "prot" in a metrics. Did you mean "port"?']);
});
