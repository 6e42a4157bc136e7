/**
 * The shared shape of the detectors that judge whole records (duplicates, parse, labels): one learned
 * baseline of the share of flagged records, and the hard limit when the user wrote one. Parse and duplicates have theirs while the baseline is
 * learnt: a topic that is 100 % unparseable from its first record has a real problem.
 */
import type { DetectorName } from '../config';
import { RateBaseline, type SavedBaseline } from '../baseline';
import type { Detector, EngineView, Finding } from './types';
import { HardLimit, hardLimit, pct } from './types';

export class RecordRateDetector implements Detector {
  readonly base = new RateBaseline();
  private readonly hard = new HardLimit();

  constructor(readonly name: DetectorName, private readonly describe: (rate: number) => string, private readonly whileLearning = false) {}

  judge(view: EngineView, out: Finding[]): void {
    const n = view.size;
    const rate = n > 0 ? view.flagged(this.name) / n : 0;
    const hard = hardLimit(view, this.name) ?? (this.whileLearning && !view.learned ? view.config.thresholds[this.name] : undefined);
    const sig = view.significance(this.name);
    const byBaseline = this.base.judge(rate, n, view.records, sig);
    const byHard = this.hard.over(rate, hard, view.config.hysteresis);
    if (!byBaseline && !byHard) return;
    const limit = byHard ? hard! : this.base.limit(n, sig);
    out.push({ detector: this.name, name: null, share: rate, usual: this.base.mean, limit, hard: byHard && !byBaseline, detail: `${this.describe(rate)} (${byBaseline ? `usually ${pct(this.base.mean)}` : `over the ${pct(limit)} limit`})` });
  }

  learn(view: EngineView): void {
    this.base.learn(view.size > 0 ? view.flagged(this.name) / view.size : 0, view.records, view.size);
  }

  accept(view: EngineView): number {
    this.base.accept(view.size > 0 ? view.flagged(this.name) / view.size : 0);
    return 1;
  }

  save(): SavedBaseline {
    return this.base.toJSON();
  }

  load(saved: unknown): void {
    Object.assign(this.base, RateBaseline.from(saved as SavedBaseline));
  }
}
