/**
 * The monitor is a passive observer on every backend: a misspelled topic is never created. Against the real
 * Kafka, Pulsar and Redis: after monitoring a missing topic the broker's topic list does not hold it, the
 * pipeline says `waiting` with a "did you mean" naming the close existing topic, and once the test creates
 * the topic and produces 10 records the same pipeline (no restart) reads exactly those 10.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import Redis from 'ioredis';
import { useBroker, type Broker } from '../helpers/broker';
import { until } from '../helpers/sources';
import { createSource } from '../../server/sources/index';
import { parseSourceUrl } from '../../server/sources/url';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { MetricsEvent, StatusEvent } from '../../server/engine/events';
import type { StreamSource } from '../../server/sources/types';

/** Random letters shared by the existing and the misspelled name of one test: no other name of any run is as close. */
const tag = () => randomBytes(6).toString('hex');
const record = (i: number) => JSON.stringify({ id: i, amount: 10 + (i % 7), country: ['DE', 'FR', 'US'][i % 3] });
const TEN = Array.from({ length: 10 }, (_, i) => record(i));

/** The real source, with every value it hands to the engine written down. */
function recordingValues(source: StreamSource, values: string[]): StreamSource {
  return {
    description: source.description,
    connect: () => source.connect(),
    close: () => source.close(),
    async *consume() {
      for await (const batch of source.consume()) {
        for (const m of batch) values.push(String(m.value));
        yield batch;
      }
    },
  };
}

interface Watched {
  pipeline: RealtimePipeline;
  /** The agent's log lines, debug included. */
  logs: string[];
  running: Promise<void>;
  statuses: StatusEvent[];
  metrics: MetricsEvent[];
  values: string[];
}

/** A pipeline on `url`, started from `latest` as the extension starts one, checked every 10 records. */
function watch(url: string): Watched {
  const values: string[] = [];
  const statuses: StatusEvent[] = [];
  const metrics: MetricsEvent[] = [];
  const logs: string[] = [];
  const line = (msg: string) => void logs.push(msg);
  const spec = parseSourceUrl(url, { kind: 'latest' });
  const pipeline = new RealtimePipeline('observer', async (ctx) => recordingValues(await createSource(spec, ctx), values), resolvePipelineConfig({ checkInterval: { records: 10 } }), {
    log: { debug: line, info: line, warn: line, error: line },
  });
  pipeline.on('status', (e) => void statuses.push(e));
  pipeline.on('metrics', (e) => void metrics.push(e));
  return { pipeline, logs, running: pipeline.run(), statuses, metrics, values };
}

/** States in order with repeats folded (a source may say the same state twice with different messages). */
const states = (w: Watched) => w.statuses.map((s) => s.state).filter((s, i, all) => i === 0 || all[i - 1] !== s);

/** Waits for the waiting state, then for the topic to be created and filled by `fill`, then for the 10 records. */
async function followUntilRead(w: Watched, fill: () => Promise<void>): Promise<void> {
  await fill();
  await until('the 10 records read', () => w.metrics.some((m) => m.records === 10), 60_000);
  await w.pipeline.stop();
  await w.running;
  assert.deepEqual(w.values, TEN);
  assert.deepEqual(w.metrics.map((m) => m.records), [10]);
}

