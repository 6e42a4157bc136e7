/** "The topic under the cursor" on real-shaped files of each kind (test/fixtures/resolve). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileKindOf, resolveTopic } from '../../server/resolve/index';
import type { ResolveTopicResult } from '../../shared/protocol';

const dir = path.resolve(__dirname, '..', 'fixtures', 'resolve');
const resolveIn = (name: string, line?: number, character?: number): ResolveTopicResult => {
  const file = path.join(dir, name);
  return resolveTopic(readFileSync(file, 'utf8'), file, line === undefined ? undefined : { line, character: character! });
};
/** [topic, backend, url, line, start, end, origin] per candidate. */
const brief = (r: ResolveTopicResult) => r.candidates.map((c) => [c.topic, c.backend ?? null, c.url ?? null, c.range.start.line, c.range.start.character, c.range.end.character, c.origin]);
const chosen = (r: ResolveTopicResult) => ({ topic: r.topic ?? null, backend: r.backend ?? null, url: r.url ?? null, reason: r.reason ?? null });

describe('resolveTopic: docker-compose', () => {
  it('finds the Kafka broker a host can reach, the Redis port, and every topic', () => {
    const r = resolveIn('docker-compose.yml');
    assert.equal(r.fileKind, 'compose');
    assert.deepEqual(r.connections, [
      { backend: 'kafka', brokers: ['localhost:9092'], origin: 'service kafka, KAFKA_ADVERTISED_LISTENERS' },
      { backend: 'redis', url: 'redis://localhost:6380', origin: 'service redis, ports' },
    ]);
    assert.deepEqual(brief(r), [
      ['orders', 'kafka', 'kafka://localhost:9092/orders', 19, 28, 34, 'KAFKA_CREATE_TOPICS of service kafka'],
      ['payments', 'kafka', 'kafka://localhost:9092/payments', 19, 39, 47, 'KAFKA_CREATE_TOPICS of service kafka'],
      ['orders', 'kafka', 'kafka://localhost:9092/orders', 30, 21, 27, 'ORDERS_TOPIC of service orders-service'],
      ['orders-audit', 'kafka', 'kafka://localhost:9092/orders-audit', 31, 20, 32, 'AUDIT_TOPIC of service orders-service'],
    ]);
    assert.deepEqual(chosen(r), { topic: null, backend: null, url: null, reason: 'The cursor is not on a topic; docker-compose.yml names 4 topics: pick one.' });
  });

  it('gives the topic under the cursor inside KAFKA_CREATE_TOPICS and on a *_TOPIC variable', () => {
    assert.deepEqual(chosen(resolveIn('docker-compose.yml', 19, 42)), { topic: 'payments', backend: 'kafka', url: 'kafka://localhost:9092/payments', reason: null });
    assert.deepEqual(chosen(resolveIn('docker-compose.yml', 19, 28)), { topic: 'orders', backend: 'kafka', url: 'kafka://localhost:9092/orders', reason: null });
    // On the variable's name, not its value: still that variable's topic.
    assert.deepEqual(chosen(resolveIn('docker-compose.yml', 31, 9)).topic, 'orders-audit');
    // Elsewhere (the redis image line): no topic, the candidates.
    const elsewhere = resolveIn('docker-compose.yml', 21, 14);
    assert.equal(elsewhere.topic, undefined);
    assert.equal(elsewhere.candidates.length, 4);
  });

  it('reads Redpanda advertise flags, Pulsar services and ${VAR:-default} topics', () => {
    const r = resolveIn('redpanda/compose.yaml');
    assert.deepEqual(r.connections, [
      { backend: 'kafka', brokers: ['localhost:19092'], origin: 'service redpanda, --advertise-kafka-addr' },
      { backend: 'pulsar', url: 'pulsar://localhost:6650', origin: 'service pulsar, ports' },
    ]);
    assert.deepEqual(brief(r), [['clicks', 'kafka', 'kafka://localhost:19092/clicks', 20, 36, 42, 'CLICKS_TOPIC of service consumer']]);
    // The only topic in the file is the answer wherever the cursor is.
    assert.deepEqual(chosen(r), { topic: 'clicks', backend: 'kafka', url: 'kafka://localhost:19092/clicks', reason: null });
  });
});

