/**
 * The pure pieces of the detection benchmark (bench/detection-data.ts): the CSV reader, dataset loading,
 * the episode planner and injector, and the scoring of alert events.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  csvCell,
  duplicateBlocks,
  episodeFigures,
  geojsonRecords,
  hashString,
  injectEpisodes,
  isNearMonotone,
  outlierVariants,
  parseCsv,
  parseCsvRows,
  parseJsonl,
  per100k,
  planEpisodes,
  profileRecords,
  quantile,
  renamedKey,
  rng,
  scoreRun,
  type Episode,
  type Rec,
  type RunEvent,
} from '../../bench/detection-data';

// ---------------------------------------------------------------------------------------------------
// CSV

test('CSV: quoted fields with separators, line breaks and doubled quotes; CRLF; blank lines dropped', () => {
  const text = 'name,qty,note\r\n"Smith, J.",12,"said ""hi"""\n"multi\nline",-0.5,\n\nplain,.097,x"y\n';
  assert.deepEqual(parseCsvRows(text), [
    ['name', 'qty', 'note'],
    ['Smith, J.', '12', 'said "hi"'],
    ['multi\nline', '-0.5', ''],
    ['plain', '.097', 'x"y'],
  ]);
  assert.deepEqual(parseCsv(text), [
    { name: 'Smith, J.', qty: 12, note: 'said "hi"' },
    { name: 'multi\nline', qty: -0.5, note: null },
    { name: 'plain', qty: 0.097, note: 'x"y' },
  ]);
});

test('CSV: a byte-order mark, bare CR line ends, no final newline, short rows, a lone quoted empty cell', () => {
  assert.deepEqual(parseCsv('\ufeffa,b\r1,2\r3'), [
    { a: 1, b: 2 },
    { a: 3, b: null },
  ]);
  assert.deepEqual(parseCsvRows('a\n""'), [['a'], ['']]);
  assert.deepEqual(parseCsv('a\n""\n'), [{ a: null }]);
  assert.deepEqual(parseCsv('a,b\n"x","y",extra\n'), [{ a: 'x', b: 'y' }]);
  assert.deepEqual(parseCsv(''), []);
});

test('CSV: TSV with the tab separator', () => {
  assert.deepEqual(parseCsv('id\trate\n1001\t.097\n1003\t"a\tb"\n', '\t'), [
    { id: 1001, rate: 0.097 },
    { id: 1003, rate: 'a\tb' },
  ]);
});

test('CSV cells: empty → null, numeric-looking → number, anything else stays text', () => {
  const cells = ['', '0', '12', '-0.5', '+5', '.097', '1e3', '2.5E-2', '00501', '12a', '2012-01-01', ' 7', 'NaN', '.', '-', '1,000', 'Infinity'];
  assert.deepEqual(cells.map(csvCell), [null, 0, 12, -0.5, 5, 0.097, 1000, 0.025, 501, '12a', '2012-01-01', ' 7', 'NaN', '.', '-', '1,000', 'Infinity']);
});

test('GeoJSON features become their properties plus lon/lat/depth; JSON Lines skip blank lines', () => {
  const fc = {
    type: 'FeatureCollection',
    features: [
      { type: 'Feature', properties: { mag: 2, place: 'x' }, geometry: { type: 'Point', coordinates: [-118.5, 34.25, 26.5] } },
      { type: 'Feature', properties: null, geometry: { type: 'Point', coordinates: [1, 2] } },
    ],
  };
  assert.deepEqual(geojsonRecords(fc), [
    { mag: 2, place: 'x', lon: -118.5, lat: 34.25, depth: 26.5 },
    { lon: 1, lat: 2, depth: null },
  ]);
  assert.deepEqual(parseJsonl('{"a":1}\n\n  {"b":"x"}\r\n'), [{ a: 1 }, { b: 'x' }]);
  assert.throws(() => parseJsonl('{"a":1}\n[1]\n', 'f.jsonl'), /f\.jsonl:2: not a JSON object/);
  assert.throws(() => parseJsonl('{"a":\n', 'f.jsonl'), /f\.jsonl:1: not valid JSON/);
});

// ---------------------------------------------------------------------------------------------------
// Randomness, profiles

test('seeded randomness: FNV-1a test vectors; the same seed gives the same sequence', () => {
  assert.equal(hashString(''), 0x811c9dc5);
  assert.equal(hashString('a'), 0xe40c292c);
  assert.equal(hashString('foobar'), 0xbf9cf968);
  const a = rng(7);
  const b = rng(7);
  const xs = Array.from({ length: 5 }, () => a());
  assert.deepEqual(Array.from({ length: 5 }, () => b()), xs);
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  assert.notDeepEqual(Array.from({ length: 5 }, rng(8)), xs);
});

test('profiles: presence, numbers, range, direction; which outlier variants a field allows', () => {
  const recs: Rec[] = [];
  for (let i = 0; i < 100; i++) recs.push({ id: i, v: i % 2 ? 10 : 20, zero: i % 5 === 0 ? 5 : 0, opt: i < 50 ? 1 : null, s: 'x' });
  const p = profileRecords(recs);
  const f = Object.fromEntries(p.fields.map((x) => [x.name, x]));
  assert.deepEqual(f.id, { name: 'id', present: 100, numeric: 100, nonZero: 99, min: 0, max: 99, up: 99, down: 0 });
  assert.deepEqual(f.v, { name: 'v', present: 100, numeric: 100, nonZero: 100, min: 10, max: 20, up: 49, down: 50 });
  assert.equal(isNearMonotone(f.id), true);
  assert.equal(isNearMonotone(f.v), false);
  assert.deepEqual(outlierVariants(f.id, 100), []); // a sequence
  assert.deepEqual(outlierVariants(f.v, 100), ['x1000', -999, 99999, -1, 9999999]); // range 10..20: every sentinel is far
  assert.deepEqual(outlierVariants(f.zero, 100), [-999, 99999, 9999999]); // mostly zeros: ×1000 would change little; -1 lies within 0 − 5
  assert.deepEqual(outlierVariants(f.opt, 100), []); // numeric in only half the records
  assert.deepEqual(outlierVariants(f.s, 100), []);
  // A sentinel inside min − span … max + span is not far enough.
  const wide = profileRecords([{ x: -500 }, { x: 100000 }, { x: 0 }]).fields[0]; // span 100,500: far means below −101,000 or above 200,500
  assert.deepEqual(outlierVariants(wide, 3), ['x1000', 9999999]);
});

test('renamed keys: initials of a multi-word name, a short prefix, or a _v2 suffix; never a taken key', () => {
  const first = () => 0;
  const last = () => 0.9;
  assert.equal(renamedKey('Miles_per_Gallon', new Set(), first), 'mpg');
  assert.equal(renamedKey('US Gross', new Set(), first), 'ug');
  assert.equal(renamedKey('temp_max', new Set(), first), 'tm');
  assert.equal(renamedKey('distance', new Set(), first), 'dist');
  assert.equal(renamedKey('distance', new Set(['dist']), first), 'distance_v2');
  assert.equal(renamedKey('distance', new Set(), last), 'distanceNew');
  assert.equal(renamedKey('time', new Set(), first), 'time_v2');
  assert.equal(renamedKey('time', new Set(['time_v2', 'timeNew']), first), 'time_v3');
});

// ---------------------------------------------------------------------------------------------------
// Planning and injection

function synthetic(n: number): Rec[] {
  const out: Rec[] = [];
  for (let i = 0; i < n; i++) out.push({ id: i, x: i % 5, name: `n${i}`, y: ((i * 7919) % 1000) / 10 + 1 });
  return out;
}

test('planning: deterministic per seed and name; learning period, gaps, lengths and tail respected', () => {
  const recs = synthetic(50_000);
  const plan = planEpisodes('synthetic', recs, { seed: 1, window: 1000 });
  assert.deepEqual(planEpisodes('synthetic', recs, { seed: 1, window: 1000 }), plan);
  assert.notDeepEqual(planEpisodes('synthetic', recs, { seed: 2, window: 1000 }), plan);
  assert.notDeepEqual(planEpisodes('other', recs, { seed: 1, window: 1000 }), plan);
  assert.equal(plan.length, 8); // (50,000 − 1,500) / 6,000 ≈ 8
  assert.ok(plan[0].start >= 1501, `first start ${plan[0].start}`);
  for (let i = 0; i < plan.length; i++) {
    const ep = plan[i];
    assert.ok(ep.length >= 300 && ep.length <= 3000, `length ${ep.length}`);
    if (i > 0) assert.ok(ep.start - (plan[i - 1].start + plan[i - 1].length) >= 2500, `gap before episode ${i}`);
    if (ep.field !== null) assert.ok(['x', 'name', 'y', 'id'].includes(ep.field));
    if (ep.kind === 'outliers') assert.equal(ep.field === 'id', false); // a sequence is never corrupted
  }
  const { lines } = injectEpisodes(recs, plan);
  const lastEp = plan[plan.length - 1];
  assert.ok(lines.length - (lastEp.start - 1 + lastEp.length) >= 700, 'records after the last episode');
  // Too short for an episode: untouched only. Just long enough: one of the shortest length.
  assert.deepEqual(planEpisodes('short', synthetic(2499), { seed: 1, window: 1000 }), []);
  const one = planEpisodes('short', synthetic(2500), { seed: 1, window: 1000 });
  assert.deepEqual(one.map((e) => [e.start, e.length]), [[1501, 300]]);
});

test('injection: the same plan gives byte-identical streams; a record outside every episode is untouched', () => {
  const recs = synthetic(30_000);
  const plan = planEpisodes('synthetic', recs, { seed: 3, window: 1000 });
  const a = injectEpisodes(recs, plan);
  const b = injectEpisodes(recs, plan);
  assert.equal(a.lines.length, b.lines.length);
  assert.ok(a.lines.every((l, i) => l.equals(b.lines[i])));
  assert.deepEqual(a.episodes, b.episodes);
  const other = injectEpisodes(recs, plan.map((e) => ({ ...e, seed: e.seed + 1 })));
  assert.ok(other.lines.some((l, i) => !l.equals(a.lines[i])));
  for (let i = 0; i < 1500; i++) assert.equal(a.lines[i].toString(), JSON.stringify(recs[i]));
});

const base = (e: Partial<Episode>): Episode => ({ kind: 'outliers', detector: 'outliers', field: 'x', start: 11, length: 10, rate: 1, seed: 42, ...e });
const texts = (lines: Buffer[]) => lines.map((l) => l.toString());
const clean = (recs: Rec[]) => recs.map((r) => JSON.stringify(r));
/** Indexes (0-based) of the lines that differ from the clean stream. */
const changed = (recs: Rec[], lines: Buffer[]) => texts(lines).flatMap((t, i) => (t !== clean(recs)[i] ? [i] : []));

