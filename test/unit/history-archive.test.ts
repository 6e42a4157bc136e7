/** Issue 17.5: the saved history archive (server/lsp/history.ts): ten-second points, six hours, 256 KB, restored after a restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ARCHIVE_MAX_BYTES, ARCHIVE_POINTS, ARCHIVE_STEP_MS, HistoryStore, PipelineHistoryRing } from '../../server/lsp/history';
import type { MetricsEvent } from '../../server/engine/events';

const T0 = Date.UTC(2026, 11, 2, 6, 0, 0);

const metrics = (time: number, score: number, dup?: number): MetricsEvent => ({
  type: 'metrics',
  pipeline: 'orders',
  time,
  records: (time - T0) / 100,
  window: 10,
  score,
  throughput: 12.34,
  detectors: dup === undefined ? {} : { duplicates: { rate: dup, count: 1, threshold: 0.05 } },
  fields: {},
  baseline: { state: 'ready', records: 10, needed: 10 },
});

test('the archive keeps the latest check of every 10 s; a restarted ring shows it before its own points', () => {
  const before = new PipelineHistoryRing('orders', 0.8, {});
  for (let s = 0; s < 30; s++) before.addMetrics(metrics(T0 + s * 1000, 0.5 + s / 100, s === 15 ? 0.123456 : undefined));
  const saved = before.toSaved(T0 + 30_000);
  assert.deepEqual(saved.time, [T0 + 9000, T0 + 19000, T0 + 29000]);
  assert.deepEqual(saved.score, [0.59, 0.69, 0.79]);
  assert.deepEqual(saved.throughput, [12.3, 12.3, 12.3]);
  assert.deepEqual(saved.detectors, { duplicates: [null, null, null] });

  const after = new PipelineHistoryRing('orders', 0.8, {});
  after.restore(saved, T0 + 60_000);
  after.addMetrics(metrics(T0 + 60_000, 0.9, 0.02));
  after.addMetrics(metrics(T0 + 61_000, 0.95));
  const out = after.since();
  assert.deepEqual(out.time, [T0 + 9000, T0 + 19000, T0 + 29000, T0 + 60_000, T0 + 61_000]);
  assert.deepEqual(out.score, [0.59, 0.69, 0.79, 0.9, 0.95]);
  assert.deepEqual(out.detectors, { duplicates: [null, null, null, 0.02, null] });
  assert.deepEqual(after.since(T0 + 19000).time, [T0 + 19000, T0 + 29000, T0 + 60_000, T0 + 61_000]);
});

test('a detector rate of the 10 s step survives rounded to four decimals', () => {
  const ring = new PipelineHistoryRing('orders', 0.8, {});
  ring.addMetrics(metrics(T0 + 1000, 0.5, 0.123456));
  assert.deepEqual(ring.toSaved(T0 + 2000).detectors, { duplicates: [0.1235] });
});

test('bounded: six hours of 10 s points, points older than six hours are not restored, the file stays under 256 KB', () => {
  const ring = new PipelineHistoryRing('orders', 0.8, {});
  const hours = 8;
  for (let t = 0; t < hours * 3600_000; t += ARCHIVE_STEP_MS) ring.addMetrics(metrics(T0 + t, 0.123456789, 0.0123456789));
  const now = T0 + hours * 3600_000;
  const saved = ring.toSaved(now);
  assert.equal(saved.time.length, ARCHIVE_POINTS);
  assert.equal(saved.time[0], now - ARCHIVE_POINTS * ARCHIVE_STEP_MS);
  assert.ok(Buffer.byteLength(JSON.stringify(saved)) <= ARCHIVE_MAX_BYTES, `${Buffer.byteLength(JSON.stringify(saved))} bytes`);
  const later = new PipelineHistoryRing('orders', 0.8, {});
  later.restore(saved, now + 3600_000);
  assert.equal(later.since().time.length, ARCHIVE_POINTS - 360);
});

test('the store saves and loads by pipeline id; a damaged file is ignored, not fatal', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-history-'));
  try {
    const store = new HistoryStore(dir);
    const ring = new PipelineHistoryRing('orders (2)', 0.8, {});
    ring.addMetrics(metrics(T0 + 1000, 0.7));
    await store.save(ring.toSaved(T0 + 2000));
    assert.equal(path.basename(store.fileOf('orders (2)')), 'orders__2_.history.json');
    assert.deepEqual(store.load('orders (2)')?.score, [0.7]);
    assert.equal(store.load('orders'), undefined);
    writeFileSync(store.fileOf('orders'), '{"version":1,"pipeline":"orders","time":[1],"score":[]');
    assert.equal(store.load('orders'), undefined);
    store.remove('orders (2)');
    assert.equal(store.load('orders (2)'), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an alert\'s records are kept as they were when it fired, for the last 50 alerts', () => {
  const ring = new PipelineHistoryRing('orders', 0.8, {});
  const alertAt = (time: number) => ({ type: 'alert' as const, pipeline: 'orders', time, severity: 'warning' as const, detector: 'duplicates' as const, value: 0.2, threshold: 0.05, records: time, message: 'm', samples: [{ record: time }], fields: [] });
  for (let i = 1; i <= 51; i++) ring.keepAlertSamples(alertAt(i), [{ record: i, detector: 'duplicates', reason: 'r', text: '{}', time: i }]);
  assert.deepEqual(ring.alertSamples(1, 'duplicates'), [], 'the oldest of 51 is dropped');
  assert.deepEqual(ring.alertSamples(51, 'duplicates').map((s) => s.record), [51]);
  assert.deepEqual(ring.alertSamples(51, null), [], 'a score alert at the same time is another alert');
});