describe('resolveTopic: Spring', () => {
  it('application.yml: bootstrap servers, spring.data.redis, keys ending in topic/topics', () => {
    const r = resolveIn('application.yml');
    assert.equal(r.fileKind, 'spring');
    assert.deepEqual(r.connections, [
      { backend: 'kafka', brokers: ['localhost:9092', 'localhost:9093'], origin: 'spring.kafka.bootstrap-servers' },
      { backend: 'redis', url: 'redis://localhost:6379', origin: 'spring.data.redis.*' },
    ]);
    assert.deepEqual(brief(r), [
      ['invoices', 'kafka', 'kafka://localhost:9092,localhost:9093/invoices', 16, 20, 28, 'app.kafka.invoices-topic'],
      ['invoices-retry', 'kafka', 'kafka://localhost:9092,localhost:9093/invoices-retry', 18, 14, 28, 'app.kafka.retry.topics'],
      ['invoices-dlt', 'kafka', 'kafka://localhost:9092,localhost:9093/invoices-dlt', 18, 29, 41, 'app.kafka.retry.topics'],
    ]);
    assert.equal(resolveIn('application.yml', 18, 35).topic, 'invoices-dlt');
    assert.equal(resolveIn('application.yml', 16, 6).topic, 'invoices');
  });

  it('application.properties: placeholders with defaults and topic-name keys', () => {
    const r = resolveIn('application.properties');
    assert.equal(r.fileKind, 'properties');
    assert.deepEqual(r.connections, [{ backend: 'kafka', brokers: ['broker-1:9092'], origin: 'spring.kafka.bootstrap-servers' }]);
    assert.deepEqual(brief(r), [
      ['payments', 'kafka', 'kafka://broker-1:9092/payments', 4, 36, 44, 'app.payments.topic'],
      ['refunds', 'kafka', 'kafka://broker-1:9092/refunds', 5, 25, 32, 'app.refunds.topic-name'],
    ]);
    assert.deepEqual(chosen(resolveIn('application.properties', 5, 27)), { topic: 'refunds', backend: 'kafka', url: 'kafka://broker-1:9092/refunds', reason: null });
  });
});

describe('resolveTopic: .env', () => {
  it('KAFKA_BROKERS, REDIS_URL (its db kept as an option), PULSAR_SERVICE_URL, *_TOPIC and *_STREAM', () => {
    const r = resolveIn('.env');
    assert.equal(r.fileKind, 'env');
    assert.deepEqual(r.connections, [
      { backend: 'kafka', brokers: ['localhost:9092'], origin: 'KAFKA_BROKERS' },
      { backend: 'pulsar', url: 'pulsar://localhost:6650', origin: 'PULSAR_SERVICE_URL' },
      { backend: 'redis', url: 'redis://localhost:6379/0', origin: 'REDIS_URL' },
    ]);
    assert.deepEqual(brief(r), [
      ['orders', 'kafka', 'kafka://localhost:9092/orders', 2, 13, 19, 'ORDERS_TOPIC'],
      ['payments', 'kafka', 'kafka://localhost:9092/payments', 3, 16, 24, 'PAYMENTS_TOPIC'],
      ['sessions', 'redis', 'redis://localhost:6379/sessions?db=0', 5, 16, 24, 'SESSIONS_STREAM'],
    ]);
    assert.equal(resolveIn('.env', 3, 18).topic, 'payments');
    assert.equal(resolveIn('.env', 7, 3).topic, undefined);
  });
});

describe('resolveTopic: Kafka Connect', () => {
  it('a sink connector\'s topics list', () => {
    const r = resolveIn('connect/jdbc-sink.json');
    assert.equal(r.fileKind, 'connect');
    assert.deepEqual(r.connections, []);
    assert.deepEqual(brief(r), [
      ['orders', 'kafka', null, 5, 15, 21, 'config.topics'],
      ['refunds', 'kafka', null, 5, 22, 29, 'config.topics'],
    ]);
    assert.deepEqual(chosen(resolveIn('connect/jdbc-sink.json', 5, 24)), { topic: 'refunds', backend: 'kafka', url: null, reason: null });
  });

  it('a source connector\'s kafka.topic', () => {
    const r = resolveIn('connect/datagen-source.json');
    assert.deepEqual(brief(r), [['pageviews', 'kafka', null, 4, 20, 29, 'config.kafka.topic']]);
    assert.equal(r.topic, 'pageviews');
  });
});

