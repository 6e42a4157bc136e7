/**
 * Rule regexes run on RE2 (re2js, pure JavaScript): matching is linear in the value's length whatever
 * the pattern, so no rule such as `(a+)+$` can stall the agent (bench/regex.ts has the figures and the
 * choice). Patterns are written as JavaScript regexes; what RE2 cannot express (lookarounds,
 * backreferences) is refused with the construct named.
 */
import { RE2JS } from 're2js';

/** A compiled rule pattern: `test` finds the pattern anywhere in the value, as RegExp.test does. */
export interface RuleRegex {
  test(value: string): boolean;
}

/** A pattern that cannot be a rule; the message says what to change. */
export class RuleRegexError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleRegexError';
  }
}

/** Longer patterns are refused: compiling one costs time on every check of the file, and no field rule needs it. */
export const MAX_PATTERN_LENGTH = 1024;

/** Compiles a rule pattern or throws RuleRegexError saying what to fix. */
export function compileRuleRegex(pattern: string): RuleRegex {
  if (pattern.length > MAX_PATTERN_LENGTH) throw new RuleRegexError(`is ${pattern.length} characters long; a rule pattern may have at most ${MAX_PATTERN_LENGTH}`);
  const unsupported = unsupportedConstruct(pattern);
  if (unsupported) throw new RuleRegexError(`uses ${unsupported}, which the linear-time regex engine (RE2) cannot run; rewrite the rule without lookarounds or backreferences`);
  try {
    // translateRegExp maps JavaScript-only spellings (\u00e9, (?<name>…)) to RE2's.
    return RE2JS.compile(RE2JS.translateRegExp(pattern));
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).replace(/^error parsing regexp: /, '');
    throw new RuleRegexError(`not a valid regular expression: ${why}`);
  }
}

/** The problem with a rule pattern, or undefined when it compiles. */
export function ruleRegexProblem(pattern: string): string | undefined {
  try {
    compileRuleRegex(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * The first lookaround or backreference in a pattern, named for the user (`a lookahead "(?="`), or
 * undefined. Checked before translation because re2js's translation would turn `\k<n>` into plain text.
 */
function unsupportedConstruct(p: string): string | undefined {
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      const n = p[i + 1];
      if (!inClass && n !== undefined && n >= '1' && n <= '9') return `a backreference "\\${n}"`;
      if (!inClass && n === 'k' && p[i + 2] === '<') return `a named backreference "\\k<"`;
      i++;
    } else if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      if (p[i + 1] === ']') i++; // `[]` opens a class whose first member is `]`
    } else if (c === '(' && p[i + 1] === '?') {
      const look = LOOKAROUNDS.find(([open]) => p.startsWith(open, i));
      if (look) return `a ${look[1]} "${look[0]}"`;
    }
  }
  return undefined;
}

const LOOKAROUNDS: Array<[string, string]> = [
  ['(?<=', 'lookbehind'],
  ['(?<!', 'negative lookbehind'],
  ['(?=', 'lookahead'],
  ['(?!', 'negative lookahead'],
];
