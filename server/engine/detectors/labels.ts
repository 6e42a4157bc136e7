/**
 * labels (with `labelField`): a record far from its class centroid over the numeric features, relative to
 * the class's spread (RMS distance of its members), over the slog values of up to 8 numeric fields: a likely
 * mislabelled record (the heuristic of the original Python library). The class sums are kept incrementally
 * over the window; judging is a RecordRateDetector's.
 */
import { Code, slog } from '../fields';
import { RecordRateDetector } from './record';
import type { EngineView, RecordAccess } from './types';
import { pct } from './types';

/** Classes followed at most (bounded memory under a label explosion). */
const MAX_CLASSES = 1000;
/** Numeric feature fields at most. */
const MAX_FEATURES = 8;

class LabelClass {
  count = 0;
  sumSq = 0;
  constructor(readonly sums: Float64Array) {}
}

export class LabelsDetector extends RecordRateDetector {
  private features: string[] | null = null;
  private readonly classes = new Map<string, LabelClass>();
  private readonly classOf: Array<LabelClass | null>;
  private points: Float64Array | null = null;
  private readonly x = new Float64Array(MAX_FEATURES);

  constructor(private readonly labelField: string, private readonly windowSize: number, private readonly minSamples: number) {
    super('labels', (rate) => `${pct(rate)} of records lie far from their label's class`);
    this.classOf = new Array(windowSize).fill(null);
  }

  /** The features are the first numeric fields established once enough records were seen. */
  refresh(view: EngineView): void {
    if (this.features !== null || view.records < this.minSamples) return;
    const feats = view.fieldStates.filter((f) => f.established === Code.Number && f.name !== this.labelField).slice(0, MAX_FEATURES).map((f) => f.name);
    if (feats.length === 0) return;
    this.features = feats;
    this.points = new Float64Array(this.windowSize * feats.length);
  }

  inspect(rec: RecordAccess): boolean {
    const slot = rec.slot;
    this.classOf[slot] = null;
    const features = this.features;
    if (features === null) return false;
    const at = rec.memberOf(this.labelField);
    if (at < 0) return false;
    const labelCode = rec.codeOf(at);
    if (labelCode === Code.Null || labelCode === Code.Object || labelCode === Code.Array) return false;
    const d = features.length;
    const x = this.x;
    let sq = 0;
    for (let i = 0; i < d; i++) {
      const k = rec.memberOf(features[i]);
      if (k < 0 || rec.codeOf(k) !== Code.Number) return false;
      x[i] = slog(rec.numberOf(k));
      sq += x[i] * x[i];
    }
    const label = rec.valueOf(at);
    const key = String(label);
    let cls = this.classes.get(key);
    if (cls === undefined) {
      if (this.classes.size >= MAX_CLASSES) return false;
      cls = new LabelClass(new Float64Array(d));
      this.classes.set(key, cls);
    }
    let flagged = false;
    if (cls.count >= this.minSamples) {
      const n = cls.count;
      let dist = 0;
      let norm = 0;
      for (let i = 0; i < d; i++) {
        const c = cls.sums[i] / n;
        dist += (x[i] - c) * (x[i] - c);
        norm += c * c;
      }
      const spread = cls.sumSq / n - norm;
      if (spread > 1e-12 && dist > 9 * spread) {
        flagged = true;
        rec.sample(this.labelField, label);
      }
    }
    const X = this.points!;
    for (let i = 0; i < d; i++) {
      cls.sums[i] += x[i];
      X[slot * d + i] = x[i];
    }
    cls.sumSq += sq;
    cls.count++;
    this.classOf[slot] = cls;
    return flagged;
  }

  evict(slot: number): void {
    const cls = this.classOf[slot];
    if (!cls) return;
    const d = this.features!.length;
    const X = this.points!;
    let sq = 0;
    for (let i = 0; i < d; i++) {
      const v = X[slot * d + i];
      cls.sums[i] -= v;
      sq += v * v;
    }
    cls.sumSq -= sq;
    cls.count--;
    this.classOf[slot] = null;
  }
}
