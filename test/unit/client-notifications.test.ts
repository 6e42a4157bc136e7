import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptNormalParamsFor,
  AlertNoticePolicy,
  NOTICE_MAX_CHARS,
  noticeActions,
  noticeKindFor,
  noticeText,
  notificationLevelFrom,
  outDetectors,
} from '../../client/model/alertNotices';
import type { AlertEvent, RecoveredEvent } from '../../server/engine/events';

function alert(pipeline: string, detector: AlertEvent['detector'], severity: AlertEvent['severity'], message = `${detector ?? 'score'} ${severity}`): AlertEvent {
  return { type: 'alert', pipeline, time: 0, severity, detector, value: 0.5, threshold: 0.8, records: 100, message, samples: [], fields: [] };
}
function recovered(pipeline: string, detector: AlertEvent['detector']): RecoveredEvent {
  return { ...alert(pipeline, detector, 'warning', 'quality recovered: 0.95 ≥ 0.80'), type: 'recovered' };
}
const noCoalesce = { coalesceMs: 0 };

test('one notice per crossing: repeats of an active alert are not shown, an escalation is', () => {
  const p = new AlertNoticePolicy('warning', noCoalesce);
  assert.deepEqual(p.onAlert(alert('orders', null, 'warning', 'score 0.74 < 0.80'), 1000), { show: true, kind: 'warning', text: 'Clean Streams · orders: score 0.74 < 0.80' });
  assert.deepEqual(p.onAlert(alert('orders', null, 'warning'), 2000), { show: false, why: 'repeat' });
  assert.deepEqual(p.onAlert(alert('orders', null, 'critical', 'score 0.55'), 3000), { show: true, kind: 'error', text: 'Clean Streams · orders: score 0.55' });
  assert.deepEqual(p.onAlert(alert('orders', null, 'critical'), 4000), { show: false, why: 'repeat' });
  // Recovery ends the crossing; the next breach is a new one.
  assert.deepEqual(p.onRecovered(recovered('orders', null), 5000), { show: true, text: '$(pass) orders: quality recovered: 0.95 ≥ 0.80' });
  assert.deepEqual(p.onRecovered(recovered('orders', null), 5500), { show: false });
  assert.equal(p.onAlert(alert('orders', null, 'warning'), 6000).show, true);
});

test('the level setting filters severities, and a filtered alert still counts as active', () => {
  const p = new AlertNoticePolicy('critical', noCoalesce);
  assert.deepEqual(p.onAlert(alert('orders', 'duplicates', 'warning'), 0), { show: false, why: 'level' });
  assert.equal(p.onAlert(alert('orders', 'duplicates', 'critical'), 1).show, true);
  p.setLevel('off');
  assert.deepEqual(p.onAlert(alert('orders', 'parse', 'critical'), 2), { show: false, why: 'level' });
  p.setLevel('warning');
  assert.deepEqual(p.onAlert(alert('orders', 'parse', 'critical'), 3), { show: false, why: 'repeat' });
  p.setLevel('off');
  assert.deepEqual(p.onRecovered(recovered('orders', 'parse'), 4), { show: false });
});

test('mute silences one pipeline for an hour, then expires', () => {
  const p = new AlertNoticePolicy('warning', noCoalesce);
  p.mute('orders', 0);
  assert.deepEqual(p.onAlert(alert('orders', 'missing', 'warning'), 10_000), { show: false, why: 'muted' });
  assert.equal(p.onAlert(alert('payments', 'missing', 'warning'), 10_000).show, true);
  assert.deepEqual(p.onRecovered(recovered('orders', 'missing'), 20_000), { show: false });
  assert.equal(p.isMuted('orders', 3_599_999), true);
  assert.equal(p.onAlert(alert('orders', 'missing', 'warning'), 3_600_000).show, true);
});

test('alerts of one pipeline within the coalescing window fold into the first notice', () => {
  const p = new AlertNoticePolicy('warning', { coalesceMs: 10_000 });
  assert.equal(p.onAlert(alert('orders', null, 'warning'), 0).show, true);
  assert.deepEqual(p.onAlert(alert('orders', 'duplicates', 'warning'), 500), { show: false, why: 'coalesced' });
  assert.equal(p.onAlert(alert('orders', 'missing', 'critical'), 600).show, true);
  assert.equal(p.onAlert(alert('payments', 'missing', 'warning'), 700).show, true);
  assert.equal(p.onAlert(alert('orders', 'schema', 'warning'), 10_601).show, true);
});

test('forgetting a stopped pipeline clears its crossings and mute', () => {
  const p = new AlertNoticePolicy('warning', noCoalesce);
  p.onAlert(alert('orders', null, 'warning'), 0);
  p.mute('orders', 0);
  p.forget('orders');
  assert.equal(p.isMuted('orders', 1), false);
  assert.equal(p.onAlert(alert('orders', null, 'warning'), 2).show, true);
});

test('severity and level coercion', () => {
  assert.equal(noticeKindFor('critical'), 'error');
  assert.equal(noticeKindFor('warning'), 'warning');
  assert.equal(noticeKindFor('info'), 'info');
  assert.equal(notificationLevelFrom('critical'), 'critical');
  assert.equal(notificationLevelFrom('loud'), 'warning');
  assert.equal(notificationLevelFrom(undefined), 'warning');
});

