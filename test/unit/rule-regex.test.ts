/** Field-rule regexes on RE2: JavaScript spellings accepted, lookarounds and backreferences refused by name, linear time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRuleRegex, ruleRegexProblem } from '../../server/engine/regex';
import { ConfigError, resolvePipelineConfig } from '../../server/engine/config';
import { QualityEngine } from '../../server/engine/quality';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { MemorySource } from '../../server/sources/memory';
import type { StatusEvent } from '../../server/engine/events';

const REFUSAL = ', which the linear-time regex engine (RE2) cannot run; rewrite the rule without lookarounds or backreferences';

test('rule regexes match as RegExp.test does, JavaScript spellings included', () => {
  const cases: Array<[string, string, boolean]> = [
    ['^[A-Z]{3}-\\d{4}$', 'ORD-1234', true],
    ['^[A-Z]{3}-\\d{4}$', 'ord-1234', false],
    ['\\d{4}', 'year 2026!', true], // unanchored: anywhere in the value
    ['^caf\\u00e9$', 'café', true],
    ['^(?<cur>EUR|USD)$', 'USD', true],
    ['^(?<cur>EUR|USD)$', 'GBP', false],
    ['^[\\w.+-]+@[\\w-]+\\.[a-z]{2,}$', 'ann.lee+x@localhost', false],
    ['^[\\w.+-]+@[\\w-]+\\.[a-z]{2,}$', 'ann.lee+x@example.org', true],
    ['[(?=]', 'a(b', true], // a class holding "(?=" is not a lookahead
    ['\\(\\?=', 'x(?=y', true], // nor is an escaped one
  ];
  for (const [pattern, value, expected] of cases) {
    assert.equal(compileRuleRegex(pattern).test(value), expected, `${pattern} on ${value}`);
    assert.equal(new RegExp(pattern).test(value), expected, `RegExp agrees: ${pattern} on ${value}`);
  }
});

test('lookarounds and backreferences are refused with the construct named', () => {
  assert.equal(ruleRegexProblem('^\\d+(?=EUR)'), `uses a lookahead "(?="${REFUSAL}`);
  assert.equal(ruleRegexProblem('^(?!test)\\w+$'), `uses a negative lookahead "(?!"${REFUSAL}`);
  assert.equal(ruleRegexProblem('(?<=USD)\\d+'), `uses a lookbehind "(?<="${REFUSAL}`);
  assert.equal(ruleRegexProblem('(?<!-)\\d+'), `uses a negative lookbehind "(?<!"${REFUSAL}`);
  assert.equal(ruleRegexProblem('^(\\w)\\1$'), `uses a backreference "\\1"${REFUSAL}`);
  assert.equal(ruleRegexProblem('^(?<c>\\w)\\k<c>$'), `uses a named backreference "\\k<"${REFUSAL}`);
  assert.equal(ruleRegexProblem('^[a-z'), 'not a valid regular expression: missing closing ]: `[a-z`');
  assert.equal(ruleRegexProblem('^[a-z]+$'), undefined);
  assert.equal(ruleRegexProblem('(a{1000}){1000}'), 'not a valid regular expression: invalid repeat count: `{1000}`');
  assert.equal(ruleRegexProblem('x'.repeat(1025)), 'is 1025 characters long; a rule pattern may have at most 1024');
  assert.equal(ruleRegexProblem('x'.repeat(1024)), undefined);
});

test('(a+)+$ on "a"×40+"b" and on a 100,000-character value: no backtracking (RegExp would take hours)', () => {
  const re = compileRuleRegex('(a+)+$');
  assert.equal(re.test('a'.repeat(40) + 'b'), false);
  assert.equal(re.test('a'.repeat(100_000) + 'b'), false);
  assert.equal(re.test('a'.repeat(100_000)), true);
});

test('config validation reports a refused pattern under fields.<name>.regex', () => {
  assert.throws(
    () => resolvePipelineConfig({ fields: { code: { regex: '^(\\w)\\1$' } } }),
    (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0].path === 'fields.code.regex' && err.problems[0].message === `uses a backreference "\\1"${REFUSAL}`,
  );
  assert.throws(
    () => resolvePipelineConfig({ fields: { code: { regex: 42 as unknown as string } } }),
    (err: unknown) => err instanceof ConfigError && err.problems[0].path === 'fields.code.regex' && err.problems[0].message === 'must be text: a regular expression',
  );
});

test('the rules detector flags exactly the values its RE2 pattern rejects', () => {
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 10, fields: { name: { regex: '(a+)+$' }, id: { regex: '^\\d+$' } } }));
  const evil = 'a'.repeat(40) + 'b';
  const values = [{ name: 'aaa', id: 1 }, { name: evil, id: 2 }, { name: 'aa', id: 'x3' }, { name: evil, id: 4 }, { name: 'a', id: 5 }];
  for (const v of values) e.process({ value: JSON.stringify(v) });
  // Records 2 and 4 break the name rule, record 3 the id rule (numbers are tested as their JSON text).
  assert.equal(e.rate('rules'), 0.6);
  assert.deepEqual(e.samplesOf('rules', 5).map((s) => s.record), [4, 3, 2]);
});

test('a pipeline over its check budget is paused with the figures; resume goes on and the budget applies again', async () => {
  const records = Array.from({ length: 200_000 }, (_, i) => JSON.stringify({ id: i, name: 'a'.repeat(40) + 'b' }));
  const config = resolvePipelineConfig({ windowSize: 1000, checkBudgetMs: 0.001, fields: { name: { regex: '(a+)+$' } } });
  const p = new RealtimePipeline('tight', new MemorySource(records, 5000), config);
  const statuses: StatusEvent[] = [];
  let onPaused: () => void = () => undefined;
  p.on('status', (s) => {
    statuses.push(s);
    if (s.state === 'paused') onPaused();
  });
  const nextPause = () => new Promise<void>((r) => (onPaused = r));
  const firstPause = nextPause();
  const done = p.run();
  await firstPause;
  const paused = statuses.at(-1)!;
  const m = /^paused: its checks took (\d+(?:\.\d+)?) ms for 100 records \(budget 0\.001 ms per 100\); check its rules or its window, then resume it$/.exec(paused.message);
  assert.ok(m, paused.message);
  assert.ok(Number(m[1]) > 0.001);
  const at = p.engine.records;
  assert.ok(at > 0 && at < records.length, `paused after ${at} records`);
  assert.equal(p.state, 'paused');

  const secondPause = nextPause();
  p.resume();
  assert.equal(p.state, 'running');
  await secondPause;
  assert.ok(p.engine.records > at, 'it read on after the resume');
  assert.deepEqual(statuses.map((s) => s.state), ['connecting', 'running', 'paused', 'running', 'paused']);
  await p.stop();
  await done;
  assert.equal(p.state, 'stopped');
});

test('large messages weigh by their size against the budget: 400 KB records under the default budget run to the end', async () => {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) o['f' + i] = { items: Array.from({ length: 100 }, (_, k) => ({ sku: 'SKU-' + k, qty: k, price: k * 1.5 })) };
  const big = Buffer.from(JSON.stringify(o));
  assert.ok(big.length > 350_000);
  const p = new RealtimePipeline('large', new MemorySource(Array.from({ length: 150 }, () => big), 10), resolvePipelineConfig({ windowSize: 100 }));
  const states: string[] = [];
  p.on('status', (s) => states.push(s.state));
  await p.run();
  assert.deepEqual(states, ['connecting', 'running', 'stopped']);
  assert.equal(p.engine.records, 150);
});

test('checkBudgetMs must be a positive number', () => {
  assert.throws(
    () => resolvePipelineConfig({ checkBudgetMs: 0 }),
    (err: unknown) => err instanceof ConfigError && err.message === 'checkBudgetMs: must be a number of milliseconds > 0 per 100 records (got 0)',
  );
});
