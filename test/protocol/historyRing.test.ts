/** The agent's per-pipeline history ring and the metrics batcher, in isolation. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineHistoryRing } from '../../server/lsp/history';
import { METRICS_INTERVAL_MS, MetricsBatcher } from '../../server/lsp/metricsBatcher';
import type { MetricsEvent } from '../../server/engine/events';

const metrics = (time: number, score: number, pipeline = 'p', dup?: number): MetricsEvent => ({
  type: 'metrics',
  pipeline,
  time,
  records: time,
  window: 10,
  score,
  throughput: 1,
  detectors: dup === undefined ? {} : { duplicates: { rate: dup, count: 1, threshold: 0.05 } },
  fields: {},
  baseline: { state: 'ready', records: 10, needed: 10 },
});

describe('PipelineHistoryRing', () => {
  it('keeps the latest check of each second, in columns', () => {
    const h = new PipelineHistoryRing('p', 0.8, { duplicates: 0.05 }, 5);
    h.addMetrics(metrics(1000, 0.9, 'p', 0.01));
    h.addMetrics(metrics(1500, 0.8, 'p', 0.02));
    h.addMetrics(metrics(2100, 0.7));
    const out = h.since();
    assert.deepEqual(out.time, [1500, 2100]);
    assert.deepEqual(out.score, [0.8, 0.7]);
    assert.deepEqual(out.detectors, { duplicates: [0.02, null] });
    assert.deepEqual(out.records, [1500, 2100]);
  });

  it('drops the oldest points past its capacity and filters by since', () => {
    const h = new PipelineHistoryRing('p', 0.8, {}, 3);
    for (let s = 1; s <= 5; s++) h.addMetrics(metrics(s * 1000, s / 10));
    assert.equal(h.length, 3);
    assert.deepEqual(h.since().time, [3000, 4000, 5000]);
    assert.deepEqual(h.since(4000).score, [0.4, 0.5]);
    assert.deepEqual(h.since(6000).time, []);
  });

  it('keeps alerts in order, bounded', () => {
    const h = new PipelineHistoryRing('p', 0.8, {}, 3, 2);
    for (let i = 1; i <= 3; i++) h.addAlert({ type: 'alert', pipeline: 'p', time: i, severity: 'warning', detector: null, value: 0.5, threshold: 0.8, records: i, message: `a${i}`, samples: [], fields: [] });
    assert.deepEqual(h.since().alerts.map((a) => a.message), ['a2', 'a3']);
    assert.deepEqual(h.since(3).alerts.map((a) => a.message), ['a3']);
  });
});

const baselineAt = (time: number, state: 'learning' | 'ready', records: number, restored?: true): MetricsEvent => ({
  ...metrics(time, 1),
  baseline: restored ? { state, records, needed: 10, restored } : { state, records, needed: 10 },
});

describe('PipelineHistoryRing learning period', () => {
  it('has no learning fields before the first check', () => {
    const out = new PipelineHistoryRing('p', 0.8, {}, 3).since();
    assert.deepEqual([out.learning, 'learningFrom' in out, 'learningUntil' in out], [undefined, false, false]);
  });

  it('marks where learning began and where the first ready check ended it; a reset starts a new period', () => {
    const h = new PipelineHistoryRing('p', 0.8, {}, 3);
    h.addMetrics(baselineAt(1000, 'learning', 4));
    h.addMetrics(baselineAt(2000, 'learning', 8));
    let out = h.since();
    assert.deepEqual([out.learning, out.learningFrom, 'learningUntil' in out], [true, 1000, false]);
    h.addMetrics(baselineAt(3000, 'ready', 10));
    h.addMetrics(baselineAt(4000, 'ready', 20));
    out = h.since();
    assert.deepEqual([out.learning, out.learningFrom, out.learningUntil], [false, 1000, 3000]);
    // The ring dropped the learning points (capacity 3); the two times stay, and the ring stays bounded.
    assert.deepEqual(out.time, [2000, 3000, 4000]);
    h.addMetrics(baselineAt(5000, 'learning', 1));
    out = h.since();
    assert.deepEqual([out.learning, out.learningFrom, 'learningUntil' in out], [true, 5000, false]);
    h.addMetrics(baselineAt(6000, 'ready', 10));
    // `since` filters points and alerts, not the learning period.
    out = h.since(5500);
    assert.deepEqual([out.time, out.learning, out.learningFrom, out.learningUntil], [[6000], false, 5000, 6000]);
    assert.equal(h.length, 3);
  });

  it('a pipeline that resumed a saved baseline never learnt: no period', () => {
    const h = new PipelineHistoryRing('p', 0.8, {}, 3);
    h.addMetrics(baselineAt(1000, 'ready', 5000, true));
    h.addMetrics(baselineAt(2000, 'ready', 5000, true));
    const out = h.since();
    assert.deepEqual([out.learning, 'learningFrom' in out, 'learningUntil' in out], [false, false, false]);
  });
});

describe('MetricsBatcher', () => {
  it('sends the first batch at once and later ones no sooner than the interval after the last', (t) => {
    // Mocked timers and clock: the batcher's pace is asserted exactly, with no wall clock in the test.
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const sent: Array<[number, string[]]> = [];
    const b = new MetricsBatcher((events) => sent.push([Date.now(), events.map((e) => `${e.pipeline}@${e.time}`)]), 40, () => Date.now());
    b.add(metrics(1, 1, 'a'));
    t.mock.timers.tick(0);
    assert.deepEqual(sent, [[0, ['a@1']]]);
    t.mock.timers.tick(10);
    b.add(metrics(2, 1, 'a'));
    b.add(metrics(3, 1, 'b'));
    b.add(metrics(4, 1, 'a'));
    t.mock.timers.tick(29);
    assert.equal(sent.length, 1, 'held back: only 39 of the 40 ms have passed');
    t.mock.timers.tick(1);
    assert.deepEqual(sent[1], [40, ['a@2', 'b@3', 'a@4']]);
    b.dispose();
  });

  it('at ten checks a second sends exactly one notification per 250 ms, each check once and in order', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const sent: Array<[number, number[]]> = [];
    const b = new MetricsBatcher((events) => sent.push([Date.now(), events.map((e) => e.time)]), METRICS_INTERVAL_MS, () => Date.now());
    // A check every 100 ms for 3 s; the clock moves a millisecond at a time, so each timer fires at its own time.
    for (let at = 0; at < 3300; at++) {
      if (at % 100 === 0 && at < 3000) b.add(metrics(at, 1, 'fast'));
      t.mock.timers.tick(0);
      t.mock.timers.tick(1);
    }
    assert.equal(METRICS_INTERVAL_MS, 250);
    assert.deepEqual(sent, [
      [0, [0]],
      [250, [100, 200]],
      [500, [300, 400]],
      [750, [500, 600, 700]],
      [1000, [800, 900]],
      [1250, [1000, 1100, 1200]],
      [1500, [1300, 1400]],
      [1750, [1500, 1600, 1700]],
      [2000, [1800, 1900]],
      [2250, [2000, 2100, 2200]],
      [2500, [2300, 2400]],
      [2750, [2500, 2600, 2700]],
      [3000, [2800, 2900]],
    ]);
    b.dispose();
  });

  it('keeps at most 40 checks per pipeline per batch, the newest', () => {
    const sent: MetricsEvent[][] = [];
    const b = new MetricsBatcher((events) => sent.push(events), 1000, () => 0);
    for (let i = 1; i <= 50; i++) b.add(metrics(i, 1, 'a'));
    b.flush();
    assert.equal(sent[0].length, 40);
    assert.equal(sent[0][0].time, 11);
    assert.equal(sent[0][39].time, 50);
    b.dispose();
  });
});