test('outliers ×1000: multiplies the field in the episode, zeros left alone and not counted', () => {
  const recs = synthetic(40);
  const { lines, episodes } = injectEpisodes(recs, [base({ outlier: 'x1000' })]);
  // Records 11..20 are ids 10..19; x = id % 5 is zero for ids 10 and 15.
  assert.deepEqual(episodes[0].affectedRecords, [12, 13, 14, 15, 17, 18, 19, 20]);
  assert.equal(episodes[0].affected, 8);
  assert.deepEqual(changed(recs, lines), [11, 12, 13, 14, 16, 17, 18, 19]);
  assert.deepEqual(JSON.parse(lines[11].toString()), { id: 11, x: 1000, name: 'n11', y: 11.9 });
  assert.deepEqual(JSON.parse(lines[19].toString()), { id: 19, x: 4000, name: 'n19', y: 47.1 });
});

test('outliers sentinel: the sentinel in every chosen record, zeros included; a share below 1 picks some', () => {
  const recs = synthetic(40);
  const all = injectEpisodes(recs, [base({ outlier: -999 })]);
  assert.equal(all.episodes[0].affected, 10);
  assert.deepEqual(all.lines.slice(10, 20).map((l) => JSON.parse(l.toString()).x), Array(10).fill(-999));
  const some = injectEpisodes(synthetic(400), [base({ outlier: 9999999, start: 101, length: 200, rate: 0.1 })]);
  const ep = some.episodes[0];
  assert.equal(ep.affected, 25);
  assert.deepEqual(changed(synthetic(400), some.lines), ep.affectedRecords.map((n) => n - 1));
  assert.ok(ep.affectedRecords.every((n) => n >= 101 && n <= 300));
  for (const n of ep.affectedRecords) assert.equal(JSON.parse(some.lines[n - 1].toString()).x, 9999999);
});

