/**
 * rules: the user's own field rules (required, type, min/max, regex, enum). A rule is the user's contract,
 * so its limit is the `rules` threshold, not a learned baseline: each field whose rule is broken by more
 * than that share of the window is named.
 */
import type { FieldRule } from '../config';
import { Code } from '../fields';
import { compileRuleRegex, type RuleRegex } from '../regex';
import type { Detector, EngineView, Finding, RecordAccess } from './types';
import { HardLimit, pct, quote, worstFirst } from './types';

interface CompiledRule {
  readonly name: string;
  readonly required: boolean;
  readonly type: string | undefined;
  readonly min: number;
  readonly max: number;
  /** Linear-time (RE2): no pattern can stall the pipeline whatever the value. */
  readonly regex: RuleRegex | null;
  readonly allowed: Set<unknown> | null;
  /** Which window slots break this rule, and how many. */
  readonly ring: Uint8Array;
  count: number;
}

export interface RulesDetector extends Detector {
  /** Per rule: its field and how many window records break it. */
  readonly counts: ReadonlyArray<{ readonly name: string; readonly count: number }>;
}

export function createRules(fields: Record<string, FieldRule>, windowSize: number): RulesDetector {
  const rules: CompiledRule[] = Object.entries(fields).map(([name, r]) => ({
    name,
    required: r.required === true,
    type: r.type,
    min: typeof r.min === 'number' ? r.min : -Infinity,
    max: typeof r.max === 'number' ? r.max : Infinity,
    regex: r.regex !== undefined ? compileRuleRegex(r.regex) : null,
    allowed: Array.isArray(r.enum) ? new Set<unknown>(r.enum) : null,
    ring: new Uint8Array(windowSize),
    count: 0,
  }));
  const hard = new HardLimit();
  return {
    name: 'rules',
    counts: rules,

    inspect(rec: RecordAccess): boolean {
      let flagged = false;
      for (const r of rules) {
        const k = rec.memberOf(r.name);
        const code = k < 0 ? Code.Absent : rec.codeOf(k);
        if (!breaks(r, rec, k, code)) continue;
        r.ring[rec.slot] = 1;
        r.count++;
        if (!flagged) rec.sample(r.name, k < 0 ? undefined : rec.valueOf(k));
        flagged = true;
      }
      return flagged;
    },

    evict(slot: number): void {
      for (const r of rules) {
        if (r.ring[slot]) {
          r.count--;
          r.ring[slot] = 0;
        }
      }
    },

    judge(view: EngineView, out: Finding[]) {
      const n = view.size;
      const limit = view.config.thresholds.rules;
      if (!hard.over(n === 0 ? 0 : view.flagged('rules') / n, limit, view.config.hysteresis)) return;
      const from = out.length;
      for (const r of rules) {
        const rate = r.count / n;
        if (rate > 0) out.push({ detector: 'rules', name: r.name, share: rate, usual: 0, limit, hard: true, detail: `${quote(r.name)} breaks its rule in ${pct(rate)} of records`, examples: view.examples('rules', r.name, 3) });
      }
      worstFirst(out, from);
    },
    learn() {},
    accept() {
      return 0;
    },
  };
}

/** The value type each rule `type` asks for (`integer` is a number that is whole). */
const TYPE_CODE: Record<string, number> = { number: Code.Number, integer: Code.Number, string: Code.String, boolean: Code.Boolean, object: Code.Object, array: Code.Array };

function breaks(r: CompiledRule, rec: RecordAccess, k: number, code: number): boolean {
  if (code === Code.Absent || code === Code.Null) return r.required;
  if (r.type !== undefined && code !== TYPE_CODE[r.type]) return true;
  if (r.type === 'integer' && !Number.isInteger(rec.numberOf(k))) return true;
  if (code === Code.Number && (rec.numberOf(k) < r.min || rec.numberOf(k) > r.max)) return true;
  if (r.regex !== null) {
    const v = rec.valueOf(k);
    if (!r.regex.test(typeof v === 'string' ? v : JSON.stringify(v))) return true;
  }
  return r.allowed !== null && !r.allowed.has(rec.valueOf(k));
}
