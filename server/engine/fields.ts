/**
 * Per-field state for the missing, schema and outlier detectors: a ring of per-record type codes aligned
 * with the window, counts per type, the numeric values, the field's long-horizon reference (a quantile
 * sketch and the fences derived from it) and the learned baseline of each of its rates.
 */
import { LogSketch, type SavedSketch } from './sketch';
import { RateBaseline, type SavedBaseline } from './baseline';
import { round6 } from './events';

import { Code, codeOf } from '../decode/codes';
/** The value codes live with decoding (server/decode/codes.ts), which produces them. */
export { Code, codeOf };
export const OUTLIER_BIT = 8;
/** Share of steps between successive values that must go one way for a field to count as a sequence. */
export const SEQUENCE_SHARE = 0.9;
/** Values of a window added to a field's sketch at most, each weighted by the stride it stands for. */
export const SKETCH_SAMPLE = 256;
/** Quantiles of the long-horizon reference whose span sets a field's fences. */
export const FENCE_LOW_Q = 0.005;
export const FENCE_HIGH_Q = 0.995;
/** A level shift: this many of a field's last SHIFT_SPAN numbers beyond the same fence (see absorbShift). */
export const SHIFT_RUN = 12;
export const SHIFT_SPAN = 16;
/** A shift whose new level is this many times the reference's largest magnitude is a unit slip, not a shift. */
export const SLIP_FACTOR = 300;
/** Normal values a count field needs before a negative value in it is judged a sentinel. */
export const COUNT_EVIDENCE = 1000;
export const TYPE_NAMES = ['none', 'absent', 'null', 'number', 'string', 'boolean', 'object', 'array'];

export const enum Flag {
  Outliers = 1,
  Duplicates = 2,
  Missing = 4,
  Schema = 8,
  Parse = 16,
  Rules = 32,
  Labels = 64,
}


