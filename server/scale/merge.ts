/**
 * Merging shard summaries (server/scale/summary.ts) into the topic-wide view, and judging that view.
 *
 * Counts add: the merged window is the union of the shards' windows, so every merged count and rate (and
 * the score, a sum of integer qualities over a sum of records) equals what one engine computes over the
 * same records given the same per-record verdicts. Long-horizon references merge as LogSketch states
 * (exact bucket sums: quantiles within the sketch's 2 % relative error).
 *
 * Judging the merged view (MergedView) reuses the engine's own detectors over field states rebuilt from
 * the merged counts, with baselines that live on the merging side and learn from merged windows. So a
 * merged alert is an alert on the topic's rate, not the union of shards' alerts: a fault spread thinly
 * over eight partitions can alert in the merge while no shard alone would.
 */
import type { DetectorName, PipelineConfig } from '../engine/config';
import { DETECTORS } from '../engine/config';
import type { BaselineInfo, DetectorMetrics, FieldMetrics, MetricsEvent, Sample } from '../engine/events';
import { round6 } from '../engine/events';
import { Code, FENCE_HIGH_Q, FENCE_LOW_Q, FieldState, TYPE_NAMES } from '../engine/fields';
import { LogSketch } from '../engine/sketch';
import type { Significance } from '../engine/baseline';
import type { Detector, EngineView, Finding } from '../engine/detectors/types';
import { createOutliers } from '../engine/detectors/outliers';
import { createMissing } from '../engine/detectors/missing';
import { createSchema } from '../engine/detectors/schema';
import { createDuplicates } from '../engine/detectors/duplicates';
import { createParse } from '../engine/detectors/parse';
import { RecordRateDetector } from '../engine/detectors/record';
import { HardLimit, pct, quote, worstFirst } from '../engine/detectors/types';
import { savedJudges, type SavedEngine } from '../engine/quality';
import { sureFindings, wilson } from '../engine/sampling';
import type { FieldSummary, MergedSpan, MergedSummary, ShardSummary, SummarySample } from './summary';
import { SUMMARY_SAMPLES, SUMMARY_VERSION } from './summary';

const MICRO = 1_000_000;

/** Adds N shards' summaries. Fields are the union; a field's flags are merged as said at each. */
export function mergeSummaries(list: readonly ShardSummary[]): MergedSummary {
  const m: MergedSummary = {
    version: SUMMARY_VERSION,
    shards: [],
    pipeline: list[0]?.pipeline ?? '',
    time: 0,
    records: 0,
    seen: 0,
    window: 0,
    objects: 0,
    windowSize: 0,
    quality: 0,
    detectors: {},
    fields: {},
    positions: {},
    baseline: { state: list.length > 0 ? 'ready' : 'learning', records: 0, needed: 0 },
    samples: [],
  };
  /** Per field: the objects of the shards that established each type (the merged type is the majority's). */
  const typeVotes = new Map<string, number[]>();
  const sketches = new Map<string, LogSketch>();
  const samples: SummarySample[] = [];
  for (const s of list) {
    m.shards.push(s.shard);
    m.time = Math.max(m.time, s.time);
    m.records += s.records;
    m.seen += s.seen;
    m.window += s.window;
    m.objects += s.objects;
    m.windowSize += s.windowSize;
    m.quality += s.quality;
    if (s.sample !== undefined) m.sample = Math.min(m.sample ?? 1, s.sample);
    for (const d of DETECTORS) {
      const c = s.detectors[d];
      if (c !== undefined) m.detectors[d] = (m.detectors[d] ?? 0) + c;
    }
    for (const [name, f] of Object.entries(s.fields)) {
      let into = m.fields[name];
      // usual: any shard's; novel: every shard's (a field one shard already knows is not new to the topic).
      if (into === undefined) m.fields[name] = into = { types: [0, 0, 0, 0, 0, 0, 0, 0], outliers: 0, usual: f.usual, type: 0, novel: f.novel };
      else {
        into.usual ||= f.usual;
        into.novel &&= f.novel;
      }
      for (let t = 0; t < 8; t++) into.types[t] += f.types[t] ?? 0;
      into.outliers += f.outliers;
      if (f.rules !== undefined) into.rules = (into.rules ?? 0) + f.rules;
      if (f.type !== 0) {
        let votes = typeVotes.get(name);
        if (votes === undefined) typeVotes.set(name, (votes = [0, 0, 0, 0, 0, 0, 0, 0]));
        votes[f.type] += Math.max(1, s.objects);
      }
      if (f.sketch) {
        const sk = LogSketch.from(f.sketch);
        const have = sketches.get(name);
        if (have === undefined) sketches.set(name, sk);
        else have.merge(sk);
      }
    }
    for (const [partition, span] of Object.entries(s.positions)) (m.positions[partition] ??= []).push({ ...span, shard: s.shard } satisfies MergedSpan);
    if (s.baseline.state !== 'ready') m.baseline.state = 'learning';
    m.baseline.records += s.baseline.records;
    m.baseline.needed += s.baseline.needed;
    samples.push(...s.samples);
  }
  for (const [name, votes] of typeVotes) {
    let best = 0;
    for (let t = 1; t < 8; t++) if (votes[t] > votes[best]) best = t;
    m.fields[name].type = best;
  }
  for (const [name, sk] of sketches) m.fields[name].sketch = sk.toJSON();
  m.samples = samples.sort((a, b) => b.time - a.time).slice(0, SUMMARY_SAMPLES);
  return m;
}

