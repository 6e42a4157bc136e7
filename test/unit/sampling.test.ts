/** Hash sampling (`sample:`) and the Wilson intervals on sampled rates (server/engine/sampling.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { keepRecord, sampleBound, sureFindings, wilson } from '../../server/engine/sampling';
import { QualityEngine } from '../../server/engine/quality';
import { resolvePipelineConfig, ConfigError } from '../../server/engine/config';
import type { Finding } from '../../server/engine/detectors/types';

const flights = (JSON.parse(readFileSync(resolve(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data', 'flights-10k.json'), 'utf8')) as object[]).map((f) => JSON.stringify(f));

test('wilson: the 95 % score interval, exact values', () => {
  assert.deepEqual(wilson(0, 0), [0, 1]);
  assert.deepEqual(wilson(10, 100).map((x) => Math.round(x * 1e6) / 1e6), [0.055229, 0.174366]);
  assert.deepEqual(wilson(0, 50).map((x) => Math.round(x * 1e6) / 1e6), [0, 0.071348]);
  assert.deepEqual(wilson(50, 50).map((x) => Math.round(x * 1e6) / 1e6), [0.928652, 1]);
});

test('a record is kept by its payload hash alone: every copy decides the same, bytes or text', () => {
  const bound = sampleBound(0.1);
  assert.equal(bound, 429496729);
  let kept = 0;
  for (const f of flights) {
    const k = keepRecord({ value: f }, bound);
    assert.equal(keepRecord({ value: f }, bound), k);
    if (k) kept++;
  }
  // Real flights: 10 % asked, 9.7 % kept.
  assert.equal(kept, 970);
  assert.equal(keepRecord({ value: null }, sampleBound(1)), true);
  assert.equal(sampleBound(1), 4294967296);
});

test('a sampled engine keeps a tenth, finds duplicates among them without bias, and reports intervals', () => {
  const config = resolvePipelineConfig({ windowSize: 20000, sample: 0.1, detectors: ['duplicates', 'parse'] });
  const e = new QualityEngine(config);
  // Every 4th flight arrives twice: a quarter of the originals have a copy (20 % of all records are copies).
  for (let i = 0; i < flights.length; i++) {
    e.process({ value: Buffer.from(flights[i]) });
    if (i % 4 === 0) e.process({ value: Buffer.from(flights[i]) });
  }
  assert.equal(e.seen, 12500);
  assert.equal(e.records, 1236);
  const m = e.metrics('p', 0, 0);
  // A kept original always has its copy kept: duplicates / records estimates the topic's 20 %, and the
  // interval holds it.
  assert.deepEqual(m.detectors.duplicates, { rate: 0.214401, count: 265, threshold: 0.05, low: 0.192425, high: 0.238148 });
  assert.deepEqual(m.detectors.parse, { rate: 0, count: 0, threshold: 0.01, low: 0, high: 0.003098 });
  assert.deepEqual(m.sample, { rate: 0.1, seen: 12500 });
  // Unsampled metrics carry no interval.
  const full = new QualityEngine(resolvePipelineConfig({ windowSize: 100, detectors: ['parse'] }));
  full.process({ value: '{"a":1}' });
  assert.deepEqual(full.metrics('p', 0, 0).detectors.parse, { rate: 0, count: 0, threshold: 0.01 });
  assert.equal(full.metrics('p', 0, 0).sample, undefined);
});

test('alerts on a sampled window need the interval\'s lower bound past the limit', () => {
  const f = (share: number): Finding => ({ detector: 'parse', name: null, share, usual: 0, limit: 0.05, hard: true, detail: '' });
  // 7 % of 100 sampled records: the interval starts at 3.4 %, under the 5 % limit: not sure, no alert.
  assert.deepEqual(sureFindings([f(0.07)], true, 100, 100), []);
  // 15 %: the interval starts at 9.3 %: an alert. Without sampling, 7 % alerts as before.
  assert.deepEqual(sureFindings([f(0.15)], true, 100, 100).length, 1);
  assert.deepEqual(sureFindings([f(0.07)], false, 100, 100).length, 1);
  // Through the engine: a hard parse limit of 5 %, 8 % of the records broken.
  const run = (sample: number) => {
    const e = new QualityEngine(resolvePipelineConfig({ windowSize: 100000, sample, thresholds: { parse: 0.05 }, detectors: ['parse'] }));
    for (let i = 0; i < 2000; i++) e.process({ value: i % 25 < 2 ? `broken ${i}` : flights[i] });
    return [e.records, e.flagged('parse'), e.judge().map((x) => x.detector)];
  };
  assert.deepEqual(run(1), [2000, 160, ['parse']]);
  // A tenth: 15 of 195 kept records broken (7.7 %, over the limit), but the interval starts at 4.7 %: no alert.
  assert.deepEqual(run(0.1), [195, 15, []]);
  // 30 %: 46 of 582 (7.9 %), the interval starts at 6.0 %: the alert stands.
  assert.deepEqual(run(0.3), [582, 46, ['parse']]);
});

test('sample and workers are checked: a share above 0 up to 1, a whole number of threads', () => {
  assert.throws(() => resolvePipelineConfig({ sample: 0 }), (e: unknown) => e instanceof ConfigError && /sample: must be a share of records to keep, above 0 and at most 1, such as 0.1 \(got 0\)/.test(e.message));
  assert.throws(() => resolvePipelineConfig({ sample: 1.5 }), ConfigError);
  assert.throws(() => resolvePipelineConfig({ workers: 0 }), /workers: must be a whole number of engine threads from 1 to 64 \(got 0\)/);
  assert.throws(() => resolvePipelineConfig({ workers: 2.5 }), ConfigError);
  assert.equal(resolvePipelineConfig({ sample: 0.25, workers: 2 }).sample, 0.25);
});
