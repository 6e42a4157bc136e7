/**
 * The patterns real streams bring, each as a small synthetic stream with exact expectations: ordered data
 * that is normal (rising with ties, sorted, grouped, a natural tail) raises nothing, and the faults hidden
 * in it (gross errors, null bursts, a renamed field) raise the right detector, naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig, type PipelineSettings } from '../../server/engine/config';
import { MemorySource } from '../../server/sources/memory';
import type { AlertEvent, MetricsEvent, RecoveredEvent } from '../../server/engine/events';

function rng(seed: number): () => number {
  return () => (seed = (seed * 16807) % 2147483647) / 2147483647;
}

interface Replay {
  /** "<records> <alert|recovered> <detector|score> <severity>" */
  lines: string[];
  alerts: AlertEvent[];
  metrics: MetricsEvent[];
}

async function replay(records: object[], settings: PipelineSettings = {}): Promise<Replay> {
  const cfg = resolvePipelineConfig({ windowSize: 500, checkInterval: { records: 50 }, ...settings });
  const p = new RealtimePipeline('t', new MemorySource(records.map((r) => Buffer.from(JSON.stringify(r)))), cfg);
  const out: Replay = { lines: [], alerts: [], metrics: [] };
  const note = (e: AlertEvent | RecoveredEvent) => out.lines.push(`${e.records} ${e.type} ${e.detector ?? 'score'} ${e.severity}`);
  p.on('alert', (e) => {
    note(e);
    out.alerts.push(e);
  });
  p.on('recovered', note);
  p.on('metrics', (m) => out.metrics.push(m));
  await p.run();
  return out;
}

/** Orders with a heavy-tailed amount and a small count, the background of every stream below. */
function order(r: () => number, i: number): Record<string, unknown> {
  return { id: `o-${i}`, amount: Math.round(Math.exp(2 + 2 * r()) * 100) / 100, items: 1 + Math.floor(r() * 4) };
}

test('a slowly rising field with many ties (time of day) raises no alert', async () => {
  const r = rng(1);
  // 6.10, 6.10, …, 6.12, …: each value sits beyond the window's past values, a step at a time.
  const records = Array.from({ length: 6000 }, (_, i) => ({ ...order(r, i), hour: Math.round((6 + Math.floor(i / 9) * 0.02) * 100) / 100 }));
  const { lines, metrics } = await replay(records);
  assert.deepEqual(lines, []);
  assert.equal(metrics.at(-1)!.fields.hour.outliers, 0);
});

test('a stream sorted by value, and one grouped by key, raise no alert', async () => {
  const r = rng(2);
  const sorted = Array.from({ length: 5000 }, (_, i) => order(r, i)).sort((a, b) => (a.amount as number) - (b.amount as number));
  assert.deepEqual((await replay(sorted)).lines, []);
  // Six stations of 800 readings each, at levels two orders of magnitude apart.
  const grouped = Array.from({ length: 4800 }, (_, i) => {
    const g = Math.floor(i / 800);
    return { id: i, station: `s${g}`, reading: Math.round(10 ** (g % 3) * (50 + 10 * r()) * 10) / 10, ok: r() < 0.9 };
  });
  assert.deepEqual((await replay(grouped)).lines, []);
});

test('×1000 gross errors inside a grouped stream raise outliers, naming the field with examples and its usual range', async () => {
  const r = rng(3);
  const records = Array.from({ length: 6000 }, (_, i) => {
    const g = Math.floor(i / 800);
    const reading = Math.round(10 ** (g % 3) * (50 + 10 * r()) * 10) / 10;
    // Records 3500–4499: one in ten carries a unit slip.
    const slip = i >= 3500 && i < 4500 && r() < 0.1;
    return { id: i, station: `s${g}`, reading: slip ? reading * 1000 : reading };
  });
  const { lines, alerts } = await replay(records);
  assert.deepEqual(lines, ['3650 alert outliers warning', '4950 recovered outliers warning']);
  const [f] = alerts[0].fields;
  assert.equal(f.name, 'reading');
  assert.deepEqual([f.share, f.usual], [0.028, 0]);
  assert.deepEqual(f.range!.map(Math.round), [50, 5999]);
  assert.ok(f.examples!.length > 0 && f.examples!.every((x) => (x as number) > 50_000), `examples ${f.examples}`);
  assert.equal(alerts[0].message, 'outliers in the last 500 records: "reading": 2.8% of records far outside its usual range 50 … 5999 (usually 0%), e.g. 561900, 589800, 597100. Latest: record 3650.');
});

