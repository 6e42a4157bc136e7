/**
 * PulsarSource against a real Apache Pulsar standalone broker (pulsar-broker jars from Maven Central),
 * started by scripts/broker. Messages come from two real producers of the broker: its WebSocket producer
 * endpoint and its REST producer (/topics/...). Every test uses its own topic, so the file can share the
 * suite's broker; the token and restart tests run a private broker (scripts/brokers/pulsar.sh with a
 * temporary state dir and token authentication on).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import WebSocket from 'ws';
import { repoRoot, useBroker, type Broker } from '../helpers/broker';
import { PulsarSource } from '../../server/sources/pulsar';
import { restReason } from '../../server/sources/pulsar/errors';
import { FileSource } from '../../server/sources/file';
import { createSource } from '../../server/sources/index';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { AlertEvent, MetricsEvent, RecoveredEvent } from '../../server/engine/events';
import type { SourceSpec, StartPosition, StreamSource } from '../../server/sources/types';
import { SourceError } from '../../server/sources/types';
import { parseSourceUrl } from '../../server/sources/url';
import { sleep, recordingContext, drain, until, freePort, endMarker } from '../helpers/sources';

const run = promisify(execFile);
const runTag = `${process.pid}-${Date.now()}`;
let topicSeq = 0;
/** A topic name no other test (or earlier run) uses. */
const uniqueTopic = (what: string) => `public/default/clean-test-${what}-${runTag}-${++topicSeq}`;

let broker: Broker;
/** `host:port` of the shared broker's web service. */
let web: string;



function spec(address: string, topic: string, from: StartPosition, query = ''): SourceSpec {
  return parseSourceUrl(`pulsar+ws://${address}/${topic}${query}`, from);
}



interface Outgoing {
  payload: string;
  properties?: Record<string, string>;
  key?: string;
}

/** Publishes through the broker's WebSocket producer endpoint; resolves with the message ids in order. */
async function produceWs(address: string, topic: string, messages: Outgoing[], token?: string): Promise<string[]> {
  const socket = new WebSocket(`ws://${address}/ws/v2/producer/persistent/${topic}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`producer upgrade refused: HTTP ${res.statusCode}`)));
  });
  const ids: string[] = new Array(messages.length);
  let acked = 0;
  const allAcked = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString()) as { result: string; messageId: string; context: string; errorMsg?: string };
      if (reply.result !== 'ok') return reject(new Error(`publish failed: ${reply.errorMsg ?? reply.result}`));
      ids[Number(reply.context)] = reply.messageId;
      if (++acked === messages.length) resolve();
    });
  });
  messages.forEach((m, i) =>
    socket.send(JSON.stringify({ payload: Buffer.from(m.payload).toString('base64'), properties: m.properties, key: m.key, context: String(i) })),
  );
  if (messages.length) await allAcked;
  socket.close();
  return ids;
}

async function admin(address: string, method: string, urlPath: string, body?: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`http://${address}${urlPath}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = text;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // keep the text
  }
  return { status: res.status, json };
}

/** Publishes through the broker's REST producer (POST /topics/persistent/...), a second real client path. */
async function produceRest(address: string, topic: string, payloads: string[]): Promise<void> {
  const { status, json } = await admin(address, 'POST', `/topics/persistent/${topic}`, { messages: payloads.map((payload) => ({ payload })) });
  assert.equal(status, 200, JSON.stringify(json));
}

function record(i: number): Record<string, unknown> {
  return { id: i, amount: 10 + (i % 7), country: ['DE', 'FR', 'US'][i % 3] };
}

before(async () => {
  broker = await useBroker('pulsar');
  web = new URL(broker.url.replace(/^pulsar\+ws:/, 'http:')).host;
});

after(async () => {
  await broker?.release();
});

