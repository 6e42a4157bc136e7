/**
 * `npm run bench -- detection [--json] [--data <dir>] [--seed N] [--seeds N] [--window N] [--settings JSON] [--only a,b] [--verbose]`
 *
 * How well the default detectors catch faults, and how quiet they stay, on REAL public data replayed in its
 * natural file order (never shuffled): the record-like files of the vega-datasets package, the demo's clean
 * orders, and every .jsonl file of `--data <dir>`. Each dataset runs twice through a RealtimePipeline with
 * the defaults (window 1000, a check every 100 records):
 *
 * 1. untouched: every alert is a false alert;
 * 2. injected: the same records with fault episodes (outliers, schema-rename, schema-type, missing,
 *    duplicates, parse), deterministic from `--seed` and the dataset's name. An episode is caught by an alert
 *    of its detector within one window of its start; alerts outside every [start, end + 2 windows) are false.
 *
 * Goals (marked pass/fail; the process exits 0 whatever they say): ≥ 95 % caught, median delay ≤ 300 records,
 * ≤ 1 false alert per 100k clean records in the injected runs and per 100k records in the untouched ones.
 */
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RealtimePipeline } from '../server/engine/pipeline';
import { resolvePipelineConfig, type PipelineSettings } from '../server/engine/config';
import { MemorySource } from '../server/sources/memory';
import type { MetricsEvent } from '../server/engine/events';
import { DemoSource } from '../server/sources/demo';
import {
  EPISODE_KINDS,
  VEGA_DATASETS,
  datasetName,
  describeEpisode,
  episodeFigures,
  injectEpisodes,
  per100k,
  planEpisodes,
  readRecordFile,
  scoreRun,
  type Dataset,
  type EpisodeResult,
  type Figures,
  type InjectedEpisode,
  type Rec,
  type RunEvent,
  type RunScore,
} from './detection-data';

const CHECK_EVERY = 100;
const DEMO_RECORDS = 20_000;
const GOALS = { caughtPct: 95, medianDelay: 300, falseInjectedPer100k: 1, falseUntouchedPer100k: 1 };

interface Args {
  json: boolean;
  verbose: boolean;
  seed: number;
  /** Injected runs per dataset, with seeds seed … seed + seeds − 1 (each places its episodes differently). */
  seeds: number;
  window: number;
  /** Pipeline settings over the defaults (`--settings '{"baseline":{"z":5}}'`), to calibrate on your own data. */
  settings: PipelineSettings;
  data: string | null;
  only: string[] | null;
}

class UsageError extends Error {}

function parseArgs(argv: string[]): Args {
  const a: Args = { json: false, verbose: false, seed: 1, seeds: 3, window: 1000, settings: {}, data: null, only: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${k} needs a value`);
      return v;
    };
    const int = (min: number): number => {
      const s = value();
      const v = Number(s);
      if (!Number.isInteger(v) || v < min) throw new UsageError(`${k} must be a whole number ≥ ${min} (got ${s})`);
      return v;
    };
    if (k === '--json') a.json = true;
    else if (k === '--verbose' || k === '-v') a.verbose = true;
    else if (k === '--seed') a.seed = int(0);
    else if (k === '--seeds') a.seeds = int(1);
    else if (k === '--window') a.window = int(10);
    else if (k === '--data') a.data = value();
    else if (k === '--settings') {
      const v = value();
      try {
        a.settings = JSON.parse(v) as PipelineSettings;
        resolvePipelineConfig(a.settings);
      } catch (err) {
        throw new UsageError(`--settings takes pipeline settings as JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    else if (k === '--only') a.only = value().split(',').map((s) => s.trim()).filter(Boolean);
    else throw new UsageError(`unknown option ${k}; use --json, --verbose, --seed N, --seeds N, --window N, --settings JSON, --data <dir>, --only a,b`);
  }
  return a;
}

/** A named source of records, loaded only when it is run. */
interface DatasetSource {
  name: string;
  kind: string;
  source: string;
  load(): Promise<Rec[]>;
}

/** The package's data folder (its exports map hides package.json, so it is found from the checkout). */
function vegaDir(): string {
  return resolve(__dirname, '..', 'node_modules', 'vega-datasets', 'data');
}

const quietCtx = { log: { debug() {}, info() {}, warn() {}, error() {} }, status() {}, secret: async () => undefined };

