/** Topic names in source code (server/resolve/code.ts) on real-shaped files (test/fixtures/code), and their lenses. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { codeLanguageOf, findCodeTopics } from '../../server/resolve/code';
import { resolveTopic } from '../../server/resolve/index';
import { nearbyConnections } from '../../server/resolve/nearby';
import { LineIndex } from '../../server/config/lines';
import { CodeTopicLenses, lensTitle } from '../../server/lsp/codeLens';
import type { PipelineInfo } from '../../shared/protocol';
import { lensTopicAt } from '../../client/model/commandArgs';

const dir = path.resolve(__dirname, '..', 'fixtures', 'code');
const read = (name: string) => readFileSync(path.join(dir, name), 'utf8');

/** [topic, backend, line, start character, end character, origin] per topic, from a fixture file. */
function topicsIn(name: string): Array<[string, string, number, number, number, string]> {
  const text = read(name);
  const lines = new LineIndex(text);
  return findCodeTopics(text, codeLanguageOf(name)!).map((t) => {
    const s = lines.position(t.range.start);
    const e = lines.position(t.range.end);
    assert.equal(s.line, e.line, `${t.topic} spans lines`);
    return [t.topic, t.backend, s.line, s.character, e.character, t.origin];
  });
}

describe('code topics: JavaScript / TypeScript (kafkajs)', () => {
  it('producer.send({ topic }) with a literal, a constant and a batch; not template literals, concatenation or comments', () => {
    assert.deepEqual(topicsIn('producer.ts'), [
      ['orders', 'kafka', 8, 32, 38, 'producer.send(…)'],
      ['payments', 'kafka', 10, 11, 25, 'producer.send(…)'],
      ['audit.v1', 'kafka', 13, 55, 63, 'producer.sendBatch(…)'],
    ]);
  });

  it('consumer.subscribe({ topic }) and ({ topics: [...] }); a regular expression names nothing', () => {
    assert.deepEqual(topicsIn('consumer.js'), [
      ['invoices', 'kafka', 6, 37, 45, 'consumer.subscribe(…)'],
      ['refunds', 'kafka', 7, 39, 46, 'consumer.subscribe(…)'],
      ['chargebacks', 'kafka', 7, 50, 61, 'consumer.subscribe(…)'],
    ]);
  });

  it('Redis: ioredis xadd, node-redis xAdd, [\'XADD\', stream] command parts and an "XADD stream …" string', () => {
    assert.deepEqual(topicsIn('streams.mjs'), [
      ['page-views', 'redis', 7, 20, 30, 'redis.xadd(…)'],
      ['searches', 'redis', 8, 21, 29, 'client.xAdd(…)'],
      ['wishlists', 'redis', 9, 37, 46, 'XADD command'],
      ['ratings', 'redis', 10, 23, 30, '"XADD …" command'],
    ]);
  });
});

describe('code topics: Java / Kotlin (Spring Kafka, the Kafka client)', () => {
  it('@KafkaListener(topics = "…" | {"a","b"} | "${key:default}"), kafkaTemplate.send("…" | CONSTANT, …), new ProducerRecord<>("…")', () => {
    assert.deepEqual(topicsIn('OrderListener.java'), [
      ['orders', 'kafka', 14, 29, 35, '@KafkaListener(topics = …)'],
      ['orders.confirmed', 'kafka', 16, 28, 44, 'kafkaTemplate.send(…)'],
      ['shipments', 'kafka', 17, 27, 36, 'kafkaTemplate.send(…)'],
      ['returns', 'kafka', 20, 46, 53, '@KafkaListener(topics = …)'],
      ['exchanges', 'kafka', 20, 57, 66, '@KafkaListener(topics = …)'],
      ['returns.audit', 'kafka', 22, 46, 59, 'new ProducerRecord(…)'],
      ['refunds.v2', 'kafka', 25, 50, 60, '@KafkaListener(topics = …)'],
    ]);
  });

  it('Kotlin: topics = ["a", "b"], send(CONSTANT, …); a string template names nothing', () => {
    assert.deepEqual(topicsIn('Notifications.kt'), [
      ['sms', 'kafka', 8, 30, 33, '@KafkaListener(topics = …)'],
      ['push', 'kafka', 8, 37, 41, '@KafkaListener(topics = …)'],
      ['emails', 'kafka', 10, 27, 33, 'kafkaTemplate.send(…)'],
    ]);
  });
});

