/**
 * Decoding through a real schema registry (Apicurio Registry, its Confluent-compatible API, started by
 * `scripts/broker start registry`) on a real Kafka broker: schemas registered through the registry's REST API,
 * Avro and Protobuf records produced in the Confluent wire format with kafkajs, each topic with fault
 * episodes (nulls, gross numeric errors, a type change through a new schema version), and the alerts asserted.
 * Also: an unknown schema id is reported; an Avro topic with no registry gives a clear first status and no
 * parse alert. Every test has its own topics and subjects (others share the broker and the registry).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import * as avsc from 'avsc';
import * as protobuf from 'protobufjs';
import { brokerCommand, useBroker, type Broker, type BrokerName } from '../helpers/broker';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { MetricsEvent, StatusEvent } from '../../server/engine/events';
import { createSource } from '../../server/sources';
import { parseSourceUrl } from '../../server/sources/url';
import { decodeSettingsOf, wireMessage } from '../../server/decode';

const tag = `${process.pid}-${Date.now().toString(36)}`;
let seq = 0;
const unique = (what: string) => `clean-decode-${what}-${tag}-${++seq}`;

let kafkaBroker: Broker;
let registry: string;
let producer: Producer;
let kafkaUrl: string;

/** The suite's registry (CLEAN_TEST_REGISTRY_URL), else one running through scripts/broker, else started here. */
async function useRegistry(): Promise<string> {
  const shared = process.env.CLEAN_TEST_REGISTRY_URL;
  if (shared) return shared;
  const name = 'registry' as BrokerName;
  return (await brokerCommand('url', name).catch(() => '')) || (await brokerCommand('start', name));
}

/** Registers a schema under a subject through the REST API; its id. */
async function register(subject: string, schema: string, schemaType: 'AVRO' | 'PROTOBUF' | 'JSON'): Promise<number> {
  const res = await fetch(`${registry}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema, schemaType }),
  });
  const body = await res.text();
  assert.equal(res.status, 200, `registering ${subject}: ${body}`);
  return (JSON.parse(body) as { id: number }).id;
}

/** Lets a subject take an incompatible version (the type-change episode). */
async function anyChange(subject: string): Promise<void> {
  const res = await fetch(`${registry}/config/${encodeURIComponent(subject)}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ compatibility: 'NONE' }),
  });
  assert.equal(res.status, 200, await res.text());
}

async function produce(topic: string, values: Buffer[]): Promise<void> {
  for (let i = 0; i < values.length; i += 500) {
    await producer.send({ topic, acks: -1, messages: values.slice(i, i + 500).map((value) => ({ value })) });
  }
}

interface Watched {
  alerts: string[];
  statuses: StatusEvent[];
  last: MetricsEvent | null;
  pipeline: RealtimePipeline;
}

/** Watches a topic from the earliest record through `query` until `limit` records (or until stopped). */
function watch(topic: string, query: string, limit?: number): { done: Promise<void>; w: Watched } {
  const spec = parseSourceUrl(`${kafkaUrl}/${topic}${query}`, { kind: 'earliest' });
  // A generous check budget: a loaded machine must not pause the pipeline (timing is no pass/fail criterion here).
  const config = resolvePipelineConfig({ windowSize: 1000, checkInterval: { records: 500 }, checkBudgetMs: 60_000 });
  const pipeline = new RealtimePipeline(topic, (ctx) => createSource(spec, ctx), config, { decode: decodeSettingsOf(spec, config.format), ...(limit ? { limit } : {}) });
  const w: Watched = { alerts: [], statuses: [], last: null, pipeline };
  pipeline.on('alert', (e) => w.alerts.push(`${e.records} ${e.detector ?? 'score'} ${e.fields.map((f) => f.name).join(',')}`));
  pipeline.on('status', (e) => w.statuses.push(e));
  pipeline.on('metrics', (e) => (w.last = e));
  return { done: pipeline.run(), w };
}

