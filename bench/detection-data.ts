/**
 * The pure pieces of the detection benchmark (bench/detection.ts): a CSV/TSV reader, dataset loading,
 * field profiles, the fault-episode planner and injector, and the scoring of a run's alert events.
 * Nothing here runs the engine, so all of it is unit-tested (test/unit/detection-bench.test.ts).
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';

export type Rec = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------
// CSV / TSV

/**
 * Splits CSV (or TSV with `sep = '\t'`) text into rows of raw cells: quoted cells may hold the
 * separator, line breaks and doubled quotes (`""` → `"`); a quote inside an unquoted cell is literal.
 * Rows end at `\n`, `\r\n` or `\r`; a leading byte-order mark and blank lines are dropped.
 */
export function parseCsvRows(text: string, sep = ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false; // inside a quoted cell
  let cellStarted = false; // the current cell has had any character (or an opening quote)
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const n = text.length;
  const endRow = () => {
    row.push(cell);
    // An empty line is no record; a line holding only "" is one (a single empty cell).
    if (!(row.length === 1 && row[0] === '' && !cellStarted)) rows.push(row);
    row = [];
    cell = '';
    cellStarted = false;
  };
  while (i < n) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      cell += c;
      i++;
      continue;
    }
    if (c === '"' && cell === '' && !cellStarted) {
      quoted = true;
      cellStarted = true;
      i++;
      continue;
    }
    if (c === sep) {
      row.push(cell);
      cell = '';
      cellStarted = false;
      i++;
      continue;
    }
    if (c === '\n' || c === '\r') {
      endRow();
      i += c === '\r' && text[i + 1] === '\n' ? 2 : 1;
      continue;
    }
    cell += c;
    cellStarted = true;
    i++;
  }
  if (cellStarted || cell !== '' || row.length > 0) endRow();
  return rows;
}

const NUMERIC = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A cell's value: empty → null, numeric-looking (`12`, `-0.5`, `.097`, `1e3`) → a number, anything else the text. */
export function csvCell(s: string): string | number | null {
  if (s === '') return null;
  if (NUMERIC.test(s)) {
    const v = Number(s);
    if (Number.isFinite(v)) return v;
  }
  return s;
}

