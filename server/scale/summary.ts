/**
 * ShardSummary: what one shard (a worker thread, or an agent of a group) knows of its part of a topic at a
 * check, in a compact, JSON-serialisable and versioned form that merges. Every count in it is a count of
 * the shard's window (or, for `records` and `positions`, of everything it has read), so merging is adding:
 * N shards' summaries give the topic-wide window as the union of their windows.
 *
 * Why counts and not rates: a rate averaged over shards is wrong as soon as the shards' windows differ in
 * size; counts add exactly, and the merged rate is the merged count over the merged denominator, which is
 * what one engine holding the same records computes. Quantiles travel as LogSketch states, whose merge is
 * exact (bucket counts add), so a merged quantile is within the sketch's stated relative error (2 %).
 *
 * What cannot merge exactly is the per-record verdict that depends on a shard's own state (docs/scale.md):
 * a duplicate whose copies land on different shards, and an outlier judged against a shard's own reference.
 */
import type { DetectorName } from '../engine/config';
import { DETECTORS } from '../engine/config';
import type { QualityEngine } from '../engine/quality';
import type { SavedSketch } from '../engine/sketch';
import { round6, type BaselineInfo } from '../engine/events';

export const SUMMARY_VERSION = 1;

/** The positions a shard read from one partition (Kafka partition, Redis stream, Pulsar partition topic). */
export interface PositionSpan {
  /** The first and last native position read (Kafka offset, Redis id, Pulsar message id), as text. */
  first: string;
  last: string;
  /** Records read from it. */
  count: number;
}

/** One field over a shard's window. */
export interface FieldSummary {
  /**
   * Window records by the field's type code (server/engine/fields.ts `Code`): [none, absent, null, number,
   * string, boolean, object, array]. A record that did not parse as an object has no entry.
   */
  types: number[];
  /** Window records whose value of the field was flagged as an outlier. */
  outliers: number;
  /** Window records breaking a rule on this field (present when the field has a rule). */
  rules?: number;
  /** The shard judges the field usual (its absence is `missing`), its established type code (0: none), new to the schema. */
  usual: boolean;
  type: number;
  novel: boolean;
  /** The field's long-horizon reference (LogSketch state), when it has one. */
  sketch?: SavedSketch;
}

/** A recent flagged record, without its payload (a summary may travel to a shared topic). */
export interface SummarySample {
  detector: DetectorName;
  /** The record's number in the shard's own stream (not comparable across shards; `position` is). */
  record: number;
  position?: string | number;
  /** Why it was flagged, as the engine words it (it may quote one field value, never the whole payload). */
  reason: string;
  /** Epoch milliseconds when it was read. */
  time: number;
  shard?: string;
}

export interface ShardSummary {
  version: typeof SUMMARY_VERSION;
  /** The shard: "worker-1", an agent's member id… unique within a pipeline. */
  shard: string;
  pipeline: string;
  /** Epoch milliseconds of the summary. */
  time: number;
  /** Records this shard has processed since it started (after sampling). */
  records: number;
  /** Records it has read, sampled out or not (equal to `records` without sampling). */
  seen: number;
  /** Records in its window, and those among them that parsed as JSON objects. */
  window: number;
  objects: number;
  /** The window size the shard runs with (its share of the pipeline's window). */
  windowSize: number;
  /** Sum of the window records' qualities, in millionths (an integer: the merged score is exact). */
  quality: number;
  /** Window records flagged, per enabled detector. */
  detectors: Partial<Record<DetectorName, number>>;
  fields: Record<string, FieldSummary>;
  /** Per partition, what the shard has read since it started. */
  positions: Record<string, PositionSpan>;
  /** Where the shard's own baseline stands. */
  baseline: Omit<BaselineInfo, 'restored'>;
  /** The sampling rate (absent: every record). */
  sample?: number;
  /** Up to SUMMARY_SAMPLES recent flagged records, newest first. */
  samples: SummarySample[];
}

/** The positions read from one partition across shards (more than one span: the partition moved). */
export interface MergedSpan extends PositionSpan {
  shard: string;
}

/** The merge of N shard summaries: the same counts, added, and the positions by partition and shard. */
export interface MergedSummary extends Omit<ShardSummary, 'shard' | 'positions' | 'baseline' | 'version'> {
  version: typeof SUMMARY_VERSION;
  shards: string[];
  positions: Record<string, MergedSpan[]>;
  baseline: Omit<BaselineInfo, 'restored'>;
}

