/**
 * What each sink sends, received by a real local HTTP server and checked field by field against the shapes
 * documented in docs/alerts.md (webhook), by Slack (incoming webhooks, chat.postMessage, Block Kit), by
 * PagerDuty (Events API v2) and by Alertmanager (API v2 postableAlerts); the command sink runs a real program.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SinkSet, sinkProblems, testEvent, type SinkConfig, type SinkEvent } from '../../server/alerts';
import { sinkFilter } from '../../server/alerts/filter';
import type { AlertEvent, RecoveredEvent } from '../../server/engine/events';
import { Receiver } from '../helpers/receiver';
import { tempDir } from '../helpers/tempDir';

const T = Date.UTC(2026, 11, 2, 14, 2, 11);
const DETAIL = '"amount": 9% of records far outside its usual range 1.2 … 950 (usually 0.1%), e.g. 1200000';
const ALERT: AlertEvent = {
  type: 'alert',
  pipeline: 'orders',
  time: T,
  severity: 'critical',
  detector: 'outliers',
  value: 0.09,
  threshold: 0.05,
  records: 15000,
  message: DETAIL,
  samples: [{ record: 14998, position: '2@1534' }, { record: 14999 }],
  fields: [{ name: 'amount', share: 0.09, usual: 0.001, detail: DETAIL, examples: [1200000], range: [1.2, 950] }],
};
const RECOVERED: RecoveredEvent = { ...ALERT, type: 'recovered', time: T + 60_000, message: 'outliers back to normal', samples: [], fields: [] };

const SECRETS: Record<string, string> = { 'hook-key': 'k3y-for-tests', 'pd-routing': 'R0UTINGKEY', 'slack-bot': 'xoxb-test-token' };

function ctx(lines: string[] = []) {
  return { log: { debug() {}, info() {}, warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m) }, secret: async (n: string) => SECRETS[n] };
}

async function run(config: SinkConfig, events: SinkEvent[], receiver?: Receiver): Promise<SinkSet> {
  const set = SinkSet.fromConfig([{ backoffMs: 5, ...config }], ctx());
  for (const e of events) set.deliver(e);
  await set.flush(5000);
  if (receiver) assert.equal(receiver.requests.length, events.length);
  return set;
}

test('webhook: the event as JSON, its type in a header, signed with HMAC-SHA256 of the raw body', async () => {
  const r = await new Receiver().start();
  const set = await run({ kind: 'webhook', url: r.url + '/hooks/clean', secret: 'hook-key' }, [ALERT, RECOVERED], r);
  const [a, b] = r.requests;
  assert.equal(a.method, 'POST');
  assert.equal(a.path, '/hooks/clean');
  assert.equal(a.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(a.headers['x-clean-event'], 'alert');
  assert.equal(b.headers['x-clean-event'], 'recovered');
  assert.equal(a.body, JSON.stringify(ALERT));
  assert.deepEqual(b.json, RECOVERED);
  // The receiver verifies the signature with the key it shares.
  for (const q of r.requests) {
    const expected = 'sha256=' + createHmac('sha256', 'k3y-for-tests').update(q.body).digest('hex');
    assert.equal(q.headers['x-clean-signature'], expected);
  }
  assert.equal(set.stats()[0].delivered, 2);
  await set.close();
  await r.close();
});

test('webhook: a named secret that is not set fails without a retry and says how to set it', async () => {
  const r = await new Receiver().start();
  const set = await run({ kind: 'webhook', url: r.url, secret: 'missing-key' }, [ALERT]);
  assert.equal(r.requests.length, 0);
  assert.deepEqual(set.stats()[0], {
    name: 'webhook',
    kind: 'webhook',
    queued: 0,
    delivered: 0,
    failed: 1,
    dropped: 0,
    retries: 0,
    failing: true,
    lastError: 'the secret "missing-key" (webhook signature key) is not set: store it with "Clean: Set Secret…" (headless: CLEAN_SECRET_MISSING_KEY)',
  });
  await set.close();
  await r.close();
});

const SLACK_ALERT = {
  text: 'Critical: orders · outliers: outliers 9 % (limit 5 %)',
  blocks: [
    { type: 'header', text: { type: 'plain_text', text: 'Critical: orders · outliers', emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: `:rotating_light: ${DETAIL}` } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: '*Pipeline*\norders' },
        { type: 'mrkdwn', text: '*Detector*\noutliers' },
        { type: 'mrkdwn', text: '*Rate*\n9 % (limit 5 %)' },
        { type: 'mrkdwn', text: '*Severity*\ncritical' },
      ],
    },
    { type: 'section', text: { type: 'mrkdwn', text: `*Fields*\n• ${DETAIL}` } },
    { type: 'context', elements: [{ type: 'mrkdwn', text: 'Samples: #14998 (2@1534), #14999' }] },
  ],
};
const SLACK_RECOVERED = {
  text: 'Recovered: orders · outliers, ending the critical alert of 2026-12-02 14:02:11 UTC',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: *Recovered: orders · outliers*\nEnds the critical alert of 2026-12-02 14:02:11 UTC.\noutliers back to normal' } }],
};

test('slack incoming webhook: Block Kit with pipeline, rate, detector, fields and samples; the recovery names its alert', async () => {
  const r = await new Receiver().start();
  const set = await run({ kind: 'slack', url: r.url + '/services/T000/B000/XXXX' }, [ALERT, RECOVERED], r);
  assert.equal(r.requests[0].path, '/services/T000/B000/XXXX');
  assert.deepEqual(r.requests[0].json, SLACK_ALERT);
  assert.deepEqual(r.requests[1].json, SLACK_RECOVERED);
  await set.close();
  await r.close();
});

test('slack: a score alert shows the score and its threshold; mrkdwn is escaped', async () => {
  const r = await new Receiver().start();
  const score: AlertEvent = { ...ALERT, detector: null, severity: 'warning', value: 0.62, threshold: 0.8, message: 'score 0.62 < 0.80 & falling', fields: [], samples: [] };
  const set = await run({ kind: 'slack', url: r.url }, [score], r);
  assert.deepEqual(r.requests[0].json, {
    text: 'Warning: orders · score: score 0.62 (threshold 0.80)',
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Warning: orders · score', emoji: true } },
      { type: 'section', text: { type: 'mrkdwn', text: ':warning: score 0.62 &lt; 0.80 &amp; falling' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: '*Pipeline*\norders' },
          { type: 'mrkdwn', text: '*Detector*\nscore' },
          { type: 'mrkdwn', text: '*Score*\n0.62 (threshold 0.80)' },
          { type: 'mrkdwn', text: '*Severity*\nwarning' },
        ],
      },
    ],
  });
  await set.close();
  await r.close();
});

test('slack chat.postMessage: bot token from a named secret, the recovery in the alert thread', async () => {
  const ok = { status: 200, body: '{"ok":true,"channel":"C1","ts":"1764684131.000100"}', headers: { 'Content-Type': 'application/json' } };
  const r = await new Receiver([ok, { ...ok, body: '{"ok":true,"ts":"1764684191.000200"}' }]).start();
  const set = await run({ kind: 'slack', url: r.url + '/api/chat.postMessage', channel: '#data-alerts', secret: 'slack-bot' }, [ALERT, RECOVERED], r);
  assert.equal(r.requests[0].headers.authorization, 'Bearer xoxb-test-token');
  assert.deepEqual(r.requests[0].json, { ...SLACK_ALERT, channel: '#data-alerts' });
  assert.deepEqual(r.requests[1].json, { ...SLACK_RECOVERED, channel: '#data-alerts', thread_ts: '1764684131.000100' });
  await set.close();
  await r.close();
});

test('slack chat.postMessage: {"ok":false} is a failure with Slack\'s error, retried only when Slack says so', async () => {
  const r = await new Receiver([], { status: 200, body: '{"ok":false,"error":"channel_not_found"}' }).start();
  const set = await run({ kind: 'slack', url: r.url, channel: '#nope', secret: 'slack-bot' }, [ALERT], r);
  assert.equal(set.stats()[0].lastError, 'Slack: channel_not_found');
  assert.equal(set.stats()[0].retries, 0);
  await set.close();
  await r.close();
});

test('pagerduty: Events API v2 trigger and resolve with one dedup_key per pipeline and detector', async () => {
  const accepted = { status: 202, body: '{"status":"success","message":"Event processed","dedup_key":"clean-streams/orders/outliers"}' };
  const r = await new Receiver([], accepted).start();
  const set = await run({ kind: 'pagerduty', url: r.url + '/v2/enqueue', secret: 'pd-routing' }, [ALERT, RECOVERED], r);
  assert.equal(r.requests[0].path, '/v2/enqueue');
  assert.deepEqual(r.requests[0].json, {
    routing_key: 'R0UTINGKEY',
    event_action: 'trigger',
    dedup_key: 'clean-streams/orders/outliers',
    client: 'Clean Streams',
    payload: {
      summary: '[critical] orders: outliers 9 % (limit 5 %)',
      source: os.hostname(),
      severity: 'critical',
      timestamp: '2026-12-02T14:02:11.000Z',
      component: 'orders',
      class: 'outliers',
      custom_details: { message: DETAIL, pipeline: 'orders', detector: 'outliers', value: 0.09, threshold: 0.05, records: 15000, fields: [DETAIL], samples: '#14998 (2@1534), #14999' },
    },
  });
  assert.deepEqual(r.requests[1].json, { routing_key: 'R0UTINGKEY', event_action: 'resolve', dedup_key: 'clean-streams/orders/outliers' });
  assert.equal(set.stats()[0].delivered, 2);
  await set.close();
  await r.close();
});

test('alertmanager: labels and annotations posted to /api/v2/alerts; recovery posts the same labels with endsAt', async () => {
  const r = await new Receiver().start();
  const before = Date.now();
  const set = await run({ kind: 'alertmanager', url: r.url + '/' }, [ALERT, RECOVERED], r);
  const [fire, end] = r.requests.map((q) => q.json as Array<Record<string, unknown>>);
  assert.equal(r.requests[0].path, '/api/v2/alerts');
  const labels = { alertname: 'CleanStreamsQuality', pipeline: 'orders', detector: 'outliers', severity: 'critical' };
  const annotations = { summary: '[critical] orders: outliers 9 % (limit 5 %)', description: DETAIL, value: 'outliers 9 % (limit 5 %)', fields: DETAIL, samples: '#14998 (2@1534), #14999' };
  assert.deepEqual(fire, [{ labels, annotations, startsAt: '2026-12-02T14:02:11.000Z' }]);
  assert.equal(end.length, 1);
  assert.deepEqual(end[0].labels, labels);
  assert.equal(end[0].startsAt, '2026-12-02T14:02:11.000Z');
  const endsAt = Date.parse(end[0].endsAt as string);
  assert.ok(endsAt >= before && endsAt <= Date.now(), 'endsAt is now');
  await set.close();
  await r.close();
});

test('alertmanager: firing alerts are re-posted every resendMs until they recover', async () => {
  const r = await new Receiver().start();
  const set = SinkSet.fromConfig([{ kind: 'alertmanager', url: r.url, resendMs: 100 }], ctx());
  set.deliver(ALERT);
  await r.received(3, 5000);
  const bodies = r.requests.map((q) => q.body);
  assert.equal(bodies[1], bodies[0]);
  assert.equal(bodies[2], bodies[0]);
  set.deliver(RECOVERED);
  await set.flush(5000);
  const n = r.requests.length;
  await new Promise((res) => setTimeout(res, 350));
  assert.equal(r.requests.length, n, 'nothing re-posted after the recovery');
  await set.close();
  await r.close();
});

test('command: runs the program without a shell, the event as JSON on stdin; a nonzero exit fails with its stderr', async () => {
  const dir = tempDir('clean-sink-');
  const out = path.join(dir, 'event.json');
  const script = path.join(dir, 'hook.js');
  writeFileSync(script, `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{require('fs').writeFileSync(process.argv[2], s + process.env.CLEAN_EVENT); if (process.argv[3]) { process.stderr.write('no luck\\n'); process.exit(3); }});`);
  const set = await run({ kind: 'command', command: [process.execPath, script, out] }, [ALERT]);
  assert.equal(readFileSync(out, 'utf8'), JSON.stringify(ALERT) + '\nalert');
  assert.equal(set.stats()[0].delivered, 1);
  await set.close();
  const failing = await run({ kind: 'command', command: [process.execPath, script, out, 'fail'], retries: 1 }, [ALERT]);
  assert.deepEqual(failing.stats()[0], { name: 'command', kind: 'command', queued: 0, delivered: 0, failed: 1, dropped: 0, retries: 1, lastError: `${process.execPath} exited with code 3: no luck`, failing: true });
  await failing.close();
  // "; rm -rf" is an argument, not shell syntax.
  const literal = await run({ kind: 'command', command: [process.execPath, script, out + '; echo hi'] }, [ALERT]);
  assert.equal(readFileSync(out + '; echo hi', 'utf8'), JSON.stringify(ALERT) + '\nalert');
  await literal.close();
  const missing = await run({ kind: 'command', command: ['/nonexistent/clean-hook'] }, [ALERT]);
  assert.deepEqual(missing.stats()[0].lastError, 'program not found: /nonexistent/clean-hook');
  assert.equal(missing.stats()[0].retries, 0);
  await missing.close();
});

test('command: a program that runs past the timeout is killed', async () => {
  const set = await run({ kind: 'command', command: [process.execPath, '-e', 'setTimeout(() => {}, 60000)'], timeoutMs: 200, retries: 0 }, [ALERT]);
  assert.equal(set.stats()[0].lastError, 'timed out after 200 ms');
  assert.equal(set.stats()[0].failed, 1);
  await set.close();
});

test('filter: minimum severity, pipelines and detectors (score by name)', () => {
  const warn: AlertEvent = { ...ALERT, severity: 'warning' };
  const score: AlertEvent = { ...ALERT, detector: null };
  assert.deepEqual([ALERT, warn].map(sinkFilter({ minSeverity: 'critical' })), [true, false]);
  assert.deepEqual([ALERT, { ...ALERT, pipeline: 'payments' }].map(sinkFilter({ pipelines: ['orders'] })), [true, false]);
  assert.deepEqual([ALERT, score].map(sinkFilter({ detectors: ['score'] })), [false, true]);
  assert.deepEqual([ALERT, warn, score, RECOVERED].map(sinkFilter({})), [true, true, true, true]);
});

test('filtered events are not queued at all', async () => {
  const r = await new Receiver().start();
  const set = await run({ kind: 'webhook', url: r.url, minSeverity: 'critical', detectors: ['schema'] }, []);
  set.deliver(ALERT);
  set.deliver({ ...ALERT, detector: 'schema', severity: 'warning' });
  set.deliver({ ...ALERT, detector: 'schema' });
  await set.flush(5000);
  assert.deepEqual(r.requests.map((q) => [(q.json as AlertEvent).detector, (q.json as AlertEvent).severity]), [['schema', 'critical']]);
  await set.close();
  await r.close();
});

test('sink declarations: what is missing or unsafe is said, credentials in URLs are refused', () => {
  assert.deepEqual(sinkProblems({ kind: 'webhook' }), ['A webhook sink needs a url.']);
  assert.deepEqual(sinkProblems({ kind: 'pagerduty' }), ['A pagerduty sink needs secret: <name>, the name of the secret holding the routing key (integration key).']);
  assert.deepEqual(sinkProblems({ kind: 'command', command: [] }), ['A command sink needs command: [program, args…] (run without a shell).']);
  assert.deepEqual(sinkProblems({ kind: 'webhook', url: 'ftp://example.com/x' }), ['The url of an alert sink must be http:// or https://, not "ftp://example.com/x".']);
  const [problem] = sinkProblems({ kind: 'webhook', url: 'https://user:s3cret@example.com/hook' });
  assert.match(problem, /^Do not put a password in a URL/);
  assert.ok(!problem.includes('s3cret'));
  assert.match(sinkProblems({ kind: 'webhook', url: 'https://example.com/hook?token=abc' })[0], /^Do not put a credential in a URL \(the parameter "token"\)/);
  assert.deepEqual(sinkProblems({ kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' }), []);
  const lines: string[] = [];
  const set = SinkSet.fromConfig([{ kind: 'webhook' }, { kind: 'webhook', url: 'http://127.0.0.1:9/a' }, { kind: 'webhook', url: 'http://127.0.0.1:9/b' }], ctx(lines));
  assert.deepEqual(set.stats().map((s) => s.name), ['webhook-2', 'webhook-3']);
  assert.deepEqual(lines, ['alert sink webhook not started: A webhook sink needs a url.']);
});

test('a test event goes straight to the sink and reports the receiver\'s answer', async () => {
  const r = await new Receiver([{ status: 500, body: 'nope' }]).start();
  const set = SinkSet.fromConfig([{ kind: 'webhook', name: 'ops', url: r.url }], ctx());
  const failed = await set.test('ops', testEvent('orders', T));
  assert.deepEqual(failed, { ok: false, message: 'Test alert to ops (webhook) failed: HTTP 500: nope.' });
  const ok = await set.test('ops', testEvent('orders', T));
  assert.equal(ok.ok, true);
  assert.match(ok.message, /^Test alert delivered to ops \(webhook\) in \d+ ms\.$/);
  assert.equal(r.requests[1].headers['x-clean-event'], 'test');
  assert.equal((r.requests[1].json as SinkEvent).test, true);
  assert.deepEqual(set.stats()[0].delivered, 0, 'a test is not counted as a delivered alert');
  assert.deepEqual(await set.test('nope', testEvent('orders')), { ok: false, message: 'no alert sink named nope' });
  await set.close();
  await r.close();
});

test('slack: the incoming-webhook URL may be kept as a secret, named in secret:', async () => {
  const r = await new Receiver().start();
  SECRETS['slack-url'] = `${r.url}/services/T1/B1/SECRETPATH`;
  const set = await run({ kind: 'slack', secret: 'slack-url' }, [ALERT], r);
  assert.equal(r.requests[0].path, '/services/T1/B1/SECRETPATH');
  assert.deepEqual(r.requests[0].json, SLACK_ALERT);
  assert.deepEqual(sinkProblems({ kind: 'slack' }), ['A slack sink needs the url of an incoming webhook, or secret: <name> of a secret holding that URL (or channel and secret for chat.postMessage).']);
  await set.close();
  await r.close();
});
