/**
 * outliers: gross errors (unit slips, sentinels, corrupt numbers) in numeric fields. A value is flagged when it
 * lies beyond the field's fences: `z` widths of its long-horizon reference span below its low end or above
 * its high end, where the span runs from the 0.5 % to the 99.5 % quantile of every normal value the field
 * has carried (a LogSketch), widened by levels absorbed as shifts (see FieldState.flagOutlier). The natural
 * tail sits inside that span; trends, cycles and ties move within a few widths of it. Sequences (ids,
 * timestamps) are not judged. A field alerts when its share of flagged records departs from its own
 * learned normal share.
 */
import type { FieldState } from '../fields';
import { Code } from '../fields';
import type { Detector, EngineView, Finding } from './types';
import { HardLimit, judgeFields, num, pct, quote, type FieldRate } from './types';

function finding(view: EngineView, f: FieldState, rate: number, limit: number, hard: boolean): Finding {
  const examples = view.examples('outliers', f.name, 3) as number[];
  const lo = Math.min(f.refLow, f.extLow);
  const hi = Math.max(f.refHigh, f.extHigh);
  const range: [number, number] = [lo, hi];
  const eg = examples.length ? `, e.g. ${examples.map(num).join(', ')}` : '';
  return {
    detector: 'outliers',
    name: f.name,
    share: rate,
    usual: f.outlierBase.mean,
    limit,
    hard,
    range,
    examples,
    detail: `${quote(f.name)}: ${pct(rate)} of records far outside its usual range ${num(lo)} … ${num(hi)} (usually ${pct(f.outlierBase.mean)})${eg}`,
  };
}

const rates: FieldRate = {
  detector: 'outliers',
  judged: (f) => f.counts[Code.Number] > 0 || f.outlierBase.outSince !== 0,
  rate: (f, objects) => f.outlierRate(objects),
  base: (f) => f.outlierBase,
  finding,
};

export function createOutliers(): Detector {
  const hardOver = new HardLimit();
  return {
    name: 'outliers',

    judge(view, out) {
      judgeFields(view, out, rates, hardOver);
    },

    learn(view) {
      for (const f of view.fieldStates) {
        if (Number.isNaN(f.refLow) || f.values === null) continue;
        if (f.outlierBase.learn(f.recount(view.objects), view.records, view.size)) {
          // Lasted long enough to be the new normal: the window's values join the reference.
          f.absorbWindow();
          f.outlierBase.accept(f.recount(view.objects));
        }
      }
    },

    accept(view, field) {
      let n = 0;
      for (const f of view.fieldStates) {
        if (field !== null && f.name !== field) continue;
        if (f.values === null) continue;
        f.absorbWindow();
        f.outlierBase.accept(f.recount(view.objects));
        n++;
      }
      return n;
    },
  };
}