/** Samples a summary carries at most. */
export const SUMMARY_SAMPLES = 8;

/**
 * The summary of one engine's window. `positions` is the shard's own tracker (PositionTracker): the engine
 * does not keep where its records came from.
 */
export function summarize(engine: QualityEngine, shard: string, positions: Record<string, PositionSpan>, pipeline = '', time = Date.now()): ShardSummary {
  const detectors: Partial<Record<DetectorName, number>> = {};
  for (const d of engine.activeDetectors) detectors[d] = engine.flagged(d);
  const fields: Record<string, FieldSummary> = {};
  for (const f of engine.fieldStates) {
    const s: FieldSummary = { types: Array.from(f.counts), outliers: f.outliers, usual: f.usual, type: f.established, novel: f.novel };
    if (f.sketch !== null && f.sketch.count > 0) s.sketch = f.sketch.toJSON();
    fields[f.name] = s;
  }
  for (const r of engine.ruleCounts) {
    const s = fields[r.name] ?? (fields[r.name] = { types: [0, 0, 0, 0, 0, 0, 0, 0], outliers: 0, usual: false, type: 0, novel: false });
    s.rules = r.count;
  }
  const b = engine.baselineInfo;
  const out: ShardSummary = {
    version: SUMMARY_VERSION,
    shard,
    pipeline,
    time,
    records: engine.records,
    seen: engine.seen,
    window: engine.size,
    objects: engine.objects,
    windowSize: engine.windowSize,
    quality: engine.qualityTotal,
    detectors,
    fields,
    positions: { ...positions },
    baseline: { state: b.state, records: b.records, needed: b.needed },
    samples: engine.samplesOf(null, SUMMARY_SAMPLES).map((s) => {
      const x: SummarySample = { detector: s.detector, record: s.record, reason: s.reason, time: s.time, shard };
      if (s.position !== undefined) x.position = s.position;
      return x;
    }),
  };
  if (engine.sampleRate < 1) out.sample = engine.sampleRate;
  return out;
}

export { mergeSummaries, metricsFromMerged, validSummary } from './merge';

/**
 * Positions per partition, kept by a shard as it reads. A position of the form `<partition>@<offset>`
 * (Kafka) is filed under its partition; any other (a Redis id, a Pulsar message id, a file line) under
 * `defaultPartition` (the stream or topic).
 */
export class PositionTracker {
  /** Per partition: the first and last position as read (split into partition and offset only in toJSON). */
  private readonly spans = new Map<string, { first: string; last: string; count: number }>();
  /** The last partition prefix seen and its span: consecutive records of one partition look nothing up. */
  private lastKey = '';
  private lastSpan: { first: string; last: string; count: number } | null = null;

  constructor(private readonly defaultPartition = '0') {}

  note(position: string | number | undefined): void {
    if (position === undefined) return;
    const text = typeof position === 'number' ? String(position) : position;
    const at = text.lastIndexOf('@');
    let span = this.lastSpan;
    if (at < 0) {
      if (span === null || this.lastKey !== this.defaultPartition) span = this.open(this.defaultPartition, text);
    } else if (span === null || this.lastKey.length !== at || !text.startsWith(this.lastKey)) {
      span = this.open(text.slice(0, at), text);
    }
    span.last = text;
    span.count++;
  }

  private open(key: string, first: string): { first: string; last: string; count: number } {
    let span = this.spans.get(key);
    if (span === undefined) this.spans.set(key, (span = { first, last: first, count: 0 }));
    this.lastKey = key;
    this.lastSpan = span;
    return span;
  }

  toJSON(): Record<string, PositionSpan> {
    const offset = (p: string) => p.slice(p.lastIndexOf('@') + 1);
    const out: Record<string, PositionSpan> = {};
    for (const [k, v] of this.spans) out[k] = { first: offset(v.first), last: offset(v.last), count: v.count };
    return out;
  }
}

/** The merged rate of a detector, for callers that do not build the whole MetricsEvent. */
export function mergedRate(m: MergedSummary, detector: DetectorName): number {
  return m.window > 0 ? round6((m.detectors[detector] ?? 0) / m.window) : 0;
}

/** Detector names in their fixed order, for stable output. */
export const SUMMARY_DETECTORS = DETECTORS;
