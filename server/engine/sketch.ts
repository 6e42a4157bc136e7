/**
 * LogSketch: a DDSketch-style quantile sketch (Masson, Rim, Lee, VLDB 2019) for a field's long-horizon
 * reference. Values fall into logarithmic buckets (one store for positives, one for negatives, a count for
 * zeros), so every quantile it returns is within `accuracy` relative error of a true one, whatever the
 * tail. Chosen over t-digest and KLL because its merge is exact (bucket counts add: N shards' sketches
 * equal one sketch of all their values) and its state is a short, dense run of counts that saves in a
 * few hundred bytes. Memory is bounded by `maxBuckets` per sign (the smallest magnitudes collapse first).
 */

const DEFAULT_ACCURACY = 0.02;
const DEFAULT_MAX_BUCKETS = 1024;
/** Magnitudes below this count as zero (far below anything a field's fences care about). */
const MIN_MAGNITUDE = 1e-9;

/** Counts of one sign, dense from `offset` (the bucket index of counts[0]). */
class BucketStore {
  counts = new Float64Array(0);
  offset = 0;
  total = 0;

  add(index: number, weight: number): void {
    const c = this.counts;
    if (c.length === 0) {
      this.counts = new Float64Array(16);
      this.offset = index - 8;
    } else if (index < this.offset || index >= this.offset + c.length) {
      this.grow(index);
    }
    this.counts[index - this.offset] += weight;
    this.total += weight;
  }

  private grow(index: number): void {
    const c = this.counts;
    const lo = Math.min(this.offset, index);
    const hi = Math.max(this.offset + c.length - 1, index);
    const span = hi - lo + 1;
    const size = Math.max(c.length * 2, span + 16);
    const start = lo - ((size - span) >> 1);
    const next = new Float64Array(size);
    next.set(c, this.offset - start);
    this.offset = start;
    this.counts = next;
  }

  /** The smallest index holding weight, or NaN when empty. */
  first(): number {
    const c = this.counts;
    for (let i = 0; i < c.length; i++) if (c[i] > 0) return i + this.offset;
    return NaN;
  }

  last(): number {
    const c = this.counts;
    for (let i = c.length - 1; i >= 0; i--) if (c[i] > 0) return i + this.offset;
    return NaN;
  }

  /** The bucket index holding the weight at `rank` (0-based), counting from the lowest index. */
  indexAtRank(rank: number): number {
    const c = this.counts;
    let seen = 0;
    for (let i = 0; i < c.length; i++) {
      seen += c[i];
      if (seen > rank) return i + this.offset;
    }
    return this.last();
  }

  /** Folds every index below `floor` into `floor` (bounded memory, losing precision on the smallest magnitudes). */
  collapseBelow(floor: number): void {
    const c = this.counts;
    let moved = 0;
    for (let i = 0; i < c.length && i + this.offset < floor; i++) {
      moved += c[i];
      c[i] = 0;
    }
    if (moved > 0) this.counts[floor - this.offset] += moved;
  }

  scale(factor: number): void {
    const c = this.counts;
    for (let i = 0; i < c.length; i++) c[i] *= factor;
    this.total *= factor;
  }

  toJSON(): [number, number[]] {
    const a = this.first();
    if (Number.isNaN(a)) return [0, []];
    const b = this.last();
    const out: number[] = [];
    for (let i = a; i <= b; i++) out.push(Math.round(this.counts[i - this.offset] * 100) / 100);
    return [a, out];
  }

  static from(saved: [number, number[]]): BucketStore {
    const s = new BucketStore();
    const [offset, counts] = saved;
    if (counts.length === 0) return s;
    s.counts = new Float64Array(counts.length + 16);
    s.offset = offset - 8;
    for (let i = 0; i < counts.length; i++) {
      const c = Number(counts[i]);
      if (c > 0 && Number.isFinite(c)) {
        s.counts[i + 8] = c;
        s.total += c;
      }
    }
    return s;
  }
}

