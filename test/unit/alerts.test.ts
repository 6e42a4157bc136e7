import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertChecker } from '../../server/engine/alerts';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { MetricsEvent } from '../../server/engine/events';
import type { Finding } from '../../server/engine/detectors/types';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { MemorySource } from '../../server/sources/memory';
import type { SourceMessage, StreamSource } from '../../server/sources/types';

// The threshold written out, as a user would: the score then alerts on its own crossing.
const config = resolvePipelineConfig({ detectors: ['duplicates'], qualityThreshold: 0.8, checkInterval: { records: 100 }, cooldown: { records: 500 } });

function m(records: number, score: number, dup: number): MetricsEvent {
  return {
    type: 'metrics',
    pipeline: 'p',
    time: 0,
    records,
    window: 1000,
    score,
    throughput: 0,
    detectors: { duplicates: { rate: dup, count: 0, threshold: 0.05 } },
    fields: {},
    baseline: { state: 'ready', records: 1000, needed: 1000 },
  };
}
/** What the engine's judge would find: duplicates standing out at `dup`, against a limit of 5 %. */
function found(dup: number | null): Finding[] {
  return dup === null ? [] : [{ detector: 'duplicates', name: null, share: dup, usual: 0, limit: 0.05, hard: false, detail: `${dup * 100}% of records repeat one earlier in the window` }];
}
function run(checker: AlertChecker, ...checks: Array<[MetricsEvent, number | null]>): string[] {
  return checks.flatMap(([c, dup]) => checker.evaluate(c, found(dup), () => [{ record: c.records }]).map((e) => `${e.records} ${e.type} ${e.detector ?? 'score'} ${e.severity}`));
}

test('alerts fire when a metric starts to stand out, escalate once, recover when it no longer does', () => {
  const c = new AlertChecker(config);
  assert.deepEqual(run(c, [m(100, 0.9, 0.01), null], [m(200, 0.79, 0.06), 0.06], [m(300, 0.75, 0.07), 0.07], [m(400, 0.55, 0.3), 0.3]), [
    '200 alert score warning',
    '200 alert duplicates warning',
    '400 alert score critical',
    '400 alert duplicates critical',
  ]);
  // The score back above the threshold but inside the margin (0.8 + 0.2 × 0.2 = 0.84): still alerting, silent.
  assert.deepEqual(run(c, [m(500, 0.83, 0.045), 0.045]), []);
  assert.deepEqual(run(c, [m(600, 0.85, 0.03), null]), ['600 recovered score critical', '600 recovered duplicates critical']);
});

test('with the default threshold the score raises no alert of its own: the detectors that stand out name the cause', () => {
  const defaults = resolvePipelineConfig({ detectors: ['duplicates'], checkInterval: { records: 100 } });
  assert.deepEqual(run(new AlertChecker(defaults), [m(100, 0.7, 0), null], [m(200, 0.5, 0.3), 0.3]), ['200 alert duplicates critical']);
  assert.deepEqual(run(new AlertChecker(config), [m(100, 0.7, 0), null]), ['100 alert score warning']);
});

test('cooldown: a crossing soon after an alert stays silent, and so does its recovery', () => {
  const c = new AlertChecker(config);
  assert.deepEqual(run(c, [m(100, 0.7, 0.1), 0.1], [m(200, 0.9, 0), null], [m(300, 0.7, 0.1), 0.1], [m(400, 0.9, 0), null]), [
    '100 alert score warning',
    '100 alert duplicates warning',
    '200 recovered score warning',
    '200 recovered duplicates warning',
  ]);
  // 500 records after the first alert the cooldown is over.
  assert.deepEqual(run(c, [m(600, 0.7, 0.1), 0.1]), ['600 alert score warning', '600 alert duplicates warning']);
});

test('an alert carries value, threshold, records, samples, the fields behind it and a message naming them', () => {
  const c = new AlertChecker(config);
  const [score, dup] = c.evaluate(m(200, 0.5, 0.3), found(0.3), () => [{ record: 199, position: '0@198' }]);
  const field = { name: null, share: 0.3, usual: 0, detail: '30% of records repeat one earlier in the window' };
  assert.deepEqual(score, {
    type: 'alert',
    pipeline: 'p',
    time: 0,
    severity: 'critical',
    detector: null,
    value: 0.5,
    threshold: 0.8,
    records: 200,
    message: 'Quality score 0.500 is below the threshold 0.80 over the last 1000 records; duplicates: 30% of records repeat one earlier in the window. Latest: record 199 (position 0@198).',
    samples: [{ record: 199, position: '0@198' }],
    fields: [field],
  });
  assert.deepEqual([dup.severity, dup.value, dup.threshold, dup.message, dup.fields], [
    'critical',
    0.3,
    0.05,
    'duplicates in the last 1000 records: 30% of records repeat one earlier in the window. Latest: record 199 (position 0@198).',
    [field],
  ]);
});