test('schema-rename: every record of the episode carries the new key in the old place, its value a string with a unit', () => {
  const recs = synthetic(40);
  const { lines, episodes } = injectEpisodes(recs, [base({ kind: 'schema-rename', detector: 'schema', newKey: 'x_v2', unit: 'mi' })]);
  assert.equal(episodes[0].affected, 10);
  assert.deepEqual(changed(recs, lines), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  assert.equal(lines[12].toString(), '{"id":12,"x_v2":"2 mi","name":"n12","y":3.8}');
  assert.equal(lines[20].toString(), JSON.stringify(recs[20]));
  const pre = injectEpisodes(recs, [base({ kind: 'schema-rename', detector: 'schema', field: 'name', newKey: 'nm', prefix: '#' })]);
  assert.equal(pre.lines[10].toString(), '{"id":10,"x":0,"nm":"#n10","y":20}');
});

test('schema-type: the number becomes its text, in every record at rate 1', () => {
  const recs = synthetic(40);
  const { lines, episodes } = injectEpisodes(recs, [base({ kind: 'schema-type', detector: 'schema' })]);
  assert.equal(episodes[0].affected, 10);
  assert.equal(lines[10].toString(), '{"id":10,"x":"0","name":"n10","y":20}');
  assert.deepEqual(lines.slice(10, 20).map((l) => typeof JSON.parse(l.toString()).x), Array(10).fill('string'));
});

test('missing: set to null, or the key removed', () => {
  const recs = synthetic(40);
  const nulls = injectEpisodes(recs, [base({ kind: 'missing', detector: 'missing', field: 'name', mode: 'null' })]);
  assert.equal(nulls.episodes[0].affected, 10);
  assert.equal(nulls.lines[10].toString(), '{"id":10,"x":0,"name":null,"y":20}');
  const removed = injectEpisodes(recs, [base({ kind: 'missing', detector: 'missing', field: 'name', mode: 'remove' })]);
  assert.equal(removed.lines[10].toString(), '{"id":10,"x":0,"y":20}');
  assert.deepEqual(changed(recs, removed.lines), [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
});

test('duplicates: replay runs re-send the lines just before them verbatim, then the stream goes on', () => {
  const recs = synthetic(40);
  // Replay 3, fresh 4, replay 2, fresh 1: records 11..20 of the injected stream.
  const { lines, episodes } = injectEpisodes(recs, [base({ kind: 'duplicates', detector: 'duplicates', field: null, blocks: [3, 4, 2, 1] })]);
  assert.equal(lines.length, 45);
  assert.deepEqual(episodes[0].affectedRecords, [11, 12, 13, 18, 19]);
  const ids = texts(lines).map((t) => JSON.parse(t).id);
  assert.deepEqual(ids.slice(7, 22), [7, 8, 9, 7, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16]);
  assert.ok(lines[10].equals(lines[7]) && lines[17].equals(lines[15]));
  // Without the replays, the stream is exactly the clean one.
  const replays = new Set(episodes[0].affectedRecords.map((n) => n - 1));
  assert.deepEqual(texts(lines).filter((_, i) => !replays.has(i)), clean(recs));
});

test('duplicate blocks: runs of 50–500 replays, none longer than the fresh run before it, summing to the length', () => {
  const blocks = duplicateBlocks(2000, 0.25, rng(5));
  assert.equal(blocks.reduce((a, b) => a + b, 0), 2000);
  for (let i = 0; i < blocks.length; i += 2) {
    if (i > 0) assert.ok(blocks[i] <= blocks[i - 1]);
    if (i + 1 < blocks.length) assert.ok(blocks[i] >= 50 && blocks[i] <= 500, `replay run ${blocks[i]}`);
  }
  assert.deepEqual(duplicateBlocks(2000, 0.25, rng(5)), blocks);
  const replayed = blocks.filter((_, i) => i % 2 === 0).reduce((a, b) => a + b, 0);
  assert.ok(replayed / 2000 > 0.2 && replayed / 2000 < 0.35, `share ${replayed / 2000}`);
});

test('parse: chosen lines cut at a byte, never empty, never whole, never valid JSON', () => {
  const recs = synthetic(40);
  const { lines, episodes } = injectEpisodes(recs, [base({ kind: 'parse', detector: 'parse', field: null })]);
  assert.equal(episodes[0].affected, 10);
  for (let i = 10; i < 20; i++) {
    const full = Buffer.from(JSON.stringify(recs[i]));
    assert.ok(lines[i].length >= 1 && lines[i].length < full.length);
    assert.ok(full.subarray(0, lines[i].length).equals(lines[i]));
    assert.throws(() => JSON.parse(lines[i].toString()));
  }
  assert.equal(lines[20].toString(), JSON.stringify(recs[20]));
});

// ---------------------------------------------------------------------------------------------------
// Scoring

const ep = (detector: string, start: number, length: number): Episode => ({ kind: 'missing', detector, field: null, start, length, rate: 1, seed: 0 });
const alert = (detector: string | null, records: number): RunEvent => ({ type: 'alert', detector, records });
const recovered = (detector: string | null, records: number): RunEvent => ({ type: 'recovered', detector, records });

test('scoring: caught within a window of the start, missed when late or when its alert was already open; false alerts outside the spans', () => {
  const episodes = [ep('missing', 2001, 500), ep('outliers', 6001, 1000), ep('parse', 10001, 300), ep('duplicates', 15001, 400)];
  const events = [
    alert('missing', 2300), // catches the first episode, 299 records in
    alert(null, 2400), // the score, inside the first span: not false
    recovered('missing', 3000),
    alert('outliers', 5000), // false, and still open when the second episode starts
    alert('outliers', 6200), // in time, but the alert was already open: missed
    recovered('outliers', 7000),
    alert('parse', 11100), // one record too late for [10001, 11001): missed
    alert('duplicates', 15001), // at the very start: delay 0
    alert('missing', 17400), // last record of the span [15001, 17401)
    alert('missing', 17401), // first record after it: false
    alert(null, 30000), // false
  ];
  const s = scoreRun(events, episodes, 40_000, 1000);
  assert.deepEqual(
    s.episodes.map((x) => [x.episode.detector, x.caught, x.delay, x.openAtStart]),
    [
      ['missing', true, 299, false],
      ['outliers', false, null, true],
      ['parse', false, null, false],
      ['duplicates', true, 0, false],
    ],
  );
  assert.deepEqual(s.falseAlerts, [alert('outliers', 5000), alert('missing', 17401), alert(null, 30000)]);
  assert.equal(s.cleanRecords, 40_000 - 2500 - 3000 - 2300 - 2400);
  assert.deepEqual(s.episodes[2].nearby, [alert('parse', 11100)]);
  const f = episodeFigures(s.episodes);
  assert.deepEqual(f, { episodes: 4, caught: 2, caughtPct: 50, medianDelay: 149.5, p90Delay: 269.1 });
  assert.equal(per100k(s.falseAlerts.length, s.cleanRecords), 10.067);
});

test('scoring: the untouched run counts every alert as false; overlapping spans are counted once', () => {
  const events = [alert('duplicates', 500), recovered('duplicates', 900), alert(null, 1200)];
  const u = scoreRun(events, [], 5000, 1000);
  assert.deepEqual(u.falseAlerts, [alert('duplicates', 500), alert(null, 1200)]);
  assert.equal(u.cleanRecords, 5000);
  // Spans [1, 251) and [200, 450) with a window of 100: 449 records covered.
  const o = scoreRun([], [ep('parse', 1, 50), ep('parse', 200, 50)], 1000, 100);
  assert.equal(o.cleanRecords, 551);
  // A span running past the end of the stream counts only the records that exist.
  assert.equal(scoreRun([], [ep('parse', 901, 50)], 1000, 100).cleanRecords, 900);
});

test('quantiles interpolate between order statistics', () => {
  assert.equal(quantile([], 0.5), null);
  assert.equal(quantile([5], 0.9), 5);
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2.5);
  assert.equal(quantile([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.9), 90);
  assert.deepEqual(episodeFigures([]), { episodes: 0, caught: 0, caughtPct: null, medianDelay: null, p90Delay: null });
});