export interface SavedSketch {
  a: number;
  pos: [number, number[]];
  neg: [number, number[]];
  zero: number;
  min: number;
  max: number;
}

export class LogSketch {
  private readonly gamma: number;
  private readonly logGamma: number;
  private pos = new BucketStore();
  private neg = new BucketStore();
  private zero = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly accuracy = DEFAULT_ACCURACY, private readonly maxBuckets = DEFAULT_MAX_BUCKETS) {
    this.gamma = (1 + accuracy) / (1 - accuracy);
    this.logGamma = Math.log(this.gamma);
  }

  get count(): number {
    return this.pos.total + this.neg.total + this.zero;
  }

  add(x: number, weight = 1): void {
    if (!Number.isFinite(x) || weight <= 0) return;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (x > MIN_MAGNITUDE) this.addTo(this.pos, this.indexOf(x), weight);
    else if (x < -MIN_MAGNITUDE) this.addTo(this.neg, this.indexOf(-x), weight);
    else this.zero += weight;
  }

  private addTo(store: BucketStore, index: number, weight: number): void {
    store.add(index, weight);
    if (store.counts.length > this.maxBuckets + 64) {
      // Over the bound: the smallest magnitudes share one bucket, and the store is packed again.
      store.collapseBelow(store.last() - this.maxBuckets + 1);
      const fresh = BucketStore.from(store.toJSON());
      if (store === this.pos) this.pos = fresh;
      else this.neg = fresh;
    }
  }

  private indexOf(magnitude: number): number {
    return Math.ceil(Math.log(magnitude) / this.logGamma);
  }

  /** The representative magnitude of bucket `i`: within `accuracy` of every value it holds. */
  private valueOf(i: number): number {
    return (2 * Math.pow(this.gamma, i)) / (1 + this.gamma);
  }

  /** The q-quantile (0..1), within `accuracy` relative error; NaN when empty. Exact at 0 and 1 (min, max). */
  quantile(q: number): number {
    const n = this.count;
    if (n === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * (n - 1);
    let v: number;
    if (rank < this.neg.total) {
      // Negatives: the lowest value has the largest magnitude, so count from the top index down.
      v = -this.valueOf(this.neg.indexAtRank(this.neg.total - 1 - rank));
    } else if (rank < this.neg.total + this.zero) {
      v = 0;
    } else {
      v = this.valueOf(this.pos.indexAtRank(rank - this.neg.total - this.zero));
    }
    return Math.min(this.max, Math.max(this.min, v));
  }

  /** Adds another sketch's counts (exact: the result equals one sketch of both streams). */
  merge(other: LogSketch): void {
    if (other.accuracy !== this.accuracy) throw new Error('cannot merge sketches of different accuracy');
    for (const [mine, theirs] of [[this.pos, other.pos], [this.neg, other.neg]] as const) {
      const c = theirs.counts;
      for (let i = 0; i < c.length; i++) if (c[i] > 0) this.addTo(mine, i + theirs.offset, c[i]);
    }
    this.zero += other.zero;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** Multiplies every count by `factor` (0 < factor ≤ 1): older history weighs less. */
  decay(factor: number): void {
    this.pos.scale(factor);
    this.neg.scale(factor);
    this.zero *= factor;
  }

  toJSON(): SavedSketch {
    return { a: this.accuracy, pos: this.pos.toJSON(), neg: this.neg.toJSON(), zero: Math.round(this.zero * 100) / 100, min: this.min, max: this.max };
  }

  static from(saved: SavedSketch): LogSketch {
    const s = new LogSketch(saved.a);
    s.pos = BucketStore.from(saved.pos);
    s.neg = BucketStore.from(saved.neg);
    s.zero = saved.zero;
    s.min = saved.min ?? Infinity;
    s.max = saved.max ?? -Infinity;
    return s;
  }
}
