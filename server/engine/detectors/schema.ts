/**
 * schema: the shape of records changes. Records are flagged when a field carries another type than its
 * established one (numbers are one type: int and float are no drift), or when they carry a field that is
 * not part of the learnt schema; such a field is flagged in every record that carries it until it has
 * lasted ACCEPT_AFTER_WINDOWS windows or a user accepts it. A field alerts when its share of such records
 * departs from its learned share. A new field that appears while a usual one goes missing is named with it
 * as a likely rename.
 */
import { Code, TYPE_NAMES } from '../fields';
import type { FieldState } from '../fields';
import type { Detector, EngineView, Finding } from './types';
import { HardLimit, judgeFields, pct, quote, type FieldRate } from './types';

function typeName(code: number): string {
  return TYPE_NAMES[code] ?? 'unknown';
}

/** The type a drifting or new field carries now: the most common non-established type in the window. */
function newType(f: FieldState): number {
  let best = 0;
  for (let t = Code.Number; t <= Code.Array; t++) if (t !== (f.novel ? 0 : f.established) && f.counts[t] > (best ? f.counts[best] : 0)) best = t;
  return best;
}

/** Usual fields going missing at the same time as new fields appear: the other side of a rename. */
function goneFields(view: EngineView): FieldState[] {
  return view.fieldStates.filter((f) => !f.novel && f.missingBase.outSince !== 0 && f.counts[Code.Absent] > f.counts[Code.Null]);
}

function finding(view: EngineView, f: FieldState, rate: number, limit: number, hard: boolean, gone: FieldState[]): Finding {
  const t = newType(f);
  const examples = view.examples('schema', f.name, 3);
  const eg = examples.length ? `, e.g. ${examples.map((v) => JSON.stringify(v)).join(', ')}` : '';
  let detail: string;
  const out: Finding = { detector: 'schema', name: f.name, share: rate, usual: f.schemaBase.mean, limit, hard, detail: '', type: typeName(t), examples };
  if (f.novel) {
    detail = `new field ${quote(f.name)} (${typeName(t)}) in ${pct(rate)} of records`;
    if (gone.length) {
      const g = gone.map((x) => `${quote(x.name)} (${typeName(x.established)}) missing from ${pct(x.counts[Code.Absent] / Math.max(1, view.objects))}`).join(', ');
      detail += ` while ${g}: renamed?`;
      out.renamedFrom = gone.map((x) => x.name);
    }
  } else {
    out.usualType = typeName(f.established);
    detail = `${quote(f.name)} is ${typeName(t)} in ${pct(rate)} of records, usually ${typeName(f.established)} (${pct(f.schemaBase.mean)} otherwise)`;
  }
  out.detail = detail + eg;
  return out;
}

const rates: FieldRate = {
  detector: 'schema',
  judged: (f) => f.novel || f.established !== 0 || f.schemaBase.outSince !== 0,
  rate: (f, objects) => f.schemaRate(objects),
  base: (f) => f.schemaBase,
  // A new field is named with the usual fields that went missing as it appeared (a likely rename).
  finding: (view, f, rate, limit, hard) => finding(view, f, rate, limit, hard, f.novel && !hard ? goneFields(view) : []),
};

export function createSchema(): Detector {
  const hardOver = new HardLimit();
  return {
    name: 'schema',

    judge(view, out) {
      judgeFields(view, out, rates, hardOver);
    },

    learn(view) {
      for (const f of view.fieldStates) {
        const rate = f.schemaRate(view.objects);
        if (f.schemaBase.learn(rate, view.records, view.size)) settle(f, view);
      }
    },

    accept(view, field) {
      let n = 0;
      for (const f of view.fieldStates) {
        if (field !== null && f.name !== field) continue;
        settle(f, view);
        n++;
      }
      return n;
    },
  };
}

/** The field's current shape becomes the schema: a new field joins it, a drifted type becomes the type. */
function settle(f: FieldState, view: EngineView): void {
  f.novel = false;
  const dom = f.dominant();
  f.established = dom !== 0 && f.counts[dom] >= view.config.usualFieldShare * f.nonNull ? dom : 0;
  f.schemaBase.accept(f.schemaRate(view.objects));
}