/** CSV/TSV text → records keyed by the header row; a short row's missing cells are null, extra cells are dropped. */
export function parseCsv(text: string, sep = ','): Rec[] {
  const rows = parseCsvRows(text, sep);
  if (rows.length === 0) return [];
  const header = rows[0];
  const out: Rec[] = new Array(rows.length - 1);
  for (let r = 1; r < rows.length; r++) {
    const row = rows[r];
    const rec: Rec = {};
    for (let j = 0; j < header.length; j++) rec[header[j]] = csvCell(row[j] ?? '');
    out[r - 1] = rec;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Datasets

export interface Dataset {
  name: string;
  /** What sort of data: transport, weather, prices… */
  kind: string;
  /** Where the records came from (file name or generator). */
  source: string;
  records: Rec[];
}

/** A record-like file of the vega-datasets package, replayed in its file order. */
export interface VegaSpec {
  file: string;
  kind: string;
}

/**
 * The vega-datasets files the benchmark replays. Left out because they are not record streams: the
 * TopoJSON maps (us-10m, world-110m, london*), raster grids (annual-precip, volcano), graphs (miserables,
 * flare*), wide tables with one column per year (budget), nested toy data (weekly-weather), binary files
 * (arrow, parquet, png), tiny lookup tables; and flights-2k/5k/10k/20k, which are slices of the same
 * flights as flights-200k.
 */
export const VEGA_DATASETS: VegaSpec[] = [
  { file: 'flights-200k.json', kind: 'transport' },
  { file: 'flights-airport.csv', kind: 'transport' },
  { file: 'airports.csv', kind: 'transport' },
  { file: 'seattle-weather.csv', kind: 'weather' },
  { file: 'seattle-weather-hourly-normals.csv', kind: 'weather' },
  { file: 'weather.csv', kind: 'weather' },
  { file: 'windvectors.csv', kind: 'weather' },
  { file: 'movies.json', kind: 'ratings' },
  { file: 'football.json', kind: 'sports' },
  { file: 'zipcodes.csv', kind: 'public records' },
  { file: 'birdstrikes.csv', kind: 'public records' },
  { file: 'disasters.csv', kind: 'public records' },
  { file: 'political-contributions.json', kind: 'public records' },
  { file: 'species.csv', kind: 'ecology' },
  { file: 'penguins.json', kind: 'ecology' },
  { file: 'github.csv', kind: 'activity' },
  { file: 'earthquakes.json', kind: 'geo' },
  { file: 'stocks.csv', kind: 'prices' },
  { file: 'sp500.csv', kind: 'prices' },
  { file: 'sp500-2000.csv', kind: 'prices' },
  { file: 'unemployment-across-industries.json', kind: 'economy' },
  { file: 'unemployment.tsv', kind: 'economy' },
  { file: 'us-employment.csv', kind: 'economy' },
  { file: 'iowa-electricity.csv', kind: 'economy' },
  { file: 'jobs.json', kind: 'economy' },
  { file: 'income.json', kind: 'economy' },
  { file: 'gapminder.json', kind: 'demography' },
  { file: 'countries.json', kind: 'demography' },
  { file: 'population.json', kind: 'demography' },
  { file: 'cars.json', kind: 'cars' },
  { file: 'co2-concentration.csv', kind: 'climate' },
];

/** A dataset's name: its file name without the extension. */
export function datasetName(file: string): string {
  return basename(file, extname(file));
}

/** GeoJSON FeatureCollection → one record per feature: its properties plus lon/lat/depth from a Point's coordinates. */
export function geojsonRecords(fc: { features?: unknown }): Rec[] {
  if (!Array.isArray(fc.features)) throw new Error('not a GeoJSON FeatureCollection');
  return fc.features.map((f: { properties?: Rec | null; geometry?: { coordinates?: unknown } | null }) => {
    const rec: Rec = { ...(f.properties ?? {}) };
    const c = f.geometry?.coordinates;
    if (Array.isArray(c)) {
      rec.lon = c[0] ?? null;
      rec.lat = c[1] ?? null;
      rec.depth = c[2] ?? null;
    }
    return rec;
  });
}

/** JSON Lines text → records: one object per non-blank line. Throws on a line that is not a JSON object. */
export function parseJsonl(text: string, where = 'jsonl'): Rec[] {
  const out: Rec[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${where}:${i + 1}: not valid JSON`);
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}:${i + 1}: not a JSON object`);
    out.push(v as Rec);
  }
  return out;
}

/** Reads a record file by its extension: .json (an array of objects, or GeoJSON), .csv, .tsv, .jsonl. */
export function readRecordFile(path: string): Rec[] {
  const text = readFileSync(path, 'utf8');
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return parseCsv(text, ',');
  if (ext === '.tsv') return parseCsv(text, '\t');
  if (ext === '.jsonl' || ext === '.ndjson') return parseJsonl(text, path);
  if (ext === '.json') {
    const v = JSON.parse(text) as unknown;
    if (Array.isArray(v)) {
      if (!v.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) throw new Error(`${path}: not an array of objects`);
      return v as Rec[];
    }
    if (v && typeof v === 'object' && (v as { type?: unknown }).type === 'FeatureCollection') return geojsonRecords(v as { features?: unknown });
    throw new Error(`${path}: neither an array of objects nor a GeoJSON FeatureCollection`);
  }
  throw new Error(`${path}: unknown record file type ${ext}`);
}

// ---------------------------------------------------------------------------------------------------
// Seeded randomness

/** FNV-1a over the text: a stable 32-bit seed from a name. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded generator of floats in [0, 1): a Weyl sequence through a 32-bit integer finalizer. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

/** An integer in [lo, hi]. */
function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)];
}

// ---------------------------------------------------------------------------------------------------
// Field profiles

export interface FieldProfile {
  name: string;
  /** Records where the key is present with a non-null value. */
  present: number;
  /** Records holding a finite number. */
  numeric: number;
  /** Numeric values that are not zero. */
  nonZero: number;
  min: number;
  max: number;
  /** Steps between successive numeric values that go up, and that go down (ties count as neither). */
  up: number;
  down: number;
}

export interface DatasetProfile {
  records: number;
  fields: FieldProfile[];
}

