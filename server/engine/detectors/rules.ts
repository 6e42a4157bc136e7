/**
 * rules: the user's own field rules (required, type, min/max, regex, enum). A rule is the user's contract,
 * so its limit is the `rules` threshold, not a learned baseline: each field whose rule is broken by more
 * than that share of the window is named.
 */
import type { Detector, EngineView, Finding } from './types';
import { HardLimit, pct, quote, worstFirst } from './types';

/** What the rules detector reads of the engine's compiled rules. */
export interface RuleCounts {
  readonly name: string;
  readonly count: number;
}

export function createRules(rules: readonly RuleCounts[]): Detector {
  const hard = new HardLimit();
  return {
    name: 'rules',
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
