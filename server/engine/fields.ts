/**
 * Per-field state for the missing, schema and outlier detectors: a ring of per-record type codes aligned
 * with the window, counts per type, and (for numeric fields) the transformed values and a robust reference.
 */
import { median, selectKth } from './select';

/** Type codes stored per window slot (low three bits); bit 3 marks an outlier. */
export const enum Code {
  None = 0, // the record did not parse as an object
  Absent = 1,
  Null = 2,
  Number = 3,
  String = 4,
  Boolean = 5,
  Object = 6,
  Array = 7,
}
export const OUTLIER_BIT = 8;
/** A change (a usual field gone, a new type) is counted as a fault for this many windows, then accepted. */
export const ACCEPT_AFTER_WINDOWS = 5;
/** Share of steps between successive values that must go one way for a field to count as a sequence. */
export const SEQUENCE_SHARE = 0.9;
/** Values taken from the window to compute a field's robust reference. */
export const REFERENCE_SAMPLE = 4096;
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

export function codeOf(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return Code.Number;
    case 'string':
      return Code.String;
    case 'boolean':
      return Code.Boolean;
    case 'object':
      return v === null ? Code.Null : Array.isArray(v) ? Code.Array : Code.Object;
    case 'undefined':
      return Code.Absent;
    default:
      return Code.String; // bigint/function/symbol never come from JSON; count them as text
  }
}

/** sign(x)·log1p(|x|): tames heavy tails while keeping order, so medians and MADs stay meaningful. */
export function slog(x: number): number {
  return x >= 0 ? Math.log1p(x) : -Math.log1p(-x);
}

/** The inverse of slog. */
export function unslog(t: number): number {
  return t >= 0 ? Math.expm1(t) : -Math.expm1(-t);
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
  /** Record numbers since which the field has been mostly missing / mostly of another type (0: not). */
  lowSince = 0;
  typeDriftSince = 0;
  /** Robust reference of the slog values: median and scale (1.4826·MAD; see refresh() when MAD is 0). */
  center = 0;
  scale = 0;
  /** Raw values outside [low, high] are outliers; ±Infinity while there is no reference. */
  low = -Infinity;
  high = Infinity;

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
   * Stores this record's value (its type code, and `x` when it is a number) in place of the slot's previous
   * one and returns the issue flags it raises. `z` is the outlier cut-off, 0 when the outliers detector is off.
   */
  put(slot: number, x: number, code: number, z: number): number {
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
      if (this.established !== 0 && code !== this.established) flags = Flag.Schema;
      if (code === Code.Number && z > 0) {
        let values = this.values;
        if (values === null) values = this.values = new Float64Array(this.codes.length);
        values[slot] = x;
        // The cut-off |slog(x) - center| > z·scale, mapped to raw bounds at refresh: no log per record.
        if (x < this.low || x > this.high) {
          code |= OUTLIER_BIT;
          this.outliers++;
          flags |= Flag.Outliers;
        }
      }
    } else if (this.usual) {
      flags = Flag.Missing;
    }
    this.codes[slot] = code;
    return flags;
  }

  /** Records in the window where the field appeared at all (null included). */
  get seen(): number {
    return this.nonNull + this.counts[Code.Null];
  }

  /**
   * Re-derives usual/established/reference from the window (amortised: called every few records).
   * A field becomes usual at `usualShare` and stops only after it has been under half for five windows,
   * so that a fault episode cannot hide itself by becoming the norm; the established type likewise.
   */
  refresh(objects: number, minSamples: number, usualShare: number, scratch: Float64Array, z: number, record: number): void {
    const share = objects > 0 ? this.nonNull / objects : 0;
    if (!this.usual) {
      if (objects >= minSamples && share >= usualShare) this.usual = true;
      this.lowSince = 0;
    } else if (share >= 0.5) {
      this.lowSince = 0;
    } else if (this.lowSince === 0) {
      this.lowSince = record;
    } else if (record - this.lowSince >= ACCEPT_AFTER_WINDOWS * this.codes.length) {
      // Mostly gone for five windows: its absence is the new normal, no longer a fault to count.
      this.usual = false;
      this.lowSince = 0;
    }

    let dom = 0;
    for (let t = Code.Number; t <= Code.Array; t++) if (this.counts[t] > this.counts[dom]) dom = t;
    if (this.established === 0) {
      if (dom !== 0 && this.nonNull >= minSamples && this.counts[dom] >= usualShare * this.nonNull) this.established = dom;
      this.typeDriftSince = 0;
    } else if (this.counts[this.established] >= 0.5 * this.nonNull) {
      this.typeDriftSince = 0;
    } else if (this.typeDriftSince === 0) {
      this.typeDriftSince = record;
    } else if (record - this.typeDriftSince >= ACCEPT_AFTER_WINDOWS * this.codes.length) {
      this.established = 0;
      this.typeDriftSince = 0;
    }

    if (z <= 0 || this.values === null) return;
    const numeric = this.counts[Code.Number];
    if (numeric < minSamples) {
      this.noReference();
      return;
    }
    const codes = this.codes;
    const values = this.values;
    // Large windows are summarised by an even subsample of ~REFERENCE_SAMPLE values: the median and MAD
    // of 4096 points are as good as exact for a cut-off at 5 robust SDs, at a fraction of the cost.
    const stride = Math.max(1, Math.floor(codes.length / REFERENCE_SAMPLE));
    let n = 0;
    let rises = 0;
    let falls = 0;
    let last = NaN;
    for (let i = 0; i < codes.length; i += stride) {
      if ((codes[i] & 7) !== Code.Number) continue;
      const x = values[i];
      if (x > last) rises++;
      else if (x < last) falls++;
      last = x;
      scratch[n++] = x;
    }
    // Values that rise (or fall) from record to record, nine steps in ten in window order, are a sequence:
    // ids, timestamps, counters. They have no outliers: a window holding one Kafka partition's batch and
    // then another's would put every record of the second batch far from the first's median.
    const sequence = n >= minSamples && Math.max(rises, falls) >= SEQUENCE_SHARE * (n - 1);
    if (n < 3 || sequence) {
      this.noReference();
      return;
    }
    for (let i = 0; i < n; i++) scratch[i] = slog(scratch[i]);
    const center = median(scratch, n);
    for (let i = 0; i < n; i++) scratch[i] = Math.abs(scratch[i] - center);
    const mad = median(scratch, n);
    this.center = center;
    // Over half the values equal: fall back to the 95th percentile of deviations (σ ≈ d95 / 1.96), so that
    // the other common values of a discrete field are not outliers. All but a few equal: no judgement.
    this.scale = mad > 0 ? 1.4826 * mad : selectKth(scratch, n, Math.floor(0.95 * (n - 1))) / 1.96;
    if (this.scale > 0) {
      this.low = unslog(center - z * this.scale);
      this.high = unslog(center + z * this.scale);
    } else {
      this.noReference();
    }
  }

  private noReference(): void {
    this.scale = 0;
    this.low = -Infinity;
    this.high = Infinity;
  }
}