/** Whole-dataset statistics of every top-level field, in order of first appearance. */
export function profileRecords(records: readonly Rec[]): DatasetProfile {
  const byName = new Map<string, FieldProfile & { last: number | null }>();
  for (const r of records) {
    for (const k of Object.keys(r)) {
      let f = byName.get(k);
      if (!f) byName.set(k, (f = { name: k, present: 0, numeric: 0, nonZero: 0, min: Infinity, max: -Infinity, up: 0, down: 0, last: null }));
      const v = r[k];
      if (v === null || v === undefined) continue;
      f.present++;
      if (typeof v === 'number' && Number.isFinite(v)) {
        f.numeric++;
        if (v !== 0) f.nonZero++;
        if (v < f.min) f.min = v;
        if (v > f.max) f.max = v;
        if (f.last !== null) {
          if (v > f.last) f.up++;
          else if (v < f.last) f.down++;
        }
        f.last = v;
      }
    }
  }
  const fields = [...byName.values()].map(({ last: _last, ...f }) => f);
  return { records: records.length, fields };
}

/** Present with a value in ≥ 99 % of records: what a stream normally carries. */
export function isUsual(f: FieldProfile, n: number): boolean {
  return n > 0 && f.present >= 0.99 * n;
}

/** Usual, and a number in ≥ 95 % of records. */
export function isUsualNumeric(f: FieldProfile, n: number): boolean {
  return isUsual(f, n) && f.numeric >= 0.95 * n;
}

/** Successive values go one way in ≥ 90 % of the steps that move (ids, timestamps, sorted columns). */
export function isNearMonotone(f: FieldProfile): boolean {
  const steps = f.up + f.down;
  return steps > 0 && Math.max(f.up, f.down) >= 0.9 * steps;
}

export const SENTINELS = [-999, 99999, -1, 9999999] as const;

/** The sentinels that lie far outside the field's whole range: below min − (max − min) or above max + (max − min). */
export function farSentinels(f: FieldProfile): number[] {
  const span = f.max - f.min;
  return SENTINELS.filter((s) => s < f.min - span || s > f.max + span);
}

/**
 * The outlier variants a field allows: none unless it is a number in ≥ 95 % of records, not constant and
 * not near-monotone; `x1000` when at least half its values are non-zero (×1000 leaves zeros alone); the
 * far sentinels.
 */
export function outlierVariants(f: FieldProfile, n: number): Array<'x1000' | number> {
  if (n === 0 || f.numeric < 0.95 * n || !(f.max > f.min) || isNearMonotone(f)) return [];
  const out: Array<'x1000' | number> = [];
  if (f.nonZero >= 0.5 * f.numeric) out.push('x1000');
  out.push(...farSentinels(f));
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Episodes

export const EPISODE_KINDS = ['outliers', 'schema-rename', 'schema-type', 'missing', 'duplicates', 'parse'] as const;
export type EpisodeKind = (typeof EPISODE_KINDS)[number];

/** The detector that must catch each kind. */
export const KIND_DETECTOR: Record<EpisodeKind, string> = {
  outliers: 'outliers',
  'schema-rename': 'schema',
  'schema-type': 'schema',
  missing: 'missing',
  duplicates: 'duplicates',
  parse: 'parse',
};

export interface Episode {
  kind: EpisodeKind;
  detector: string;
  /** The field it corrupts (null for duplicates and parse). */
  field: string | null;
  /** 1-based number, in the injected stream, of the episode's first record. */
  start: number;
  /** Records of the injected stream the episode spans (replays included). */
  length: number;
  /** Share of the episode's records it means to corrupt (1 for a rename). */
  rate: number;
  /** Seed of the episode's own random choices (which records, where a line is cut). */
  seed: number;
  /** outliers: `x1000` or a sentinel value. */
  outlier?: 'x1000' | number;
  /** schema-rename: the new key and the value's unit (`"303 mi"`) or prefix (`"v2:abc"`). */
  newKey?: string;
  unit?: string;
  prefix?: string;
  /** missing: the value set to null, or the key removed. */
  mode?: 'null' | 'remove';
  /** duplicates: run lengths alternating replay, fresh, replay, … (summing to `length`); each replay run re-sends the records just before it. */
  blocks?: number[];
}

/** What an injection did to one episode. */
export interface InjectedEpisode extends Episode {
  /** Records actually changed (or replays sent). */
  affected: number;
  /** Their 1-based numbers in the injected stream. */
  affectedRecords: number[];
}

export interface PlanOptions {
  seed: number;
  window: number;
  /** Untouched records at the start, covering the monitor's learning period (its first window): 1,500 for a window of 1,000. */
  learn?: number;
  /** Clean records at least between one episode's end and the next one's start: 2,500 for a window of 1,000. */
  gap?: number;
  /** About one episode per this many records. */
  every?: number;
}

const UNITS = ['mi', 'km', 'kg', 'ms', 'USD', 'pts', '%', 'm'];
const PREFIXES = ['v2:', '#', 'id-', '~'];

/** Records needed after the last episode's end, so that its detection window lies inside the stream. */
function tailNeeded(window: number): number {
  return Math.max(500, window - 300);
}

/** A new key for a renamed field: `distance` → `dist` or `distance_v2`, `Miles_per_Gallon` → `mpg`. */
export function renamedKey(field: string, taken: ReadonlySet<string>, r: () => number): string {
  const words = field.split(/[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])/).filter((w) => w.length > 0);
  const candidates: string[] = [];
  if (words.length >= 2) candidates.push(words.map((w) => w[0].toLowerCase()).join(''));
  else if (field.length > 5) candidates.push(field.slice(0, 4));
  candidates.push(`${field}_v2`, `${field}New`);
  const order = r() < 0.5 ? candidates : [...candidates].reverse();
  for (const c of order) if (c !== field && c.length > 0 && !taken.has(c)) return c;
  for (let v = 3; ; v++) if (!taken.has(`${field}_v${v}`)) return `${field}_v${v}`;
}

