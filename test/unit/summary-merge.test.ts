/**
 * Mergeable summaries (server/scale): real public data (vega-datasets' flights and movies) split into shards
 * by a partition key, each shard summarised, the summaries merged; the merged metrics, findings and alerts
 * are compared with one engine reading every record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { QualityEngine, type SavedEngine } from '../../server/engine/quality';
import { resolvePipelineConfig, type PipelineSettings } from '../../server/engine/config';
import { AlertChecker } from '../../server/engine/alerts';
import { hashOut, hashString } from '../../server/engine/hash';
import { LogSketch } from '../../server/engine/sketch';
import { PositionTracker, summarize, type ShardSummary } from '../../server/scale/summary';
import { MergedView, mergeSummaries, metricsFromMerged, validSummary } from '../../server/scale/merge';

type Rec = Record<string, unknown>;
const DATA = resolve(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data');
const load = (file: string): Rec[] => JSON.parse(readFileSync(resolve(DATA, file), 'utf8')) as Rec[];

interface Keyed {
  key: string;
  text: string;
  position: string;
}

/** The shard of a partition key: the key's hash, as a producer's partitioner would spread it. */
function shardOf(key: string, n: number): number {
  hashString(key);
  return hashOut[0] % n;
}

/** One engine and N shards (each with 1/N of the window), all starting from the same learned baseline. */
function run(settings: PipelineSettings, saved: SavedEngine, records: Keyed[], n: number) {
  const one = new QualityEngine(resolvePipelineConfig(settings));
  one.restore(saved);
  const shards = Array.from({ length: n }, () => {
    const e = new QualityEngine(resolvePipelineConfig({ ...settings, windowSize: settings.windowSize! / n }));
    e.restore(saved);
    return { engine: e, positions: new PositionTracker() };
  });
  for (const r of records) {
    one.process({ value: Buffer.from(r.text), position: r.position });
    const s = shards[shardOf(r.key, n)];
    s.engine.process({ value: Buffer.from(r.text), position: r.position });
    s.positions.note(r.position);
  }
  const summaries = shards.map((s, i) => summarize(s.engine, `shard-${i}`, s.positions.toJSON(), 'flights', 1000));
  return { one, shards, summaries };
}

function learnt(settings: PipelineSettings, records: Rec[]): SavedEngine {
  const e = new QualityEngine(resolvePipelineConfig({ ...settings, windowSize: 1000 }));
  for (const r of records) e.process({ value: Buffer.from(JSON.stringify(r)) });
  return e.save(1000);
}

/**
 * flights-10k: the first 5,000 flights teach the baseline; the next 3,000 arrive with faults: delay null
 * in every 10th, a unit slip (delay × 1000) in every 50th, a string distance in every 40th, a retried
 * (duplicate) record every 30th, a cut message every 70th. Partition key: the route (origin→destination):
 * a retry carries its record's key, so its copies share a partition.
 */
function faultyFlights(): { train: Rec[]; records: Keyed[] } {
  const flights = load('flights-10k.json');
  const records: Keyed[] = [];
  const offsets = new Map<number, number>();
  const push = (key: string, text: string) => {
    const p = shardOf(key, 8);
    const o = offsets.get(p) ?? 0;
    offsets.set(p, o + 1);
    records.push({ key, text, position: `${p}@${o}` });
  };
  flights.slice(5000, 8000).forEach((f, i) => {
    const r: Rec = { ...f };
    if (i % 10 === 0) r.delay = null;
    if (i % 50 === 7) r.delay = (r.delay as number) * 1000 + 987654;
    if (i % 40 === 3) r.distance = String(r.distance);
    const key = `${String(f.origin)}-${String(f.destination)}`;
    const text = JSON.stringify(r);
    push(key, text);
    if (i % 30 === 0) push(key, text);
    if (i % 70 === 0) push(key, text.slice(0, 25));
  });
  return { train: flights.slice(0, 5000), records };
}

const FLIGHTS: PipelineSettings = { windowSize: 8192, detectors: ['outliers', 'duplicates', 'missing', 'schema', 'parse', 'rules'], fields: { delay: { min: -120, max: 1500 } } };

