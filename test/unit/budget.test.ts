import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryBudget, checkMaxMemoryMB, estimateFootprint, formatBytes } from '../../server/engine/budget';
import { resolvePipelineConfig } from '../../server/engine/config';
import { nameTooLong, quoteName } from '../../server/engine/names';
import { coerceAgentSettings } from '../../server/lsp/settings';
import { parseCli } from '../../server/cli/args';
import { UsageError } from '../../server/sources/url';

test('footprint: the window part follows windowSize, detectors, fields and rules; the fixed part history, samples and fields', () => {
  // 10M records: (14 + 16 fields × 9) bytes each, and a 2^25-slot duplicates table of 12 bytes a slot.
  assert.deepEqual(estimateFootprint(resolvePipelineConfig({ windowSize: 10_000_000 })), {
    windowBytes: 158 * 10_000_000 + 2 ** 25 * 12,
    fixedBytes: 2459904,
    total: 158 * 10_000_000 + 2 ** 25 * 12 + 2459904,
    fields: 16,
  });
  // Without duplicates and outliers: no table and no numbers; 40 rules count as 40 fields and 40 bytes a record.
  const rules = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, { required: true }]));
  const f = estimateFootprint(resolvePipelineConfig({ windowSize: 1000, detectors: ['missing', 'rules'], fields: rules }));
  assert.equal(f.fields, 40);
  assert.equal(f.windowBytes, (14 + 40 + 40) * 1000);
  // Two engine threads: each its share of the window with a table of its own (2^24 slots for 5M records), its own
  // samples and field state (5 default detectors × 32 × 2 KB + 16 × 20 KB) and isolate (24 MB); the main thread as before.
  const one = estimateFootprint(resolvePipelineConfig({ windowSize: 10_000_000 }));
  assert.deepEqual(estimateFootprint(resolvePipelineConfig({ windowSize: 10_000_000, workers: 2 })), {
    windowBytes: 158 * 10_000_000 + 2 * 2 ** 24 * 12,
    fixedBytes: one.fixedBytes + 2 * (24 * 1024 * 1024 + 5 * 32 * 2048 + 16 * 20 * 1024),
    total: 158 * 10_000_000 + 2 * 2 ** 24 * 12 + one.fixedBytes + 2 * (24 * 1024 * 1024 + 5 * 32 * 2048 + 16 * 20 * 1024),
    fields: 16,
  });
  // Records wider than assumed, up to maxFields.
  assert.equal(estimateFootprint(resolvePipelineConfig({ windowSize: 1000, maxFields: 20 }), 300).fields, 20);
});

test('budget: reserves until full, refuses with what is left and the biggest holders, releases and grows', () => {
  const budget = new MemoryBudget(100);
  const small = resolvePipelineConfig({ windowSize: 1000 });
  const big = resolvePipelineConfig({ windowSize: 300_000 });
  budget.reserve('a', 'a', big);
  budget.reserve('b', 'b', small);
  budget.reserve('c', 'c', small);
  budget.reserve('d', 'd', small);
  assert.throws(
    () => budget.reserve('e', 'e', big),
    { name: 'BudgetError', message: 'Pipeline "e" needs about 60 MB for windowSize 300000; the agent\'s budget is 100 MB, 33 MB left (a 60 MB, b 2.5 MB, c 2.5 MB, and 1 more). Lower windowSize or raise clean.maxMemoryMB.' },
  );
  budget.release('a');
  assert.equal(budget.reserve('e', 'e', big).total, estimateFootprint(big).total);
  // Growing past the assumed 16 fields is reported once it puts the agent over its budget.
  assert.equal(budget.track('b', 16), undefined);
  assert.equal(budget.track('e', 200)?.fields, 200);
  assert.equal(budget.usedBytes, estimateFootprint(big, 200).total + 3 * estimateFootprint(small).total);
  assert.deepEqual([formatBytes(2.1 * 1024 ** 3), formatBytes(420 * 1024 ** 2), formatBytes(1.25 * 1024 ** 2)], ['2.1 GB', '420 MB', '1.3 MB']);
});

test('maxMemoryMB: the setting and --max-memory take whole megabytes from 16; a bad value says what to fix', () => {
  assert.equal(coerceAgentSettings({}).maxMemoryMB, 1024);
  assert.equal(coerceAgentSettings({ maxMemoryMB: 2048 }).maxMemoryMB, 2048);
  const bad = coerceAgentSettings({ maxMemoryMB: 'lots' });
  assert.deepEqual([bad.maxMemoryMB, bad.ignored], [1024, ['clean.maxMemoryMB must be a whole number of megabytes, at least 16 (got "lots"); using 1024']]);
  assert.equal(parseCli(['run', 'clean.yaml', '--max-memory', '4096']).maxMemoryMB, 4096);
  assert.equal(parseCli(['run', 'clean.yaml']).maxMemoryMB, 1024);
  assert.throws(() => parseCli(['watch', 'file:x', '--max-memory', '-5']), new UsageError('--max-memory must be a whole number of megabytes, at least 16 (got "-5")'));
  assert.deepEqual(checkMaxMemoryMB(8), { problem: 'must be a whole number of megabytes, at least 16 (got 8)' });
});

test('names: at most 256 characters; messages quote at most 40', () => {
  assert.equal(nameTooLong('Pipeline name', 'x'.repeat(256)), undefined);
  assert.equal(nameTooLong('Field name', 'x'.repeat(257)), `Field name "${'x'.repeat(40)}…" is 257 characters long; names are at most 256 characters. Use a shorter name.`);
  assert.equal(quoteName('a"b'), '"a\\"b"');
  // Through the engine's validation: the name is never part of a path or a message.
  assert.throws(() => resolvePipelineConfig({ fields: { ['f'.repeat(1000)]: { required: true } }, thresholds: { ['d'.repeat(1000)]: 0.1 } as never }), {
    message: `thresholds: Detector name "${'d'.repeat(40)}…" is 1000 characters long; names are at most 256 characters. Use a shorter name.; fields: Field name "${'f'.repeat(40)}…" is 1000 characters long; names are at most 256 characters. Use a shorter name.`,
  });
});