/**
 * The fault episodes for one dataset, deterministic from the seed and the dataset's name: none in the first
 * `learn` records, at least `gap` clean records between two episodes, about one per `every` records, each
 * 300 to 3,000 records long, kinds cycled in a per-dataset order (a kind with no fit field is skipped).
 * None for a dataset too short to hold one.
 */
export function planEpisodes(name: string, records: readonly Rec[], o: PlanOptions): Episode[] {
  // 1,500 and 2,500 records with the default window of 1,000; proportionally more for a larger window.
  const learn = o.learn ?? Math.max(1500, Math.round(1.5 * o.window));
  const gap = o.gap ?? Math.max(2500, Math.round(2.5 * o.window));
  const every = o.every ?? 6000;
  const n = records.length;
  const tail = tailNeeded(o.window);
  if (n < learn + 300 + tail) return [];
  const r = rng(hashString(`${o.seed}:${name}:plan`));
  const prof = profileRecords(records);
  const usual = prof.fields.filter((f) => isUsual(f, n));
  const usualNumeric = usual.filter((f) => isUsualNumeric(f, n));
  const outlierFields = prof.fields.filter((f) => outlierVariants(f, n).length > 0);
  const taken = new Set(prof.fields.map((f) => f.name));
  const possible = (k: EpisodeKind): boolean =>
    k === 'outliers' ? outlierFields.length > 0 : k === 'schema-type' ? usualNumeric.length > 0 : k === 'schema-rename' || k === 'missing' ? usual.length > 0 : true;

  let count = Math.max(1, Math.round((n - learn) / every));
  let maxLen = 0;
  for (; count > 0; count--) {
    maxLen = Math.min(3000, Math.floor((n - learn - (count - 1) * gap - tail) / count));
    if (maxLen >= 300) break;
  }
  if (count === 0) return [];

  // A per-dataset order of the kinds, cycled.
  const order = [...EPISODE_KINDS];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const used = new Map<string, Set<string>>();
  const choose = <T extends { name: string }>(kind: string, list: T[]): T => {
    const seen = used.get(kind) ?? new Set<string>();
    used.set(kind, seen);
    const fresh = list.filter((f) => !seen.has(f.name));
    const f = pick(r, fresh.length ? fresh : list);
    seen.add(f.name);
    return f;
  };

  const episodes: Episode[] = [];
  let k = 0;
  for (let e = 0; e < count; e++) {
    let kind = order[k++ % order.length];
    while (!possible(kind)) kind = order[k++ % order.length];
    const length = randInt(r, 300, maxLen);
    const ep: Episode = { kind, detector: KIND_DETECTOR[kind], field: null, start: 0, length, rate: 1, seed: Math.floor(r() * 2 ** 32) };
    switch (kind) {
      case 'outliers': {
        const f = choose(kind, outlierFields);
        ep.field = f.name;
        ep.outlier = pick(r, outlierVariants(f, n));
        ep.rate = round3(0.05 + r() * 0.15);
        break;
      }
      case 'schema-rename': {
        const f = choose(kind, usual);
        ep.field = f.name;
        ep.newKey = renamedKey(f.name, taken, r);
        if (f.numeric >= 0.5 * f.present) ep.unit = pick(r, UNITS);
        else ep.prefix = pick(r, PREFIXES);
        break;
      }
      case 'schema-type': {
        ep.field = choose(kind, usualNumeric).name;
        ep.rate = r() < 0.5 ? 1 : round3(0.5 + r() * 0.5);
        break;
      }
      case 'missing': {
        ep.field = choose(kind, usual).name;
        ep.rate = round3(0.1 + r() * 0.9);
        const previous = episodes.filter((x) => x.kind === 'missing').length;
        const first: 'null' | 'remove' = hashString(`${o.seed}:${name}:missing`) % 2 === 0 ? 'null' : 'remove';
        ep.mode = previous % 2 === 0 ? first : first === 'null' ? 'remove' : 'null';
        break;
      }
      case 'duplicates': {
        ep.rate = round3(0.1 + r() * 0.4);
        ep.blocks = duplicateBlocks(length, ep.rate, r);
        break;
      }
      case 'parse': {
        ep.rate = round3(0.01 + r() * 0.19);
        break;
      }
    }
    episodes.push(ep);
  }

  // Positions: the records left over once the learning period, episodes, gaps and tail are placed, spread at
  // random over the count + 1 spaces before, between and after the episodes. Replays lengthen the stream.
  const replays = episodes.reduce((s, ep) => s + replayCount(ep), 0);
  const total = n + replays;
  const slack = total - learn - (count - 1) * gap - tail - episodes.reduce((s, ep) => s + ep.length, 0);
  const weights = Array.from({ length: count + 1 }, () => r());
  const wsum = weights.reduce((a, b) => a + b, 0);
  let at = learn + 1;
  for (let e = 0; e < count; e++) {
    at += Math.floor((slack * weights[e]) / wsum);
    episodes[e].start = at;
    at += episodes[e].length + gap;
  }
  return episodes;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/**
 * Replay and fresh runs for a duplicates episode of `length` records with a replay share `rate` (≤ 0.5):
 * replay runs of 50–500 records (never more than the fresh run before them), each followed by the fresh run
 * that brings the share to `rate`.
 */
export function duplicateBlocks(length: number, rate: number, r: () => number): number[] {
  const blocks: number[] = [];
  let remaining = length;
  let lastFresh = Infinity;
  while (remaining > 0) {
    const replay = Math.min(randInt(r, 50, 500), remaining, lastFresh);
    blocks.push(replay);
    remaining -= replay;
    if (remaining <= 0) break;
    const fresh = Math.min(remaining, Math.max(replay, Math.round((replay * (1 - rate)) / rate)));
    blocks.push(fresh);
    remaining -= fresh;
    lastFresh = fresh;
  }
  return blocks;
}

function replayCount(ep: Episode): number {
  if (ep.kind !== 'duplicates' || !ep.blocks) return 0;
  let s = 0;
  for (let i = 0; i < ep.blocks.length; i += 2) s += ep.blocks[i];
  return s;
}

function withValue(rec: Rec, field: string, value: unknown): Rec {
  return { ...rec, [field]: value };
}

/** The record with `field` renamed to `newKey` in the same position, its value made a string with a unit or prefix. */
function renamed(rec: Rec, ep: Episode): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(rec)) {
    if (k !== ep.field) out[k] = v;
    else out[ep.newKey!] = v === null || v === undefined ? v : ep.unit !== undefined ? `${String(v)} ${ep.unit}` : `${ep.prefix ?? ''}${String(v)}`;
  }
  return out;
}

