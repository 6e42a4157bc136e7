import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertNoticePolicy, noticeKindFor, notificationLevelFrom } from '../../client/model/alertNotices';
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