/** The demo's clean orders: its messages' values, collected before the run. */
async function demoRecords(count: number): Promise<Rec[]> {
  const src = new DemoSource({ backend: 'demo', topic: 'orders', from: { kind: 'earliest' }, options: { rate: 0, calm: 1e9 } }, quietCtx);
  await src.connect();
  const out: Rec[] = [];
  try {
    for await (const batch of src.consume()) {
      for (const m of batch) {
        if (out.length >= count) break;
        const v = m.value;
        out.push(JSON.parse(Buffer.isBuffer(v) ? v.toString('utf8') : typeof v === 'string' ? v : JSON.stringify(v)) as Rec);
      }
      if (out.length >= count) break;
    }
  } finally {
    await src.close();
  }
  return out;
}

function sources(a: Args): DatasetSource[] {
  const dir = vegaDir();
  const list: DatasetSource[] = VEGA_DATASETS.map((s) => ({
    name: datasetName(s.file),
    kind: s.kind,
    source: `vega-datasets/${s.file}`,
    load: async () => readRecordFile(join(dir, s.file)),
  }));
  list.push({ name: 'demo-orders', kind: 'orders (synthetic)', source: 'demo:orders', load: () => demoRecords(DEMO_RECORDS) });
  if (a.data) {
    let files: string[];
    try {
      files = readdirSync(a.data).filter((f) => f.endsWith('.jsonl')).sort();
    } catch (err) {
      throw new UsageError(`--data ${a.data}: ${(err as Error).message}`);
    }
    for (const f of files) {
      let name = datasetName(f);
      while (list.some((d) => d.name === name)) name = `data:${name}`;
      const path = join(a.data, f);
      list.push({ name, kind: 'jsonl', source: path, load: async () => readRecordFile(path) });
    }
  }
  if (a.only) {
    const unknown = a.only.filter((n) => !list.some((d) => d.name === n));
    if (unknown.length) throw new UsageError(`--only: no dataset named ${unknown.join(', ')}; the datasets are ${list.map((d) => d.name).join(', ')}`);
    return list.filter((d) => a.only!.includes(d.name));
  }
  return list;
}

/** One pass of the lines through a pipeline with the defaults; its alert and recovered events. */
async function replay(name: string, lines: Buffer[], window: number, settings: PipelineSettings): Promise<RunEvent[]> {
  const cfg = resolvePipelineConfig({ ...settings, windowSize: window, checkInterval: { records: CHECK_EVERY } });
  const p = new RealtimePipeline(name, new MemorySource(lines), cfg, { idleFlushMs: 0 });
  const events: RunEvent[] = [];
  let last: MetricsEvent | null = null;
  p.on('metrics', (m) => (last = m));
  p.on('alert', (e) => {
    let fields = namedFields(e) || (last && last.records === e.records ? fieldsBehind(last, e.detector) : '');
    if (fields && e.message.includes(fields)) fields = ''; // the message says it already
    events.push({ type: 'alert', detector: e.detector, records: e.records, message: e.message, severity: e.severity, ...(fields ? { fields } : {}) });
  });
  p.on('recovered', (e) => events.push({ type: 'recovered', detector: e.detector, records: e.records, message: e.message, severity: e.severity }));
  await p.run();
  return events;
}

/** The fields an alert names itself (engines whose alerts carry `fields: [{ name, share, detail }]`), worst first. */
function namedFields(e: unknown): string {
  const list = (e as { fields?: unknown }).fields;
  if (!Array.isArray(list)) return '';
  return list
    .slice(0, 3)
    .map((f: { name?: unknown; share?: unknown; detail?: unknown }) =>
      typeof f?.detail === 'string' && f.detail ? f.detail : `${String(f?.name ?? '(records)')}${typeof f?.share === 'number' ? ` ${(f.share * 100).toFixed(1)}%` : ''}`,
    )
    .join('; ');
}

/** The fields with the highest per-field share behind an outliers or missing alert, from the check's metrics: `distance 6.1%, delay 0.2%`. */
function fieldsBehind(m: MetricsEvent, detector: string | null): string {
  const key = detector === 'outliers' ? 'outliers' : detector === 'missing' ? 'missing' : null;
  if (!key) return '';
  return Object.entries(m.fields ?? {})
    .map(([name, f]) => [name, (f as unknown as Record<string, number | undefined>)[key] ?? 0] as const)
    .filter(([, v]) => v > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, v]) => `${name} ${(v * 100).toFixed(1)}%`)
    .join(', ');
}

interface DatasetResult {
  name: string;
  kind: string;
  source: string;
  records: number;
  injectedRecords: number;
  episodes: InjectedEpisode[];
  injected: RunScore | null;
  untouched: RunScore;
  seconds: number;
}

