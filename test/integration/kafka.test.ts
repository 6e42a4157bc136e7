/**
 * KafkaSource against a real Apache Kafka broker (KRaft, from Maven Central's jars) started by scripts/broker.
 * Every test uses its own topic, so the file can share one broker with the rest of the suite. The restart test,
 * the SASL/SCRAM tests and the TLS test run their own brokers (scripts/brokers/kafka.sh with private state dirs).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer, SASLOptions } from 'kafkajs';
import { repoRoot, useBroker, type Broker } from '../helpers/broker';
import { KafkaSource } from '../../server/sources/kafka';
import { FileSource } from '../../server/sources/file';
import { RealtimePipeline, secretFromEnv } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { PipelineEvent } from '../../server/engine/events';
import type { SourceMessage, SourceSpec, StartPosition, StreamSource } from '../../server/sources/types';
import { SourceError } from '../../server/sources/types';
import { parseSourceUrl } from '../../server/sources/url';
import { sleep, recordingContext, drain, until, within, endMarker } from '../helpers/sources';

const run = promisify(execFile);
const kafkaScript = path.join(repoRoot, 'scripts', 'brokers', 'kafka.sh');
const fixture = path.join(repoRoot, 'test', 'fixtures', 'kafka', 'orders.jsonl');

let broker: Broker;
let bootstrap: string;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
let topicSeq = 0;
const runTag = `${process.pid}-${Date.now()}`;
/** A topic no other test (or earlier run) uses. */
const uniqueTopic = (what: string) => `clean-test-${what}-${runTag}-${++topicSeq}`;



function spec(url: string, topic: string, from: StartPosition, query = ''): SourceSpec {
  return parseSourceUrl(`${url}/${topic}${query}`, from);
}

/** Consumes a source in the background, collecting every message. */

const ids = (messages: SourceMessage[]) => messages.map((m) => (JSON.parse(String(m.value)) as { id: number }).id);
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const order = (i: number) => JSON.stringify({ id: i, amount: 10 + (i % 7), country: ['DE', 'FR', 'US'][i % 3] });

async function createTopic(topic: string, numPartitions: number, client: Admin = admin): Promise<void> {
  await client.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: true });
}

async function produce(topic: string, from: number, count: number, client: Producer = producer): Promise<void> {
  const messages = range(from, from + count).map((i) => ({ key: `k${i % 10}`, value: order(i) }));
  await client.send({ topic, acks: -1, messages });
}

/** One end marker on each partition (see drain().untilMarker): what came before it in every partition has arrived. */
async function endMarkers(topic: string, partitions: number, tag: string): Promise<void> {
  await producer.send({ topic, acks: -1, messages: Array.from({ length: partitions }, (_, partition) => ({ partition, value: endMarker(tag) })) });
}

async function startOwnBroker(dir: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('bash', [kafkaScript, 'start', dir], { cwd: repoRoot, env: { ...process.env, ...env }, timeout: 10 * 60_000 });
  return stdout.trim().split('\n').pop()!;
}