test('a notice is the alert\'s message without its record pointer, cut short at a word', () => {
  assert.equal(
    noticeText({ pipeline: 'orders', message: 'duplicates in the last 2000 records: 6.9% of records repeat one earlier in the window (usually 0%). Latest: record 3272 (position 2@1533).' }),
    'Clean Streams · orders: duplicates in the last 2000 records: 6.9% of records repeat one earlier in the window (usually 0%).',
  );
  // A score alert whose latest record has no sample ends with a blank: trimmed.
  assert.equal(
    noticeText({ pipeline: 'orders', message: 'Quality score 0.749 is below the threshold 0.80 over the last 2000 records; duplicates: 25% of records repeat one earlier in the window (usually 0%). ' }),
    'Clean Streams · orders: Quality score 0.749 is below the threshold 0.80 over the last 2000 records; duplicates: 25% of records repeat one earlier in the window (usually 0%).',
  );
  const long = `missing in the last 1000 records: ${Array.from({ length: 60 }, (_, i) => `f${i}`).join(' ')}. Latest: record 9.`;
  const text = noticeText({ pipeline: 'p', message: long });
  assert.equal(
    text,
    'Clean Streams · p: missing in the last 1000 records: f0 f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13 f14 f15 f16 f17 f18 f19 f20 f21 f22 f23 f24 f25 f26 f27 f28 f29 f30 f31 f32 f33 f34 f35 f36 f37 f38 f39 f40 f41 f42…',
  );
  assert.equal(text.length - 'Clean Streams · p: '.length, 196);
  assert.ok(text.length - 'Clean Streams · p: '.length <= NOTICE_MAX_CHARS);
  assert.equal(noticeText({ pipeline: 'p', message: 'x'.repeat(250) }), `Clean Streams · p: ${'x'.repeat(199)}…`);
});

test('the policy shows the short text', () => {
  const p = new AlertNoticePolicy('warning', noCoalesce);
  assert.deepEqual(p.onAlert(alert('orders', 'parse', 'critical', 'parse in the last 1000 records: 3.0% of messages are not JSON objects (over the 1.0% limit). Latest: record 77.'), 0), {
    show: true,
    kind: 'error',
    text: 'Clean Streams · orders: parse in the last 1000 records: 3.0% of messages are not JSON objects (over the 1.0% limit).',
  });
});

test('notice actions: "This is normal" next to the others, except for broken rules', () => {
  assert.deepEqual(noticeActions({ detector: 'duplicates' }), ['Open Chart', 'Show Samples', 'This is normal', 'Mute for 1 hour']);
  assert.deepEqual(noticeActions({ detector: null }), ['Open Chart', 'Show Samples', 'This is normal', 'Mute for 1 hour']);
  assert.deepEqual(noticeActions({ detector: 'rules' }), ['Open Chart', 'Show Samples', 'Mute for 1 hour']);
});

test('"This is normal" on an alert: its detector, its one field, or for a score alert the one detector out now', () => {
  const field = (name: string | null) => ({ name, share: 0.1, usual: 0, detail: `${name}` });
  const one = { pipeline: 'orders', detector: 'schema' as const, fields: [field('dist')] };
  assert.deepEqual(acceptNormalParamsFor(one, []), { pipeline: 'orders', detector: 'schema', field: 'dist' });
  assert.deepEqual(acceptNormalParamsFor({ ...one, fields: [field('dist'), field('distance')] }, ['schema']), { pipeline: 'orders', detector: 'schema' });
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: 'duplicates', fields: [field(null)] }, []), { pipeline: 'orders', detector: 'duplicates' });
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: 'missing', fields: [] }, []), { pipeline: 'orders', detector: 'missing' });
  // Score alerts: one detector standing out is the one accepted, with no field; none or several: every detector, in one request.
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: null, fields: [field('amount')] }, ['outliers']), { pipeline: 'orders', detector: 'outliers' });
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: null, fields: [field('amount'), field(null)] }, ['outliers', 'duplicates']), { pipeline: 'orders' });
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: null, fields: [] }, []), { pipeline: 'orders' });
  // Broken rules never become normal: the other detector out is the one accepted.
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: null, fields: [field('amount')] }, ['rules', 'schema']), { pipeline: 'orders', detector: 'schema' });
  assert.deepEqual(acceptNormalParamsFor({ pipeline: 'orders', detector: null, fields: [field('amount')] }, ['rules']), { pipeline: 'orders' });
});

test('the detectors standing out in a check', () => {
  assert.deepEqual(outDetectors(undefined), []);
  assert.deepEqual(
    outDetectors({ detectors: { outliers: { rate: 0.1, count: 1, threshold: 0.05, out: true }, duplicates: { rate: 0.2, count: 2, threshold: 0.05 }, missing: { rate: 0.3, count: 3, threshold: 0.1, out: true }, parse: { rate: 0, count: 0, threshold: 0.01, out: false } } }),
    ['outliers', 'missing'],
  );
});
