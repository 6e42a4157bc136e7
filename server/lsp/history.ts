/**
 * A bounded, columnar history of one pipeline's checks (at most one point per second), its alerts, and where
 * its latest learning period began and ended (two times, however long the stream). Beside it, a coarser archive
 * (one point per 10 s, six hours) that is saved to the extension's storage, so a restarted agent's chart still
 * shows the hours before the restart.
 */
import { mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DETECTORS } from '../engine/config';
import { safeName } from '../engine/baselineStore';
import type { DetectorName } from '../engine/config';
import type { AlertEvent, MetricsEvent, RecoveredEvent, SampleRecord } from '../engine/events';
import type { PipelineHistory } from '../../shared/protocol';

/** Two hours at one point per second. */
export const HISTORY_POINTS = 7200;
export const HISTORY_ALERTS = 500;
/** The saved archive: one point per 10 s for six hours (2,160 points), the latest 100 alerts, at most 256 KB a pipeline. */
export const ARCHIVE_STEP_MS = 10_000;
export const ARCHIVE_POINTS = 2160;
export const ARCHIVE_ALERTS = 100;
export const ARCHIVE_MAX_BYTES = 256 * 1024;
/** Alerts whose sample records are kept for "Show Samples" (at most 5 records each, in memory only). */
export const ALERT_SAMPLES_KEPT = 50;

/** One coarse point per step: the latest check of each 10 s wins. Columns, like the ring. */
class ArchiveColumns {
  time: number[] = [];
  score: number[] = [];
  throughput: number[] = [];
  records: number[] = [];
  detectors: Partial<Record<DetectorName, Array<number | null>>> = {};

  get length(): number {
    return this.time.length;
  }

  add(time: number, score: number, throughput: number, records: number, rates: Partial<Record<DetectorName, number | null>>): void {
    const n = this.time.length;
    const same = n > 0 && Math.floor(this.time[n - 1] / ARCHIVE_STEP_MS) === Math.floor(time / ARCHIVE_STEP_MS);
    const i = same ? n - 1 : n;
    this.time[i] = time;
    this.score[i] = score;
    this.throughput[i] = throughput;
    this.records[i] = records;
    for (const d of DETECTORS) {
      const rate = rates[d];
      let col = this.detectors[d];
      if ((rate === undefined || rate === null) && !col) continue;
      if (!col) col = this.detectors[d] = new Array<number | null>(i).fill(null);
      while (col.length < i) col.push(null);
      col[i] = rate ?? null;
    }
    for (const col of Object.values(this.detectors)) while (col.length <= i) col.push(null);
    // Trimmed in steps of a tenth, so the per-check cost stays constant on average.
    if (this.time.length > ARCHIVE_POINTS + ARCHIVE_POINTS / 10) this.dropOldest(this.time.length - ARCHIVE_POINTS);
  }

  dropOldest(n: number): void {
    this.time.splice(0, n);
    this.score.splice(0, n);
    this.throughput.splice(0, n);
    this.records.splice(0, n);
    for (const col of Object.values(this.detectors)) col.splice(0, n);
  }