const lineOf = (rec: Rec): Buffer => Buffer.from(JSON.stringify(rec));

/**
 * The injected stream: the records as JSON lines (Buffers), with each episode applied at its start. Records
 * are consumed in order; a duplicates episode re-sends recent lines verbatim, so the stream grows by its replays.
 * Deterministic: each episode's choices come from its own seed.
 */
export function injectEpisodes(records: readonly Rec[], episodes: readonly Episode[]): { lines: Buffer[]; episodes: InjectedEpisode[] } {
  const lines: Buffer[] = [];
  const done: InjectedEpisode[] = [];
  let next = 0; // next input record
  const emitClean = (upTo: number) => {
    while (lines.length < upTo && next < records.length) lines.push(lineOf(records[next++]));
  };
  const sorted = [...episodes].sort((a, b) => a.start - b.start);
  for (const ep of sorted) {
    emitClean(ep.start - 1);
    if (lines.length !== ep.start - 1) throw new Error(`episode at record ${ep.start} lies beyond the ${records.length} records`);
    const r = rng(ep.seed);
    const affected: number[] = [];
    if (ep.kind === 'duplicates') {
      const blocks = ep.blocks ?? [];
      for (let b = 0; b < blocks.length; b++) {
        if (b % 2 === 0) {
          const from = lines.length - blocks[b];
          if (from < 0) throw new Error('a replay run longer than the stream before it');
          for (let j = 0; j < blocks[b]; j++) {
            lines.push(lines[from + j]);
            affected.push(lines.length);
          }
        } else {
          for (let j = 0; j < blocks[b] && next < records.length; j++) lines.push(lineOf(records[next++]));
        }
      }
    } else {
      const end = ep.start - 1 + ep.length;
      while (lines.length < end && next < records.length) {
        const rec = records[next++];
        const out = corrupt(rec, ep, r);
        if (out === null) lines.push(lineOf(rec));
        else {
          lines.push(Buffer.isBuffer(out) ? out : lineOf(out));
          affected.push(lines.length);
        }
      }
    }
    done.push({ ...ep, affected: affected.length, affectedRecords: affected });
  }
  emitClean(Infinity);
  return { lines, episodes: done };
}