test('merging 4 shards of real flights gives the single engine metrics exactly: counts, rates, score, fields', () => {
  const { train, records } = faultyFlights();
  const saved = learnt(FLIGHTS, train);
  const { one, summaries } = run(FLIGHTS, saved, records, 4);
  // Every shard got a share (the split is by route) and together they read every record once.
  assert.deepEqual(summaries.map((s) => s.records), [831, 747, 839, 726]);
  const merged = mergeSummaries(summaries);
  const m = metricsFromMerged(merged, one.config, undefined, 0, 1000);
  const single = one.metrics('flights', 1000, 0);
  assert.equal(m.records, 3143);
  assert.equal(m.window, 3143);
  assert.deepEqual(
    Object.fromEntries(Object.entries(m.detectors).map(([d, x]) => [d, x!.count])),
    { outliers: 60, duplicates: 100, missing: 400, schema: 75, parse: 43, rules: 60 },
  );
  // Key for key, the whole event: the score, every detector's rate and count, every field's shares and type.
  assert.deepEqual({ ...m, baseline: single.baseline, shards: undefined }, { ...single, shards: undefined });
  assert.equal(m.score, 0.875756);
  assert.deepEqual(m.fields.delay, { missing: 0.129032, outliers: 0.01909, type: 'number', rules: 0.01909 });
});

test('the merged long-horizon reference: the shards\' sketches add exactly, quantiles within the 2 % the sketch states', () => {
  const { train, records } = faultyFlights();
  const { summaries } = run(FLIGHTS, learnt(FLIGHTS, train), records, 4);
  const mine = LogSketch.from(mergeSummaries(summaries).fields.distance.sketch!);
  // The merge is the bucket-wise sum of the shards' states.
  const summed = LogSketch.from(summaries[0].fields.distance.sketch!);
  for (const s of summaries.slice(1)) summed.merge(LogSketch.from(s.fields.distance.sketch!));
  assert.deepEqual(mine.toJSON(), summed.toJSON());
  // Every flight distance, split by route over 4 sketches and merged: each quantile is within 2 % of the true one.
  const flights = load('flights-10k.json');
  const parts = [0, 1, 2, 3].map(() => new LogSketch());
  for (const f of flights) parts[shardOf(`${String(f.origin)}-${String(f.destination)}`, 4)].add(f.distance as number);
  const merged = parts[0];
  for (const p of parts.slice(1)) merged.merge(p);
  const truth = flights.map((f) => f.distance as number).sort((x, y) => x - y);
  assert.equal(merged.count, 10000);
  for (const q of [0.005, 0.05, 0.25, 0.5, 0.75, 0.95, 0.995]) {
    const exact = truth[Math.floor(q * (truth.length - 1))];
    assert.ok(Math.abs(merged.quantile(q) - exact) <= 0.02 * exact, `q${q}: ${merged.quantile(q)} vs ${exact}`);
  }
  assert.deepEqual([merged.quantile(0), merged.quantile(1)], [truth[0], truth[truth.length - 1]]);
});

test('merged findings and alerts equal the single engine: same detectors, fields, shares, limits', () => {
  const { train, records } = faultyFlights();
  const saved = learnt(FLIGHTS, train);
  const { one, summaries } = run(FLIGHTS, saved, records, 4);
  const view = new MergedView(one.config);
  view.restore(saved);
  view.update(mergeSummaries(summaries));
  const mine = view.judge();
  const single = one.judge();
  const shape = (fs: typeof mine) => fs.map((f) => [f.detector, f.name, f.share, f.limit, f.hard]);
  assert.deepEqual(shape(mine), shape(single));
  assert.deepEqual(mine.map((f) => `${f.detector}:${f.name}`), ['missing:delay', 'schema:distance', 'parse:null']);
  const metrics = metricsFromMerged(view.merged!, one.config, mine, 0, 1000);
  const a = new AlertChecker(one.config).evaluate(metrics, mine, () => []);
  const b = new AlertChecker(one.config).evaluate(one.metrics('flights', 1000, 0, single), single, () => []);
  assert.deepEqual(a.map((e) => [e.detector, e.severity, e.value, e.threshold]), b.map((e) => [e.detector, e.severity, e.value, e.threshold]));
  assert.deepEqual(a.map((e) => [e.detector, e.severity, e.value]), [['missing', 'warning', 0.129032], ['schema', 'warning', 0.024194], ['parse', 'warning', 0.013681]]);
});