const hostPort = (url: string) => url.replace(/^kafka:\/\//, '');

before(async () => {
  broker = await useBroker('kafka');
  bootstrap = hostPort(broker.url);
  kafka = new Kafka({ clientId: 'clean-test', brokers: [bootstrap], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  producer = kafka.producer({ allowAutoTopicCreation: true });
  await Promise.all([admin.connect(), producer.connect()]);
});

after(async () => {
  await producer?.disconnect();
  await admin?.disconnect();
  await broker?.release();
});

describe('KafkaSource reading a real Kafka topic', () => {
  test('records produced with kafkajs: values, partition@offset positions, keys, headers and timestamps', async () => {
    const topic = uniqueTopic('kafkajs');
    await createTopic(topic, 1);
    await producer.send({
      topic,
      messages: [
        { key: 'a', value: order(0), headers: { source: 'checkout', trace: Buffer.from('t-0') }, timestamp: '1795000000000' },
        { key: null, value: order(1), timestamp: '1795000000001' },
        { key: 'c', value: null, timestamp: '1795000000002' },
      ],
    });
    const rec = recordingContext();
    const source = new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }), rec.ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitUntil(() => reading.messages.length >= 3, '3 records');
    await source.close();
    await reading.done;
    assert.equal(reading.state.error, undefined);
    const seen = reading.messages.map((m) => ({ value: m.value === null ? null : String(m.value), position: m.position, key: m.key, headers: m.headers, timestamp: m.timestamp }));
    assert.deepEqual(seen, [
      { value: order(0), position: '0@0', key: 'a', headers: { source: 'checkout', trace: 't-0' }, timestamp: 1795000000000 },
      { value: order(1), position: '0@1', key: null, headers: undefined, timestamp: 1795000000001 },
      { value: null, position: '0@2', key: 'c', headers: undefined, timestamp: 1795000000002 },
    ]);
    assert.deepEqual(
      rec.statuses.map((s) => s.state),
      ['connecting', 'running'],
    );
    assert.equal(rec.statuses[1].message, `Reading topic "${topic}" (1 partition) at Kafka ${bootstrap}`);
    assert.match(source.groupId, /^clean-monitor-[0-9a-f]{12}$/);
  });

  test('records produced with kcat (an independent client), keys and headers included', async () => {
    const topic = uniqueTopic('kcat');
    await createTopic(topic, 1);
    const lines = range(0, 4).map((i) => `key-${i}|${order(i)}`).join('\n') + '\n';
    await new Promise<void>((resolve, reject) => {
      const child = execFile('kcat', ['-b', bootstrap, '-t', topic, '-P', '-K', '|', '-H', 'origin=kcat'], (err) => (err ? reject(err) : resolve()));
      child.stdin!.end(lines);
    });
    const source = new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }), recordingContext().ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitUntil(() => reading.messages.length >= 4, '4 records');
    await source.close();
    await reading.done;
    assert.deepEqual(
      reading.messages.map((m) => [m.position, m.key, m.headers, String(m.value)]),
      range(0, 4).map((i) => [`0@${i}`, `key-${i}`, { origin: 'kcat' }, order(i)]),
    );
  });

  test('a topic with several partitions: every record exactly once, positions per partition', async () => {
    const topic = uniqueTopic('partitions');
    await createTopic(topic, 3);
    for (let from = 0; from < 3000; from += 500) await produce(topic, from, 500);
    const offsets = await admin.fetchTopicOffsets(topic);
    const perPartition = new Map(offsets.map((p) => [p.partition, Number(p.high)]));
    assert.equal([...perPartition.values()].reduce((a, b) => a + b, 0), 3000);
    assert.ok([...perPartition.values()].every((n) => n > 0), 'the keys spread records over all three partitions');

    // Once with the fetch thread (the default), once with the fetch loop on the main thread.
    for (const [query, threaded] of [['', true], ['?fetchThread=false', false]] as const) {
      const rec = recordingContext();
      const source = new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }, query), rec.ctx);
      await source.connect();
      const reading = drain(source);
      await reading.waitUntil(() => reading.messages.length >= 3000, '3000 records');
      await endMarkers(topic, 3, `spread${query}`);
      await reading.untilMarker(`spread${query}`, 3);
      await source.close();
      await reading.done;
      assert.equal(source.threaded, threaded);
      assert.equal(reading.messages.length, 3000);
      assert.deepEqual([...ids(reading.messages)].sort((a, b) => a - b), range(0, 3000));
      const positions = new Map<number, number[]>();
      for (const m of reading.messages) {
        const [p, o] = String(m.position).split('@').map(Number);
        (positions.get(p) ?? positions.set(p, []).get(p)!).push(o);
      }
      for (const [partition, high] of perPartition) assert.deepEqual(positions.get(partition), range(0, high), `partition ${partition}`);
      assert.equal(rec.statuses.find((s) => s.state === 'running')?.message, `Reading topic "${topic}" (3 partitions) at Kafka ${bootstrap}`);
    }
  });

  test('start positions: latest reads only what comes after connect; a time reads from the first record at or after it', async () => {
    const topic = uniqueTopic('start');
    await createTopic(topic, 2);
    const now = Date.now();
    const old = range(0, 6).map((i) => ({ key: `k${i}`, value: order(i), timestamp: String(now - 60_000 + i) }));
    const recent = range(6, 10).map((i) => ({ key: `k${i}`, value: order(i), timestamp: String(now - 20_000 + i) }));
    await producer.send({ topic, acks: -1, messages: [...old, ...recent] });

    const fromTime = new KafkaSource(spec(broker.url, topic, { kind: 'time', time: now - 40_000 }), recordingContext().ctx);
    await fromTime.connect();
    const timed = drain(fromTime);
    await timed.waitUntil(() => timed.messages.length >= 4, '4 recent records');
    await endMarkers(topic, 2, 'time');
    await timed.untilMarker('time', 2);
    await fromTime.close();
    await timed.done;
    assert.deepEqual([...ids(timed.messages)].sort((a, b) => a - b), [6, 7, 8, 9]);

    const latest = new KafkaSource(spec(broker.url, topic, { kind: 'latest' }), recordingContext().ctx);
    await latest.connect();
    const live = drain(latest);
    await produce(topic, 10, 5);
    await live.waitUntil(() => live.messages.length >= 5, '5 new records');
    await endMarkers(topic, 2, 'latest');
    await live.untilMarker('latest', 2);
    await latest.close();
    await live.done;
    assert.deepEqual([...ids(live.messages)].sort((a, b) => a - b), [10, 11, 12, 13, 14]);
  });

  test('a reader that stops taking batches for longer than the session timeout goes on where it was, nothing read twice', async () => {
    const topic = uniqueTopic('paused');
    await createTopic(topic, 1);
    for (let from = 0; from < 300; from += 10) await produce(topic, from, 10);
    for (const query of ['', '&fetchThread=false']) {
      const source = new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }, `?sessionTimeoutMs=6000&maxBytesPerPartition=1024${query}`), recordingContext().ctx);
      await source.connect();
      const seen: SourceMessage[] = [];
      const batches = source.consume()[Symbol.asyncIterator]();
      seen.push(...(await batches.next()).value!);
      await sleep(9000); // the engine is busy or paused: longer than the 6 s session timeout
      while (seen.length < 300) seen.push(...(await within(`record ${seen.length + 1} of 300`, batches.next())).value!);
      await source.close();
      await batches.return?.(undefined);
      assert.deepEqual(ids(seen), range(0, 300), `fetchThread ${query ? 'off' : 'on'}`);
    }
  });

  test('detection results equal the file source on the same records (single partition, record-count checks)', async () => {
    const lines = readFileSync(fixture, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 600);
    const topic = uniqueTopic('identity');
    await createTopic(topic, 1);
    for (let i = 0; i < lines.length; i += 200) await producer.send({ topic, acks: -1, messages: lines.slice(i, i + 200).map((value) => ({ value })) });

    const config = resolvePipelineConfig({ checkInterval: { records: 50 } });
    const events = async (name: string, source: StreamSource) => {
      const pipeline = new RealtimePipeline(name, source, config, { limit: lines.length, idleFlushMs: 0 });
      const seen: PipelineEvent[] = [];
      for (const type of ['metrics', 'alert', 'recovered', 'end'] as const) pipeline.on(type, (e: PipelineEvent) => void seen.push(e));
      await pipeline.run();
      return seen;
    };
    /** Drops what differs by nature (clock, rate, pipeline name) and maps a Kafka position to the file's line number. */
    const comparable = (e: PipelineEvent) => {
      const { time: _t, throughput: _r, pipeline: _p, ...rest } = e as unknown as Record<string, unknown>;
      if (typeof rest.message === 'string') rest.message = rest.message.replace(/\(position 0@(\d+)\)/g, (_m, offset: string) => `(position ${Number(offset) + 1})`);
      if (Array.isArray(rest.samples)) {
        rest.samples = (rest.samples as Array<{ record: number; position?: string | number }>).map((s) => ({
          record: s.record,
          line: typeof s.position === 'string' ? Number(s.position.split('@')[1]) + 1 : s.position,
        }));
      }
      return rest;
    };
    const fromFile = await events('file', new FileSource({ backend: 'file', topic: fixture, from: { kind: 'earliest' } }, recordingContext().ctx));
    const fromKafka = await events('kafka', new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }), recordingContext().ctx));
    assert.equal(fromFile.filter((e) => e.type === 'metrics').length, 12);
    assert.ok(fromFile.some((e) => e.type === 'alert'), 'the fixture has episodes that alert');
    assert.deepEqual(fromKafka.map(comparable), fromFile.map(comparable));
  });

  test("an application's consumer group keeps its committed offsets; the monitor commits none", async () => {
    const topic = uniqueTopic('app-group');
    const appGroup = `orders-service-${runTag}`;
    await createTopic(topic, 2);
    await produce(topic, 0, 40);
    await admin.setOffsets({ groupId: appGroup, topic, partitions: [{ partition: 0, offset: '3' }, { partition: 1, offset: '5' }] });
    const before = await admin.fetchOffsets({ groupId: appGroup, topics: [topic] });

    const source = new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }), recordingContext().ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitUntil(() => reading.messages.length >= 40, '40 records');
    await produce(topic, 40, 10);
    await reading.waitUntil(() => reading.messages.length >= 50, '50 records');
    const monitorGroups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(`${source.groupId}-`));
    assert.equal(monitorGroups.length, 1);
    const monitorOffsets = await admin.fetchOffsets({ groupId: monitorGroups[0], topics: [topic] });
    await source.close();
    await reading.done;

    assert.deepEqual(await admin.fetchOffsets({ groupId: appGroup, topics: [topic] }), before);
    assert.deepEqual(before, [{ topic, partitions: [{ partition: 0, offset: '3', metadata: null }, { partition: 1, offset: '5', metadata: null }] }]);
    assert.deepEqual(monitorOffsets, [{ topic, partitions: [{ partition: 0, offset: '-1', metadata: null }, { partition: 1, offset: '-1', metadata: null }] }]);
    const [app] = (await admin.describeGroups([appGroup])).groups;
    assert.deepEqual(app.members, [], 'the monitor never joined the application group');
  });
});