describe('Kafka: a missing topic is waited for, never created', () => {
  let broker: Broker;
  let kafka: Kafka;
  before(async () => {
    broker = await useBroker('kafka');
    kafka = new Kafka({ clientId: 'clean-test-observer', brokers: [broker.url.replace(/^kafka:\/\//, '')], logLevel: logLevel.NOTHING });
  });
  after(async () => broker?.release());

  test('orderz: waiting with "did you mean orders?", then exactly the 10 records produced once it exists', async () => {
    const bootstrap = broker.url.replace(/^kafka:\/\//, '');
    const t = tag();
    const orders = `clean-obs-orders-${t}`;
    const orderz = `clean-obs-orderz-${t}`;
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await Promise.all([admin.connect(), producer.connect()]);
    try {
      await admin.createTopics({ topics: [{ topic: orders, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      const w = watch(`${broker.url}/${orderz}`);
      await until('the waiting state', () => w.pipeline.state === 'waiting', 30_000);
      assert.equal(w.pipeline.message, `topic ${orderz} does not exist on ${bootstrap}; did you mean ${orders}?`);
      // Let the monitor look three times (each metadata request could have created it), then look.
      await until('three metadata polls', () => w.logs.filter((l) => l.includes(`no topic "${orderz}" in the metadata`)).length >= 3, 30_000);
      assert.deepEqual((await admin.listTopics()).filter((name) => name.includes(t)), [orders]);
      await followUntilRead(w, async () => {
        await admin.createTopics({ topics: [{ topic: orderz, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
        await producer.send({ topic: orderz, acks: -1, messages: TEN.map((value) => ({ value })) });
      });
      assert.deepEqual(states(w), ['connecting', 'waiting', 'connecting', 'running', 'stopped']);
      assert.equal(w.statuses.find((s) => s.state === 'waiting')!.message, `topic ${orderz} does not exist on ${bootstrap}; did you mean ${orders}?`);
    } finally {
      await admin.deleteTopics({ topics: [orders, orderz] }).catch(() => undefined);
      await Promise.all([admin.disconnect(), producer.disconnect()]);
    }
  });
});

describe('Pulsar: a missing topic is waited for, never created (the reader would create it)', () => {
  let broker: Broker;
  let web: string;
  before(async () => {
    broker = await useBroker('pulsar');
    web = new URL(broker.url.replace(/^pulsar\+ws:/, 'http:')).host;
  });
  after(async () => broker?.release());

  const rest = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://${web}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, text: await res.text() };
  };
  const topicsWith = async (t: string) => (JSON.parse((await rest('GET', '/admin/v2/persistent/public/default')).text) as string[]).filter((n) => n.includes(t));

  test('orderz: waiting with "did you mean orders?", then exactly the 10 records produced once it exists', async () => {
    const t = tag();
    const orders = `public/default/clean-obs-orders-${t}`;
    const orderz = `public/default/clean-obs-orderz-${t}`;
    try {
      assert.equal((await rest('PUT', `/admin/v2/persistent/${orders}`)).status, 204);
      const w = watch(`pulsar+ws://${web}/${orderz}`);
      await until('the waiting state', () => w.pipeline.state === 'waiting', 30_000);
      assert.equal(w.pipeline.message, `topic ${orderz} does not exist on ${web}; did you mean ${orders}?`);
      await until('three admin look-ups', () => w.logs.filter((l) => l.includes(`no topic persistent://${orderz} in the admin API`)).length >= 3, 30_000);
      assert.deepEqual(await topicsWith(t), [`persistent://${orders}`]);
      await followUntilRead(w, async () => {
        assert.equal((await rest('PUT', `/admin/v2/persistent/${orderz}`)).status, 204);
        const sent = await rest('POST', `/topics/persistent/${orderz}`, { messages: TEN.map((payload) => ({ payload })) });
        assert.equal(sent.status, 200, sent.text);
      });
      assert.deepEqual(states(w), ['connecting', 'waiting', 'running', 'stopped']);
      assert.equal(w.statuses.find((s) => s.state === 'waiting')!.message, `topic ${orderz} does not exist on ${web}; did you mean ${orders}?`);
    } finally {
      await rest('DELETE', `/admin/v2/persistent/${orders}?force=true`);
      await rest('DELETE', `/admin/v2/persistent/${orderz}?force=true`);
    }
  });
});

describe('Redis: a missing stream is waited for, never created (XREAD creates nothing)', () => {
  let broker: Broker;
  let redis: Redis;
  before(async () => {
    broker = await useBroker('redis');
    const { hostname, port } = new URL(broker.url);
    redis = new Redis({ host: hostname, port: Number(port), protocol: 2, lazyConnect: true });
    await redis.connect();
  });
  after(async () => {
    redis?.disconnect();
    await broker?.release();
  });

  test('orderz: waiting with "did you mean orders?", then exactly the 10 records added once it exists', async () => {
    const host = new URL(broker.url).host;
    const t = tag();
    const orders = `clean-obs:orders:${t}`;
    const orderz = `clean-obs:orderz:${t}`;
    try {
      await redis.xadd(orders, '*', 'data', record(0));
      const w = watch(`${broker.url}/${orderz}`);
      await until('the waiting state', () => w.pipeline.state === 'waiting', 30_000);
      assert.equal(w.pipeline.message, `stream ${orderz} does not exist on ${host}; did you mean ${orders}?`);
      assert.deepEqual((await redis.keys(`clean-obs:*:${t}`)).sort(), [orders]);
      await followUntilRead(w, async () => {
        for (const value of TEN) await redis.xadd(orderz, '*', 'data', value);
      });
      assert.deepEqual(states(w), ['connecting', 'waiting', 'running', 'stopped']);
    } finally {
      await redis.del(orders, orderz);
    }
  });
});
