/**
 * Decoding through Pulsar's own schema registry on the real Pulsar standalone (scripts/broker start pulsar):
 * AVRO records written by the broker's REST producer with a value schema (the broker encodes them and stamps
 * the schema version), a second version through a new schema; PROTOBUF_NATIVE and JSON schemas uploaded through
 * the admin API with records from the WebSocket producer. Each topic has fault episodes (nulls, gross numeric
 * errors, a type change through a new schema version) and the alerts are asserted. Every test has its own
 * namespace (its schema compatibility set to ALWAYS_COMPATIBLE, so the type change is accepted), removed after.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as protobuf from 'protobufjs';
import * as descriptorExt from 'protobufjs/ext/descriptor';
import WebSocket from 'ws';
import { useBroker, type Broker } from '../helpers/broker';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { MetricsEvent, StatusEvent } from '../../server/engine/events';
import { createSource } from '../../server/sources';
import { parseSourceUrl } from '../../server/sources/url';
import { decodeSettingsOf } from '../../server/decode';
import { PulsarSchemaRegistry, pulsarAdminOf } from '../../server/decode/pulsar';
import { SchemaLookup, schemaHoverMarkdown } from '../../server/lsp/schemaHover';

const tag = `${process.pid}${Date.now().toString(36)}`;
let seq = 0;
const namespaces: string[] = [];

let broker: Broker;
/** `host:port` of the broker's web service. */
let web: string;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${web}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, text: await res.text() };
}

/** A new namespace that takes any schema change, and a topic in it: `public/<ns>/<what>`. */
async function freshTopic(what: string): Promise<string> {
  const ns = `public/clean-schema-${tag}-${++seq}`;
  assert.equal((await admin('PUT', `/admin/v2/namespaces/${ns}`)).status, 204);
  namespaces.push(ns);
  assert.equal((await admin('PUT', `/admin/v2/namespaces/${ns}/schemaCompatibilityStrategy`, 'ALWAYS_COMPATIBLE')).status, 204);
  const topic = `${ns}/${what}`;
  assert.equal((await admin('PUT', `/admin/v2/persistent/${topic}`)).status, 204);
  return topic;
}

/** Publishes through the broker's REST producer with an AVRO value schema: the broker encodes the Avro-JSON payloads. */
async function produceAvro(topic: string, schema: object, payloads: string[]): Promise<number> {
  const valueSchema = JSON.stringify({ type: 'AVRO', schema: Buffer.from(JSON.stringify(schema)).toString('base64'), properties: {} });
  let version = -1;
  for (let i = 0; i < payloads.length; i += 500) {
    const r = await admin('POST', `/topics/persistent/${topic}`, { valueSchema, messages: payloads.slice(i, i + 500).map((payload) => ({ payload })) });
    assert.equal(r.status, 200, r.text);
    const answer = JSON.parse(r.text) as { schemaVersion: number; messagePublishResults: Array<{ errorCode: number }> };
    assert.ok(answer.messagePublishResults.every((m) => m.errorCode === 0), r.text);
    version = answer.schemaVersion;
  }
  return version;
}

/** Uploads a schema version through the admin API. */
async function uploadSchema(topic: string, type: string, schema: string): Promise<void> {
  const r = await admin('POST', `/admin/v2/schemas/${topic}/schema`, { type, schema, properties: {} });
  assert.equal(r.status, 200, r.text);
}

/** Publishes raw payloads through the broker's WebSocket producer. */
async function produceWs(topic: string, payloads: Uint8Array[]): Promise<void> {
  const socket = new WebSocket(`ws://${web}/ws/v2/producer/persistent/${topic}`);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`producer upgrade refused: HTTP ${res.statusCode}`)));
  });
  let acked = 0;
  const all = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const reply = JSON.parse(data.toString()) as { result: string; errorMsg?: string };
      if (reply.result !== 'ok') return reject(new Error(`publish failed: ${reply.errorMsg ?? reply.result}`));
      if (++acked === payloads.length) resolve();
    });
  });
  payloads.forEach((p, i) => socket.send(JSON.stringify({ payload: Buffer.from(p).toString('base64'), context: String(i) })));
  await all;
  socket.close();
}

interface Watched {
  alerts: string[];
  statuses: StatusEvent[];
  last: MetricsEvent | null;
  pipeline: RealtimePipeline;
}