test('a field with a natural 3 % tail of nulls and of large values wobbles without alerting; a jump to 12 % alerts', async () => {
  const r = rng(4);
  const records = Array.from({ length: 9000 }, (_, i) => {
    const o = order(r, i);
    const burst = i >= 6000 && i < 7500;
    return { ...o, note: r() < (burst ? 0.12 : 0.03) ? null : 'ok', fee: r() < 0.03 ? 5000 + r() * 5000 : 1 + r() * 4 };
  });
  const { lines, alerts } = await replay(records);
  assert.deepEqual(lines, ['6500 alert missing warning', '7800 recovered missing warning']);
  assert.deepEqual(alerts[0].fields.map((f) => f.name), ['note']);
  assert.match(alerts[0].fields[0].detail, /^"note": null in 1\d(\.\d)?% of records \(usually 3(\.\d)?% without a value\)$/);
});

test('a renamed field raises schema naming both sides, with their types, and missing on the old one', async () => {
  const r = rng(5);
  const records = Array.from({ length: 4000 }, (_, i) => {
    const o = order(r, i);
    const distance = Math.round(100 + r() * 2000);
    return i >= 2500 && i < 3200 ? { ...o, dist: `${distance} mi` } : { ...o, distance };
  });
  const { lines, alerts } = await replay(records);
  // Both sides stand out from the first check into the rename, and turn critical once they hold a quarter of the window.
  assert.deepEqual(lines, ['2550 alert missing warning', '2550 alert schema warning', '2650 alert missing critical', '2650 alert schema critical', '3700 recovered missing critical', '3700 recovered schema critical']);
  const [missing, schema] = alerts;
  assert.deepEqual(schema.fields.map((f) => [f.name, f.type, f.renamedFrom]), [['dist', 'string', ['distance']]]);
  assert.match(schema.message, /^schema in the last 500 records: new field "dist" \(string\) in 10% of records while "distance" \(number\) missing from 10%: renamed\?, e\.g\. "\d+ mi"/);
  assert.deepEqual(missing.fields.map((f) => f.name), ['distance']);
});

test('warm-up: the first window is learnt with baseline alerts held; a topic unparseable from its first record alerts at once', async () => {
  const r = rng(6);
  // A stream whose first hundred records are odd (a grouped start) and whose first window is mostly normal.
  const records = Array.from({ length: 1500 }, (_, i) => ({ ...order(r, i), level: i < 100 ? 1e6 : 10 + r() }));
  const { lines, metrics } = await replay(records);
  assert.deepEqual(lines, []);
  assert.deepEqual(metrics.slice(0, 2).map((m) => m.baseline), [{ state: 'learning', records: 50, needed: 500 }, { state: 'learning', records: 100, needed: 500 }]);
  assert.deepEqual(metrics.find((m) => m.records === 500)!.baseline, { state: 'ready', records: 500, needed: 500 });
  const cfg = resolvePipelineConfig({ windowSize: 500, checkInterval: { records: 50 } });
  const p = new RealtimePipeline('t', new MemorySource(Array.from({ length: 200 }, (_, i) => Buffer.from(`{"id": ${i}, "v":`))), cfg);
  const seen: string[] = [];
  p.on('alert', (e) => seen.push(`${e.records} ${e.detector ?? 'score'} ${e.severity} ${e.message}`));
  await p.run();
  assert.deepEqual(seen, [
    '50 parse critical parse in the last 50 records: 100% of records are not JSON objects (over the 1.0% limit). Latest: record 50.',
  ]);
});