describe('PulsarSource over the WebSocket API, real broker', () => {
  test('from earliest: messages from the WebSocket producer and the REST producer, with ids, properties, keys and publish times', async () => {
    const topic = uniqueTopic('earliest');
    const t0 = Date.now();
    const wsIds = await produceWs(web, topic, [
      { payload: JSON.stringify(record(0)), properties: { origin: 'ws', n: '0' }, key: 'k0' },
      { payload: JSON.stringify(record(1)) },
      { payload: 'not json at all' },
    ]);
    await produceRest(web, topic, [JSON.stringify(record(3)), JSON.stringify(record(4))]);
    const t1 = Date.now();

    const rec = recordingContext();
    const source = new PulsarSource(spec(web, topic, { kind: 'earliest' }), rec.ctx);
    assert.equal(source.description, `pulsar ${web}/${topic} (websocket)`);
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(5);
    await source.close();
    await reading.done;
    assert.equal(reading.state.error, undefined);
    assert.deepEqual(
      reading.messages.map((m) => (m.value as Buffer).toString()),
      [JSON.stringify(record(0)), JSON.stringify(record(1)), 'not json at all', JSON.stringify(record(3)), JSON.stringify(record(4))],
    );
    assert.deepEqual(reading.messages.slice(0, 3).map((m) => m.position), wsIds);
    assert.equal(new Set(reading.messages.map((m) => m.position)).size, 5);
    assert.deepEqual(reading.messages[0].headers, { origin: 'ws', n: '0' });
    assert.equal(reading.messages[0].key, 'k0');
    assert.equal(reading.messages[1].key, undefined);
    for (const m of reading.messages) assert.ok(m.timestamp! >= t0 - 1000 && m.timestamp! <= t1 + 1000, `publish time ${m.timestamp} outside ${t0}..${t1}`);
    const fullName = `persistent://${topic}`;
    assert.deepEqual(rec.statuses, [
      { state: 'connecting', message: `Connecting to Pulsar at ${web} over the WebSocket API (transport: websocket)` },
      { state: 'running', message: `Reading ${fullName} at ${web} over the WebSocket API (transport: websocket), from the earliest message` },
    ]);
    assert.ok(rec.logs.includes(`info: Pulsar source pulsar ${web}/${topic} (websocket): using the websocket transport`));
  });

  test('from latest: skips what is there at connect, reads what comes after', async () => {
    const topic = uniqueTopic('latest');
    await produceWs(web, topic, [0, 1, 2].map((i) => ({ payload: JSON.stringify(record(i)) })));
    const source = new PulsarSource(spec(web, topic, { kind: 'latest' }), recordingContext().ctx);
    await source.connect();
    const reading = drain(source);
    const ids = await produceWs(web, topic, [10, 11].map((i) => ({ payload: JSON.stringify(record(i)) })));
    await reading.waitFor(2);
    await produceWs(web, topic, [{ payload: endMarker('latest') }]);
    await reading.untilMarker('latest');
    await source.close();
    await reading.done;
    assert.deepEqual(reading.messages.map((m) => m.position), ids);
  });

  test('from a message id (strictly after it) and from a time', async () => {
    const topic = uniqueTopic('positions');
    const first = await produceWs(web, topic, [0, 1, 2].map((i) => ({ payload: JSON.stringify(record(i)) })));
    await sleep(50);
    const middle = Date.now();
    await sleep(50);
    const second = await produceWs(web, topic, [3, 4].map((i) => ({ payload: JSON.stringify(record(i)) })));
    let reads = 0;
    const read = async (from: StartPosition, n: number) => {
      const source = new PulsarSource(spec(web, topic, from), recordingContext().ctx);
      await source.connect();
      const reading = drain(source);
      await reading.waitFor(n);
      const tag = `read-${++reads}`;
      await produceWs(web, topic, [{ payload: endMarker(tag) }]);
      await reading.untilMarker(tag);
      await source.close();
      await reading.done;
      return reading.messages.map((m) => m.position);
    };
    assert.deepEqual(await read({ kind: 'id', id: first[1] }, 3), [first[2], ...second]);
    assert.deepEqual(await read({ kind: 'time', time: middle }, 2), second);
    const viaOption = new PulsarSource(spec(web, topic, { kind: 'latest' }, `?messageId=${encodeURIComponent(first[2])}`), recordingContext().ctx);
    assert.deepEqual(viaOption.target.from, { kind: 'id', id: first[2] });
  });

  test('a partitioned topic is read on every partition', async () => {
    const topic = uniqueTopic('partitioned');
    assert.equal((await admin(web, 'PUT', `/admin/v2/persistent/${topic}/partitions`, 3)).status, 204);
    const payloads = Array.from({ length: 30 }, (_, i) => JSON.stringify(record(i)));
    await produceWs(web, topic, payloads.map((payload, i) => ({ payload, key: `key-${i}` })));
    const rec = recordingContext();
    const source = new PulsarSource(spec(web, topic, { kind: 'earliest' }), rec.ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(30);
    // One end marker written straight to each partition.
    for (let p = 0; p < 3; p++) await produceWs(web, `${topic}-partition-${p}`, [{ payload: endMarker('partitioned') }]);
    await reading.untilMarker('partitioned', 3);
    await source.close();
    await reading.done;
    assert.deepEqual(reading.messages.map((m) => (m.value as Buffer).toString()).sort(), [...payloads].sort());
    assert.equal(
      rec.statuses[1].message,
      `Reading persistent://${topic} (3 partitions) at ${web} over the WebSocket API (transport: websocket), from the earliest message`,
    );
  });

  test('clear states and errors: a missing topic waited for, unknown namespace, pulsar:// without the native client', async () => {
    // A namespace of this run's own, so that the topics the message lists are exactly the ones made here.
    const ns = `public/errors-${runTag}`;
    assert.equal((await admin(web, 'PUT', `/admin/v2/namespaces/${ns}`)).status, 204);
    const known = `${ns}/clean-test-known`;
    await produceWs(web, known, [{ payload: '{}' }]);
    // A missing topic is waited for, never created (test/integration/observer.test.ts follows it until it appears).
    const waiting = recordingContext();
    const missing = new PulsarSource(spec(web, `${ns}/no-such-topic`, { kind: 'latest' }), waiting.ctx);
    const connecting = missing.connect();
    await until('the waiting status', () => waiting.statuses.some((s) => s.state === 'waiting'), 30_000);
    await missing.close();
    await connecting;
    assert.deepEqual(waiting.statuses.find((s) => s.state === 'waiting'), {
      state: 'waiting',
      message: `topic ${ns}/no-such-topic does not exist on ${web}; waiting for it to be created`,
    });
    // The monitor must not have created it.
    assert.equal((await admin(web, 'GET', `/admin/v2/persistent/${ns}/no-such-topic/stats`)).status, 404);

    const noNamespace = new PulsarSource(spec(web, 'public/no-such-ns/x', { kind: 'latest' }), recordingContext().ctx);
    await assert.rejects(
      noNamespace.connect(),
      new SourceError(`Namespace public/no-such-ns does not exist on Pulsar at ${web} (Namespace does not exist). Check the tenant and namespace in the URL.`, 'not-found'),
    );

    // pulsar-client does not install on these machines (see the note); the native transport says so and names the WebSocket URL.
    const rec = recordingContext();
    const native = await createSource(parseSourceUrl('pulsar://127.0.0.1:6650/public/default/orders'), rec.ctx);
    assert.equal(native.description, 'pulsar 127.0.0.1:6650/public/default/orders (native)');
    await assert.rejects(
      native.connect(),
      new SourceError(
        'Cannot use pulsar://127.0.0.1:6650: the optional package pulsar-client is not installed. ' +
          "Use the broker's WebSocket API instead, on its web service port (usually 8080): pulsar+ws://127.0.0.1:8080/public/default/orders " +
          '(needs webSocketServiceEnabled=true on the broker), or install pulsar-client where its native build works.',
        'unsupported',
      ),
    );
    assert.deepEqual(rec.logs, ['info: Pulsar source pulsar 127.0.0.1:6650/public/default/orders (native): using the native transport']);
  });

  test('an unreachable broker: reconnecting with a clear reason and growing backoff, until closed', async () => {
    const port = await freePort();
    const rec = recordingContext();
    const source = new PulsarSource(spec(`127.0.0.1:${port}`, 'public/default/x', { kind: 'latest' }), rec.ctx);
    const connecting = source.connect();
    await until('three retries', () => rec.statuses.filter((s) => s.state === 'reconnecting').length >= 3, 10_000);
    await source.close();
    await connecting;
    const reason = `Cannot reach Pulsar at 127.0.0.1:${port} (ECONNREFUSED). Is the broker running, and is this its web service port? For a local test broker run: scripts/broker start pulsar.`;
    assert.deepEqual(rec.statuses.slice(0, 4), [
      { state: 'connecting', message: `Connecting to Pulsar at 127.0.0.1:${port} over the WebSocket API (transport: websocket)` },
      { state: 'reconnecting', message: `${reason} Retrying in 0.25 s.` },
      { state: 'reconnecting', message: `${reason} Retrying in 0.5 s.` },
      { state: 'reconnecting', message: `${reason} Retrying in 1 s.` },
    ]);
  });

  test('the broker reason is taken from admin JSON and from Jetty error pages', () => {
    assert.equal(restReason('{"reason":"Namespace does not exist"}'), 'Namespace does not exist');
    assert.equal(
      restReason('<html><head><title>Error 500 Failed to create reader: {&quot;errorMsg&quot;:&quot;Namespace not found&quot;,&quot;reqId&quot;:1}</title></head></html>'),
      'Failed to create reader: Namespace not found',
    );
  });

  test('detection results are identical to the file source on the same records', async () => {
    const topic = uniqueTopic('parity');
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const r: Record<string, unknown> = { id: i % 390, amount: 10 + (i % 7), country: ['DE', 'FR', 'US'][i % 3], note: `n${i % 11}` };
      if (i % 37 === 5) delete r.amount; // missing field
      if (i === 250) r.amount = 1e9; // outlier
      if (i % 53 === 7) r.amount = 'twelve'; // schema drift
      lines.push(i % 61 === 3 ? '{"id": broken' : JSON.stringify(r));
    }
    const ids = await produceWs(web, topic, lines.map((payload) => ({ payload })));
    // Alert samples carry positions: file line numbers on one side, Pulsar message ids on the other.
    const lineOf = new Map(ids.map((id, i) => [id, i + 1]));
    const asLines = (events: unknown[]) =>
      JSON.parse(
        JSON.stringify(events)
          .replace(/"position":"([^"]+)"/g, (_, id: string) => `"position":${lineOf.get(id) ?? JSON.stringify(id)}`)
          .replace(/\(position ([A-Za-z0-9+/=]+)\)/g, (_, id: string) => `(position ${lineOf.get(id) ?? id})`),
      ) as unknown[];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-pulsar-parity-'));
    const file = path.join(dir, 'records.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    try {
      const config = resolvePipelineConfig({ checkInterval: { records: 50 } });
      const collect = async (source: StreamSource, limit?: number) => {
        const pipeline = new RealtimePipeline('parity', source, config, { limit, idleFlushMs: 0 });
        const events: Array<MetricsEvent | AlertEvent | RecoveredEvent> = [];
        pipeline.on('metrics', (e) => events.push(e));
        pipeline.on('alert', (e) => events.push(e));
        pipeline.on('recovered', (e) => events.push(e));
        await pipeline.run();
        return events.map((e) => ({ ...e, time: 0, ...('throughput' in e ? { throughput: 0 } : {}) }));
      };
      const fromFile = await collect(new FileSource({ backend: 'file', topic: file, from: { kind: 'earliest' } }, recordingContext().ctx));
      const fromPulsar = await collect(new PulsarSource(spec(web, topic, { kind: 'earliest' }), recordingContext().ctx), lines.length);
      assert.equal(fromFile.filter((e) => e.type === 'metrics').length, 8);
      assert.ok(fromFile.some((e) => e.type === 'alert'), 'the records should raise at least one alert');
      assert.ok(JSON.stringify(fromPulsar).includes(`"position":"${ids[3]}"`), 'pulsar samples carry message ids');
      assert.deepEqual(asLines(fromPulsar), fromFile);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an application subscription's backlog and cursor are unchanged by the monitor", async () => {
    const topic = uniqueTopic('passive');
    await produceWs(web, topic, [{ payload: '{"warmup":true}' }]);
    assert.equal((await admin(web, 'PUT', `/admin/v2/persistent/${topic}/subscription/app`)).status, 204);
    await produceWs(web, topic, Array.from({ length: 20 }, (_, i) => ({ payload: JSON.stringify(record(i)) })));
    const snapshot = async () => {
      const stats = (await admin(web, 'GET', `/admin/v2/persistent/${topic}/stats`)).json as { subscriptions: Record<string, { msgBacklog: number; type: string; isDurable: boolean }> };
      const internal = (await admin(web, 'GET', `/admin/v2/persistent/${topic}/internalStats`)).json as {
        cursors: Record<string, { markDeletePosition: string; readPosition: string; messagesConsumedCounter: number; state: string }>;
      };
      return {
        subscriptions: Object.keys(stats.subscriptions).sort(),
        backlog: stats.subscriptions.app?.msgBacklog,
        durable: stats.subscriptions.app?.isDurable,
        cursors: Object.fromEntries(
          Object.entries(internal.cursors).map(([name, c]) => [name, { markDeletePosition: c.markDeletePosition, readPosition: c.readPosition, messagesConsumedCounter: c.messagesConsumedCounter, state: c.state }]),
        ),
      };
    };
    const before = await snapshot();
    assert.deepEqual(before.subscriptions, ['app']);
    assert.equal(before.backlog, 20);
    assert.equal(before.durable, true);

    const source = new PulsarSource(spec(web, topic, { kind: 'earliest' }), recordingContext().ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(21);
    const during = (await admin(web, 'GET', `/admin/v2/persistent/${topic}/stats`)).json as { subscriptions: Record<string, { isDurable: boolean }> };
    const readers = Object.entries(during.subscriptions).filter(([name]) => name !== 'app');
    assert.equal(readers.length, 1, 'one reader subscription while the monitor reads');
    assert.equal(readers[0][1].isDurable, false);
    await source.close();
    await reading.done;
    await until('the reader subscription to go away', async () => {
      const s = (await admin(web, 'GET', `/admin/v2/persistent/${topic}/stats`)).json as { subscriptions: Record<string, unknown> };
      return Object.keys(s.subscriptions).length === 1;
    }, 10_000);
    assert.deepEqual(await snapshot(), before);
  });
});

describe('PulsarSource with token authentication and a broker restart (private broker)', () => {
  const state = mkdtempSync(path.join(os.tmpdir(), 'clean-pulsar-private-'));
  const key = randomBytes(32).toString('base64');
  const script = path.join(repoRoot, 'scripts', 'brokers', 'pulsar.sh');
  let address = '';
  let adminToken = '';
  const brokerScript = async (action: 'start' | 'stop') => {
    const { stdout } = await run('bash', [script, action, state], { env: { ...process.env, CLEAN_PULSAR_TOKEN_KEY: key }, timeout: 10 * 60 * 1000, maxBuffer: 16 << 20 });
    return stdout.trim().split('\n').pop() ?? '';
  };

  before(async () => {
    const url = await brokerScript('start');
    address = new URL(url.replace(/^pulsar\+ws:/, 'http:')).host;
    adminToken = signToken(key, 'admin');
    const granted = await admin(address, 'POST', '/admin/v2/namespaces/public/default/permissions/monitor', ['consume'], adminToken);
    assert.equal(granted.status, 204);
  });

  after(async () => {
    await brokerScript('stop').catch(() => undefined);
    rmSync(state, { recursive: true, force: true });
  });

  test('token from a secret: accepted, refused (401), missing (401), without permission (403); never in logs or errors', async () => {
    const topic = uniqueTopic('secured');
    await produceWs(address, topic, [{ payload: '{"a":1}' }], adminToken);
    const monitorToken = signToken(key, 'monitor');
    const attempt = async (secrets: Record<string, string>, query: string) => {
      const rec = recordingContext(secrets);
      const source = new PulsarSource(spec(address, topic, { kind: 'earliest' }, query), rec.ctx);
      try {
        await source.connect();
        const reading = drain(source);
        await reading.waitFor(1);
        await source.close();
        await reading.done;
        return { ok: reading.messages.map((m) => (m.value as Buffer).toString()), rec };
      } catch (err) {
        await source.close();
        return { err: err as SourceError, rec };
      }
    };
    const accepted = await attempt({ pulsar: monitorToken }, '?secret=pulsar');
    assert.deepEqual(accepted.ok, ['{"a":1}']);

    const wrongKey = signToken(randomBytes(32).toString('base64'), 'monitor');
    const refused = await attempt({ pulsar: wrongKey }, '?secret=pulsar');
    assert.deepEqual(
      refused.err,
      new SourceError(`Pulsar at ${address} refused the token in secret "pulsar" (HTTP 401). Check that the token is valid for this cluster and not expired, then update the secret.`, 'auth'),
    );
    const missing = await attempt({}, '');
    assert.deepEqual(
      missing.err,
      new SourceError(`Pulsar at ${address} requires authentication (HTTP 401). Store a token as a secret and add ?secret=<name> to the source URL.`, 'auth'),
    );
    const stranger = await attempt({ pulsar: signToken(key, 'stranger') }, '?secret=pulsar');
    assert.deepEqual(
      stranger.err,
      new SourceError(
        `Pulsar at ${address} does not allow the role of the token in secret "pulsar" to read persistent://${topic} (HTTP 403). ` +
          `Grant it consume permission: pulsar-admin namespaces grant-permission public/default --role <role> --actions consume.`,
        'auth',
      ),
    );
    const unset = await attempt({}, '?secret=absent');
    assert.equal(unset.err?.message, 'The secret "absent" holding the Pulsar token for ' + address + ' is not set. Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_ABSENT for the CLI.');
    for (const outcome of [accepted, refused, missing, stranger, unset]) {
      const text = JSON.stringify([outcome.rec.logs, outcome.rec.statuses, outcome.err?.message ?? '']);
      for (const token of [monitorToken, wrongKey, adminToken]) assert.ok(!text.includes(token), 'a token leaked into logs, status or error');
    }
  });

  test('broker restart mid-stream: reconnecting, then resumes after the last message with nothing lost or repeated; a source started while the broker is down connects when it is back', async () => {
    const topic = uniqueTopic('restart');
    const secrets = { pulsar: signToken(key, 'monitor') };
    const payload = (i: number) => ({ payload: JSON.stringify(record(i)) });
    const firstIds = await produceWs(address, topic, Array.from({ length: 40 }, (_, i) => payload(i)), adminToken);
    const rec = recordingContext(secrets);
    const source = new PulsarSource(spec(address, topic, { kind: 'earliest' }, '?secret=pulsar'), rec.ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(40);

    await brokerScript('stop');
    await until('reconnecting status', () => rec.statuses.some((s) => s.state === 'reconnecting'), 30_000);
    const lost = rec.statuses.find((s) => s.state === 'reconnecting')!;
    assert.match(lost.message, new RegExp(`^Lost Pulsar at ${address} \\(.+\\)\\. Retrying in 0\\.25 s; will resume after message ${escapeRegExp(firstIds[39])}\\.$`));

    // A second monitor started while the broker is down waits in `reconnecting`.
    const late = recordingContext(secrets);
    const lateSource = new PulsarSource(spec(address, topic, { kind: 'earliest' }, '?secret=pulsar'), late.ctx);
    const lateConnect = lateSource.connect();
    await until('the late source to retry', () => late.statuses.some((s) => s.state === 'reconnecting'), 10_000);
    assert.match(late.statuses.find((s) => s.state === 'reconnecting')!.message, new RegExp(`^Cannot reach Pulsar at ${address} \\(ECONNREFUSED\\)\\. `));

    await brokerScript('start');
    const secondIds = await produceWs(address, topic, Array.from({ length: 40 }, (_, i) => payload(40 + i)), adminToken);
    await reading.waitFor(80, 60_000);
    await produceWs(address, topic, [{ payload: endMarker('restart') }], adminToken);
    await reading.untilMarker('restart', 1, 60_000);
    await lateConnect;
    const lateReading = drain(lateSource);
    await lateReading.untilMarker('restart', 1, 60_000);
    await Promise.all([source.close(), lateSource.close()]);
    await Promise.all([reading.done, lateReading.done]);

    assert.deepEqual(reading.messages.map((m) => m.position), [...firstIds, ...secondIds]);
    assert.deepEqual(
      reading.messages.map((m) => JSON.parse((m.value as Buffer).toString())),
      Array.from({ length: 80 }, (_, i) => record(i)),
    );
    assert.deepEqual(lateReading.messages.map((m) => m.position), [...firstIds, ...secondIds]);
    const states = rec.statuses.map((s) => s.state);
    assert.deepEqual(states.slice(0, 3), ['connecting', 'running', 'reconnecting']);
    assert.equal(states[states.length - 1], 'running');
    assert.equal(
      rec.statuses[rec.statuses.length - 1].message,
      `Reconnected to Pulsar at ${address} (transport: websocket); reading persistent://${topic} after message ${firstIds[39]}`,
    );
    assert.equal(late.statuses[late.statuses.length - 1].state, 'running');
  });
});

/** An HS256 JWT with the role as subject, as Pulsar's token provider expects (the same as scripts/brokers/pulsar.sh). */
function signToken(keyBase64: string, role: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: role })}`;
  return `${head}.${createHmac('sha256', Buffer.from(keyBase64, 'base64')).update(head).digest('base64url')}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