describe('code topics: Python', () => {
  it('confluent-kafka produce("…" | CONSTANT | topic="…") and subscribe([...]); not f-strings', () => {
    assert.deepEqual(topicsIn('confluent_producer.py'), [
      ['pageviews', 'kafka', 6, 18, 27, 'producer.produce(…)'],
      ['clicks', 'kafka', 7, 17, 23, 'producer.produce(…)'],
      ['signups', 'kafka', 8, 24, 31, 'producer.produce(…)'],
      ['sessions', 'kafka', 12, 21, 29, 'consumer.subscribe(…)'],
      ['logins', 'kafka', 12, 33, 39, 'consumer.subscribe(…)'],
    ]);
  });

  it('kafka-python send("…") and KafkaConsumer("a", "b", …)', () => {
    assert.deepEqual(topicsIn('kafka_python.py'), [
      ['telemetry', 'kafka', 4, 15, 24, 'producer.send(…)'],
      ['metrics', 'kafka', 5, 15, 22, 'producer.send(…)'],
      ['alerts', 'kafka', 6, 26, 32, 'KafkaConsumer(…)'],
      ['heartbeats', 'kafka', 6, 36, 46, 'KafkaConsumer(…)'],
    ]);
  });

  it('redis-py xadd("…"), xadd(name="…") and execute_command("XADD", "…")', () => {
    assert.deepEqual(topicsIn('streams.py'), [
      ['clicks', 'redis', 3, 8, 14, 'r.xadd(…)'],
      ['carts', 'redis', 4, 13, 18, 'r.xadd(…)'],
      ['checkouts', 'redis', 5, 27, 36, 'XADD command'],
    ]);
  });
});

describe('code topics: names bound to strings', () => {
  it('a constant, an enum member; not a parameter\'s default, a keyword argument, or a name bound to two values', () => {
    const ts = [
      "enum Topics { ORDERS = 'orders', PAYMENTS = 'payments' }",
      "let target = 'a';",
      "target = 'b';",
      "function publish(topic = 'default-topic') {",
      '  return producer.send({ topic, messages: [] });',
      '}',
      'await producer.send({ topic: Topics.PAYMENTS, messages: [] });',
      'await producer.send({ topic: target, messages: [] });',
    ].join('\n');
    assert.deepEqual(findCodeTopics(ts, 'js').map((t) => [t.topic, t.range.start, t.range.end]), [['payments', 220, 228]]);
    const py = 'def f(topic="nope"):\n    producer.produce(topic, b"")\nproducer.flush(timeout=5)\nT = "t1"\nproducer.produce(T)\n';
    assert.deepEqual(findCodeTopics(py, 'python').map((t) => t.topic), ['t1']);
  });
});

describe('code topics: hostile text', () => {
  it('unbalanced brackets, deep nesting and unclosed strings end in linear time with what is certain', () => {
    const deep = `producer.send({ topic: 'ok' });\n${'['.repeat(200_000)}${')'.repeat(200_000)}\n"unclosed\nproducer.send({ topic: ${'['.repeat(50_000)}'x'${']'.repeat(50_000)} })`;
    // Quadratic work on this text would take hours, far past the per-test timeout.
    assert.deepEqual(findCodeTopics(deep, 'js').map((t) => t.topic), ['ok']);
  });

  it('only the extensions it knows, and nothing from a file over 1 MB', () => {
    assert.deepEqual(['a.ts', 'b.JAVA', 'c.kt', 'd.py', 'e.mjs', 'f.go', 'g.tsx.bak', 'clean.yaml'].map((f) => codeLanguageOf(f) ?? null), ['js', 'java', 'kotlin', 'python', 'js', null, null, null]);
    assert.deepEqual(findCodeTopics(`producer.send({ topic: 'big' });${' '.repeat(1024 * 1024)}`, 'js'), []);
  });
});

describe('resolveTopic on source files', () => {
  it('the topic under the cursor (on its name or anywhere on its call), with the brokers from the config files around it', async () => {
    const root = path.join(dir, 'shop');
    const file = path.join(root, 'services', 'checkout', 'checkout.py');
    const nearby = await nearbyConnections(file, [root]);
    assert.deepEqual(nearby, [
      { backend: 'kafka', brokers: ['localhost:9092'], origin: '.env: KAFKA_BROKERS' },
      { backend: 'redis', url: 'redis://localhost:6380', origin: '.env: REDIS_URL' },
      { backend: 'kafka', brokers: ['broker-1:9092'], origin: 'src/main/resources/application.yml: spring.kafka.bootstrap-servers' },
    ]);
    const text = readFileSync(file, 'utf8');
    const onName = resolveTopic(text, file, { line: 8, character: 24 }, nearby);
    assert.deepEqual([onName.fileKind, onName.topic, onName.backend, onName.url], ['code', 'checkouts', 'kafka', 'kafka://localhost:9092/checkouts']);
    const onCall = resolveTopic(text, file, { line: 9, character: 5 }, nearby);
    assert.deepEqual([onCall.topic, onCall.backend, onCall.url], ['checkout-events', 'redis', 'redis://localhost:6380/checkout-events']);
    const elsewhere = resolveTopic(text, file, { line: 0, character: 0 }, nearby);
    assert.deepEqual([elsewhere.topic, elsewhere.reason], [undefined, 'The cursor is not on a topic; checkout.py names 2 topics: pick one.']);
    assert.deepEqual(elsewhere.candidates.map((c) => [c.topic, c.url, c.origin]), [
      ['checkouts', 'kafka://localhost:9092/checkouts', 'producer.produce(…)'],
      ['checkout-events', 'redis://localhost:6380/checkout-events', 'r.xadd(…)'],
    ]);
  });

  it('Spring code finds src/main/resources/application.yml up the tree; a file with no topic says why', async () => {
    const root = path.join(dir, 'shop');
    const file = path.join(root, 'src', 'main', 'java', 'shop', 'Billing.java');
    const r = resolveTopic(readFileSync(file, 'utf8'), file, undefined, await nearbyConnections(file, [root]));
    assert.deepEqual([r.topic, r.url], ['invoices', 'kafka://localhost:9092/invoices']);
    const none = resolveTopic('print("hello")\n', '/tmp/hello.py', { line: 0, character: 1 });
    assert.deepEqual([none.fileKind, none.topic, none.reason], ['code', undefined, 'hello.py has no producer, consumer or XADD call that names a topic or stream as a string (or a constant bound to one).']);
  });
});

