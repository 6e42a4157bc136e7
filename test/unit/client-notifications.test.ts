import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptNormalParamsFor,
  alertFigure,
  AlertNoticePolicy,
  foldedNoticeText,
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
/** Shows every alert the moment it is flushed: no gathering, no quiet period. */
const noFold = { gatherMs: 0, coalesceMs: 0 };

/** Alert at `now`, then the notice that flushing at the same time gives (what a user sees with no folding). */
function shownAt(p: AlertNoticePolicy, a: AlertEvent, now: number) {
  const d = p.onAlert(a, now);
  if (d.show) return { kind: d.notice.kind, text: d.notice.text };
  if (d.why !== 'held') return d;
  const n = p.flush(a.pipeline, now);
  return n ? { kind: n.kind, text: n.text } : { flushed: 'nothing' };
}

test('one notice per crossing: repeats of an active alert are not shown, an escalation is', () => {
  const p = new AlertNoticePolicy('warning', noFold);
  assert.deepEqual(shownAt(p, alert('orders', null, 'warning', 'score 0.74 < 0.80'), 1000), { kind: 'warning', text: 'Clean Streams · orders: score 0.74 < 0.80' });
  assert.deepEqual(p.onAlert(alert('orders', null, 'warning'), 2000), { show: false, why: 'repeat' });
  assert.deepEqual(shownAt(p, alert('orders', null, 'critical', 'score 0.55'), 3000), { kind: 'error', text: 'Clean Streams · orders: score 0.55' });
  assert.deepEqual(p.onAlert(alert('orders', null, 'critical'), 4000), { show: false, why: 'repeat' });
  // Recovery ends the crossing; the next breach is a new one.
  assert.deepEqual(p.onRecovered(recovered('orders', null), 5000), { show: true, text: '$(pass) orders: quality recovered: 0.95 ≥ 0.80' });
  assert.deepEqual(p.onRecovered(recovered('orders', null), 5500), { show: false });
  assert.deepEqual(shownAt(p, alert('orders', null, 'warning', 'again'), 6000), { kind: 'warning', text: 'Clean Streams · orders: again' });
});

test('the level setting filters severities, and a filtered alert still counts as active', () => {
  const p = new AlertNoticePolicy('critical', noFold);
  assert.deepEqual(p.onAlert(alert('orders', 'duplicates', 'warning'), 0), { show: false, why: 'level' });
  assert.deepEqual(shownAt(p, alert('orders', 'duplicates', 'critical'), 1), { kind: 'error', text: 'Clean Streams · orders: duplicates critical' });
  p.setLevel('off');
  assert.deepEqual(p.onAlert(alert('orders', 'parse', 'critical'), 2), { show: false, why: 'level' });
  p.setLevel('warning');
  assert.deepEqual(p.onAlert(alert('orders', 'parse', 'critical'), 3), { show: false, why: 'repeat' });
  p.setLevel('off');
  assert.deepEqual(p.onRecovered(recovered('orders', 'parse'), 4), { show: false });
});

test('a muted pipeline shows no notice and no recovery; held alerts of a pipeline muted meanwhile are dropped', () => {
  const muted = new Set<string>(['orders']);
  const p = new AlertNoticePolicy('warning', { gatherMs: 1000, coalesceMs: 10_000, isMuted: (pipeline) => muted.has(pipeline) });
  assert.deepEqual(p.onAlert(alert('orders', 'missing', 'warning'), 10_000), { show: false, why: 'muted' });
  assert.deepEqual(p.onRecovered(recovered('orders', 'missing'), 20_000), { show: false });
  assert.deepEqual(p.onAlert(alert('payments', 'missing', 'warning'), 30_000), { show: false, why: 'held', due: 31_000 });
  muted.add('payments');
  assert.equal(p.flush('payments', 31_000), undefined);
  assert.equal(p.dueOf('payments'), undefined);
});

test('alerts that fire together fold into one notice that leads with the most severe and names the others', () => {
  // The burst of issue 17: missing first, then duplicates warning and critical and the score, within the gathering second.
  const p = new AlertNoticePolicy('warning', { gatherMs: 1000, coalesceMs: 10_000 });
  const burst = [
    { ...alert('orders', 'missing', 'warning', 'missing in the last 1000 records: customerId 12%.'), value: 0.12 },
    { ...alert('orders', 'duplicates', 'warning', 'duplicates 15%'), value: 0.15 },
    { ...alert('orders', null, 'warning', 'Quality score 0.58 is below the threshold 0.80.'), value: 0.58 },
    { ...alert('orders', 'duplicates', 'critical', 'duplicates in the last 1000 records: 33% of records repeat one earlier in the window (usually 0%).'), value: 0.33 },
  ];
  assert.deepEqual(p.onAlert(burst[0]!, 0), { show: false, why: 'held', due: 1000 });
  assert.deepEqual(p.onAlert(burst[1]!, 200), { show: false, why: 'held', due: 1000 });
  assert.deepEqual(p.onAlert(burst[2]!, 300), { show: false, why: 'held', due: 1000 });
  assert.deepEqual(p.onAlert(burst[3]!, 900), { show: false, why: 'held', due: 1000 });
  assert.equal(p.flush('orders', 999), undefined, 'not before it is due');
  const notice = p.flush('orders', 1000)!;
  assert.equal(notice.kind, 'error');
  assert.equal(notice.alert, burst[3]);
  // The earlier duplicates warning was replaced by its critical: one metric, one mention.
  assert.deepEqual(notice.others, [burst[0], burst[2]]);
  assert.equal(
    notice.text,
    'Clean Streams · orders: duplicates in the last 1000 records: 33% of records repeat one earlier in the window (usually 0%). — and 2 more: missing 12%, score 0.58',
  );
  assert.equal(p.dueOf('orders'), undefined);
  assert.equal(p.flush('orders', 1001), undefined);
});