describe('KafkaSource errors a person can act on', () => {
  test('a missing topic is waited for, never created (test/integration/observer.test.ts follows it until it appears)', async () => {
    // Random letters: no topic of any run is within the edit distance of a "did you mean" suggestion.
    const topic = `${uniqueTopic('missing')}-${randomBytes(8).toString('hex')}`;
    const rec = recordingContext();
    const source = new KafkaSource(spec(broker.url, topic, { kind: 'latest' }, '?autoCreate=false'), rec.ctx);
    const connecting = source.connect();
    await until('the waiting status', () => rec.statuses.some((s) => s.state === 'waiting'), 30_000);
    await source.close();
    await assert.rejects(connecting, new SourceError(`Stopped while waiting for topic "${topic}" on Kafka at ${bootstrap}.`, 'closed'));
    assert.deepEqual(rec.statuses.find((s) => s.state === 'waiting'), { state: 'waiting', message: `topic ${topic} does not exist on ${bootstrap}; waiting for it to be created` });
    assert.equal((await admin.listTopics()).includes(topic), false);
  });

  test('autoCreate=true asks a broker that auto-creates topics to create a missing one, and the monitor then reads it', async () => {
    const topic = uniqueTopic('auto');
    const source = new KafkaSource(spec(broker.url, topic, { kind: 'earliest' }, '?autoCreate=true'), recordingContext().ctx);
    await source.connect();
    assert.equal((await admin.listTopics()).includes(topic), true);
    const reading = drain(source);
    await produce(topic, 0, 3);
    await reading.waitUntil(() => reading.messages.length >= 3, '3 records');
    await source.close();
    await reading.done;
    assert.deepEqual(ids(reading.messages), [0, 1, 2]);
  });

  test('broker unreachable at start: reconnecting with the reason and a backoff, until closed', async () => {
    const { stdout } = await run('bash', ['-c', `source ${path.join(repoRoot, 'scripts/brokers/common.sh')}; free_port`]);
    const port = Number(stdout.trim());
    const rec = recordingContext();
    const source = new KafkaSource(spec(`kafka://127.0.0.1:${port}`, 'orders', { kind: 'latest' }), rec.ctx);
    const connecting = source.connect();
    await until('two retries', () => rec.statuses.filter((s) => s.state === 'reconnecting').length >= 2, 30_000);
    await source.close();
    await assert.rejects(connecting, { name: 'SourceError', code: 'closed', message: `Stopped while connecting to Kafka at 127.0.0.1:${port}.` });
    const reconnecting = rec.statuses.filter((s) => s.state === 'reconnecting').map((s) => s.message);
    assert.deepEqual(reconnecting.slice(0, 2), [
      `Cannot reach Kafka at 127.0.0.1:${port} (ECONNREFUSED). Is the broker running? Retrying in 0.5 s.`,
      `Cannot reach Kafka at 127.0.0.1:${port} (ECONNREFUSED). Is the broker running? Retrying in 1 s.`,
    ]);
  });

  test('TLS to a port that does not speak TLS', async () => {
    const source = new KafkaSource(spec(broker.url, uniqueTopic('tls'), { kind: 'latest' }, '?tls=true'), recordingContext().ctx);
    await assert.rejects(source.connect(), (err: unknown) => {
      assert.ok(err instanceof SourceError);
      assert.equal(err.code, 'tls');
      assert.equal(
        err.message,
        `TLS connection to Kafka at ${bootstrap} failed (Client network socket disconnected before secure TLS connection was established). ` +
          `Check that this port speaks TLS and that tls.ca names the CA that signed the broker's certificate (and tls.cert/tls.key when the broker asks for a client certificate).`,
      );
      return true;
    });
    await source.close();
  });
});

