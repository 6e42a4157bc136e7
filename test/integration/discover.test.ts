/**
 * clean/listTopics and clean/checkAddress (server/lsp/discover.ts) against the real brokers: what each lists, the
 * exact answer for a present and a misspelled topic, that asking never creates the misspelled one, and an address
 * where nothing listens. Every topic here carries this run's tag and is deleted afterwards.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import Redis from 'ioredis';
import { useBroker, type Broker } from '../helpers/broker';
import { freePort } from '../helpers/sources';
import { checkAddress, listTopics, specOf } from '../../server/lsp/discover';

const tag = `${process.pid}${Date.now().toString(36)}`;
const noSecrets = { secret: async () => undefined };

describe('discovery: Kafka', () => {
  let broker: Broker;
  let address: string;
  const topic = `clean-discover-${tag}-orders`;
  const kafka = () => new Kafka({ clientId: 'clean-discover-test', brokers: [address], logLevel: logLevel.NOTHING });

  before(async () => {
    broker = await useBroker('kafka');
    address = broker.url.replace(/^kafka:\/\//, '');
    const admin = kafka().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    await admin.disconnect();
  });
  after(async () => {
    const admin = kafka().admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await broker.release();
  });

  test('listTopics names the topic and leaves out the internal ones', async () => {
    const listed = await listTopics(`kafka://${address}`, noSecrets);
    assert.equal(listed.ok, true, listed.message);
    assert.equal(listed.address, address);
    assert.ok(listed.topics.includes(topic), `${topic} not in ${JSON.stringify(listed.topics)}`);
    assert.deepEqual(listed.topics.filter((t) => t.startsWith('__')), []);
    assert.deepEqual(listed.topics, [...listed.topics].sort());
  });

  test('checkAddress accepts the topic, and names it for a misspelling without creating the misspelled one', async () => {
    assert.deepEqual(await checkAddress(`kafka://${address}/${topic}`, noSecrets), { ok: true, message: `topic ${topic} exists on ${address}.` });
    const typo = `${topic.slice(0, -1)}z`;
    assert.deepEqual(await checkAddress(`kafka://${address}/${typo}`, noSecrets), {
      ok: false,
      problem: 'missing-topic',
      message: `topic ${typo} does not exist on ${address}; did you mean ${topic}?`,
      suggestion: topic,
    });
    const after = await listTopics(`kafka://${address}`, noSecrets);
    assert.equal(after.topics.includes(typo), false, 'checking the address created the misspelled topic');
  });

  test('an address where nothing listens is "unreachable" with what to check', async () => {
    const port = await freePort();
    const listed = await listTopics(`kafka://127.0.0.1:${port}`, noSecrets);
    assert.equal(listed.ok, false);
    assert.equal(listed.problem, 'unreachable');
    assert.deepEqual(listed.topics, []);
    assert.equal(listed.message, `Cannot reach Kafka at 127.0.0.1:${port} (ECONNREFUSED). Is the broker running?`);
  });
});

describe('discovery: Redis', () => {
  let broker: Broker;
  let redis: Redis;
  let address: string;
  const stream = `clean-discover:${tag}:orders`;
  const plain = `clean-discover:${tag}:not-a-stream`;

  before(async () => {
    broker = await useBroker('redis');
    address = broker.url.replace(/^redis:\/\//, '');
    redis = new Redis(broker.url);
    await redis.xadd(stream, '*', 'data', '{"id":1}');
    await redis.set(plain, 'x');
  });
  after(async () => {
    await redis.del(stream, plain);
    redis.disconnect();
    await broker.release();
  });

  test('listTopics names streams only (SCAN TYPE stream)', async () => {
    const listed = await listTopics(broker.url, noSecrets);
    assert.equal(listed.ok, true, listed.message);
    assert.equal(listed.address, address);
    assert.ok(listed.topics.includes(stream), `${stream} not in ${JSON.stringify(listed.topics)}`);
    assert.equal(listed.topics.includes(plain), false);
  });

  test('checkAddress accepts the stream and names it for a misspelling, creating nothing', async () => {
    assert.deepEqual(await checkAddress(`${broker.url}/${encodeURIComponent(stream)}`, noSecrets), { ok: true, message: `stream ${stream} exists on ${address}.` });
    const typo = `${stream.slice(0, -1)}z`;
    const checked = await checkAddress(`${broker.url}/${encodeURIComponent(typo)}`, noSecrets);
    assert.deepEqual(checked, { ok: false, problem: 'missing-topic', message: `stream ${typo} does not exist on ${address}; did you mean ${stream}?`, suggestion: stream });
    assert.equal(await redis.exists(typo), 0);
  });

  test('an address where nothing listens is "unreachable" with what to check', async () => {
    const port = await freePort();
    assert.deepEqual(await listTopics(`redis://127.0.0.1:${port}`, noSecrets), {
      ok: false,
      topics: [],
      address: `127.0.0.1:${port}`,
      problem: 'unreachable',
      message: `Cannot reach Redis at 127.0.0.1:${port} (connection refused). Is the server running on that port?`,
    });
  });
});

describe('discovery: Pulsar', () => {
  let broker: Broker;
  let web: string;
  const topic = `public/default/clean-discover-${tag}-orders`;
  const admin = (method: string, path: string) => fetch(`http://${web}${path}`, { method });

  before(async () => {
    broker = await useBroker('pulsar');
    web = broker.url.replace(/^pulsar\+ws:\/\//, '');
    assert.equal((await admin('PUT', `/admin/v2/persistent/${topic}`)).status, 204);
  });
  after(async () => {
    await admin('DELETE', `/admin/v2/persistent/${topic}?force=true`).catch(() => undefined);
    await broker.release();
  });

  test('listTopics names tenant/namespace/topic through the admin API', async () => {
    const listed = await listTopics(broker.url, noSecrets);
    assert.equal(listed.ok, true, listed.message);
    assert.equal(listed.address, web);
    assert.ok(listed.topics.includes(topic), `${topic} not in ${JSON.stringify(listed.topics)}`);
  });

  test('checkAddress accepts the topic and names it for a misspelling, creating nothing', async () => {
    assert.deepEqual(await checkAddress(`${broker.url}/${topic}`, noSecrets), { ok: true, message: `topic ${topic} exists on ${web}.` });
    const typo = `${topic.slice(0, -1)}z`;
    assert.deepEqual(await checkAddress(`${broker.url}/${typo}`, noSecrets), {
      ok: false,
      problem: 'missing-topic',
      message: `topic ${typo} does not exist on ${web}; did you mean ${topic}?`,
      suggestion: topic,
    });
    assert.equal((await admin('GET', `/admin/v2/persistent/${typo}/stats`)).status, 404);
  });

  test('an address where nothing listens is "unreachable" with what to check', async () => {
    const port = await freePort();
    assert.deepEqual(await listTopics(`pulsar+ws://127.0.0.1:${port}`, noSecrets), {
      ok: false,
      topics: [],
      address: `127.0.0.1:${port}`,
      problem: 'unreachable',
      message: `Cannot reach Pulsar's admin API at 127.0.0.1:${port} (connection refused). Is the broker running, and is this its web service port (usually 8080)?`,
    });
  });
});

describe('discovery: addresses', () => {
  test('an address without a topic parses; a bad one is "bad-address" with the URL forms', async () => {
    assert.deepEqual(specOf('kafka://127.0.0.1:9092,127.0.0.2:9092', false).brokers, ['127.0.0.1:9092', '127.0.0.2:9092']);
    assert.equal(specOf('pulsar://127.0.0.1:6650', false).topic, '');
    const bad = await listTopics('ftp://example', noSecrets);
    assert.equal(bad.ok, false);
    assert.equal(bad.problem, 'bad-address');
    assert.match(bad.message ?? '', /^"ftp:\/\/example" is not a source URL\. Use /);
  });
});