/** Watches a topic from its earliest record until `limit` records, decoding as a user's pipeline would. */
function watch(topic: string, limit: number, query = ''): { done: Promise<void>; w: Watched } {
  const spec = parseSourceUrl(`pulsar+ws://${web}/${topic}${query}`, { kind: 'earliest' });
  const config = resolvePipelineConfig({ windowSize: 1000, checkInterval: { records: 500 } });
  const pipeline = new RealtimePipeline(topic, (ctx) => createSource(spec, ctx), config, { decode: decodeSettingsOf(spec, config.format), limit });
  const w: Watched = { alerts: [], statuses: [], last: null, pipeline };
  pipeline.on('alert', (e) => w.alerts.push(`${e.records} ${e.detector ?? 'score'} ${e.fields.map((f) => f.name).join(',')}`));
  pipeline.on('status', (e) => w.statuses.push(e));
  pipeline.on('metrics', (e) => (w.last = e));
  return { done: pipeline.run(), w };
}

/** A calm sensor reading: cycles over 50.0 … 59.9. */
const calm = (i: number) => 50 + ((i * 37) % 100) / 10;

before(async () => {
  broker = await useBroker('pulsar');
  web = new URL(broker.url.replace(/^pulsar\+ws:/, 'http:')).host;
});

after(async () => {
  for (const ns of namespaces) {
    const r = await admin('GET', `/admin/v2/persistent/${ns}`);
    for (const t of (r.status === 200 ? (JSON.parse(r.text) as string[]) : [])) await admin('DELETE', `/admin/v2/persistent/${t.replace(/^persistent:\/\//, '')}?force=true`);
    await admin('DELETE', `/admin/v2/namespaces/${ns}?force=true`);
  }
  await broker?.release();
});

