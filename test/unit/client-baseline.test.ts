import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptChoices,
  baselineChangeNotice,
  baselineTooltip,
  learningLabel,
  learningNow,
  learningOf,
  learningShort,
  resetConfirmation,
} from '../../client/model/baseline';
import { chartPipelineOf } from '../../client/model/chartMessages';
import { alertTarget, pipelineTarget } from '../../client/model/commandArgs';
import type { PipelineInfo } from '../../shared/protocol';

function info(over: Partial<PipelineInfo> = {}): PipelineInfo {
  return {
    id: 'orders',
    name: 'orders',
    topic: 'orders',
    backend: 'demo',
    description: 'demo orders',
    state: 'running',
    message: '',
    threshold: 0.8,
    detectors: ['duplicates'],
    cliCommand: 'clean-agent watch demo:orders',
    ...over,
  };
}

test('learning worth showing: live, after a check, while learning', () => {
  const learning = { state: 'learning' as const, records: 450, needed: 1000 };
  assert.equal(learningNow({ state: 'running', score: 0.9, baseline: learning }), learning);
  assert.equal(learningNow({ state: 'paused', score: 0.9, baseline: learning }), learning);
  assert.equal(learningNow({ state: 'reconnecting', score: 0.9, baseline: learning }), learning);
  assert.equal(learningNow({ state: 'connecting', score: undefined, baseline: learning }), undefined);
  assert.equal(learningNow({ state: 'stopped', score: 0.9, baseline: learning }), undefined);
  assert.equal(learningNow({ state: 'error', score: 0.9, baseline: learning }), undefined);
  assert.equal(learningNow({ state: 'running', score: 0.9, baseline: { state: 'ready', records: 1000, needed: 1000 } }), undefined);
  assert.equal(learningNow({ state: 'running', score: 0.9 }), undefined);
});

test('learning wording: short form, chart label, tooltip lines', () => {
  const learning = { state: 'learning' as const, records: 450, needed: 1000 };
  assert.equal(learningOf(learning), learning);
  assert.equal(learningOf({ state: 'ready', records: 1000, needed: 1000 }), undefined);
  assert.equal(learningOf(undefined), undefined);
  assert.equal(learningShort(learning), 'learning 450/1,000');
  assert.equal(learningShort({ state: 'learning', records: 25_000, needed: 20_000 }), 'learning 20,000/20,000');
  assert.equal(learningLabel(learning), 'Learning baseline: 450 / 1,000 records — alerts held');
  assert.deepEqual(baselineTooltip(learning), [
    'Learning its baseline: 450 of 1,000 records.',
    'Alerts driven by the baseline are held until the first window is learnt; hard limits (parse, duplicates, your thresholds) still alert.',
  ]);
  assert.deepEqual(baselineTooltip({ state: 'ready', records: 3000, needed: 1000 }), ['Baseline ready, learnt from 3,000 records.']);
  assert.deepEqual(baselineTooltip({ state: 'ready', records: 3000, needed: 1000, restored: true }), ['Baseline ready, learnt from 3,000 records. It resumed a saved baseline.']);
  assert.deepEqual(baselineTooltip(undefined), []);
});

test('the chart is told the learning label while a pipeline learns', () => {
  assert.deepEqual(chartPipelineOf(info({ score: 1, baseline: { state: 'learning', records: 450, needed: 1000 } })), {
    id: 'orders',
    label: 'orders',
    threshold: 0.8,
    state: 'running',
    learning: 'Learning baseline: 450 / 1,000 records — alerts held',
  });
  // Before its first check: nothing learnt yet, no label.
  assert.equal(chartPipelineOf(info({ state: 'connecting', baseline: { state: 'learning', records: 0, needed: 1000 } })).learning, undefined);
  assert.deepEqual(chartPipelineOf(info({ id: 'orders (2)', score: 1, baseline: { state: 'ready', records: 1000, needed: 1000 } })), {
    id: 'orders (2)',
    label: 'orders (orders (2))',
    threshold: 0.8,
    state: 'running',
  });
});