/** Window records of a field that carried a value (not null, not absent). */
function nonNull(f: FieldSummary): number {
  return f.types[Code.Number] + f.types[Code.String] + f.types[Code.Boolean] + f.types[Code.Object] + f.types[Code.Array];
}

/**
 * The MetricsEvent of a merged view, key for key what QualityEngine.metrics() gives for one engine: rates
 * are merged counts over merged denominators; `findings` (MergedView.judge) sets each detector's `out`.
 */
export function metricsFromMerged(merged: MergedSummary, config: PipelineConfig, findings?: readonly Finding[], throughput = 0, time = merged.time): MetricsEvent {
  const detectors: Partial<Record<DetectorName, DetectorMetrics>> = {};
  const n = merged.window;
  for (const d of DETECTORS) {
    const count = merged.detectors[d];
    if (count === undefined) continue;
    const x: DetectorMetrics = { rate: round6(n ? count / n : 0), count, threshold: config.thresholds[d] };
    if (findings) x.out = findings.some((f) => f.detector === d);
    if (merged.sample !== undefined) [x.low, x.high] = wilson(count, n).map(round6);
    detectors[d] = x;
  }
  const fields: Record<string, FieldMetrics> = {};
  const z = config.detectors.includes('outliers') ? config.outliers.z : 0;
  for (const name of Object.keys(merged.fields).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const f = merged.fields[name];
    const x: FieldMetrics = { missing: round6(merged.objects ? 1 - nonNull(f) / merged.objects : 0) };
    if (z > 0 && f.types[Code.Number] > 0) x.outliers = round6(n ? f.outliers / n : 0);
    if (f.type !== 0) x.type = TYPE_NAMES[f.type];
    if (f.rules !== undefined) x.rules = round6(n ? f.rules / n : 0);
    fields[name] = x;
  }
  const baseline: BaselineInfo = { ...merged.baseline };
  const out: MetricsEvent = {
    type: 'metrics',
    pipeline: merged.pipeline,
    time,
    records: merged.records,
    window: n,
    score: round6(n === 0 ? 1 : merged.quality / n / MICRO),
    throughput: Math.round(throughput),
    detectors,
    fields,
    baseline,
    shards: merged.shards.length,
  };
  if (merged.sample !== undefined) out.sample = { rate: merged.sample, seen: merged.seen };
  return out;
}

/** Whether a value read from a shared topic or a thread is a summary this version can merge (never trusted blindly). */
export function validSummary(x: unknown): x is ShardSummary {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Partial<ShardSummary>;
  const count = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (s.version !== SUMMARY_VERSION || typeof s.shard !== 'string' || typeof s.pipeline !== 'string') return false;
  if (![s.time, s.records, s.seen, s.window, s.objects, s.windowSize, s.quality].every(count)) return false;
  if (typeof s.detectors !== 'object' || s.detectors === null || !Object.values(s.detectors).every(count)) return false;
  if (typeof s.fields !== 'object' || s.fields === null) return false;
  for (const f of Object.values(s.fields)) {
    if (typeof f !== 'object' || f === null || !Array.isArray(f.types) || f.types.length !== 8 || !f.types.every(count) || !count(f.outliers)) return false;
    if (!Number.isInteger(f.type) || f.type < 0 || f.type > 7) return false;
  }
  if (typeof s.positions !== 'object' || s.positions === null) return false;
  for (const p of Object.values(s.positions)) if (typeof p !== 'object' || p === null || !count(p.count) || typeof p.first !== 'string' || typeof p.last !== 'string') return false;
  if (typeof s.baseline !== 'object' || s.baseline === null || !Array.isArray(s.samples)) return false;
  return true;
}

