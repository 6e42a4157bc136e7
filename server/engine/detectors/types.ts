/**
 * The judging half of a detector: what stands out in the current window against the learned baseline
 * (or the user's hard limit), what the window teaches the baseline, and what "This is normal" accepts.
 * Flagging records is the per-record half; for the field detectors it is fused into FieldState.put so that
 * a record costs one pass over its fields, whatever the number of detectors.
 */
import type { DetectorName, PipelineConfig } from '../config';
import type { FieldState } from '../fields';
import type { RateBaseline, Significance } from '../baseline';
import type { AlertField } from '../events';

export interface Finding extends AlertField {
  detector: DetectorName;
  /** The rate above which it stands out: the baseline's limit, or the user's hard limit. */
  limit: number;
  /** True when a hard limit (a threshold the user wrote, or parse/duplicates) set it off. */
  hard: boolean;
}

/** What detectors read of the engine. */
export interface EngineView {
  readonly config: PipelineConfig;
  /** When a rate of `detector` departs from its baseline. */
  significance(detector: DetectorName): Significance;
  /** Tracked fields. */
  readonly fieldStates: readonly FieldState[];
  /** Object records in the window, and all records in it. */
  readonly objects: number;
  readonly size: number;
  /** Records consumed so far. */
  readonly records: number;
  /** Whether the first window has been learnt (baselines exist). */
  readonly learned: boolean;
  /** Flagged records of a detector in the window. */
  flagged(detector: DetectorName): number;
  /** Up to `limit` recent flagged values of a detector on a field, newest first. */
  examples(detector: DetectorName, field: string, limit: number): unknown[];
}

/**
 * The current object record, for the detectors that read values (rules, labels). One object serves every
 * record (nothing is allocated per record); a value is decoded from the bytes only when asked.
 */
export interface RecordAccess {
  /** The record's number in the stream and its window slot. */
  readonly record: number;
  readonly slot: number;
  /** The index of field `name` among the record's members, or -1 when it has none (or it is not tracked). */
  memberOf(name: string): number;
  /** Member k's type code (fields.ts `Code`), and its number for numbers and booleans (1/0). */
  codeOf(k: number): number;
  numberOf(k: number): number;
  /** Member k's value. */
  valueOf(k: number): unknown;
  /** Keeps this record as one of the detector's samples, with the field and value behind it. */
  sample(field: string | null, value: unknown): void;
}

export interface Detector {
  readonly name: DetectorName;
  /**
   * Reads one object record and returns whether it flags it. Only detectors that read values have it; the
   * field detectors' flagging is fused into FieldState.put, duplicates and parse into the engine's decode.
   */
  inspect?(rec: RecordAccess): boolean;
  /** The record in `slot` leaves the window (whatever it was). */
  evict?(slot: number): void;
  /** Amortised upkeep, a few times per window. */
  refresh?(view: EngineView): void;
  /** Appends what stands out now, worst first. Updates each metric's standing-out state (call once per check). */
  judge(view: EngineView, out: Finding[]): void;
  /** Once a full window, after judge(): learns the window's normal rates; accepts departures that lasted. */
  learn(view: EngineView): void;
  /** "This is normal": the current level of `field` (every field when null) becomes the baseline. Returns how many metrics it reset. */
  accept(view: EngineView, field: string | null): number;
  /** The learned state of a record-level detector (field detectors keep theirs in FieldState). */
  save?(): unknown;
  load?(saved: unknown): void;
}

export function pct(x: number): string {
  const p = x * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p >= 1 ? p.toFixed(1) : p.toFixed(2)}%`;
}

export function quote(name: string): string {
  return JSON.stringify(name.length > 60 ? name.slice(0, 60) + '…' : name);
}

/** A number as people read it: 4 significant digits, no exponent under 1e15. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a >= 1e15 || a < 1e-4)) return x.toPrecision(3);
  return String(Number(x.toPrecision(4)));
}

/** The hard limit on a detector's record rate, when there is one. */
export function hardLimit(view: EngineView, name: DetectorName): number | undefined {
  return view.config.limits[name];
}

/** Worst first, and no more than this many per detector in an alert. */
export const MAX_FINDINGS = 5;
export function worstFirst(out: Finding[], from: number): void {
  const mine = out.splice(from).sort((a, b) => b.share - b.usual - (a.share - a.usual));
  for (let i = 0; i < mine.length && i < MAX_FINDINGS; i++) out.push(mine[i]);
}

/** A hard limit with hysteresis: over it once the rate passes it, back under once the rate is `h` below it. */
export class HardLimit {
  out = false;
  over(rate: number, limit: number | undefined, h: number): boolean {
    if (limit === undefined) return (this.out = false);
    this.out = this.out ? rate > limit * (1 - h) : rate > limit;
    return this.out;
  }
}

/** One per-field rate of a field detector: which fields it judges, their rate, baseline and finding. */
export interface FieldRate {
  readonly detector: DetectorName;
  judged(f: FieldState, view: EngineView): boolean;
  rate(f: FieldState, objects: number): number;
  base(f: FieldState): RateBaseline;
  finding(view: EngineView, f: FieldState, rate: number, limit: number, hard: boolean): Finding;
}

/**
 * The judging of a field detector: each judged field's rate against its own baseline; then, if a hard limit
 * on the detector's record rate is passed with no field standing out, every field with a non-zero rate.
 */
export function judgeFields(view: EngineView, out: Finding[], m: FieldRate, hardOver: HardLimit): void {
  const from = out.length;
  const n = view.objects;
  const sig = view.significance(m.detector);
  for (const f of view.fieldStates) {
    if (!m.judged(f, view)) continue;
    const rate = m.rate(f, n);
    const base = m.base(f);
    if (base.judge(rate, n, view.records, sig)) out.push(m.finding(view, f, rate, base.limit(n, sig), false));
  }
  const hard = hardLimit(view, m.detector);
  if (hardOver.over(view.size > 0 ? view.flagged(m.detector) / view.size : 0, hard, view.config.hysteresis) && out.length === from) {
    for (const f of view.fieldStates) {
      const rate = m.rate(f, n);
      if (rate > 0) out.push(m.finding(view, f, rate, hard!, true));
    }
  }
  worstFirst(out, from);
}