async function runDataset(d: Dataset, a: Args): Promise<DatasetResult> {
  const t0 = process.hrtime.bigint();
  const clean = d.records.map((r) => Buffer.from(JSON.stringify(r)));
  const untouched = scoreRun(await replay(d.name, clean, a.window, a.settings), [], clean.length, a.window);
  let injected: RunScore | null = null;
  const episodes: InjectedEpisode[] = [];
  let injectedRecords = 0;
  for (let seed = a.seed; seed < a.seed + a.seeds; seed++) {
    const plan = planEpisodes(d.name, d.records, { seed, window: a.window });
    if (plan.length === 0) continue;
    const inj = injectEpisodes(d.records, plan);
    episodes.push(...inj.episodes);
    injectedRecords += inj.lines.length;
    const score = scoreRun(await replay(d.name, inj.lines, a.window, a.settings), inj.episodes, inj.lines.length, a.window);
    injected = injected === null ? score : { records: injected.records + score.records, episodes: [...injected.episodes, ...score.episodes], falseAlerts: [...injected.falseAlerts, ...score.falseAlerts], cleanRecords: injected.cleanRecords + score.cleanRecords };
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { name: d.name, kind: d.kind, source: d.source, records: d.records.length, injectedRecords, episodes, injected, untouched, seconds };
}

// ---------------------------------------------------------------------------------------------------
// Reporting

interface Totals extends Figures {
  records: number;
  injectedRecords: number;
  falseInjected: number;
  cleanRecords: number;
  falseInjectedPer100k: number;
  falseUntouched: number;
  falseUntouchedPer100k: number;
}

function totals(results: DatasetResult[]): Totals {
  const eps: EpisodeResult[] = results.flatMap((r) => r.injected?.episodes ?? []);
  const falseInjected = results.reduce((s, r) => s + (r.injected?.falseAlerts.length ?? 0), 0);
  const cleanRecords = results.reduce((s, r) => s + (r.injected?.cleanRecords ?? 0), 0);
  const falseUntouched = results.reduce((s, r) => s + r.untouched.falseAlerts.length, 0);
  const records = results.reduce((s, r) => s + r.records, 0);
  return {
    ...episodeFigures(eps),
    records,
    injectedRecords: results.reduce((s, r) => s + r.injectedRecords, 0),
    falseInjected,
    cleanRecords,
    falseInjectedPer100k: per100k(falseInjected, cleanRecords),
    falseUntouched,
    falseUntouchedPer100k: per100k(falseUntouched, records),
  };
}

function datasetJson(r: DatasetResult) {
  const f = episodeFigures(r.injected?.episodes ?? []);
  return {
    name: r.name,
    kind: r.kind,
    source: r.source,
    records: r.records,
    injectedRecords: r.injectedRecords,
    ...f,
    falseInjected: r.injected?.falseAlerts.length ?? 0,
    cleanRecords: r.injected?.cleanRecords ?? 0,
    falseInjectedPer100k: r.injected ? per100k(r.injected.falseAlerts.length, r.injected.cleanRecords) : 0,
    falseUntouched: r.untouched.falseAlerts.length,
    falseUntouchedPer100k: per100k(r.untouched.falseAlerts.length, r.records),
    seconds: Math.round(r.seconds * 100) / 100,
    episodeList: (r.injected?.episodes ?? []).map((x) => {
      const ep = x.episode as InjectedEpisode;
      return {
        kind: ep.kind,
        field: ep.field,
        variant: describeEpisode(ep),
        start: ep.start,
        length: ep.length,
        rate: ep.rate,
        affected: ep.affected,
        caught: x.caught,
        delay: x.delay,
        openAtStart: x.openAtStart,
      };
    }),
    falseAlerts: [
      ...(r.injected?.falseAlerts ?? []).map((e) => ({ run: 'injected', ...e })),
      ...r.untouched.falseAlerts.map((e) => ({ run: 'untouched', ...e })),
    ],
  };
}

function kindFigures(results: DatasetResult[]): Record<string, Figures> {
  const out: Record<string, Figures> = {};
  const eps = results.flatMap((r) => r.injected?.episodes ?? []);
  for (const k of EPISODE_KINDS) out[k] = episodeFigures(eps.filter((x) => x.episode.kind === k));
  return out;
}

const n0 = (x: number | null): string => (x === null ? '–' : String(Math.round(x)));
const fmt = (n: number): string => n.toLocaleString('en');
const rate = (x: number): string => (x === 0 ? '0' : x.toFixed(2));
const mark = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

function row(cells: Array<[string, number]>): string {
  return cells.map(([s, w]) => (w < 0 ? s.padEnd(-w) : s.padStart(w))).join('  ');
}

function printTable(results: DatasetResult[], t: Totals, kinds: Record<string, Figures>, a: Args, seconds: number): void {
  const out = (s = '') => console.log(s);
  out(`Detection benchmark: default detectors, window ${a.window}, a check every ${CHECK_EVERY} records, seeds ${a.seed}–${a.seed + a.seeds - 1}; real data in file order`);
  out('median: median delay (records from an episode\'s start to its alert); false alerts: injected run per 100k clean');
  out('records (count), untouched run per 100k records (count)');
  out();
  const W: number[] = [-32, -18, 9, 8, 8, 7, 14, 16];
  const head = ['dataset', 'kind', 'records', 'episodes', 'caught', 'median', 'false inj', 'false untouched'];
  out(row(head.map((s, i) => [s, W[i]])));
  for (const r of results) {
    const f = episodeFigures(r.injected?.episodes ?? []);
    const fi = r.injected ? `${rate(per100k(r.injected.falseAlerts.length, r.injected.cleanRecords))} (${r.injected.falseAlerts.length})` : '–';
    const fu = `${rate(per100k(r.untouched.falseAlerts.length, r.records))} (${r.untouched.falseAlerts.length})`;
    out(
      row([
        [r.name, W[0]],
        [r.kind, W[1]],
        [fmt(r.records), W[2]],
        [String(f.episodes), W[3]],
        [f.episodes ? `${f.caught}/${f.episodes}` : '–', W[4]],
        [n0(f.medianDelay), W[5]],
        [fi, W[6]],
        [fu, W[7]],
      ]),
    );
  }
  out(
    row([
      ['total', W[0]],
      [`${results.length} datasets`, W[1]],
      [fmt(t.records), W[2]],
      [String(t.episodes), W[3]],
      [`${t.caught}/${t.episodes}`, W[4]],
      [n0(t.medianDelay), W[5]],
      [`${rate(t.falseInjectedPer100k)} (${t.falseInjected})`, W[6]],
      [`${rate(t.falseUntouchedPer100k)} (${t.falseUntouched})`, W[7]],
    ]),
  );
  out();
  out(row([['episode kind', -16], ['detector', -11], ['episodes', 8], ['caught', 8], ['caught %', 9], ['median', 7], ['p90', 7]]));
  for (const k of EPISODE_KINDS) {
    const f = kinds[k];
    out(
      row([
        [k, -16],
        [k === 'schema-rename' || k === 'schema-type' ? 'schema' : k, -11],
        [String(f.episodes), 8],
        [String(f.caught), 8],
        [f.caughtPct === null ? '–' : f.caughtPct.toFixed(1), 9],
        [n0(f.medianDelay), 7],
        [n0(f.p90Delay), 7],
      ]),
    );
  }
  out();
  const byDetector = (pick: (r: DatasetResult) => RunEvent[]): string => {
    const counts = new Map<string, number>();
    for (const r of results) for (const e of pick(r)) counts.set(e.detector ?? 'score', (counts.get(e.detector ?? 'score') ?? 0) + 1);
    return [...counts].sort((x, y) => y[1] - x[1]).map(([d, c]) => `${d} ${c}`).join(', ') || 'none';
  };
  out(`false alerts by detector: injected ${byDetector((r) => r.injected?.falseAlerts ?? [])}; untouched ${byDetector((r) => r.untouched.falseAlerts)}`);
  out(`records replayed: ${fmt(t.records)} untouched + ${fmt(t.injectedRecords)} injected in ${seconds.toFixed(1)} s`);
  out('goals:');
  out(`  ${mark((t.caughtPct ?? 0) >= GOALS.caughtPct)}  caught ≥ ${GOALS.caughtPct} %: ${t.caughtPct === null ? '–' : t.caughtPct.toFixed(1)} % (${t.caught}/${t.episodes})`);
  out(`  ${mark(t.medianDelay !== null && t.medianDelay <= GOALS.medianDelay)}  median delay ≤ ${GOALS.medianDelay} records: ${n0(t.medianDelay)} (p90 ${n0(t.p90Delay)})`);
  out(`  ${mark(t.falseInjectedPer100k <= GOALS.falseInjectedPer100k)}  false alerts in injected runs ≤ ${GOALS.falseInjectedPer100k} / 100k clean records: ${rate(t.falseInjectedPer100k)} (${t.falseInjected} in ${fmt(t.cleanRecords)})`);
  out(`  ${mark(t.falseUntouchedPer100k <= GOALS.falseUntouchedPer100k)}  false alerts in untouched runs ≤ ${GOALS.falseUntouchedPer100k} / 100k records: ${rate(t.falseUntouchedPer100k)} (${t.falseUntouched} in ${fmt(t.records)})`);
}

function printVerbose(results: DatasetResult[]): void {
  const out = (s = '') => console.log(s);
  out();
  out('episodes:');
  for (const r of results) {
    for (const x of r.injected?.episodes ?? []) {
      const ep = x.episode as InjectedEpisode;
      const status = x.caught ? `caught after ${x.delay}` : x.openAtStart ? 'MISSED (its alert was already open)' : 'MISSED';
      out(`  ${r.name.padEnd(34)} ${ep.kind.padEnd(13)} ${String(ep.field ?? '').padEnd(24)} ${describeEpisode(ep).padEnd(26)} rate ${ep.rate.toFixed(3)}  start ${String(ep.start).padStart(6)}  length ${String(ep.length).padStart(4)}  affected ${String(ep.affected).padStart(4)}  ${status}`);
    }
  }
  const missed = results.flatMap((r) => (r.injected?.episodes ?? []).filter((x) => !x.caught).map((x) => ({ r, x })));
  out();
  out(`missed episodes (${missed.length}):`);
  for (const { r, x } of missed) {
    const ep = x.episode as InjectedEpisode;
    out(`  ${r.name}: ${ep.kind} on ${ep.field ?? '(whole records)'} (${describeEpisode(ep)}), rate ${ep.rate}, start ${ep.start}, length ${ep.length}, ${ep.affected} records affected${x.openAtStart ? `; the ${ep.detector} alert was already open` : ''}`);
    if (x.nearby.length === 0) out('      no alert near it');
    for (const e of x.nearby) out(`      alert at ${e.records} (${e.records - ep.start >= 0 ? '+' : ''}${e.records - ep.start}): ${e.detector ?? 'score'} ${e.severity ?? ''} — ${e.message ?? ''}${e.fields ? ` [${e.fields}]` : ''}`);
  }
  const falses = results.flatMap((r) => [
    ...(r.injected?.falseAlerts ?? []).map((e) => ({ r, run: 'injected', e })),
    ...r.untouched.falseAlerts.map((e) => ({ r, run: 'untouched', e })),
  ]);
  out();
  out(`false alerts (${falses.length}):`);
  for (const { r, run, e } of falses) out(`  ${r.name} [${run}] record ${e.records}: ${e.detector ?? 'score'} ${e.severity ?? ''} — ${e.message ?? ''}${e.fields ? ` [${e.fields}]` : ''}`);
}

export async function run(argv: string[]): Promise<void> {
  let a: Args;
  let list: DatasetSource[];
  try {
    a = parseArgs(argv);
    list = sources(a);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`bench detection: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const t0 = process.hrtime.bigint();
  const results: DatasetResult[] = [];
  for (const s of list) {
    const records = await s.load();
    results.push(await runDataset({ name: s.name, kind: s.kind, source: s.source, records }, a));
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const t = totals(results);
  const kinds = kindFigures(results);
  printTable(results, t, kinds, a, seconds);
  if (a.verbose) printVerbose(results);
  if (a.json) {
    const goals = {
      caught: { goal: GOALS.caughtPct, value: t.caughtPct, pass: (t.caughtPct ?? 0) >= GOALS.caughtPct },
      medianDelay: { goal: GOALS.medianDelay, value: t.medianDelay, pass: t.medianDelay !== null && t.medianDelay <= GOALS.medianDelay },
      falseInjectedPer100k: { goal: GOALS.falseInjectedPer100k, value: t.falseInjectedPer100k, pass: t.falseInjectedPer100k <= GOALS.falseInjectedPer100k },
      falseUntouchedPer100k: { goal: GOALS.falseUntouchedPer100k, value: t.falseUntouchedPer100k, pass: t.falseUntouchedPer100k <= GOALS.falseUntouchedPer100k },
    };
    console.log(JSON.stringify({ bench: 'detection', seed: a.seed, seeds: a.seeds, window: a.window, checkEvery: CHECK_EVERY, seconds: Math.round(seconds * 10) / 10, total: t, kinds, goals, datasets: results.map(datasetJson) }));
  }
}