  /** The index of the first point at or after `time`. */
  firstAtOrAfter(time: number): number {
    let lo = 0;
    let hi = this.time.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.time[mid] < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** What is saved of a pipeline's history (rates and scores at four decimals). */
export type SavedHistory = { version: 1; savedAt: number } & Pick<PipelineHistory, 'pipeline' | 'time' | 'score' | 'throughput' | 'records' | 'detectors' | 'alerts'>;

export class PipelineHistoryRing {
  private readonly time: Float64Array;
  private readonly score: Float64Array;
  private readonly throughput: Float64Array;
  private readonly records: Float64Array;
  /** NaN where the detector had no rate at that point. */
  private readonly detectors = new Map<DetectorName, Float64Array>();
  private head = 0; // next slot to write
  private size = 0;
  private readonly alerts: Array<AlertEvent | RecoveredEvent> = [];
  /** Learning at the latest check; undefined before the first check. */
  private learning: boolean | undefined;
  private learningFrom: number | undefined;
  private learningUntil: number | undefined;
  /** The coarse past: what is saved, and what a restarted agent shows from before its start. */
  private readonly archive = new ArchiveColumns();
  private readonly alertSampleSets = new Map<string, SampleRecord[]>();

  constructor(
    readonly pipeline: string,
    readonly threshold: number,
    readonly thresholds: Partial<Record<DetectorName, number>>,
    readonly capacity = HISTORY_POINTS,
    private readonly alertCapacity = HISTORY_ALERTS,
  ) {
    this.time = new Float64Array(capacity);
    this.score = new Float64Array(capacity);
    this.throughput = new Float64Array(capacity);
    this.records = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  addMetrics(m: MetricsEvent): void {
    const last = this.size > 0 ? (this.head - 1 + this.capacity) % this.capacity : -1;
    // Checks faster than 1 Hz share their second's point: the latest check of a second wins.
    let slot: number;
    if (last >= 0 && Math.floor(this.time[last] / 1000) === Math.floor(m.time / 1000)) slot = last;
    else {
      slot = this.head;
      this.head = (this.head + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
    const learning = m.baseline.state === 'learning';
    // A new learning period (the first, or after a reset) starts a new band; its first ready check ends it.
    if (learning && this.learning !== true) {
      this.learningFrom = m.time;
      this.learningUntil = undefined;
    } else if (!learning && this.learning === true) this.learningUntil = m.time;
    this.learning = learning;
    this.time[slot] = m.time;
    this.score[slot] = m.score;
    this.throughput[slot] = m.throughput;
    this.records[slot] = m.records;
    this.archive.add(m.time, m.score, m.throughput, m.records, rateOf(m));
    for (const d of DETECTORS) {
      const rate = m.detectors[d]?.rate;
      let col = this.detectors.get(d);
      if (rate === undefined && !col) continue;
      if (!col) {
        col = new Float64Array(this.capacity).fill(NaN);
        this.detectors.set(d, col);
      }
      col[slot] = rate ?? NaN;
    }
  }

  addAlert(e: AlertEvent | RecoveredEvent): void {
    this.alerts.push(e);
    if (this.alerts.length > this.alertCapacity) this.alerts.splice(0, this.alerts.length - this.alertCapacity);
  }

  /** The records behind an alert, as they were when it fired (the newest flagged ones change with every record). */
  keepAlertSamples(alert: AlertEvent, samples: SampleRecord[]): void {
    this.alertSampleSets.set(alertSampleKey(alert.time, alert.detector), samples);
    if (this.alertSampleSets.size > ALERT_SAMPLES_KEPT) this.alertSampleSets.delete(this.alertSampleSets.keys().next().value!);
  }

  /** The records kept for the alert at `time` of `detector` (null: the score); none when no longer kept. */
  alertSamples(time: number, detector: DetectorName | null): SampleRecord[] {
    return this.alertSampleSets.get(alertSampleKey(time, detector)) ?? [];
  }

  /** The archive to save: six hours at most, numbers rounded, cut from the oldest end to fit ARCHIVE_MAX_BYTES. */
  toSaved(now = Date.now()): SavedHistory {
    const a = this.archive;
    const from = a.firstAtOrAfter(now - ARCHIVE_POINTS * ARCHIVE_STEP_MS);
    const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
    const saved: SavedHistory = {
      version: 1,
      pipeline: this.pipeline,
      savedAt: now,
      time: a.time.slice(from),
      score: a.score.slice(from).map(r4),
      throughput: a.throughput.slice(from).map((x) => Math.round(x * 10) / 10),
      records: a.records.slice(from),
      detectors: {},
      alerts: this.alerts.slice(-ARCHIVE_ALERTS),
    };
    for (const [d, col] of Object.entries(a.detectors) as Array<[DetectorName, Array<number | null>]>) saved.detectors[d] = col.slice(from).map((x) => (x === null ? null : r4(x)));
    return fitBytes(saved);
  }

  /** Puts a saved archive back (points older than six hours are left out); call before the first check. */
  restore(saved: SavedHistory, now = Date.now()): void {
    const oldest = now - ARCHIVE_POINTS * ARCHIVE_STEP_MS;
    for (let i = 0; i < saved.time.length; i++) {
      const t = saved.time[i];
      if (!(t >= oldest && t <= now)) continue;
      const rates: Partial<Record<DetectorName, number | null>> = {};
      for (const [d, col] of Object.entries(saved.detectors) as Array<[DetectorName, Array<number | null>]>) rates[d] = col[i] ?? null;
      this.archive.add(t, saved.score[i] ?? 0, saved.throughput[i] ?? 0, saved.records[i] ?? 0, rates);
    }
    for (const alert of saved.alerts) if (alert.time >= oldest) this.alerts.push(alert);
  }

  /** The points and alerts at or after `since` (all when absent), oldest first. */
  since(since = -Infinity): PipelineHistory {
    const out: PipelineHistory = {
      pipeline: this.pipeline,
      threshold: this.threshold,
      thresholds: this.thresholds,
      time: [],
      score: [],
      throughput: [],
      records: [],
      detectors: {},
      alerts: this.alerts.filter((a) => a.time >= since),
    };
    if (this.learning !== undefined) out.learning = this.learning;
    if (this.learningFrom !== undefined) out.learningFrom = this.learningFrom;
    if (this.learningUntil !== undefined) out.learningUntil = this.learningUntil;
    const start = (this.head - this.size + this.capacity) % this.capacity;
    // The archive's points from before the ring's oldest (a restarted agent's past, or beyond the ring's two hours).
    const fineFrom = this.size > 0 ? this.time[start] : Infinity;
    const a = this.archive;
    const from = a.firstAtOrAfter(since);
    const until = a.firstAtOrAfter(fineFrom);
    const detectorNames = new Set<DetectorName>([...(Object.keys(a.detectors) as DetectorName[]), ...this.detectors.keys()]);
    for (const d of detectorNames) out.detectors[d] = [];
    for (let i = from; i < until; i++) {
      out.time.push(a.time[i]);
      out.score.push(a.score[i]);
      out.throughput.push(a.throughput[i]);
      out.records.push(a.records[i]);
      for (const d of detectorNames) out.detectors[d]!.push(a.detectors[d]?.[i] ?? null);
    }
    const fine = [...this.detectors.entries()];
    for (let i = 0; i < this.size; i++) {
      const s = (start + i) % this.capacity;
      if (this.time[s] < since) continue;
      out.time.push(this.time[s]);
      out.score.push(this.score[s]);
      out.throughput.push(this.throughput[s]);
      out.records.push(this.records[s]);
      for (const d of detectorNames) out.detectors[d]!.push(null);
      const last = out.time.length - 1;
      for (const [d, col] of fine) out.detectors[d]![last] = Number.isNaN(col[s]) ? null : col[s];
    }
    return out;
  }
}

function alertSampleKey(time: number, detector: DetectorName | null): string {
  return `${time}:${detector ?? 'score'}`;
}

function rateOf(m: MetricsEvent): Partial<Record<DetectorName, number | null>> {
  const out: Partial<Record<DetectorName, number | null>> = {};
  for (const d of DETECTORS) {
    const rate = m.detectors[d]?.rate;
    if (rate !== undefined) out[d] = rate;
  }
  return out;
}

/** Drops the oldest points (a tenth at a time) until the JSON fits ARCHIVE_MAX_BYTES. */
function fitBytes(saved: SavedHistory): SavedHistory {
  let text = JSON.stringify(saved);
  while (Buffer.byteLength(text) > ARCHIVE_MAX_BYTES && saved.time.length > 0) {
    const n = Math.max(1, Math.ceil(saved.time.length / 10));
    for (const col of [saved.time, saved.score, saved.throughput, saved.records, ...Object.values(saved.detectors)]) col.splice(0, n);
    if (saved.time.length === 0) saved.alerts = [];
    text = JSON.stringify(saved);
  }
  return saved;
}

/**
 * The saved archives, one JSON file per pipeline id in a folder of the extension's storage. Written to a temporary
 * file and renamed into place, so a crash mid-write leaves the previous version.
 */
export class HistoryStore {
  /** Each write has its own temporary file: a periodic save and the shutdown save may overlap. */
  private writes = 0;

  constructor(readonly dir: string) {}

  fileOf(pipeline: string): string {
    return path.join(this.dir, `${safeName(pipeline)}.history.json`);
  }

  /** The saved archive of a pipeline, or undefined when there is none or it is not one (a bad file is not fatal). */
  load(pipeline: string): SavedHistory | undefined {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.fileOf(pipeline), 'utf8'));
    } catch {
      return undefined;
    }
    const s = raw as Partial<SavedHistory>;
    if (s?.version !== 1 || s.pipeline !== pipeline || !Array.isArray(s.time) || !Array.isArray(s.score) || !Array.isArray(s.throughput) || !Array.isArray(s.records)) return undefined;
    const n = s.time.length;
    if (s.score.length !== n || s.throughput.length !== n || s.records.length !== n) return undefined;
    const detectors = typeof s.detectors === 'object' && s.detectors !== null ? s.detectors : {};
    return { version: 1, pipeline, savedAt: Number(s.savedAt) || 0, time: s.time, score: s.score, throughput: s.throughput, records: s.records, detectors, alerts: Array.isArray(s.alerts) ? s.alerts : [] };
  }

  async save(saved: SavedHistory): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    const file = this.fileOf(saved.pipeline);
    const tmp = `${file}.${process.pid}.${++this.writes}.tmp`;
    await writeFile(tmp, JSON.stringify(saved));
    renameSync(tmp, file);
  }

  remove(pipeline: string): void {
    rmSync(this.fileOf(pipeline), { force: true });
  }
}