/** sign(x)·log1p(|x|): tames heavy tails while keeping order, so medians and MADs stay meaningful. */
export function slog(x: number): number {
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

/** What a field's state saves: its learned schema, reference and baselines (its window is not saved). */
export interface SavedField {
  name: string;
  usual: boolean;
  type: number;
  novel: boolean;
  sketch?: SavedSketch;
  ext?: [number, number];
  missing: SavedBaseline;
  outliers: SavedBaseline;
  schema: SavedBaseline;
  /** Every normal number learnt was a non-negative integer (absent: false). */
  count?: boolean;
  /**
   * The field's levels in the window when it was saved: what "This is normal" accepts when it is applied to
   * the saved state (`clean-agent baseline accept`) rather than to a running pipeline.
   */
  now?: SavedLevels;
}

export interface SavedLevels {
  missing: number;
  outliers: number;
  schema: number;
  /** The most common type in the window. */
  type: number;
  /** The window's numbers' range. */
  lo?: number;
  hi?: number;
}

export class FieldState {
  readonly codes: Uint8Array;
  /** Numeric values, aligned with `codes`; allocated on the first number. */
  values: Float64Array | null = null;
  readonly counts = new Int32Array(8);
  /** Occurrences in the window that were present and not null. */
  nonNull = 0;
  outliers = 0;
  /** The last record number that carried this field (marks fields absent from the current record). */
  stamp = 0;
  /** Where the field sits among the members of the record stamped last. */
  member = 0;
  /** Set once this share of window records carries the field; its absence then counts as `missing`. */
  usual = false;
  /** The field's established type code once one type dominates; another type is then `schema` drift. */
  established = 0;
  /**
   * The field appeared after the schema was learnt: every record that carries it is a `schema` issue until
   * it is accepted (it lasted ACCEPT_AFTER_WINDOWS windows, or a user said it is normal).
   */
  novel = false;

  /** Long-horizon reference of the field's numbers (normal windows only), null until the first number. */
  sketch: LogSketch | null = null;
  /** Levels absorbed as shifts (a sorted or grouped stream moving on), part of the reference. */
  extLow = Infinity;
  extHigh = -Infinity;
  /** The reference's span: its FENCE_LOW_Q and FENCE_HIGH_Q quantiles (absorbed levels aside). */
  refLow = NaN;
  refHigh = NaN;
  /** Raw values outside [low, high] are gross errors; ±Infinity while there is no reference. */
  low = -Infinity;
  high = Infinity;
  /** Whether every normal number learnt so far is a non-negative integer (a count). */
  isCount = true;
  /** How many numbers the field has carried (positions for the shift test). */
  numbers = 0;
  /** The last SHIFT_SPAN flagged values: their position among the numbers, slot, record, value and side (+1 high, -1 low). */
  readonly flagAt = new Float64Array(SHIFT_SPAN);
  readonly flagSlot = new Int32Array(SHIFT_SPAN);
  readonly flagRecord = new Float64Array(SHIFT_SPAN);
  readonly flagValue = new Float64Array(SHIFT_SPAN);
  readonly flagSide = new Int8Array(SHIFT_SPAN);
  private flagNext = 0;
  /** Set by put() when it absorbed a level shift (side ±1); the engine then clears the flags the shift raised. */
  shifted = 0;

  readonly missingBase = new RateBaseline();
  readonly outlierBase = new RateBaseline();
  readonly schemaBase = new RateBaseline();

  /** The name as UTF-8, to recognise the field in a scanned message without decoding its key. */
  readonly keyBytes: Buffer;

  constructor(readonly name: string, windowSize: number) {
    this.codes = new Uint8Array(windowSize);
    this.keyBytes = Buffer.from(name, 'utf8');
  }

  /** Clears the slot's previous occupant from the counts. */
  evict(slot: number): void {
    const old = this.codes[slot];
    if (old === 0) return;
    const t = old & 7;
    this.counts[t]--;
    if (t >= Code.Number) this.nonNull--;
    if (old & OUTLIER_BIT) this.outliers--;
    this.codes[slot] = 0;
  }

  /**
   * Stores this record's value (its type code, and `numbers[at]` when it is a number) in place of the slot's
   * previous one and returns the issue flags it raises. `z` is the fence reach, 0 when the outliers detector is
   * off. The number comes as an array and index, not as an argument: a double passed to a call is boxed as a heap
   * number, a per-record allocation for every timestamp or amount.
   */
  put(slot: number, numbers: Float64Array, at: number, code: number, z: number, record: number): number {
    const old = this.codes[slot];
    // The common case, a value of the same type as the one it replaces, leaves the type counts alone.
    if ((old & 7) !== code) {
      if (old !== 0) {
        const t = old & 7;
        this.counts[t]--;
        if (t >= Code.Number) this.nonNull--;
      }
      this.counts[code]++;
      if (code >= Code.Number) this.nonNull++;
    }
    if (old & OUTLIER_BIT) this.outliers--;
    let flags = 0;
    if (code >= Code.Number) {
      if (this.novel || (this.established !== 0 && code !== this.established)) flags = Flag.Schema;
      if (code === Code.Number && z > 0) {
        let values = this.values;
        if (values === null) values = this.values = new Float64Array(this.codes.length);
        const x = numbers[at];
        values[slot] = x;
        this.numbers++;
        if ((x < this.low || x > this.high) && this.flagOutlier(slot, x, record)) {
          code |= OUTLIER_BIT;
          this.outliers++;
          flags |= Flag.Outliers;
        }
      }
    } else {
      if (this.novel && code === Code.Null) flags = Flag.Schema;
      else if (this.usual) flags = Flag.Missing;
    }
    this.codes[slot] = code;
    return flags;
  }

  /**
   * Notes a value beyond a fence. When SHIFT_RUN of the field's last SHIFT_SPAN numbers lie beyond the
   * same fence, most recent values have moved together: that is a level shift of a sorted or grouped
   * stream (the next group, the next price band), not gross errors, which are scattered among normal values.
   * The new level joins the reference, this value is not flagged, and `shifted` asks the engine to clear
   * the run's earlier flags. A move to SLIP_FACTOR times the reference's largest magnitude is a unit slip
   * and stays flagged.
   */
  private flagOutlier(slot: number, x: number, record: number): boolean {
    const side = x > this.high ? 1 : -1;
    const i = this.flagNext;
    this.flagAt[i] = this.numbers;
    this.flagSlot[i] = slot;
    this.flagRecord[i] = record;
    this.flagValue[i] = x;
    this.flagSide[i] = side;
    this.flagNext = (i + 1) % SHIFT_SPAN;
    const since = this.numbers - SHIFT_SPAN;
    let run = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let k = 0; k < SHIFT_SPAN; k++) {
      if (this.flagAt[k] > since && this.flagSide[k] === side) {
        run++;
        const v = this.flagValue[k];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (run < SHIFT_RUN) return true;
    const sketch = this.sketch;
    const scale = sketch === null ? 0 : Math.max(Math.abs(sketch.min), Math.abs(sketch.max), Math.abs(this.refLow), Math.abs(this.refHigh));
    const level = Math.min(Math.abs(lo), Math.abs(hi));
    if (scale > 0 && level >= SLIP_FACTOR * scale) return true;
    if (lo < this.extLow) this.extLow = lo;
    if (hi > this.extHigh) this.extHigh = hi;
    this.setFences(this.lastReach);
    this.shifted = side;
    return false;
  }

  /** Forgets the flags of a shift the engine has cleared. */
  clearShift(): void {
    this.flagAt.fill(0);
    this.shifted = 0;
  }

  /** Records in the window where the field appeared at all (null included). */
  get seen(): number {
    return this.nonNull + this.counts[Code.Null];
  }

  /** Share of the window's object records without a value (null or absent). */
  missingRate(objects: number): number {
    return objects > 0 ? (this.counts[Code.Absent] + this.counts[Code.Null]) / objects : 0;
  }

  /** Share of the window's object records carrying a value the schema did not expect (a new field, another type). */
  schemaRate(objects: number): number {
    if (objects === 0) return 0;
    if (this.novel) return this.seen / objects;
    return this.established !== 0 ? (this.nonNull - this.counts[this.established]) / objects : 0;
  }

  outlierRate(objects: number): number {
    return objects > 0 ? this.outliers / objects : 0;
  }

  /** The share of the window's records whose value lies beyond today's fences (for learning: flags were raised against older ones). */
  recount(objects: number): number {
    const values = this.values;
    if (values === null || objects === 0) return 0;
    const codes = this.codes;
    const low = this.low;
    const high = this.high;
    let n = 0;
    for (let i = 0; i < codes.length; i++) {
      if ((codes[i] & 7) === Code.Number) {
        const x = values[i];
        if (x < low || x > high) n++;
      }
    }
    return n / objects;
  }

  private lastReach = 0;

  /**
   * Re-derives usual/established from the window, and the numeric reference: the window's new numbers
   * (`fresh` records up to slot `end`, exclusive) join the sketch unless `learnValues` is false (the
   * field's outliers stand out: a fault is not learnt), and the fences follow.
   */
  refresh(objects: number, minSamples: number, usualShare: number, z: number, end: number, fresh: number, learnValues: boolean): void {
    const share = objects > 0 ? this.nonNull / objects : 0;
    if (!this.usual && !this.novel && objects >= minSamples && share >= usualShare) this.usual = true;
    if (this.established === 0) {
      const dom = this.dominant();
      if (dom !== 0 && this.nonNull >= minSamples && this.counts[dom] >= usualShare * this.nonNull) this.established = dom;
    }
    if (z <= 0 || this.values === null) return;
    this.lastReach = z;
    const codes = this.codes;
    const values = this.values;
    const W = codes.length;
    // Values that rise (or fall) from record to record, nine steps in ten in window order, are a sequence:
    // ids, timestamps, counters. They have no outliers: a window holding one Kafka partition's batch and
    // then another's would put every record of the second batch far from the first's range.
    const stride = Math.max(1, Math.floor(W / 1024));
    let n = 0;
    let rises = 0;
    let falls = 0;
    let last = NaN;
    for (let k = 0; k < W; k += stride) {
      const i = (end + k) % W;
      if ((codes[i] & 7) !== Code.Number) continue;
      const x = values[i];
      if (x > last) rises++;
      else if (x < last) falls++;
      last = x;
      n++;
    }
    if (n >= minSamples && Math.max(rises, falls) >= SEQUENCE_SHARE * (n - 1)) {
      this.noReference();
      return;
    }
    if (learnValues && fresh > 0) {
      const sketch = this.sketch ?? (this.sketch = new LogSketch());
      const take = Math.min(fresh, W);
      if (this.isCount) {
        for (let k = take; k > 0; k--) {
          const i = (end - k + W) % W;
          if (codes[i] === Code.Number && !(values[i] >= 0 && Number.isInteger(values[i]))) {
            this.isCount = false;
            break;
          }
        }
      }
      const step = Math.max(1, Math.floor(take / SKETCH_SAMPLE));
      for (let k = take; k > 0; k -= step) {
        const i = (end - k + W) % W;
        const c = codes[i];
        if (c === Code.Number) sketch.add(values[i], step);
      }
    }
    this.fencesFromReference(z, minSamples);
  }

  /** Fences at `z` widths beyond the reference span (quantile span joined with absorbed levels). */
  private setFences(z: number): void {
    if (Number.isNaN(this.refLow)) return;
    let lo = Math.min(this.refLow, this.extLow);
    let hi = Math.max(this.refHigh, this.extHigh);
    // Nearly constant (99 % one value, as a mostly-zero cost field): the span is the extremes of its history;
    // one constant throughout is judged on its magnitude; an all-zero one is not judged.
    if (hi <= lo && this.sketch !== null && this.sketch.max > this.sketch.min) {
      lo = Math.min(lo, this.sketch.min);
      hi = Math.max(hi, this.sketch.max);
    }
    const w = hi > lo ? hi - lo : 0.5 * Math.max(Math.abs(lo), Math.abs(hi));
    if (w > 0) {
      this.low = lo - z * w;
      this.high = hi + z * w;
      // Counts (ages, amounts in cents, epoch seconds) that have never been negative: a negative one is a
      // sentinel (-1, -999) however close to zero the fence would otherwise reach.
      if (this.isCount && lo >= 0 && this.sketch !== null && this.sketch.count >= COUNT_EVIDENCE) this.low = Math.max(this.low, -0.5);
    } else {
      this.low = -Infinity;
      this.high = Infinity;
    }
  }

  /** The most common value type in the window (0 when it holds none). */
  dominant(): number {
    let dom = 0;
    for (let t = Code.Number; t <= Code.Array; t++) if (this.counts[t] > this.counts[dom]) dom = t;
    return dom;
  }

  private noReference(): void {
    this.low = -Infinity;
    this.high = Infinity;
  }

  /** Takes the window's numbers into the reference as absorbed levels (a lasting or accepted change). */
  absorbWindow(): void {
    const values = this.values;
    if (values === null) return;
    const codes = this.codes;
    for (let i = 0; i < codes.length; i++) {
      if ((codes[i] & 7) !== Code.Number) continue;
      const x = values[i];
      if (x < this.extLow) this.extLow = x;
      if (x > this.extHigh) this.extHigh = x;
    }
    this.setFences(this.lastReach);
  }

  /** Forgets the numeric reference (a reset baseline): the next refreshes learn it again from the window. */
  resetReference(): void {
    this.sketch = null;
    this.isCount = true;
    this.extLow = Infinity;
    this.extHigh = -Infinity;
    this.refLow = this.refHigh = NaN;
    this.noReference();
  }

  toJSON(objects: number): SavedField {
    const out: SavedField = {
      name: this.name,
      usual: this.usual,
      type: this.established,
      novel: this.novel,
      missing: this.missingBase.toJSON(),
      outliers: this.outlierBase.toJSON(),
      schema: this.schemaBase.toJSON(),
    };
    if (this.sketch !== null && this.sketch.count > 0) out.sketch = this.sketch.toJSON();
    if (this.extLow <= this.extHigh) out.ext = [this.extLow, this.extHigh];
    if (this.isCount && out.sketch) out.count = true;
    const now: SavedLevels = { missing: round6(this.missingRate(objects)), outliers: round6(this.outlierRate(objects)), schema: round6(this.schemaRate(objects)), type: this.dominant() };
    const values = this.values;
    if (values !== null) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < this.codes.length; i++) {
        if ((this.codes[i] & 7) !== Code.Number) continue;
        if (values[i] < lo) lo = values[i];
        if (values[i] > hi) hi = values[i];
      }
      if (lo <= hi) [now.lo, now.hi] = [lo, hi];
    }
    out.now = now;
    return out;
  }

  /** Takes a saved field's learned state (schema, reference, baselines); its window is left as it is. */
  applySaved(saved: SavedField): void {
    this.usual = saved.usual === true;
    this.established = Number.isInteger(saved.type) && saved.type >= Code.Number && saved.type <= Code.Array ? saved.type : 0;
    this.novel = saved.novel === true;
    this.sketch = saved.sketch ? LogSketch.from(saved.sketch) : null;
    this.isCount = this.sketch === null || saved.count === true;
    const ext = Array.isArray(saved.ext) && saved.ext.length === 2 && saved.ext.every((x) => typeof x === 'number') ? saved.ext : [Infinity, -Infinity];
    [this.extLow, this.extHigh] = ext;
    for (const [b, s] of [[this.missingBase, saved.missing], [this.outlierBase, saved.outliers], [this.schemaBase, saved.schema]] as const) Object.assign(b, RateBaseline.from(s));
    this.refLow = this.refHigh = NaN;
    this.noReference();
  }

  /** Forgets everything learnt (a reset baseline): the field is learnt again from the next windows. */
  forget(): void {
    this.usual = false;
    this.established = 0;
    this.novel = false;
    this.resetReference();
    for (const b of [this.missingBase, this.outlierBase, this.schemaBase]) Object.assign(b, new RateBaseline());
  }

  /** Fences from the reference as it stands (at a refresh, or at once after a restore); none until it holds minSamples values. */
  fencesFromReference(z: number, minSamples: number): void {
    this.lastReach = z;
    const sketch = this.sketch;
    if (z <= 0 || sketch === null || sketch.count < minSamples) {
      this.noReference();
      return;
    }
    this.refLow = sketch.quantile(FENCE_LOW_Q);
    this.refHigh = sketch.quantile(FENCE_HIGH_Q);
    this.setFences(z);
  }

  /** Restores a saved field (its window starts empty). */
  static from(saved: SavedField, windowSize: number): FieldState {
    const f = new FieldState(String(saved.name), windowSize);
    f.applySaved(saved);
    return f;
  }
}