/**
 * The judging side of a merged view: the engine's detectors over field states rebuilt from each merged
 * summary, with baselines that persist from check to check and learn once a merged window has passed
 * (a window being the pipeline's `windowSize` records across all shards).
 */
export class MergedView implements EngineView {
  private readonly fieldMap = new Map<string, FieldState>();
  private fieldList: FieldState[] = [];
  private readonly judges: Detector[] = [];
  private readonly sig: Record<DetectorName, Significance>;
  private counts: Partial<Record<DetectorName, number>> = {};
  private ruleCounts: Array<{ name: string; count: number }> = [];
  private readonly rulesHard = new HardLimit();
  private lastLearn = 0;
  private learnedRecords = 0;
  /** The baseline came from a saved one (cleared by a reset), as the engine's `restored`. */
  private restored = false;
  private sampled = false;
  merged: MergedSummary | null = null;
  objects = 0;
  size = 0;
  records = 0;

  constructor(readonly config: PipelineConfig) {
    const b = config.baseline;
    this.sig = Object.fromEntries(DETECTORS.map((d) => [d, { z: b.z, dispersion: b.dispersion, ratio: b.ratio, minJump: b.minJump[d] }])) as Record<DetectorName, Significance>;
    const makers: Partial<Record<DetectorName, () => Detector>> = {
      outliers: createOutliers,
      duplicates: createDuplicates,
      missing: createMissing,
      schema: createSchema,
      parse: createParse,
      // A label's class centroids stay with each shard; the merged view judges the flagged share.
      labels: () => new RecordRateDetector('labels', (rate) => `${pct(rate)} of records lie far from their label's class`),
    };
    for (const d of config.detectors) {
      const make = makers[d];
      if (make) this.judges.push(make());
    }
  }

  get learned(): boolean {
    return this.learnedRecords > 0;
  }

  get fieldStates(): readonly FieldState[] {
    return this.fieldList;
  }

  significance(detector: DetectorName): Significance {
    return this.sig[detector];
  }

  flagged(detector: DetectorName): number {
    return this.counts[detector] ?? 0;
  }

  examples(): unknown[] {
    // Summaries carry no payloads (they may travel to a shared topic): findings name fields and shares.
    return [];
  }

  /** Takes a merged summary in: the field states now hold its counts and its merged references. */
  update(m: MergedSummary): void {
    this.merged = m;
    this.size = m.window;
    this.objects = m.objects;
    this.records = m.records;
    this.counts = m.detectors;
    this.sampled = m.sample !== undefined;
    const seen = new Set<string>();
    for (const [name, s] of Object.entries(m.fields)) {
      seen.add(name);
      let f = this.fieldMap.get(name);
      if (f === undefined) {
        f = new FieldState(name, 1);
        this.fieldMap.set(name, f);
        this.fieldList.push(f);
      }
      for (let t = 0; t < 8; t++) f.counts[t] = s.types[t];
      f.nonNull = nonNull(s);
      f.outliers = s.outliers;
      f.usual = s.usual;
      f.novel = s.novel;
      f.established = s.type;
      if (s.sketch) {
        f.sketch = LogSketch.from(s.sketch);
        f.refLow = f.sketch.quantile(FENCE_LOW_Q);
        f.refHigh = f.sketch.quantile(FENCE_HIGH_Q);
      }
    }
    // A field gone from every shard's window is gone from the merged one; its baselines go with it. An empty
    // merged window (a check before the first record) forgets nothing: a restored baseline waits for its fields.
    if (m.window > 0) this.fieldList = this.fieldList.filter((f) => seen.has(f.name) || (this.fieldMap.delete(f.name) && false));
    this.ruleCounts = Object.entries(m.fields).flatMap(([name, s]) => (s.rules !== undefined ? [{ name, count: s.rules }] : []));
  }

  /** What stands out in the merged view, worst first; then, once a merged window has passed, the baselines learn from it. */
  judge(): Finding[] {
    const out: Finding[] = [];
    for (const d of this.judges) d.judge(this, out);
    this.judgeRules(out);
    const W = this.config.windowSize;
    if (this.size >= W && this.records - this.lastLearn >= Math.min(W, 8192)) this.learn();
    return sureFindings(out, this.sampled, this.size, this.objects);
  }