async function until(what: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

before(async () => {
  [kafkaBroker, registry] = await Promise.all([useBroker('kafka'), useRegistry()]);
  kafkaUrl = kafkaBroker.url;
  const kafka = new Kafka({ clientId: 'clean-decode-test', brokers: [kafkaUrl.replace(/^kafka:\/\//, '')], logLevel: logLevel.NOTHING });
  producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await kafkaBroker?.release();
});

/** A calm sensor reading's value: cycles over 50.0 … 59.9. */
const calm = (i: number) => 50 + ((i * 37) % 100) / 10;

describe('schema registry decoding on Kafka', () => {
  test('avro: nulls, gross errors and a type change through a new schema version alert on the decoded fields', async () => {
    const topic = unique('avro');
    const subject = `${topic}-value`;
    const v1 = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'double'] }] };
    const v2 = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'string'] }] };
    const id1 = await register(subject, JSON.stringify(v1), 'AVRO');
    await anyChange(subject);
    const id2 = await register(subject, JSON.stringify(v2), 'AVRO');
    const t1 = avsc.Type.forSchema(v1 as avsc.Schema);
    const t2 = avsc.Type.forSchema(v2 as avsc.Schema);
    const values: Buffer[] = [];
    for (let i = 0; i < 6000; i++) {
      const sensor = `s${i % 5}`;
      if (i >= 5000) values.push(wireMessage(id2, t2.toBuffer({ id: i, sensor, value: String(calm(i)) })));
      else if (i >= 2500 && i < 2600) values.push(wireMessage(id1, t1.toBuffer({ id: i, sensor, value: null })));
      else if (i >= 3500 && i < 3560) values.push(wireMessage(id1, t1.toBuffer({ id: i, sensor, value: calm(i) * 1000 })));
      else values.push(wireMessage(id1, t1.toBuffer({ id: i, sensor, value: calm(i) })));
    }
    await produce(topic, values);
    const { done, w } = watch(topic, `?registry=${encodeURIComponent(registry)}`, 6000);
    await done;
    assert.deepEqual(w.alerts, ['3000 missing value', '4000 outliers value', '5500 schema value']);
    assert.equal(w.last!.records, 6000);
    assert.deepEqual(w.last!.decode, { format: 'avro', origin: registry.replace(/\/+$/, ''), record: 'plant.Reading', subject, version: 2, schemaId: id2 });
    assert.equal(w.last!.detectors.parse?.count, 0);
  });

  test('protobuf: message indexes pick the message; nulls (absent optional), gross errors and a type change alert', async () => {
    const topic = unique('proto');
    const subject = `${topic}-value`;
    const proto = (valueType: string) => `syntax = "proto3";\npackage plant;\nmessage Envelope { string note = 1; }\nmessage Reading {\n  int64 id = 1;\n  string sensor = 2;\n  optional ${valueType} value = 3;\n}\n`;
    const id1 = await register(subject, proto('double'), 'PROTOBUF');
    await anyChange(subject);
    const id2 = await register(subject, proto('string'), 'PROTOBUF');
    const R1 = protobuf.parse(proto('double'), { keepCase: true }).root.lookupType('plant.Reading');
    const R2 = protobuf.parse(proto('string'), { keepCase: true }).root.lookupType('plant.Reading');
    const values: Buffer[] = [];
    for (let i = 0; i < 6000; i++) {
      const sensor = `s${i % 5}`;
      let rec: Uint8Array;
      if (i >= 5000) rec = R2.encode(R2.fromObject({ id: i, sensor, value: String(calm(i)) })).finish();
      else if (i >= 2500 && i < 2600) rec = R1.encode(R1.fromObject({ id: i, sensor })).finish();
      else if (i >= 3500 && i < 3560) rec = R1.encode(R1.fromObject({ id: i, sensor, value: calm(i) * 1000 })).finish();
      else rec = R1.encode(R1.fromObject({ id: i, sensor, value: calm(i) })).finish();
      values.push(wireMessage(i >= 5000 ? id2 : id1, rec, [1]));
    }
    await produce(topic, values);
    const { done, w } = watch(topic, `?registry=${encodeURIComponent(registry)}&format=protobuf`, 6000);
    await done;
    assert.deepEqual(w.alerts, ['3000 missing value', '4000 outliers value', '5500 schema value']);
    assert.deepEqual(w.last!.decode, { format: 'protobuf', origin: registry.replace(/\/+$/, ''), record: 'plant.Reading', subject, version: 2, schemaId: id2 });
  });

  test('an unknown schema id is counted under schema, saying so; the known ones decode', async () => {
    const topic = unique('unknown');
    const v1 = { type: 'record', name: 'Tick', fields: [{ name: 'n', type: 'int' }] };
    const id = await register(`${topic}-value`, JSON.stringify(v1), 'AVRO');
    const t = avsc.Type.forSchema(v1 as avsc.Schema);
    const missing = 2_000_000_000;
    const values = [wireMessage(id, t.toBuffer({ n: 1 })), wireMessage(missing, t.toBuffer({ n: 2 })), wireMessage(id, t.toBuffer({ n: 3 }))];
    await produce(topic, values);
    const { done, w } = watch(topic, `?registry=${encodeURIComponent(registry)}`, 3);
    await done;
    assert.equal(w.last!.detectors.schema?.count, 1);
    assert.deepEqual(w.pipeline.samples('schema', 5).map((s) => [s.record, s.reason]), [[2, `schema id ${missing} is not in the schema registry at ${registry.replace(/\/+$/, '')}`]]);
    assert.deepEqual(w.last!.fields.n, { missing: 0, outliers: 0 });
  });

  test('a new schema version: its first record is flagged, naming subject, versions and what changed', async () => {
    const topic = unique('writer');
    const subject = `${topic}-value`;
    const v1 = { type: 'record', name: 'Shipment', namespace: 'logistics', fields: [{ name: 'id', type: 'long' }, { name: 'weight', type: 'double' }, { name: 'note', type: 'string' }] };
    const v2 = { type: 'record', name: 'Shipment', namespace: 'logistics', fields: [{ name: 'id', type: 'long' }, { name: 'weight', type: 'string' }, { name: 'carrier', type: ['null', 'string'], default: null }] };
    const id1 = await register(subject, JSON.stringify(v1), 'AVRO');
    await anyChange(subject);
    const id2 = await register(subject, JSON.stringify(v2), 'AVRO');
    const t1 = avsc.Type.forSchema(v1 as avsc.Schema);
    const t2 = avsc.Type.forSchema(v2 as avsc.Schema);
    const values = [
      ...Array.from({ length: 10 }, (_, id) => wireMessage(id1, t1.toBuffer({ id, weight: 1.5, note: 'ok' }))),
      wireMessage(id2, t2.toBuffer({ id: 10, weight: '1.5 kg', carrier: null })),
    ];
    await produce(topic, values);
    const { done, w } = watch(topic, `?registry=${encodeURIComponent(registry)}`, 11);
    await done;
    const writer = w.pipeline.samples('schema', 10).find((s) => s.record === 11)!;
    assert.equal(writer.reason, `new writer schema ${subject} v2 (id ${id2}) after ${subject} v1 (id ${id1}): added "carrier" (null|string); removed "note"; "weight" double → string`);
    assert.equal(writer.text, '{"id":10,"weight":"1.5 kg","carrier":null}');
  });

  test('json schema: wire-format JSON records decode through their registered schema', async () => {
    const topic = unique('json');
    const subject = `${topic}-value`;
    const schema = JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'Ping', type: 'object', properties: { n: { type: 'integer' }, host: { type: 'string' } } });
    const id = await register(subject, schema, 'JSON');
    await produce(topic, Array.from({ length: 4 }, (_, n) => wireMessage(id, Buffer.from(JSON.stringify({ n, host: `h${n}` })))));
    const { done, w } = watch(topic, `?registry=${encodeURIComponent(registry)}`, 4);
    await done;
    assert.deepEqual(w.last!.decode, { format: 'jsonschema', origin: registry.replace(/\/+$/, ''), record: 'Ping', subject, version: 1, schemaId: id });
    assert.deepEqual(Object.keys(w.last!.fields), ['host', 'n']);
    assert.equal(w.last!.detectors.parse?.count, 0);
  });

  test('avro with no registry configured: the first status says what the records are and what to set; no parse alert', async () => {
    const topic = unique('noreg');
    const v1 = { type: 'record', name: 'Tick', fields: [{ name: 'n', type: 'int' }] };
    const id = await register(`${topic}-value`, JSON.stringify(v1), 'AVRO');
    const t = avsc.Type.forSchema(v1 as avsc.Schema);
    await produce(topic, Array.from({ length: 1500 }, (_, n) => wireMessage(id, t.toBuffer({ n }))));
    const { done, w } = watch(topic, '');
    await until(() => w.statuses.some((s) => s.state === 'waiting'));
    await w.pipeline.stop();
    await done;
    const first = w.statuses.find((s) => s.state === 'waiting')!;
    assert.equal(
      first.message,
      `Records are in the Confluent wire format (schema id ${id}): set a schema registry (registry: {url} on the connection, or ?registry=<url>), or schemas: <folder> with the schema files. 1 record held out of the score so far.`,
    );
    assert.deepEqual(w.alerts, []);
    assert.equal(w.pipeline.snapshot().records, 0);
  });
});