test('palette "This is normal": detectors standing out first, then the others (never rules), then every detector', () => {
  assert.deepEqual(
    acceptChoices({
      detectors: {
        outliers: { rate: 0.004, count: 4, threshold: 0.05, out: false },
        duplicates: { rate: 0.12, count: 120, threshold: 0.05, out: true },
        missing: { rate: 0.3, count: 300, threshold: 0.1, out: true },
        parse: { rate: 0, count: 0, threshold: 0.01 },
        rules: { rate: 0.2, count: 200, threshold: 0.05, out: true },
      },
    }),
    [
      { label: 'duplicates', description: '12% · stands out now', detector: 'duplicates' },
      { label: 'missing', description: '30% · stands out now', detector: 'missing' },
      { label: 'outliers', description: '0.4%', detector: 'outliers' },
      { label: 'parse', description: '0%', detector: 'parse' },
      { label: 'Every detector', description: 'the current level of every detector on every field' },
    ],
  );
  assert.deepEqual(acceptChoices(undefined), [{ label: 'Every detector', description: 'the current level of every detector on every field' }]);
});

test('reset asks first; a change is confirmed with Undo only when the agent can undo it', () => {
  assert.deepEqual(resetConfirmation({ id: 'orders', baseline: { state: 'ready', records: 5000, needed: 2000 } }), {
    message: 'Reset the learned baseline of "orders"?',
    detail: 'It learns its next 2,000 records afresh, and alerts driven by the baseline are held until then. "Undo Baseline Change" puts the old one back.',
  });
  assert.equal(resetConfirmation({ id: 'orders' }).detail, 'It learns its next window afresh, and alerts driven by the baseline are held until then. "Undo Baseline Change" puts the old one back.');
  const accepted = { changed: 2, message: 'Accepted the current level of schema on "dist" as normal.', info: info({ canUndoBaseline: true }) };
  assert.deepEqual(baselineChangeNotice('orders', accepted, true), { text: 'Clean Streams · orders: Accepted the current level of schema on "dist" as normal.', actions: ['Undo'] });
  assert.deepEqual(baselineChangeNotice('orders', accepted, false).actions, []);
  assert.deepEqual(baselineChangeNotice('orders', { ...accepted, changed: 0, message: 'Nothing to accept for schema.' }, true), { text: 'Clean Streams · orders: Nothing to accept for schema.', actions: [] });
  assert.deepEqual(baselineChangeNotice('orders', { ...accepted, info: info() }, true).actions, []);
});

test('command arguments: a field on a target, and an alert handed over by its notification', () => {
  assert.deepEqual(pipelineTarget({ pipeline: 'orders', detector: 'schema', field: 'dist' }), { pipeline: 'orders', detector: 'schema', field: 'dist' });
  assert.deepEqual(pipelineTarget({ kind: 'field', pipeline: 'orders', field: 'amount' }), { pipeline: 'orders', field: 'amount' });
  const fields = [{ name: 'dist', share: 0.2, usual: 0, detail: 'new field' }, { name: null, share: 0.1, usual: 0, detail: 'x' }, 'junk'];
  assert.deepEqual(alertTarget({ type: 'alert', pipeline: 'orders', detector: 'schema', fields, message: 'm' }), {
    pipeline: 'orders',
    detector: 'schema',
    fields: [{ name: 'dist', share: 0.2, usual: 0, detail: 'new field' }, { name: null, share: 0.1, usual: 0, detail: 'x' }],
  });
  assert.deepEqual(alertTarget({ type: 'alert', pipeline: 'orders', detector: null, fields: [] }), { pipeline: 'orders', detector: null, fields: [] });
  assert.equal(alertTarget({ type: 'recovered', pipeline: 'orders', detector: null, fields: [] }), undefined);
  assert.equal(alertTarget({ type: 'alert', pipeline: 'orders', detector: 3, fields: [] }), undefined);
  assert.equal(alertTarget({ type: 'alert', pipeline: 'orders', detector: null }), undefined);
  assert.equal(alertTarget({ kind: 'detector', pipeline: 'orders', detector: 'schema' }), undefined);
  assert.equal(alertTarget('orders'), undefined);
});