test('after a notice, milder alerts are held for the quiet period and then shown; a worse one is shown at once', () => {
  const p = new AlertNoticePolicy('warning', { gatherMs: 1000, coalesceMs: 10_000 });
  p.onAlert({ ...alert('orders', 'missing', 'warning', 'missing 12%'), value: 0.12 }, 0);
  assert.equal(p.flush('orders', 1000)!.text, 'Clean Streams · orders: missing 12%');
  // A second warning within the quiet period waits for its end (never dropped).
  assert.deepEqual(p.onAlert({ ...alert('orders', 'schema', 'warning', 'schema 4.0%'), value: 0.04 }, 2000), { show: false, why: 'held', due: 11_000 });
  assert.deepEqual(p.onAlert({ ...alert('orders', 'outliers', 'warning', 'outliers 2.0%'), value: 0.02 }, 2500), { show: false, why: 'held', due: 11_000 });
  // A critical is worse than the warning shown: at once, naming what was held.
  const worse = p.onAlert({ ...alert('orders', null, 'critical', 'score 0.55'), value: 0.55 }, 3000);
  assert.ok(worse.show);
  assert.equal(worse.notice.text, 'Clean Streams · orders: score 0.55 — and 2 more: schema 4.0%, outliers 2.0%');
  assert.equal(worse.notice.kind, 'error');
  // Nothing is held any more; a warning now waits for the new quiet period (from the critical notice).
  assert.equal(p.dueOf('orders'), undefined);
  assert.deepEqual(p.onAlert({ ...alert('orders', 'parse', 'warning', 'parse 3.0%'), value: 0.03 }, 4000), { show: false, why: 'held', due: 13_000 });
  // A held alert that recovers before its notice is no news.
  p.onRecovered(recovered('orders', 'parse'), 5000);
  assert.equal(p.flush('orders', 13_000), undefined);
  // Once the quiet period is over, the next alert starts a new fold.
  assert.deepEqual(p.onAlert({ ...alert('orders', 'labels', 'warning', 'labels 9.0%'), value: 0.09 }, 20_000), { show: false, why: 'held', due: 21_000 });
  assert.equal(p.flush('orders', 21_000)!.text, 'Clean Streams · orders: labels 9.0%');
});

test('a held critical is shown when its quiet period ends; other pipelines fold on their own', () => {
  const p = new AlertNoticePolicy('warning', { gatherMs: 1000, coalesceMs: 10_000 });
  p.onAlert(alert('orders', 'missing', 'critical', 'missing 40%'), 0);
  p.onAlert(alert('payments', 'missing', 'warning', 'payments missing'), 100);
  assert.equal(p.flush('orders', 1000)!.text, 'Clean Streams · orders: missing 40%');
  assert.equal(p.flush('payments', 1100)!.text, 'Clean Streams · payments: payments missing');
  // As severe as the notice shown, not worse: held until the quiet period ends, then shown, not hidden.
  assert.deepEqual(p.onAlert({ ...alert('orders', 'duplicates', 'critical', 'duplicates 40%'), value: 0.4 }, 2000), { show: false, why: 'held', due: 11_000 });
  const later = p.flush('orders', 11_000)!;
  assert.equal(later.text, 'Clean Streams · orders: duplicates 40%');
  assert.equal(later.kind, 'error');
});

test('a folded notice names at most four others, then "…"', () => {
  const others = (['duplicates', 'missing', 'schema', 'parse', 'outliers'] as const).map((d, i) => ({ detector: d, value: (i + 1) / 100 }));
  assert.equal(
    foldedNoticeText({ pipeline: 'orders', message: 'score 0.40' }, [{ detector: null, value: 0.5 }, ...others]),
    'Clean Streams · orders: score 0.40 — and 6 more: score 0.50, duplicates 1.0%, missing 2.0%, schema 3.0%, …',
  );
  assert.equal(alertFigure({ detector: null, value: 0.589 }), 'score 0.58');
  assert.equal(alertFigure({ detector: 'duplicates', value: 0.15 }), 'duplicates 15%');
});

test('forgetting a stopped pipeline clears its crossings and held alerts', () => {
  const p = new AlertNoticePolicy('warning', noFold);
  p.onAlert(alert('orders', null, 'warning'), 0);
  p.forget('orders');
  assert.equal(p.dueOf('orders'), undefined);
  assert.deepEqual(p.onAlert(alert('orders', null, 'warning'), 2), { show: false, why: 'held', due: 2 });
});

test('notices and recoveries are inert: a name or field that looks like a link or an icon stays text', () => {
  const p = new AlertNoticePolicy('warning', noFold);
  const evil = alert('[Open](command:clean.stopPipeline)', 'missing', 'warning', 'missing: field [x](command:workbench.action.terminal.new) $(zap) 100%');
  assert.deepEqual(shownAt(p, evil, 0), {
    kind: 'warning',
    text: 'Clean Streams · [Open]\u200B(command:clean.stopPipeline): missing: field [x]\u200B(command:workbench.action.terminal.new) $\u200B(zap) 100%',
  });
  assert.deepEqual(p.onRecovered({ ...recovered('[Open](command:clean.stopPipeline)', 'missing'), message: '$(check) ok' }, 1), {
    show: true,
    text: '$(pass) [Open]\u200B(command:clean.stopPipeline): $\u200B(check) ok',
  });
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
  const p = new AlertNoticePolicy('warning', noFold);
  assert.deepEqual(shownAt(p, alert('orders', 'parse', 'critical', 'parse in the last 1000 records: 3.0% of messages are not JSON objects (over the 1.0% limit). Latest: record 77.'), 0), {
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
