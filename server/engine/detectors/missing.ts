/**
 * missing: a field the stream normally carries is null or absent. Records are flagged when a usual field
 * (carried by `usualFieldShare` of the window) lacks a value; such a field alerts when its share of records
 * without a value departs from its own learned share (a field that is null 3 % of the time wobbles without
 * alerting; one that is never null and turns null in 10 % of records alerts). A field that is often null
 * (more than 1 − usualFieldShare of records, learned) is optional: its gaps come and go with the data
 * (grouped records, a section without that measurement) and are not judged.
 */
import { Code } from '../fields';
import type { FieldState } from '../fields';
import type { Detector, EngineView, Finding } from './types';
import { HardLimit, judgeFields, pct, quote, type FieldRate } from './types';

/** A usual field that has mostly gone for this long is no longer usual (its absence is the new normal). */
const GONE = 0.5;

function judged(f: FieldState, usualShare: number): boolean {
  return f.usual && !f.novel && f.missingBase.windows > 0 && f.missingBase.mean <= 1 - usualShare + 1e-9;
}

export function missingFinding(view: EngineView, f: FieldState, rate: number, limit: number, hard: boolean): Finding {
  const n = Math.max(1, view.objects);
  const absent = f.counts[Code.Absent] / n;
  const nulls = f.counts[Code.Null] / n;
  const how = absent >= nulls ? `absent from ${pct(absent)}${nulls > 0 ? ` and null in ${pct(nulls)}` : ''}` : `null in ${pct(nulls)}${absent > 0 ? ` and absent from ${pct(absent)}` : ''}`;
  return {
    detector: 'missing',
    name: f.name,
    share: rate,
    usual: f.missingBase.mean,
    limit,
    hard,
    detail: `${quote(f.name)}: ${how} of records (usually ${pct(f.missingBase.mean)} without a value)`,
  };
}

const rates: FieldRate = {
  detector: 'missing',
  judged: (f, view) => judged(f, view.config.usualFieldShare),
  rate: (f, objects) => f.missingRate(objects),
  base: (f) => f.missingBase,
  finding: missingFinding,
};

export function createMissing(): Detector {
  const hardOver = new HardLimit();
  return {
    name: 'missing',

    judge(view, out) {
      judgeFields(view, out, rates, hardOver);
    },

    learn(view) {
      for (const f of view.fieldStates) {
        if (f.novel) continue;
        const rate = f.missingRate(view.objects);
        // A field mostly gone for good: its absence is the new normal, no longer a fault to count.
        if (f.missingBase.learn(rate, view.records, view.size) && rate > GONE) f.usual = false;
      }
    },

    accept(view, field) {
      let n = 0;
      for (const f of view.fieldStates) {
        if (field !== null && f.name !== field) continue;
        const rate = f.missingRate(view.objects);
        f.missingBase.accept(rate);
        if (rate > GONE) f.usual = false;
        n++;
      }
      return n;
    },
  };
}