  private judgeRules(out: Finding[]): void {
    if (!this.config.detectors.includes('rules') || this.ruleCounts.length === 0) return;
    const n = this.size;
    const limit = this.config.thresholds.rules;
    if (!this.rulesHard.over(n === 0 ? 0 : this.flagged('rules') / n, limit, this.config.hysteresis)) return;
    const from = out.length;
    for (const r of this.ruleCounts) {
      const rate = r.count / n;
      if (rate > 0) out.push({ detector: 'rules', name: r.name, share: rate, usual: 0, limit, hard: true, detail: `${quote(r.name)} breaks its rule in ${pct(rate)} of records` });
    }
    worstFirst(out, from);
  }

  private learn(): void {
    for (const d of this.judges) {
      if (d.name !== 'outliers') d.learn(this);
      else {
        // The engine's outliers learn re-counts window values against today's fences; the merged view has
        // counts only, so it learns the merged flagged share.
        for (const f of this.fieldList) {
          if (f.counts[Code.Number] === 0) continue;
          if (f.outlierBase.learn(f.outlierRate(this.objects), this.records, this.size)) f.outlierBase.accept(f.outlierRate(this.objects));
        }
      }
    }
    this.learnedRecords += this.records - this.lastLearn;
    this.lastLearn = this.records;
  }

  /** Takes a saved engine's learned baselines (the same file a single-thread pipeline saves), so a restarted merge resumes ready. */
  restore(saved: SavedEngine): void {
    for (const sf of saved.fields ?? []) {
      if (!sf || typeof sf.name !== 'string') continue;
      const f = this.fieldMap.get(sf.name) ?? FieldState.from(sf, 1);
      if (!this.fieldMap.has(sf.name)) {
        this.fieldMap.set(sf.name, f);
        this.fieldList.push(f);
      } else f.applySaved(sf);
    }
    for (const d of this.judges) d.load?.(saved.detectors?.[d.name]);
    this.learnedRecords = Math.max(0, Number(saved.learnedRecords) || 0);
    this.restored = this.learnedRecords > 0;
  }

  /**
   * The merged baselines in the file format a single-thread pipeline saves (QualityEngine.save), so that one
   * BaselineStore, `clean-agent baseline` and restore() serve both, and engine threads can start from it.
   */
  save(time = Date.now()): SavedEngine {
    const { detectors, now } = savedJudges(this.judges, (d) => (this.size ? this.flagged(d) / this.size : 0));
    return {
      version: 1,
      windowSize: this.config.windowSize,
      savedAt: time,
      learnedRecords: this.learnedRecords,
      known: this.fieldList.filter((f) => !f.novel).map((f) => f.name),
      fields: this.fieldList.map((f) => f.toJSON(this.objects)),
      detectors,
      now,
    };
  }

  /**
   * "This is normal" on the merged view: the engine's own accept per detector (QualityEngine.accept), except
   * outliers, whose engine accept re-counts window values the merge does not have: as in learn(), the merged
   * flagged share becomes the baseline. Returns how many metrics changed.
   */
  accept(detector: DetectorName | null, field: string | null): number {
    let n = 0;
    for (const d of this.judges) {
      if (detector !== null && d.name !== detector) continue;
      if (d.name !== 'outliers') {
        n += d.accept(this, field);
        continue;
      }
      for (const f of this.fieldList) {
        if ((field !== null && f.name !== field) || f.counts[Code.Number] === 0) continue;
        f.outlierBase.accept(f.outlierRate(this.objects));
        n++;
      }
    }
    return n;
  }

  /** Forgets the merged baselines (QualityEngine.resetBaseline): the next merged window is learnt afresh. */
  resetBaseline(): void {
    for (const f of this.fieldList) f.forget();
    for (const d of this.judges) d.load?.(undefined);
    this.learnedRecords = 0;
    this.restored = false;
    this.lastLearn = this.records;
  }

  /** Where the merged baseline stands (its own learning, not the shards'); after a reset, records since it. */
  get baselineInfo(): BaselineInfo {
    const W = this.config.windowSize;
    if (!this.learned) return { state: 'learning', records: Math.min(this.size, W, this.records - this.lastLearn), needed: W };
    return this.restored ? { state: 'ready', records: this.learnedRecords, needed: W, restored: true } : { state: 'ready', records: this.learnedRecords, needed: W };
  }

  /** The merged samples of a detector (any when null), newest first, for alerts. */
  samples(detector: DetectorName | null, limit = 5): Sample[] {
    const list = this.merged?.samples ?? [];
    return list
      .filter((s) => detector === null || s.detector === detector)
      .slice(0, limit)
      .map((s) => (s.position === undefined ? { record: s.record } : { record: s.record, position: s.position }));
  }
}