describe('KafkaSource with its own brokers', () => {
  test('the broker stopped and restarted mid-stream: reconnecting, then every record, none lost', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-kafka-restart-'));
    const url = await startOwnBroker(dir);
    const own = new Kafka({ clientId: 'clean-test-restart', brokers: [hostPort(url)], logLevel: logLevel.NOTHING });
    const ownAdmin = own.admin();
    const ownProducer = own.producer();
    const topic = 'restart-orders';
    try {
      await ownAdmin.connect();
      await createTopic(topic, 2, ownAdmin);
      await ownAdmin.disconnect();
      await ownProducer.connect();
      // Many small sends make small record batches, which a small fetch size can then return a few at a time.
      for (let from = 0; from < 1000; from += 10) await produce(topic, from, 10, ownProducer);
      await ownProducer.disconnect();

      // Small fetches and a slow reader, so the broker goes away while records are still unread.
      const rec = recordingContext();
      const source = new KafkaSource(spec(url, topic, { kind: 'earliest' }, '?maxBytesPerPartition=1024'), rec.ctx);
      await source.connect();
      const reading = drain(source, 100);
      await reading.waitUntil(() => reading.messages.length >= 200, 'the first 200 records');

      await run('bash', [kafkaScript, 'stop', dir]);
      await reading.waitUntil(() => rec.statuses.some((s) => s.state === 'reconnecting'), 'status reconnecting', 60_000);
      assert.ok(new Set(ids(reading.messages)).size < 1000, 'records were still unread when the broker stopped');
      assert.equal(await startOwnBroker(dir), url, 'the broker comes back on the same port');

      await ownProducer.connect();
      await produce(topic, 1000, 200, ownProducer);
      await reading.waitUntil(() => new Set(ids(reading.messages)).size >= 1200, 'all 1200 records', 90_000);
      await source.close();
      await reading.done;

      assert.deepEqual([...new Set(ids(reading.messages))].sort((a, b) => a - b), range(0, 1200));
      t.diagnostic(`${reading.messages.length - 1200} records delivered twice; statuses: ${rec.statuses.map((s) => `${s.state}: ${s.message}`).join(' | ')}`);
      const states = rec.statuses.map((s) => s.state);
      assert.ok(states.lastIndexOf('running') > states.indexOf('reconnecting'), `running again after reconnecting: ${states.join(' ')}`);
      for (const s of rec.statuses.filter((x) => x.state === 'reconnecting')) {
        assert.match(s.message, new RegExp(`^(Cannot reach Kafka at ${hostPort(url).replace(/\./g, '\\.')} \\([^)]+\\)\\. Is the broker running\\?|Kafka at ${hostPort(url).replace(/\./g, '\\.')}, topic "${topic}": .+) Retrying in [0-9.]+ s\\.$`));
      }
    } finally {
      await ownProducer.disconnect().catch(() => undefined);
      await run('bash', [kafkaScript, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('SASL/SCRAM: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN with the right password read; a wrong one gives the auth message', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-kafka-scram-'));
    const password = 'scram-test-secret';
    const url = await startOwnBroker(dir, { KAFKA_SASL: 'scram', KAFKA_SASL_USER: 'clean', KAFKA_SASL_PASSWORD: password });
    const sasl: SASLOptions = { mechanism: 'scram-sha-256', username: 'clean', password };
    const own = new Kafka({ clientId: 'clean-test-scram', brokers: [hostPort(url)], sasl, logLevel: logLevel.NOTHING });
    const ownProducer = own.producer({ allowAutoTopicCreation: true });
    const topic = 'scram-orders';
    process.env.CLEAN_SECRET_KAFKA_TEST = password;
    try {
      await ownProducer.connect();
      await produce(topic, 0, 10, ownProducer);
      await ownProducer.disconnect();

      for (const mechanism of ['scram-sha-256', 'scram-sha-512', 'plain']) {
        const rec = recordingContext(secretFromEnv);
        const source = new KafkaSource(spec(url.replace('kafka://', 'kafka://clean@'), topic, { kind: 'earliest' }, `?secret=kafka-test&mechanism=${mechanism}`), rec.ctx);
        await source.connect();
        const reading = drain(source);
        await reading.waitUntil(() => reading.messages.length >= 10, `10 records over ${mechanism}`);
        await source.close();
        await reading.done;
        assert.deepEqual(ids(reading.messages), range(0, 10), mechanism);
        assert.equal(rec.logs.some((l) => l.includes(password)), false, 'the password never reaches the log');
      }

      const rec = recordingContext(async (name) => (name === 'kafka-wrong' ? 'not-the-password' : undefined));
      const wrong = new KafkaSource(spec(url.replace('kafka://', 'kafka://clean@'), topic, { kind: 'earliest' }, '?secret=kafka-wrong&mechanism=scram-sha-256'), rec.ctx);
      await assert.rejects(wrong.connect(), (err: unknown) => {
        assert.ok(err instanceof SourceError);
        assert.equal(err.code, 'auth');
        assert.equal(
          err.message,
          `Kafka at ${hostPort(url)} refused to authenticate user "clean" with SCRAM-SHA-256. Check the user name and the password stored as secret "kafka-wrong", and that the broker allows this SASL mechanism.`,
        );
        return true;
      });
      await wrong.close();

      const unset = new KafkaSource(spec(url.replace('kafka://', 'kafka://clean@'), topic, { kind: 'earliest' }, '?secret=kafka-missing&mechanism=scram-sha-512'), recordingContext(secretFromEnv).ctx);
      await assert.rejects(unset.connect(), {
        message: `The secret "kafka-missing" for Kafka user "clean" at ${hostPort(url)} is not set. Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_KAFKA_MISSING for the CLI.`,
      });
    } finally {
      delete process.env.CLEAN_SECRET_KAFKA_TEST;
      await ownProducer.disconnect().catch(() => undefined);
      await run('bash', [kafkaScript, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('TLS: with the CA as tls.ca or ?ca= every record reads; with only the system CAs the certificate error names tls.ca', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-kafka-tls-'));
    const url = await startOwnBroker(dir, { KAFKA_TLS: '1' });
    const ca = path.join(dir, 'ca.pem');
    const own = new Kafka({ clientId: 'clean-test-tls', brokers: [hostPort(url)], ssl: { ca: [readFileSync(ca)] }, logLevel: logLevel.NOTHING });
    const ownProducer = own.producer({ allowAutoTopicCreation: true });
    const topic = 'tls-orders';
    try {
      await ownProducer.connect();
      await produce(topic, 0, 10, ownProducer);
      await ownProducer.disconnect();

      const forms: Array<[string, SourceSpec]> = [
        ['tls: { ca }', { ...spec(url, topic, { kind: 'earliest' }), tls: { ca } }],
        ['?tls=true&ca=', spec(url, topic, { kind: 'earliest' }, `?tls=true&ca=${encodeURIComponent(ca)}`)],
      ];
      for (const [form, tlsSpec] of forms) {
        const source = new KafkaSource(tlsSpec, recordingContext().ctx);
        await source.connect();
        const reading = drain(source);
        await reading.waitUntil(() => reading.messages.length >= 10, `10 records over TLS with ${form}`);
        await source.close();
        await reading.done;
        assert.deepEqual(reading.messages.map((m) => String(m.value)), range(0, 10).map(order), form);
        assert.deepEqual(reading.messages.map((m) => m.position), range(0, 10).map((o) => `0@${o}`), form);
      }

      const systemCAs = new KafkaSource(spec(url, topic, { kind: 'earliest' }, '?tls=true'), recordingContext().ctx);
      await assert.rejects(systemCAs.connect(), (err: unknown) => {
        assert.ok(err instanceof SourceError);
        assert.equal(err.code, 'tls');
        assert.equal(
          err.message,
          `TLS connection to Kafka at ${hostPort(url)} failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE). ` +
            `Check that this port speaks TLS and that tls.ca names the CA that signed the broker's certificate (and tls.cert/tls.key when the broker asks for a client certificate).`,
        );
        return true;
      });
      await systemCAs.close();
    } finally {
      await ownProducer.disconnect().catch(() => undefined);
      await run('bash', [kafkaScript, 'stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