/** One record under a (non-duplicates) episode: the corrupted record or line, or null when it is left as it was. */
function corrupt(rec: Rec, ep: Episode, r: () => number): Rec | Buffer | null {
  const f = ep.field!;
  switch (ep.kind) {
    case 'outliers': {
      if (!(r() < ep.rate)) return null;
      const v = rec[f];
      if (typeof v !== 'number' || !Number.isFinite(v)) return null;
      if (ep.outlier === 'x1000') return v === 0 ? null : withValue(rec, f, v * 1000);
      return v === ep.outlier ? null : withValue(rec, f, ep.outlier);
    }
    case 'schema-rename':
      return Object.prototype.hasOwnProperty.call(rec, f) ? renamed(rec, ep) : null;
    case 'schema-type': {
      if (!(r() < ep.rate)) return null;
      const v = rec[f];
      return typeof v === 'number' ? withValue(rec, f, String(v)) : null;
    }
    case 'missing': {
      if (!(r() < ep.rate)) return null;
      const v = rec[f];
      if (v === null || v === undefined) return null;
      if (ep.mode === 'remove') {
        const out = { ...rec };
        delete out[f];
        return out;
      }
      return withValue(rec, f, null);
    }
    case 'parse': {
      if (!(r() < ep.rate)) return null;
      const full = lineOf(rec);
      if (full.length < 2) return null;
      const cut = 1 + Math.floor(r() * (full.length - 1)); // 1 .. length-1 bytes kept
      return Buffer.from(full.subarray(0, cut));
    }
    default:
      return null;
  }
}

/** A short description of an episode's corruption: `x1000`, `sentinel -999`, `distance → dist ("303 mi")`, … */
export function describeEpisode(ep: Episode): string {
  switch (ep.kind) {
    case 'outliers':
      return ep.outlier === 'x1000' ? '×1000' : `sentinel ${ep.outlier}`;
    case 'schema-rename':
      return `→ ${ep.newKey} (${ep.unit !== undefined ? `"… ${ep.unit}"` : `"${ep.prefix}…"`})`;
    case 'schema-type':
      return 'number → string';
    case 'missing':
      return ep.mode === 'remove' ? 'key removed' : 'set to null';
    case 'duplicates':
      return `${Math.floor(((ep.blocks?.length ?? 0) + 1) / 2)} replay runs`;
    case 'parse':
      return 'truncated lines';
  }
}

