/**
 * The sink queue against real local HTTP receivers: retries counted exactly, timeouts, refused connections,
 * a receiver that hangs, a bounded queue that drops (and counts) what it cannot hold, flush, and failures
 * logged once per minute rather than per event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SinkSet, type SinkConfig } from '../../server/alerts';
import { backoffDelay, MAX_BACKOFF_MS } from '../../server/alerts/queue';
import type { AlertEvent } from '../../server/engine/events';
import { Receiver, refusedUrl } from '../helpers/receiver';

function alert(n: number): AlertEvent {
  return { type: 'alert', pipeline: 'orders', time: 1_700_000_000_000 + n, severity: 'warning', detector: 'outliers', value: 0.09, threshold: 0.05, records: n, message: `alert ${n}`, samples: [], fields: [] };
}

function logs() {
  const lines: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string) => lines.push(`warn ${m}`), error: (m: string) => lines.push(`error ${m}`) };
  return { lines, ctx: { log, secret: async () => undefined } };
}

function sinks(url: string, extra: Partial<SinkConfig> = {}) {
  const l = logs();
  const set = SinkSet.fromConfig([{ kind: 'webhook', url, backoffMs: 5, ...extra }], l.ctx);
  return { set, lines: l.lines };
}

test('a receiver that fails twice with 500 then answers 200: two retries, one delivery', async () => {
  const r = await new Receiver([{ status: 500, body: 'boom' }, { status: 500, body: 'boom' }]).start();
  const { set } = sinks(r.url + '/hook');
  set.deliver(alert(1));
  assert.deepEqual(await set.flush(5000), { delivered: 1, left: 0 });
  assert.equal(r.requests.length, 3);
  assert.deepEqual(set.stats(), [{ name: 'webhook', kind: 'webhook', queued: 0, delivered: 1, failed: 0, dropped: 0, retries: 2, lastError: 'HTTP 500: boom', failing: false }]);
  await set.close();
  await r.close();
});

test('retries are bounded: always 500 with retries 3 is four attempts and one failure, logged once', async () => {
  const r = await new Receiver([], { status: 503, body: 'down' }).start();
  const { set, lines } = sinks(r.url, { retries: 3 });
  set.deliver(alert(1));
  assert.deepEqual(await set.flush(5000), { delivered: 0, left: 0 });
  assert.equal(r.requests.length, 4);
  assert.deepEqual(set.stats(), [{ name: 'webhook', kind: 'webhook', queued: 0, delivered: 0, failed: 1, dropped: 0, retries: 3, lastError: 'HTTP 503: down', failing: true }]);
  assert.deepEqual(lines, ['warn alert sink webhook: 1 event not delivered (HTTP 503: down)']);
  // Four more failures within the minute: no new line now (the next one comes when the minute is up).
  for (let i = 2; i <= 5; i++) set.deliver(alert(i));
  await set.flush(5000);
  assert.equal(set.stats()[0].failed, 5);
  assert.equal(lines.length, 1);
  // close() writes what is unlogged.
  await set.close();
  assert.deepEqual(lines, ['warn alert sink webhook: 1 event not delivered (HTTP 503: down)', 'warn alert sink webhook: 4 events not delivered (HTTP 503: down)']);
  await r.close();
});

test('a 4xx other than 408 and 429 is not retried', async () => {
  const r = await new Receiver([], { status: 404, body: 'no_service' }).start();
  const { set } = sinks(r.url);
  set.deliver(alert(1));
  await set.flush(5000);
  assert.equal(r.requests.length, 1);
  assert.deepEqual(set.stats()[0], { name: 'webhook', kind: 'webhook', queued: 0, delivered: 0, failed: 1, dropped: 0, retries: 0, lastError: 'HTTP 404: no_service', failing: true });
  await set.close();
  await r.close();
});

test('429 is retried', async () => {
  const r = await new Receiver([{ status: 429, body: 'slow down' }]).start();
  const { set } = sinks(r.url);
  set.deliver(alert(1));
  await set.flush(5000);
  assert.equal(r.requests.length, 2);
  assert.equal(set.stats()[0].retries, 1);
  assert.equal(set.stats()[0].delivered, 1);
  await set.close();
  await r.close();
});

test('a receiver that hangs times out per attempt and is retried', async () => {
  const r = await new Receiver(['hang', 'hang']).start();
  const { set } = sinks(r.url, { timeoutMs: 150, retries: 1 });
  set.deliver(alert(1));
  await set.flush(5000);
  assert.equal(r.requests.length, 2);
  assert.deepEqual(set.stats()[0], { name: 'webhook', kind: 'webhook', queued: 0, delivered: 0, failed: 1, dropped: 0, retries: 1, lastError: 'timed out after 150 ms', failing: true });
  await set.close();
  await r.close();
});

test('connection refused is retried, then counted as failed', async () => {
  const { set } = sinks(await refusedUrl(), { retries: 2 });
  set.deliver(alert(1));
  await set.flush(5000);
  assert.deepEqual(set.stats()[0], { name: 'webhook', kind: 'webhook', queued: 0, delivered: 0, failed: 1, dropped: 0, retries: 2, lastError: 'connection refused', failing: true });
  await set.close();
});

test('a connection reset is retried and the next attempt delivers', async () => {
  const r = await new Receiver(['reset']).start();
  const { set } = sinks(r.url);
  set.deliver(alert(1));
  await set.flush(5000);
  assert.deepEqual(set.stats()[0], { name: 'webhook', kind: 'webhook', queued: 0, delivered: 1, failed: 0, dropped: 0, retries: 1, lastError: 'connection reset', failing: false });
  await set.close();
  await r.close();
});

test('the queue is bounded: with a hung receiver, 20 events into a queue of 5 drop exactly 15', async () => {
  const r = await new Receiver([], 'hang').start();
  const { set, lines } = sinks(r.url, { queue: 5, timeoutMs: 60_000, retries: 0 });
  for (let i = 1; i <= 20; i++) set.deliver(alert(i));
  await r.received(1);
  assert.deepEqual(set.stats()[0], { name: 'webhook', kind: 'webhook', queued: 5, delivered: 0, failed: 0, dropped: 15, retries: 0, failing: false });
  // The oldest waiting events went: the one in flight (1) and the newest four (17–20) are kept.
  assert.deepEqual((r.requests[0].json as AlertEvent).records, 1);
  assert.deepEqual(await set.flush(100), { delivered: 0, left: 5 });
  await set.close();
  // What was still queued at close is dropped, and counted.
  assert.equal(set.stats()[0].dropped, 20);
  assert.equal(set.stats()[0].queued, 0);
  assert.deepEqual(lines, ['warn alert sink webhook: 1 dropped (queue full at 5)', 'warn alert sink webhook: 19 dropped (queue full at 5, or left at stop)']);
  await r.close();
});

test('the kept events are the newest: after the hang clears, 1 and 17–20 arrive in order', async () => {
  // deliver() runs synchronously, so all 20 are offered while the first request is still in flight.
  const r = await new Receiver().start();
  const { set } = sinks(r.url, { queue: 5, retries: 0 });
  for (let i = 1; i <= 20; i++) set.deliver(alert(i));
  await set.flush(5000);
  assert.deepEqual(r.requests.map((q) => (q.json as AlertEvent).records), [1, 17, 18, 19, 20]);
  assert.deepEqual(set.stats()[0].dropped, 15);
  await set.close();
  await r.close();
});

test('backoff is exponential with full jitter, capped', () => {
  const half = () => 0.5;
  assert.deepEqual([1, 2, 3, 4].map((n) => backoffDelay(n, 500, half)), [250, 500, 1000, 2000]);
  assert.equal(backoffDelay(20, 500, half), MAX_BACKOFF_MS / 2);
  assert.equal(backoffDelay(3, 500, () => 0), 0);
  assert.equal(backoffDelay(3, 500, () => 0.999999), 1999);
});

test('flush waits for the queue within its deadline; a hung receiver leaves the event counted as left', async () => {
  const r = await new Receiver().start();
  const { set } = sinks(r.url);
  for (let i = 1; i <= 3; i++) set.deliver(alert(i));
  assert.deepEqual(await set.flush(5000), { delivered: 3, left: 0 });
  await set.close();
  await r.close();
  const hung = await new Receiver([], 'hang').start();
  const h = sinks(hung.url, { timeoutMs: 60_000 });
  h.set.deliver(alert(1));
  const t0 = Date.now();
  assert.deepEqual(await h.set.flush(200), { delivered: 0, left: 1 });
  assert.ok(Date.now() - t0 < 2000);
  await h.set.close();
  await hung.close();
});