describe('resolveTopic: plain YAML and JSON', () => {
  it('keys named topic or stream, with a sibling kind naming the backend', () => {
    const r = resolveIn('ingest.yaml');
    assert.equal(r.fileKind, 'yaml');
    assert.deepEqual(brief(r), [
      ['raw-events', 'kafka', null, 4, 9, 19, 'input.topic'],
      ['events:clean', 'redis', null, 6, 10, 22, 'output.stream'],
    ]);
    assert.equal(resolveIn('ingest.yaml', 6, 12).topic, 'events:clean');
  });

  it('a JSON topic key', () => {
    const r = resolveIn('events.json');
    assert.equal(r.fileKind, 'json');
    assert.deepEqual(brief(r), [['telemetry', null, null, 1, 24, 33, 'source.topic']]);
  });
});

describe('resolveTopic: clean.yaml', () => {
  it('the pipeline under the cursor, with its connection and a start URL', () => {
    const r = resolveIn('clean.yaml', 12, 6);
    assert.equal(r.fileKind, 'clean');
    assert.deepEqual(chosen(r), { topic: 'sessions', backend: 'redis', url: 'redis://localhost:6379/sessions', reason: null });
    assert.equal(r.pipelineName, 'sessions');
    assert.deepEqual(r.connections, [
      { backend: 'kafka', origin: 'connection local', brokers: ['localhost:9092'] },
      { backend: 'redis', origin: 'connection cache', url: 'redis://localhost:6379' },
    ]);
    assert.deepEqual(brief(r), [
      ['orders', 'kafka', 'kafka://localhost:9092/orders', 10, 11, 17, 'pipeline orders'],
      ['sessions', 'redis', 'redis://localhost:6379/sessions', 13, 11, 19, 'pipeline sessions'],
    ]);
    assert.equal(resolveIn('clean.yaml', 1, 4).topic, undefined);
  });
});

describe('resolveTopic: file kinds and reasons', () => {
  it('tells the kinds apart by name and content', () => {
    assert.deepEqual(
      [
        ['clean.yaml', ''],
        ['orders.clean.yml', ''],
        ['docker-compose.override.yml', ''],
        ['compose.yaml', ''],
        ['application-dev.yml', ''],
        ['bootstrap.yaml', ''],
        ['kafka.properties', ''],
        ['.env', ''],
        ['.env.local', ''],
        ['sink.json', '{"config": {"connector.class": "x"}}'],
        ['package.json', '{}'],
        ['stack.yml', 'services:\n  app:\n    image: x\n'],
        ['values.yaml', 'a: 1'],
        ['README.md', ''],
      ].map(([name, text]) => fileKindOf(name, text)),
      ['clean', 'clean', 'compose', 'compose', 'spring', 'spring', 'properties', 'env', 'env', 'connect', 'json', 'compose', 'yaml', 'unknown'],
    );
  });

  it('says why there is no topic', () => {
    assert.equal(resolveTopic('services:\n  redis:\n    image: redis:7\n', '/x/docker-compose.yml').reason, 'docker-compose.yml names no topic: no KAFKA_CREATE_TOPICS on a Kafka service and no *_TOPIC or *_STREAM variables. Type the topic name instead.');
    assert.equal(resolveTopic('LOG_LEVEL=debug\n', '/x/.env').reason, '.env has no *_TOPIC, *_TOPICS or *_STREAM variable.');
    assert.equal(resolveTopic('# hi', '/x/README.md').reason, 'README.md is not a file kind Clean Streams reads (clean.yaml, docker-compose, Spring application.yml/.properties, .env, Kafka Connect JSON, YAML or JSON with a topic key).');
    assert.deepEqual(resolveTopic('services: [', '/x/docker-compose.yml').candidates, []);
  });
});
