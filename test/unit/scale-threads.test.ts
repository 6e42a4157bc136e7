/** Engine threads (server/scale): dealing partitions, the CLI options, and a sharded pipeline over a real file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dealPartitions, shardSpecs } from '../../server/scale/workers';
import { ShardedPipeline, shardWindow } from '../../server/scale/shardedPipeline';
import { parseCli } from '../../server/cli/args';
import { resolvePipelineConfig } from '../../server/engine/config';
import { QualityEngine } from '../../server/engine/quality';
import type { PipelineEvent } from '../../server/engine/events';

test('partitions are dealt round-robin; no thread gets none; a non-Kafka source is one unit', () => {
  assert.deepEqual(dealPartitions([0, 1, 2, 3, 4, 5, 6, 7], 3), [[0, 3, 6], [1, 4, 7], [2, 5]]);
  assert.deepEqual(dealPartitions([0, 1], 4), [[0], [1]]);
  assert.deepEqual(dealPartitions([], 2), [[]]);
  const kafka = { backend: 'kafka' as const, topic: 't', brokers: ['127.0.0.1:9092'], from: { kind: 'earliest' as const } };
  assert.deepEqual(shardSpecs(kafka, 2, [0, 1, 2, 3]).map((s) => s.map((x) => x.options?.partitions)), [[[0, 2]], [[1, 3]]]);
  const redis = { backend: 'redis' as const, topic: 's', url: 'redis://127.0.0.1:6379', from: { kind: 'latest' as const } };
  assert.deepEqual(shardSpecs(redis, 4, null), [[redis]]);
  assert.deepEqual([shardWindow(1000, 3), shardWindow(1000, 1), shardWindow(1, 4)], [334, 1000, 1]);
});

test('--workers and --sample on the command line, checked with a message that says what to fix', () => {
  const o = parseCli(['watch', 'file:x.jsonl', '--workers', '2', '--sample', '0.1']);
  assert.deepEqual([o.settings.workers, o.settings.sample], [2, 0.1]);
  assert.throws(() => parseCli(['watch', 'file:x.jsonl', '--workers', '0']), /--workers must be a whole number of engine threads from 1 to 64 \(got "0"\)/);
  assert.throws(() => parseCli(['watch', 'file:x.jsonl', '--workers', 'two']), /--workers must be a whole number/);
  assert.throws(() => parseCli(['watch', 'file:x.jsonl', '--sample', '-0.5']), /--sample must be the share of records to keep, above 0 and at most 1, such as 0.1 \(got "-0.5"\)/);
  assert.throws(() => parseCli(['watch', 'file:x.jsonl', '--sample', '2']), /--sample must be/);
});

test('a sharded pipeline over a real file: one engine thread (a file is one reader), the same counts as the engine, then end', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-scale-'));
  try {
    const flights = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'node_modules', 'vega-datasets', 'data', 'flights-2k.json'), 'utf8')) as object[];
    const lines = flights.map((f, i) => (i % 50 === 0 ? '{"cut": ' : JSON.stringify(f)));
    const file = path.join(dir, 'flights.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const config = resolvePipelineConfig({ windowSize: 5000, workers: 2, detectors: ['duplicates', 'missing', 'parse'] });
    const p = new ShardedPipeline('flights', { backend: 'file', topic: file, from: { kind: 'earliest' } }, config);
    const events: PipelineEvent[] = [];
    for (const k of ['metrics', 'alert', 'status', 'end'] as const) p.on(k, (e: PipelineEvent) => events.push(e));
    await p.run();
    assert.equal(p.shardCount, 1);
    const metrics = events.filter((e) => e.type === 'metrics');
    const last = metrics.at(-1)!;
    const engine = new QualityEngine({ ...config, workers: 1 });
    for (const l of lines) engine.process({ value: Buffer.from(l) });
    const single = engine.metrics('flights', last.time, 0);
    assert.deepEqual({ ...last, throughput: 0, baseline: single.baseline, shards: undefined, detectors: Object.fromEntries(Object.entries(last.detectors).map(([d, x]) => [d, { ...x, out: undefined }])) }, { ...single, shards: undefined, detectors: Object.fromEntries(Object.entries(single.detectors).map(([d, x]) => [d, { ...x, out: undefined }])) });
    assert.deepEqual([last.records, last.detectors.parse!.count, last.shards], [2000, 40, 1]);
    assert.deepEqual(events.filter((e) => e.type === 'end'), [{ type: 'end', pipeline: 'flights', records: 2000 }]);
    const states = events.filter((e) => e.type === 'status').map((e) => (e as { state: string }).state);
    assert.deepEqual(states, ['connecting', 'running', 'stopped']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
