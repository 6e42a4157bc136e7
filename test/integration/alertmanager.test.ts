/**
 * The alertmanager sink against a real Alertmanager (prometheus-alertmanager 0.25, scripts/broker): the alert
 * a pipeline raised is read back from GET /api/v2/alerts with its labels and annotations, and once the
 * recovery is posted it is gone from the active alerts, resolved.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SinkSet } from '../../server/alerts';
import type { AlertEvent, RecoveredEvent } from '../../server/engine/events';
import { useBroker, type Broker } from '../helpers/broker';

let broker: Broker | undefined;
after(async () => broker?.release());

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  status: { state: string };
}

async function alertsOf(url: string, pipeline: string): Promise<GettableAlert[]> {
  const res = await fetch(`${url}/api/v2/alerts?filter=${encodeURIComponent(`pipeline="${pipeline}"`)}`);
  assert.equal(res.status, 200);
  return (await res.json()) as GettableAlert[];
}

async function eventually<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(v)} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('an alert is read back from Alertmanager with its labels, then resolved by the recovery', { timeout: 120_000 }, async () => {
  broker = await useBroker('alertmanager');
  const url = broker.url;
  const pipeline = `orders-${randomBytes(4).toString('hex')}`;
  const time = Date.now() - 5000;
  const alert: AlertEvent = {
    type: 'alert',
    pipeline,
    time,
    severity: 'critical',
    detector: 'duplicates',
    value: 0.5,
    threshold: 0.05,
    records: 3000,
    message: '50% of records repeat one earlier in the window',
    samples: [{ record: 2999, position: 2999 }],
    fields: [{ name: null, share: 0.5, usual: 0, detail: '50% of records repeat one earlier in the window' }],
  };
  const lines: string[] = [];
  const sinks = SinkSet.fromConfig([{ kind: 'alertmanager', url }], { log: { debug() {}, info() {}, warn: (m) => lines.push(m), error: (m) => lines.push(m) }, secret: async () => undefined });
  sinks.deliver(alert);
  assert.deepEqual(await sinks.flush(10_000), { delivered: 1, left: 0 });

  const [got] = await eventually('the alert', () => alertsOf(url, pipeline), (a) => a.length === 1);
  assert.deepEqual(got.labels, { alertname: 'CleanStreamsQuality', pipeline, detector: 'duplicates', severity: 'critical' });
  assert.deepEqual(got.annotations, {
    summary: `[critical] ${pipeline}: duplicates 50 % (limit 5 %)`,
    description: '50% of records repeat one earlier in the window',
    value: 'duplicates 50 % (limit 5 %)',
    fields: '50% of records repeat one earlier in the window',
    samples: '#2999 (2999)',
  });
  assert.equal(got.status.state, 'active');
  assert.equal(Date.parse(got.startsAt), time);

  const recovered: RecoveredEvent = { ...alert, type: 'recovered', time: Date.now(), message: 'duplicates back to normal', samples: [], fields: [] };
  sinks.deliver(recovered);
  assert.deepEqual(await sinks.flush(10_000), { delivered: 1, left: 0 });
  // Resolved: no longer among the active alerts.
  await eventually('the alert resolved', () => alertsOf(url, pipeline), (a) => a.length === 0);
  assert.deepEqual(sinks.stats(), [{ name: 'alertmanager', kind: 'alertmanager', queued: 0, delivered: 2, failed: 0, dropped: 0, retries: 0, failing: false }]);
  assert.deepEqual(lines, []);
  await sinks.close();
});

test('a test alert reaches Alertmanager as CleanStreamsTest and reports the outcome', { timeout: 60_000 }, async () => {
  broker ??= await useBroker('alertmanager');
  const pipeline = `test-${randomBytes(4).toString('hex')}`;
  const sinks = SinkSet.fromConfig([{ kind: 'alertmanager', name: 'am', url: broker.url }], { log: { debug() {}, info() {}, warn() {}, error() {} }, secret: async () => undefined });
  const { testEvent } = await import('../../server/alerts');
  const outcome = await sinks.test('am', testEvent(pipeline));
  assert.equal(outcome.ok, true, outcome.message);
  const [got] = await eventually('the test alert', () => alertsOf(broker!.url, pipeline), (a) => a.length === 1);
  assert.deepEqual(got.labels, { alertname: 'CleanStreamsTest', pipeline, detector: 'outliers', severity: 'warning' });
  await sinks.close();
});
