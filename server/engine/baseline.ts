/**
 * RateBaseline: the learned normal of one rate (a detector's share of flagged records, for one field or
 * for the whole record), and the test of whether the current window departs from it.
 *
 * It learns once a window, from windows that were not standing out (a fault is never learnt as normal by
 * accident), one window late: a window's rate is kept pending and learnt only if nothing stood out before
 * the next learning point, so the start of a fault, still under the limit when its window ends, is not
 * learnt either. It learns an average of the window rates (equal weights for the first windows, then an exponential
 * memory of LEARN_MEMORY windows), their spread around it, and the highest normal window seen. A window
 * stands out when its rate is above
 *
 *     mean + max(minJump, z · sqrt(spread² + D · p(1 − p) / n), (R − 1) · mean, max(peak, accepted) − mean + minJump / 2)
 *
 * with p = max(mean, 1/n),
 * where n is the window's size (a rate over few records is noisy, so it needs a bigger jump), D widens the
 * binomial variance for the clustering of real streams (nulls and outliers come in runs when data arrives
 * sorted or grouped), and a rate that is naturally above zero must also grow R-fold (real rates wander in
 * proportion to their level). The peak term keeps the highest normal window learnt (and any level accepted
 * as normal, which does not fade) from alerting again. It recovers once the rate is back under half-way to that limit.
 * A departure that lasts ACCEPT_AFTER_WINDOWS windows becomes the new normal, as does one a user accepts.
 */

import { round6 } from './events';

/** Windows over which the learned mean and spread forget (an exponential memory). */
export const LEARN_MEMORY = 20;
/** A departure that lasts this many windows is accepted as the new normal. */
export const ACCEPT_AFTER_WINDOWS = 5;

export interface Significance {
  /** One-sided z for the departure. */
  z: number;
  /** Over-dispersion of real streams: the binomial variance is multiplied by this. */
  dispersion: number;
  /** The smallest rise of a rate (absolute, 0..1) that is ever significant. */
  minJump: number;
  /** A rate naturally above zero stands out only once it is this many times its learned level. */
  ratio: number;
}

export interface SavedBaseline {
  m: number;
  v: number;
  p: number;
  w: number;
  /** The accepted level, when one was (absent: none). */
  a?: number;
}

export class RateBaseline {
  /** Learned mean rate, its variance across windows, the highest normal window rate, windows learnt. */
  mean = 0;
  variance = 0;
  peak = 0;
  /**
   * A level accepted as normal (a lasting change, or "This is normal"): unlike the peak it does not fade,
   * so a level a user accepted never alerts again however low the rate runs in between.
   */
  accepted = 0;
  windows = 0;
  /** Record number since which the rate has stood out (0: it does not). */
  outSince = 0;
  /** The last window's rate, learnt at the next learning point if nothing stands out until then (NaN: none). */
  private pending = NaN;
  private sawOut = false;

  /** The rate above which a window of `n` records stands out. */
  limit(n: number, s: Significance): number {
    const p = Math.max(this.mean, 1 / Math.max(1, n));
    // A young baseline has seen little of how its rate wanders: a prior spread of minJump, fading with the
    // square of the windows learnt, widens the limit for its first few windows.
    const spread = this.variance + (s.minJump * s.minJump) / ((this.windows + 1) * (this.windows + 1));
    const sd = Math.sqrt(spread + (s.dispersion * p * (1 - p)) / Math.max(1, n));
    return Math.min(1, this.mean + Math.max(s.minJump, s.z * sd, (s.ratio - 1) * this.mean, Math.max(this.peak, this.accepted) - this.mean + s.minJump / 2));
  }

  /** Whether the rate stands out now. One that stood out stays out until it is back under half-way to the limit. */
  standsOut(rate: number, n: number, s: Significance): boolean {
    if (this.windows === 0) return false;
    const limit = this.limit(n, s);
    return this.outSince !== 0 ? rate > this.mean + (limit - this.mean) / 2 : rate > limit;
  }

  /** Judges the current rate and notes since when it has stood out. */
  judge(rate: number, n: number, record: number, s: Significance): boolean {
    const out = this.standsOut(rate, n, s);
    if (out) this.sawOut = true;
    if (!out) this.outSince = 0;
    else if (this.outSince === 0) this.outSince = record;
    return out;
  }

  /**
   * Once a window, after judge(): learns from a normal `rate`; a departure that has lasted
   * ACCEPT_AFTER_WINDOWS windows becomes the new normal. Returns true when it accepted one.
   */
  learn(rate: number, record: number, windowSize: number): boolean {
    const saw = this.sawOut;
    if (this.outSince !== 0) {
      this.pending = NaN;
      if (record - this.outSince < ACCEPT_AFTER_WINDOWS * windowSize) return false;
      this.accept(rate);
      return true;
    }
    this.sawOut = false;
    // The very first window is learnt at once: nothing could be judged before it.
    if (this.windows === 0) {
      this.commit(rate);
      return false;
    }
    if (!Number.isNaN(this.pending) && !saw) this.commit(this.pending);
    this.pending = rate;
    return false;
  }

  private commit(rate: number): void {
    this.windows++;
    const a = 1 / Math.min(this.windows, LEARN_MEMORY);
    const d = rate - this.mean;
    this.mean += a * d;
    // The first window has no spread to learn from; later ones add their squared departure.
    if (this.windows > 1) this.variance += a * (d * d - this.variance);
    // The highest normal window fades over the memory, so one odd window does not numb the metric for ever.
    this.peak = Math.max(rate, this.peak - (this.peak - this.mean) / LEARN_MEMORY);
  }

  /** Takes `rate` as the new normal (a lasting change, or a user's "This is normal"). */
  accept(rate: number): void {
    this.mean = rate;
    this.variance = 0;
    this.peak = rate;
    this.accepted = Math.max(this.accepted, rate);
    this.windows = Math.max(this.windows, 1);
    this.outSince = 0;
    this.pending = NaN;
    this.sawOut = false;
  }

  toJSON(): SavedBaseline {
    // The variance of rates is small (a 1 % spread is 1e-4): it keeps ten decimals.
    const out: SavedBaseline = { m: round6(this.mean), v: Math.round(this.variance * 1e10) / 1e10, p: round6(this.peak), w: this.windows };
    if (this.accepted > 0) out.a = round6(this.accepted);
    return out;
  }

  static from(saved: SavedBaseline | undefined): RateBaseline {
    const b = new RateBaseline();
    if (saved && typeof saved === 'object') {
      b.mean = finite(saved.m);
      b.variance = finite(saved.v);
      b.peak = finite(saved.p);
      b.accepted = finite(saved.a);
      b.windows = Math.max(0, Math.floor(finite(saved.w)));
    }
    return b;
  }
}


function finite(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 ? x : 0;
}