// ---------------------------------------------------------------------------------------------------
// Scoring

/** An alert or recovery, as the pipeline emitted it (detector null = the quality score). */
export interface RunEvent {
  type: 'alert' | 'recovered';
  detector: string | null;
  records: number;
  message?: string;
  severity?: string;
  /** The fields behind it, where the check's metrics tell (`distance 6.1%`). */
  fields?: string;
}

export interface EpisodeResult {
  episode: Episode;
  caught: boolean;
  /** alert.records − start of the catching alert; null when missed. */
  delay: number | null;
  /** The episode's detector had an alert open (fired, not recovered) when it started: counted as missed. */
  openAtStart: boolean;
  /** Alerts from one window before the start to two windows after the end (for reports on misses). */
  nearby: RunEvent[];
}

export interface RunScore {
  records: number;
  episodes: EpisodeResult[];
  /** Alerts outside every [start, end + 2 × window). */
  falseAlerts: RunEvent[];
  /** Records outside those spans. */
  cleanRecords: number;
}

/**
 * Scores one run. An episode is caught by an alert of its detector firing at a record number in
 * [start, start + window), unless that detector's alert was already open (fired, not recovered) when it
 * started. Every alert, of any detector or the score, outside each [start, end + 2 × window) is false,
 * where end = start + length is the first record after the episode; clean records are those outside.
 */
export function scoreRun(events: readonly RunEvent[], episodes: readonly Episode[], records: number, window: number): RunScore {
  const sorted = [...events].sort((a, b) => a.records - b.records);
  const results: EpisodeResult[] = episodes.map((ep) => {
    let open = false;
    for (const e of sorted) {
      if (e.records >= ep.start) break;
      if (e.detector === ep.detector) open = e.type === 'alert';
    }
    const hit = open ? undefined : sorted.find((e) => e.type === 'alert' && e.detector === ep.detector && e.records >= ep.start && e.records < ep.start + window);
    const nearby = sorted.filter((e) => e.type === 'alert' && e.records >= ep.start - window && e.records < ep.start + ep.length + 2 * window);
    return { episode: ep, caught: hit !== undefined, delay: hit ? hit.records - ep.start : null, openAtStart: open, nearby };
  });
  const spans = episodes.map((ep) => [ep.start, ep.start + ep.length + 2 * window] as const).sort((a, b) => a[0] - b[0]);
  const inSpan = (rec: number) => spans.some(([a, b]) => rec >= a && rec < b);
  const falseAlerts = sorted.filter((e) => e.type === 'alert' && !inSpan(e.records));
  // Records 1..records covered by the union of the spans.
  let covered = 0;
  let reach = 1; // first record not yet counted
  for (const [a, b] of spans) {
    const lo = Math.max(a, reach);
    const hi = Math.min(b, records + 1);
    if (hi > lo) covered += hi - lo;
    reach = Math.max(reach, b);
  }
  return { records, episodes: results, falseAlerts, cleanRecords: records - covered };
}

/** The q-quantile (0..1) by linear interpolation between order statistics; null for no values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export interface Figures {
  episodes: number;
  caught: number;
  /** 0..100, null with no episodes. */
  caughtPct: number | null;
  medianDelay: number | null;
  p90Delay: number | null;
}

/** Caught share and delays over a set of episode results. */
export function episodeFigures(results: readonly EpisodeResult[]): Figures {
  const delays = results.filter((x) => x.caught).map((x) => x.delay!);
  const caught = delays.length;
  return {
    episodes: results.length,
    caught,
    caughtPct: results.length ? round3((100 * caught) / results.length) : null,
    medianDelay: quantile(delays, 0.5),
    p90Delay: quantile(delays, 0.9),
  };
}

/** False alerts per 100,000 records (0 for no records). */
export function per100k(alerts: number, records: number): number {
  return records > 0 ? round3((alerts * 100_000) / records) : 0;
}