/** A source that delivers its records and then goes quiet without ending, like an idle topic. */
class QuietAfterSource implements StreamSource {
  readonly description = 'fake quiet source';
  private release: (() => void) | null = null;
  constructor(private readonly records: SourceMessage[]) {}
  async connect(): Promise<void> {}
  async *consume(): AsyncIterable<SourceMessage[]> {
    yield this.records;
    await new Promise<void>((r) => (this.release = r));
  }
  async close(): Promise<void> {
    this.release?.();
  }
}

test('a quiet stream still gets its pending check on the timer (record mode, idle flush)', async () => {
  const records = Array.from({ length: 150 }, (_, i) => ({ value: JSON.stringify({ i }) }));
  const p = new RealtimePipeline('quiet', new QuietAfterSource(records), config, { idleFlushMs: 100 });
  const seen: number[] = [];
  p.on('metrics', (e) => {
    seen.push(e.records);
    if (e.records === 150) void p.stop();
  });
  await p.run();
  assert.deepEqual(seen, [100, 150]);
});

test('a quiet stream still gets its check on time (time mode)', async () => {
  const cfg = resolvePipelineConfig({ checkInterval: { seconds: 0.1 } });
  const p = new RealtimePipeline('quiet', new QuietAfterSource([{ value: '{"a":1}' }]), cfg);
  const seen: number[] = [];
  p.on('metrics', (e) => {
    seen.push(e.records);
    if (seen.length === 3) void p.stop();
  });
  await p.run();
  assert.deepEqual(seen, [1, 1, 1]);
});

test('a handler that throws is logged and isolated; the other handlers and the pipeline go on', async () => {
  const records = Array.from({ length: 300 }, () => ({ value: '{"same":1}' }));
  const errors: string[] = [];
  const log = { debug() {}, info() {}, warn() {}, error: (s: string) => errors.push(s) };
  const p = new RealtimePipeline('h', new MemorySource(records.map((r) => r.value)), config, { log });
  const got: string[] = [];
  p.addAlertHandler(() => {
    throw new Error('boom');
  });
  p.addAlertHandler(async () => {
    throw new Error('async boom');
  });
  p.addAlertHandler((e) => void got.push(`${e.type} ${e.detector ?? 'score'}`));
  const ends: number[] = [];
  p.on('end', (e) => ends.push(e.records));
  await p.run();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(got, ['alert score', 'alert duplicates']);
  assert.deepEqual(ends, [300]);
  assert.deepEqual(errors, [
    '[h] an alert handler failed (the pipeline goes on): boom',
    '[h] an alert handler failed (the pipeline goes on): boom',
    '[h] an alert handler failed (the pipeline goes on): async boom',
    '[h] an alert handler failed (the pipeline goes on): async boom',
  ]);
});

test('pause, resume and stop move through the states', async () => {
  const cfg = resolvePipelineConfig({ checkInterval: { seconds: 0.05 } });
  const p = new RealtimePipeline('s', new QuietAfterSource([{ value: '{"a":1}' }]), cfg);
  const states: string[] = [];
  p.on('status', (s) => states.push(s.state));
  const running = new Promise<void>((resolve) => p.on('status', (s) => void (s.state === 'running' && resolve())));
  const done = p.run();
  await running;
  p.pause();
  p.resume();
  await p.stop();
  await done;
  assert.deepEqual(states, ['connecting', 'running', 'paused', 'running', 'stopped']);
});

test('a score alert under a written threshold with nothing standing out names what usually pulls the score down', () => {
  const written = resolvePipelineConfig({ detectors: ['duplicates', 'missing'], qualityThreshold: 0.9, checkInterval: { records: 100 } });
  const metrics: MetricsEvent = {
    ...m(100, 0.85, 0.02),
    detectors: { duplicates: { rate: 0.02, count: 20, threshold: 0.05 }, missing: { rate: 0.3, count: 300, threshold: 0.1 } },
    fields: { note: { missing: 0.3 }, id: { missing: 0 } },
  };
  const [e] = new AlertChecker(written).evaluate(metrics, [], () => []);
  assert.equal(e.message, 'Quality score 0.850 is below the threshold 0.90 over the last 1000 records; missing: 30.0% of records flagged (most on "note", 30.0%), as usual for this stream (+1 more).');
  assert.deepEqual(e.fields.map((f) => [f.name, f.share]), [['note', 0.3], [null, 0.02]]);
});

test('a pipeline stopped while its source is still connecting ends stopped, not left connecting', async () => {
  const p = new RealtimePipeline('early', new MemorySource(['{"a":1}']), config);
  const states: string[] = [];
  p.on('status', (s) => states.push(s.state));
  const run = p.run(); // the source's connect() is under way
  await p.stop();
  await run;
  assert.equal(p.state, 'stopped');
  assert.deepEqual(states, ['connecting', 'stopped']);
});