describe("Pulsar's schema registry", () => {
  test('avro from the REST producer: nulls, gross errors and a type change through schema version 1 alert on the decoded fields', async () => {
    const topic = await freshTopic('readings');
    const v0 = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'double'] }] };
    const v1 = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'string'] }] };
    const old: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const value = i >= 2500 && i < 2600 ? null : { double: i >= 3500 && i < 3560 ? calm(i) * 1000 : calm(i) };
      old.push(JSON.stringify({ id: i, sensor: `s${i % 5}`, value }));
    }
    assert.equal(await produceAvro(topic, v0, old), 0);
    const changed = Array.from({ length: 1000 }, (_, k) => JSON.stringify({ id: 5000 + k, sensor: `s${k % 5}`, value: { string: String(calm(5000 + k)) } }));
    assert.equal(await produceAvro(topic, v1, changed), 1);

    const { done, w } = watch(topic, 6000);
    await done;
    assert.deepEqual(w.alerts, ['3000 missing value', '4000 outliers value', '5500 schema value']);
    assert.equal(w.last!.records, 6000);
    assert.deepEqual(w.last!.decode, { format: 'avro', subject: topic, version: 1, record: 'plant.Reading', origin: `Pulsar's schema registry at ${web}` });
    assert.equal(w.last!.detectors.parse?.count, 0);
    // The first record of version 1 says what changed (read up to it, so later type-change samples do not hide it).
    const first = watch(topic, 5001);
    await first.done;
    assert.deepEqual(
      first.w.pipeline.samples('schema', 5).map((s) => [s.record, s.reason]),
      [[5001, `new writer schema ${topic} v1 after v0: "value" null|double → null|string`]],
    );
  });

  test('records that no schema version reads are parse issues saying why; the others decode', async () => {
    const topic = await freshTopic('garbled');
    const v0 = { type: 'record', name: 'Tick', fields: [{ name: 'n', type: 'int' }, { name: 'label', type: 'string' }] };
    assert.equal(await produceAvro(topic, v0, [JSON.stringify({ n: 1, label: 'a' }), JSON.stringify({ n: 2, label: 'b' })]), 0);
    // A producer without the schema (the WebSocket producer sends bytes) writes something that is not a Tick.
    await produceWs(topic, [Buffer.from([0x02, 0x09, 0x41])]);
    assert.equal(await produceAvro(topic, v0, [JSON.stringify({ n: 3, label: 'c' })]), 0);
    const { done, w } = watch(topic, 4);
    await done;
    assert.equal(w.last!.records, 4);
    assert.equal(w.last!.detectors.parse?.count, 1);
    assert.deepEqual(
      w.pipeline.samples('parse', 5).map((s) => [s.record, s.reason]),
      [[3, `does not decode with its schema version 0 of ${topic}: not a valid Tick record: its 3 bytes end before the record does`]],
    );
    assert.deepEqual(w.last!.fields.n, { missing: 0, outliers: 0 });
  });

  test('protobuf native: a descriptor set uploaded through the admin API decodes the WebSocket producer\'s records; nulls and gross errors alert', async () => {
    const topic = await freshTopic('proto');
    const root = protobuf.parse('syntax = "proto3";\npackage plant;\nmessage Reading {\n  int64 id = 1;\n  string sensor = 2;\n  optional double value = 3;\n}\n', { keepCase: true }).root;
    const Reading = root.lookupType('plant.Reading');
    const descriptor = (root as unknown as { toDescriptor(syntax: string): protobuf.Message }).toDescriptor('proto3');
    const FileDescriptorSet = (descriptorExt as unknown as { FileDescriptorSet: protobuf.Type }).FileDescriptorSet;
    const set = FileDescriptorSet.encode(descriptor).finish();
    const fileName = (FileDescriptorSet.toObject(descriptor) as { file: Array<{ name: string }> }).file[0].name;
    await uploadSchema(topic, 'PROTOBUF_NATIVE', JSON.stringify({ fileDescriptorSet: Buffer.from(set).toString('base64'), rootMessageTypeName: 'plant.Reading', rootFileDescriptorName: fileName }));
    const payloads: Uint8Array[] = [];
    for (let i = 0; i < 4000; i++) {
      const rec: Record<string, unknown> = { id: i, sensor: `s${i % 5}` };
      if (!(i >= 2500 && i < 2600)) rec.value = i >= 3500 && i < 3560 ? calm(i) * 1000 : calm(i);
      payloads.push(Reading.encode(Reading.fromObject(rec)).finish());
    }
    await produceWs(topic, payloads);
    const { done, w } = watch(topic, 4000);
    await done;
    assert.deepEqual(w.alerts, ['3000 missing value', '4000 outliers value']);
    assert.deepEqual(w.last!.decode, { format: 'protobuf', subject: topic, version: 0, record: 'plant.Reading', origin: `Pulsar's schema registry at ${web}` });
    assert.equal(w.last!.detectors.parse?.count, 0);
  });

  test('a JSON schema: records stay JSON, the schema names them; hover-style lookups by topic answer from the same registry', async () => {
    const topic = await freshTopic('json');
    const def = { type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }, { name: 'amount', type: 'double' }] };
    await uploadSchema(topic, 'JSON', JSON.stringify(def));
    await produceWs(topic, Array.from({ length: 3 }, (_, i) => Buffer.from(JSON.stringify({ id: i, amount: 10 + i }))));
    const { done, w } = watch(topic, 3);
    await done;
    assert.equal(w.last!.records, 3);
    assert.deepEqual(w.last!.decode, { format: 'json', subject: topic, version: 0, record: 'shop.Order', origin: `Pulsar's schema registry at ${web}` });
    assert.deepEqual(w.last!.fields.amount, { missing: 0, outliers: 0 });

    const registry = new PulsarSchemaRegistry(pulsarAdminOf(parseSourceUrl(`pulsar+ws://${web}/${topic}`))!);
    const latest = await registry.resolve({ subject: topic });
    assert.equal(latest?.version, 0);
    assert.deepEqual(latest?.schema.decoder().fields, [{ name: 'id', type: 'long' }, { name: 'amount', type: 'double' }]);
    assert.equal(await registry.resolve({ subject: `${topic}-none` }), null);
    // Cached: the second answer comes without a request.
    assert.equal(registry.resolve({ subject: topic }), latest);
    // The editor's hover on this topic asks the same registry.
    const hover = schemaHoverMarkdown(await new SchemaLookup(async () => undefined).lookup(parseSourceUrl(`pulsar+ws://${web}/${topic}`)));
    assert.equal(hover, `**Schema**: jsonschema ${topic} v0, record shop.Order, from Pulsar's schema registry at ${web}\n\n\`\`\`\nid: long\namount: double\n\`\`\``);
  });

  test('a topic without a schema is read as before: JSON, no decode info', async () => {
    const topic = await freshTopic('plain');
    await produceWs(topic, [Buffer.from('{"a":1}'), Buffer.from('{"a":2}')]);
    const { done, w } = watch(topic, 2);
    await done;
    assert.equal(w.last!.records, 2);
    assert.equal(w.last!.decode, undefined);
    assert.deepEqual(w.last!.fields.a, { missing: 0, outliers: 0 });
  });

  test('an admin API that cannot be reached: records are read without the schema, and the log says why', async () => {
    const topic = await freshTopic('noadmin');
    await produceWs(topic, [Buffer.from('{"a":1}')]);
    const spec = parseSourceUrl(`pulsar+ws://${web}/${topic}?adminPort=1`, { kind: 'earliest' });
    const config = resolvePipelineConfig({ windowSize: 1000, checkInterval: { records: 1 } });
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const pipeline = new RealtimePipeline(topic, (ctx) => createSource(spec, ctx), config, { decode: decodeSettingsOf(spec, config.format), limit: 1, log });
    let last: MetricsEvent | null = null;
    pipeline.on('metrics', (e) => (last = e));
    await pipeline.run();
    assert.equal(last!.records, 1);
    assert.deepEqual(warnings.filter((m) => m.includes('schema registry')), [
      `Cannot reach Pulsar's schema registry at 127.0.0.1:1 (ECONNREFUSED). Is the broker's web service on this port? Records are read without the topic's schema; asking again in 10 s.`,
    ]);
  });
});