describe('code lenses on source files', () => {
  const running = (over: Partial<PipelineInfo>): PipelineInfo => ({
    id: 'orders', name: 'orders', topic: 'orders', backend: 'kafka', description: 'kafka 127.0.0.1:9092/orders', state: 'running', message: '',
    threshold: 0.8, detectors: [], cliCommand: '', ...over,
  });

  it('"Monitor this topic" with the topic\'s place, or the live score of the pipeline that watches it', () => {
    const lenses = new CodeTopicLenses();
    const uri = 'file:///w/producer.ts';
    const text = read('producer.ts');
    const idle = lenses.lenses(uri, '/w/producer.ts', 1, text, []);
    assert.deepEqual(idle.map((l) => [l.range.start.line, l.range.start.character, l.command!.title, l.command!.command, l.command!.arguments]), [
      [8, 32, 'Monitor this topic', 'clean.monitorThisTopic', [{ uri, position: { line: 8, character: 32 } }]],
      [10, 11, 'Monitor this topic', 'clean.monitorThisTopic', [{ uri, position: { line: 10, character: 11 } }]],
      [13, 55, 'Monitor this topic', 'clean.monitorThisTopic', [{ uri, position: { line: 13, character: 55 } }]],
    ]);
    const pipelines = [
      running({ id: 'orders-old', state: 'stopped', score: 0.5 }),
      running({ score: 0.9712, throughput: 1204.4 }),
      running({ id: 'payments', topic: 'payments', state: 'reconnecting', score: 0.5 }),
      running({ id: 'audit', topic: 'audit.v1', backend: 'redis', score: 1 }),
    ];
    const live = lenses.lenses(uri, '/w/producer.ts', 1, text, pipelines);
    assert.deepEqual(live.map((l) => [l.command!.title, l.command!.command, l.command!.arguments]), [
      ['orders · 0.97 · 1,204 rec/s', 'clean.openChart', [{ pipeline: 'orders' }]],
      ['payments · 0.50 · reconnecting', 'clean.openChart', [{ pipeline: 'payments' }]],
      ['Monitor this topic', 'clean.monitorThisTopic', [{ uri, position: { line: 13, character: 55 } }]],
    ]);
  });

  it('several topics on one line name themselves; a pipeline without a score shows its state', () => {
    const lenses = new CodeTopicLenses();
    const titles = lenses.lenses('file:///w/Notifications.kt', '/w/Notifications.kt', 3, read('Notifications.kt'), []).map((l) => l.command!.title);
    assert.deepEqual(titles, ['Monitor sms', 'Monitor push', 'Monitor this topic']);
    assert.equal(lensTitle('sms', running({ topic: 'sms', state: 'connecting' })), 'sms · connecting');
    assert.equal(lensTitle('sms', running({ topic: 'sms', score: 1, throughput: 4.25 })), 'sms · 1.00 · 4.3 rec/s');
  });
});

describe('the lens argument on the extension side', () => {
  it('takes { uri, position } from a code lens and nothing else', () => {
    assert.deepEqual(lensTopicAt({ uri: 'file:///w/a.py', position: { line: 3, character: 8 } }), { uri: 'file:///w/a.py', position: { line: 3, character: 8 } });
    assert.deepEqual(
      [undefined, 'file:///w/a.py', { uri: 'file:///w/a.py' }, { uri: '', position: { line: 0, character: 0 } }, { uri: 'file:///w/a.py', position: { line: -1, character: 0 } }, { uri: 'file:///w/a.py', position: { line: 1.5, character: 0 } }].map(lensTopicAt),
      [undefined, undefined, undefined, undefined, undefined, undefined],
    );
  });
});
