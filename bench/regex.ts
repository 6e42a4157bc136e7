/**
 * `npm run bench -- regex [--json] [--quick] [--modules <dir>]`: the linear-time regex engines a field
 * rule could run on (re2js, pure JavaScript; re2-wasm; re2, the native addon) against JavaScript's RegExp
 * on safe rule-like patterns over realistic values, as ratios in the same run, and each on `(a+)+$`
 * against "a"×n+"b", where RegExp backtracks exponentially.
 *
 * re2js is the project's dependency; the other two are looked up in the project, then in `--modules <dir>`
 * (a folder holding node_modules/, e.g. after `npm install --prefix <dir> re2 re2-wasm`), and skipped with a
 * note when neither has them.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { RE2JS } from 're2js';
import { seededRandom } from './records';

interface Tester {
  test(s: string): boolean;
}
interface Candidate {
  name: string;
  compile(pattern: string): Tester;
}

/** Rule-like patterns, each with values as a stream carries them (most match, some do not). */
function ruleCases(rnd: () => number): Array<{ name: string; pattern: string; values: string[] }> {
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[Math.floor(rnd() * 16)]).join('');
  const n = 2000;
  const gen = (f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
  return [
    { name: 'order id', pattern: '^ORD-\\d{6}$', values: gen((i) => (i % 20 === 0 ? `ord-${i}` : `ORD-${100000 + Math.floor(rnd() * 900000)}`)) },
    { name: 'currency enum', pattern: '^(EUR|USD|GBP)$', values: gen((i) => (i % 25 === 0 ? 'eur' : pick(['EUR', 'USD', 'GBP']))) },
    {
      name: 'email',
      pattern: '^[\\w.+-]+@[\\w-]+(\\.[\\w-]+)*\\.[a-z]{2,}$',
      values: gen((i) => (i % 30 === 0 ? `user${i}@localhost` : `${pick(['ann', 'bob.lee', 'c+tag'])}${i}@${pick(['mail', 'corp-x', 'example'])}.${pick(['com', 'org', 'co.uk'])}`)),
    },
    {
      name: 'ISO timestamp',
      pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z$',
      values: gen((i) => (i % 40 === 0 ? '2026-13-01 10:00' : new Date(1_767_225_600_000 + i * 1_234_567).toISOString())),
    },
    { name: 'uuid', pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', values: gen((i) => (i % 50 === 0 ? hex(32) : `${hex(8)}-${hex(4)}-${hex(4)}-${hex(4)}-${hex(12)}`)) },
    { name: 'contains "error"', pattern: 'error|fail', values: gen(() => `request ${Math.floor(rnd() * 1e6)} ${pick(['ok', 'ok', 'ok', 'ok', 'error: timeout', 'done'])} after ${Math.floor(rnd() * 900)} ms`) },
  ];
}

function candidates(modulesDir: string | undefined): { found: Candidate[]; missing: string[] } {
  const found: Candidate[] = [{ name: 're2js', compile: (p) => RE2JS.compile(RE2JS.translateRegExp(p)) }];
  const missing: string[] = [];
  const requires = [createRequire(__filename)];
  if (modulesDir) requires.push(createRequire(path.join(path.resolve(modulesDir), 'noop.js')));
  const load = (id: string): unknown => {
    for (const r of requires) {
      try {
        return r(id);
      } catch {
        // not installed there
      }
    }
    return undefined;
  };
  const wasm = load('re2-wasm') as { RE2: new (p: string, flags: string) => Tester } | undefined;
  if (wasm) found.push({ name: 're2-wasm', compile: (p) => new wasm.RE2(p, 'u') });
  else missing.push('re2-wasm');
  const native = load('re2') as (new (p: string, flags?: string) => Tester) | undefined;
  if (native) found.push({ name: 're2 (native)', compile: (p) => new native(p, 'u') });
  else missing.push('re2');
  return { found, missing };
}

let sink = 0;
/** Tests per second of `t` over `values`, `rounds` passes. */
function rate(t: Tester, values: string[], passes: number): number {
  const start = process.hrtime.bigint();
  for (let k = 0; k < passes; k++) for (let i = 0; i < values.length; i++) if (t.test(values[i])) sink++;
  return (passes * values.length) / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Microseconds for one test of `t` on `value` (the median of a few). */
function once(t: Tester, value: string, tries = 5): number {
  const times: number[] = [];
  for (let k = 0; k < tries; k++) {
    const start = process.hrtime.bigint();
    if (t.test(value)) sink++;
    times.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return times.sort((a, b) => a - b)[tries >> 1];
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const m = argv.indexOf('--modules');
  const { found, missing } = candidates(m >= 0 ? argv[m + 1] : undefined);
  const cases = ruleCases(seededRandom(7));
  const passes = quick ? 20 : 60;
  const rounds = quick ? 3 : 5;
  const js: Candidate = { name: 'RegExp', compile: (p) => new RegExp(p) };

  if (!json) {
    console.log(`safe rule patterns: tests per second, and the ratio to RegExp in the same run (median of ${rounds} alternating rounds)`);
    if (missing.length) console.log(`(not installed, skipped: ${missing.join(', ')}; npm install --prefix <dir> ${missing.join(' ')} and pass --modules <dir>)`);
  }
  const ratios: Record<string, number[]> = {};
  const rows: Array<{ pattern: string; regexpRps: number; engines: Record<string, { rps: number; ratio: number }> }> = [];
  for (const c of cases) {
    const base = js.compile(c.pattern);
    const compiled = found.map((f) => ({ f, t: f.compile(c.pattern) }));
    // Both sides must agree before their speeds mean anything.
    for (const { f, t } of compiled) for (const v of c.values) if (t.test(v) !== base.test(v)) throw new Error(`${f.name} and RegExp disagree on ${c.pattern} for ${JSON.stringify(v)}`);
    rate(base, c.values, 5);
    for (const { t } of compiled) rate(t, c.values, 5);
    const row: (typeof rows)[number] = { pattern: c.name, regexpRps: 0, engines: {} };
    const perEngine: Record<string, Array<[number, number]>> = {};
    for (let r = 0; r < rounds; r++) {
      for (const { f, t } of compiled) {
        const b = rate(base, c.values, passes);
        (perEngine[f.name] ??= []).push([b, rate(t, c.values, passes)]);
      }
    }
    for (const [name, pairs] of Object.entries(perEngine)) {
      pairs.sort((x, y) => x[1] / x[0] - y[1] / y[0]);
      const [b, e] = pairs[pairs.length >> 1];
      row.regexpRps = Math.max(row.regexpRps, Math.round(b));
      row.engines[name] = { rps: Math.round(e), ratio: round(e / b) };
      (ratios[name] ??= []).push(e / b);
    }
    rows.push(row);
    if (!json) console.log(`  ${c.name.padEnd(18)} RegExp ${fmt(row.regexpRps).padStart(11)}/s   ${Object.entries(row.engines).map(([n, x]) => `${n} ${fmt(x.rps)}/s (${x.ratio})`).join('   ')}`);
  }
  const geo: Record<string, number> = {};
  for (const [name, rs] of Object.entries(ratios)) geo[name] = round(Math.exp(rs.reduce((s, r) => s + Math.log(r), 0) / rs.length));
  if (!json) console.log(`  geometric mean of the ratios: ${Object.entries(geo).map(([n, r]) => `${n} ${r}`).join('   ')}`);

  // (a+)+$ on "a"×n+"b": RegExp doubles its time with every extra "a"; RE2 stays linear.
  const evil = '(a+)+$';
  const jsSizes = quick ? [16, 18, 20] : [18, 20, 22];
  const jsMicros = jsSizes.map((n) => round(once(js.compile(evil), 'a'.repeat(n) + 'b', 3)));
  const evilRows = found.map((f) => {
    const t = f.compile(evil);
    return { name: f.name, n40: round(once(t, 'a'.repeat(40) + 'b')), n100k: round(once(t, 'a'.repeat(100_000) + 'b')) };
  });
  const perExtra = round(Math.pow(jsMicros[2] / jsMicros[0], 1 / (jsSizes[2] - jsSizes[0])));
  const at40Hours = round((jsMicros[2] * Math.pow(perExtra, 40 - jsSizes[2])) / 3.6e9);
  if (!json) {
    console.log(`(a+)+$ on "a"×n+"b": RegExp ${jsSizes.map((n, i) => `n=${n} ${fmt(jsMicros[i])} µs`).join(', ')} (×${perExtra} per extra "a": about ${fmt(at40Hours)} h at n=40)`);
    for (const e of evilRows) console.log(`  ${e.name.padEnd(14)} n=40 ${e.n40} µs   n=100,000 ${fmt(e.n100k)} µs`);
  }
  const result = { bench: 'regex', ratios: geo, cases: rows, evil: { regexp: Object.fromEntries(jsSizes.map((n, i) => [`n${n}`, jsMicros[i]])), regexpGrowthPerChar: perExtra, regexpHoursAt40: at40Hours, engines: evilRows }, skipped: missing, sink: sink > 0 };
  if (json) console.log(JSON.stringify(result));
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
function fmt(n: number): string {
  return n.toLocaleString('en');
}