test('movies: counts that no shard state decides merge exactly; a usual field learnt at different times does not', () => {
  const movies = load('movies.json');
  const settings: PipelineSettings = { windowSize: 8192, fields: { 'IMDB Rating': { min: 0, max: 10 } } };
  const saved = learnt(settings, movies.slice(0, 1600));
  const records: Keyed[] = [];
  movies.slice(1600).forEach((r, i) => {
    const rec = { ...r };
    if (i % 4 === 0) rec['IMDB Votes'] = null;
    const text = JSON.stringify(rec);
    const key = String(r.Title);
    records.push({ key, text, position: `0@${records.length}` });
    if (i % 25 === 0) records.push({ key, text, position: `0@${records.length}` });
    if (i % 97 === 0) records.push({ key, text: text.slice(0, 30), position: `0@${records.length}` });
  });
  const { one, shards, summaries } = run(settings, saved, records, 4);
  const m = metricsFromMerged(mergeSummaries(summaries), one.config);
  const single = one.metrics('flights', 1000, 0);
  for (const d of ['duplicates', 'parse', 'rules'] as const) assert.equal(m.detectors[d]!.count, single.detectors[d]!.count, d);
  assert.deepEqual([m.detectors.duplicates!.count, m.detectors.parse!.count, m.records, m.window], [65, 17, 1683, 1683]);
  assert.deepEqual(m.fields, single.fields);
  // "Distributor" is carried by 97.6 % of these movies, just over usualFieldShare (97 %): the single engine
  // and some shards take it as usual part-way through, others never; its gaps before that are not flagged.
  assert.deepEqual([m.detectors.missing!.count, single.detectors.missing!.count], [49, 54]);
  assert.deepEqual(shards.map((s) => s.engine.fieldStates.find((f) => f.name === 'Distributor')!.usual), [false, true, true, true]);
});

test('positions: per partition, the first and last offset each shard read and how many', () => {
  const { train, records } = faultyFlights();
  const { summaries } = run(FLIGHTS, learnt(FLIGHTS, train), records, 2);
  const merged = mergeSummaries(summaries);
  const total = Object.values(merged.positions).flat().reduce((n, s) => n + s.count, 0);
  assert.equal(total, records.length);
  // The 8 partitions of the producer's split land on one shard each (the same hash decides both).
  for (const [p, spans] of Object.entries(merged.positions)) {
    assert.equal(spans.length, 1, p);
    assert.equal(spans[0].first, '0');
    assert.equal(Number(spans[0].last), spans[0].count - 1);
  }
  const tracker = new PositionTracker('orders');
  for (const p of ['1-0', '2-0', '3-0']) tracker.note(p);
  tracker.note(17);
  assert.deepEqual(tracker.toJSON(), { orders: { first: '1-0', last: '17', count: 4 } });
});

test('summaries survive JSON and are checked before merging; a malformed one is refused, never merged', () => {
  const { train, records } = faultyFlights();
  const { summaries } = run(FLIGHTS, learnt(FLIGHTS, train), records, 2);
  const wire = JSON.parse(JSON.stringify(summaries[0])) as ShardSummary;
  assert.equal(validSummary(wire), true);
  assert.deepEqual(mergeSummaries([wire, summaries[1]]), mergeSummaries(summaries));
  for (const bad of [null, 'x', { ...wire, version: 2 }, { ...wire, records: -1 }, { ...wire, fields: { a: { types: [1], outliers: 0, type: 0 } } }, { ...wire, positions: { 0: { first: 1, last: 2, count: 1 } } }]) {
    assert.equal(validSummary(bad), false, JSON.stringify(bad)?.slice(0, 60));
  }
});
