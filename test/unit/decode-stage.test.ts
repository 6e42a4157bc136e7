/**
 * The decode stage inside a real pipeline (MemorySource → decode → engine → alerts): Avro records in the
 * Confluent wire format decoded through schema files, fault episodes detected on decoded fields, a writer
 * schema change reported with what changed, unknown ids and undecodable bytes counted, and payloads nothing
 * is configured for held out with a clear first status instead of a parse storm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import * as avsc from 'avsc';
import { resolvePipelineConfig, type PipelineSettings } from '../../server/engine/config';
import type { AlertEvent, MetricsEvent, StatusEvent } from '../../server/engine/events';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { MemorySource } from '../../server/sources/memory';
import { createDecodeStage, wireMessage, type DecodeSettings } from '../../server/decode';
import { tempDir } from '../helpers/tempDir';

const V1 = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'double'] }, { name: 'unit', type: 'string' }] };
const V2 = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'string'] }, { name: 'site', type: 'string' }] };
const t1 = avsc.Type.forSchema(V1 as avsc.Schema);
const t2 = avsc.Type.forSchema(V2 as avsc.Schema);

function schemaDir(): string {
  const dir = tempDir('clean-decode-');
  writeFileSync(path.join(dir, 'reading-v1.avsc'), JSON.stringify(V1));
  writeFileSync(path.join(dir, 'reading-v2.avsc'), JSON.stringify(V2));
  return dir;
}

/** Reading i of a calm sensor: values cycle over 50.0 … 59.9. */
function reading(i: number, value: number | null = 50 + ((i * 37) % 100) / 10): Buffer {
  return wireMessage(1, t1.toBuffer({ id: i, sensor: `s${i % 7}`, value, unit: 'C' }));
}

interface Run {
  alerts: string[];
  statuses: StatusEvent[];
  last: MetricsEvent;
  pipeline: RealtimePipeline;
}

async function run(records: unknown[], decode: DecodeSettings, settings: PipelineSettings = {}): Promise<Run> {
  // A generous check budget: a loaded machine must not pause the pipeline (timing is no pass/fail criterion here).
  const config = resolvePipelineConfig({ windowSize: 1000, checkInterval: { records: 500 }, checkBudgetMs: 60_000, ...settings });
  const pipeline = new RealtimePipeline('t', new MemorySource(records, 250), config, { decode });
  const alerts: string[] = [];
  const statuses: StatusEvent[] = [];
  let last: MetricsEvent | null = null;
  pipeline.on('alert', (e: AlertEvent) => alerts.push(`${e.records} ${e.detector ?? 'score'} ${e.fields.map((f) => f.name).join(',')}`));
  pipeline.on('status', (e) => statuses.push(e));
  pipeline.on('metrics', (e) => (last = e));
  await pipeline.run();
  return { alerts, statuses, last: last!, pipeline };
}

test('avro in the wire format through schema files: nulls and gross errors alert on the decoded field', async () => {
  const records: Buffer[] = [];
  for (let i = 0; i < 5000; i++) {
    if (i >= 2500 && i < 2600) records.push(reading(i, null));
    else if (i >= 3500 && i < 3560) records.push(reading(i, (50 + (i % 10)) * 1000));
    else records.push(reading(i));
  }
  const r = await run(records, { format: 'auto', schemas: [schemaDir()] });
  assert.deepEqual(r.alerts, ['3000 missing value', '4000 outliers value']);
  assert.equal(r.last.records, 5000);
  assert.deepEqual(Object.keys(r.last.fields), ['id', 'sensor', 'unit', 'value']);
  assert.equal(r.last.fields.value.type, 'number');
  assert.equal(r.last.decode?.format, 'avro');
  assert.equal(r.last.decode?.record, 'plant.Reading');
  assert.equal(r.last.decode?.schemaId, 1);
  assert.match(r.last.decode!.origin!, /reading-v1\.avsc$/);
  // Samples show the decoded record as JSON, not its bytes.
  const s = r.pipeline.samples('outliers', 1)[0];
  assert.equal(s.text, '{"id":3559,"sensor":"s3","value":59000,"unit":"C"}');
  assert.equal(s.reason, 'field "value" = 59000 is far outside its usual range');
});

test('a new writer schema: its first record is a schema issue listing the changes, and the type change alerts', async () => {
  const records: Buffer[] = [];
  for (let i = 0; i < 3000; i++) records.push(reading(i));
  for (let i = 3000; i < 4000; i++) records.push(wireMessage(2, t2.toBuffer({ id: i, sensor: `s${i % 7}`, value: String(50 + (i % 10)), site: 'north' })));
  const dir = schemaDir();
  // The first record of the new writer (the samples ring keeps the latest few, so look right after it).
  const first = await run(records.slice(0, 3001), { format: 'auto', schemas: [dir] });
  assert.deepEqual(
    first.pipeline.samples('schema', 5).map((s) => [s.record, s.reason]),
    [[3001, 'new writer schema reading-v2.avsc (id 2) after reading-v1.avsc (id 1): added "site" (string); removed "unit"; "value" null|double → null|string']],
  );
  const r = await run(records, { format: 'auto', schemas: [dir] });
  assert.deepEqual(r.alerts, ['3500 missing unit', '3500 schema value,site']);
  assert.equal(r.last.decode?.schemaId, 2);
  assert.equal(r.last.decode?.subject, 'reading-v2.avsc');
});

test('avro without a registry: no parse storm, the pipeline waits with what the records are and what to set', async () => {
  const records = Array.from({ length: 1200 }, (_, i) => reading(i));
  const r = await run(records, { format: 'auto' });
  assert.deepEqual(r.alerts, []);
  assert.deepEqual(
    r.statuses.filter((s) => s.state === 'waiting').map((s) => s.message),
    ['Records are in the Confluent wire format (schema id 7): set a schema registry (registry: {url} on the connection, or ?registry=<url>), or schemas: <folder> with the schema files. 1 record held out of the score so far.'.replace('id 7', 'id 1')],
  );
  assert.equal(r.last.records, 0);
  assert.equal(r.last.detectors.parse?.count, 0);
  // Held, not lost: the metrics say how many.
  assert.deepEqual(r.last.decode, { format: 'unknown', held: 1200 });
});

test('text that is not JSON: told after a few records, held out; a few bad lines before JSON still count as parse', async () => {
  const text = Array.from({ length: 30 }, (_, i) => `line ${i} of a plain log`);
  const r = await run(text, { format: 'auto' });
  assert.deepEqual(r.alerts, []);
  assert.deepEqual(
    r.statuses.filter((s) => s.state === 'waiting').map((s) => s.message),
    ['Records are UTF-8 text that is not JSON: Clean Streams judges JSON, Avro, Protobuf and JSON Schema records. If they are meant to be JSON, the producer writes something else. 20 records held out of the score so far.'],
  );
  const mixed = ['<html>', 'oops', ...Array.from({ length: 10 }, (_, i) => `{"a":${i}}`)];
  const m = await run(mixed, { format: 'auto' }, { checkInterval: { records: 12 } });
  assert.equal(m.last.records, 12);
  assert.equal(m.last.detectors.parse?.count, 2);
  assert.deepEqual(m.pipeline.samples('parse', 5).map((s) => s.record), [2, 1]);
  const bare = await run([Buffer.from('{"a":1}')], { format: 'avro' });
  assert.deepEqual(
    bare.statuses.filter((s) => s.state === 'waiting').map((s) => s.message),
    ['Records carry no Confluent wire-format header, and no schema is set for bare avro records: set schema: <file or name> on the pipeline (or ?schema=), or format: auto if they are JSON. 1 record held out of the score so far.'],
  );
  const container = await run([Buffer.from('Obj\x01\x04\x16avro.schema')], { format: 'auto' });
  assert.match(container.statuses.find((s) => s.state === 'waiting')!.message, /^Records are Avro object container files/);
});

test('unknown schema ids count under schema, undecodable bytes under parse, each saying why', async () => {
  const dir = schemaDir();
  const records: Buffer[] = [];
  for (let i = 0; i < 20; i++) records.push(reading(i));
  records.push(wireMessage(42, Buffer.from([0xff, 0xff, 0xff])));
  records.push(Buffer.concat([reading(20).subarray(0, 9)]));
  const r = await run(records, { format: 'auto', schemas: [dir] }, { checkInterval: { records: 22 } });
  assert.equal(r.last.detectors.schema?.count, 1);
  assert.equal(r.last.detectors.parse?.count, 1);
  assert.deepEqual(r.pipeline.samples('schema', 5).map((s) => [s.record, s.reason]), [[21, `schema id 42 is not in the schema files in ${dir}`]]);
  assert.deepEqual(r.pipeline.samples('parse', 5).map((s) => [s.record, s.reason]), [[22, 'not a valid plant.Reading record: its 4 bytes end before the record does (schema id 1)']]);
});

test('bare avro records (no wire header) with format: avro and schema: <file>, as Redis streams carry them', async () => {
  const dir = schemaDir();
  const records = [t1.toBuffer({ id: 1, sensor: 'a', value: 1.5, unit: 'C' }), t1.toBuffer({ id: 2, sensor: 'b', value: null, unit: 'C' }), Buffer.from([1, 2, 3])];
  const r = await run(records, { format: 'avro', schema: path.join(dir, 'reading-v1.avsc') }, { checkInterval: { records: 3 } });
  assert.equal(r.last.records, 3);
  assert.equal(r.last.detectors.parse?.count, 1);
  assert.equal(r.last.fields.value.missing, 0.5);
  assert.equal(r.last.decode?.format, 'avro');
  assert.deepEqual(r.pipeline.samples('parse', 1).map((s) => s.reason), ['not a valid plant.Reading record: its 3 bytes end before the record does']);
});

test('plain JSON in auto: the batch passes through untouched (same array, no decode info)', () => {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const stage = createDecodeStage({ format: 'auto' }, { log, status() {}, secret: async () => undefined });
  const batch = [{ value: Buffer.from('{"a":1}') }, { value: Buffer.from(' {"a":2}') }, { value: Buffer.from('not json') }];
  assert.equal(stage.decodeBatch(batch), batch);
  assert.equal(stage.info, null);
  assert.equal(batch.some((m) => 'decoded' in m || 'issue' in m), false);
});

test('registry down: records held as undecodable, the pipeline reconnecting with why, asked again with backoff', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const statuses: Array<[string, string]> = [];
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
  const stage = createDecodeStage({ format: 'auto', registry: { url: `http://127.0.0.1:${port}` } }, { log, status: (s, m) => statuses.push([s, m]), secret: async () => undefined });
  const first = stage.decodeBatch([{ value: reading(1) }, { value: reading(2) }]);
  assert.ok(first instanceof Promise);
  assert.deepEqual(await first, []);
  // Within the backoff no request is made: the batch is answered synchronously, held again.
  assert.deepEqual(stage.decodeBatch([{ value: reading(3) }]), []);
  assert.deepEqual(warnings, [`Cannot reach the schema registry at http://127.0.0.1:${port} (ECONNREFUSED). Is it running? Retrying in 1 s.`]);
  assert.deepEqual(statuses, [['reconnecting', `Cannot reach the schema registry at http://127.0.0.1:${port} (ECONNREFUSED). Is it running? Retrying in 1 s. 2 records held out of the score so far.`]]);
  assert.deepEqual(stage.info, { format: 'unknown', held: 3 });
});

test('a registry URL with a password is refused without quoting it', () => {
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  assert.throws(
    () => createDecodeStage({ format: 'auto', registry: { url: 'http://bob:hunter2@127.0.0.1:8081' } }, { log, status() {}, secret: async () => undefined }),
    (e: unknown) => e instanceof Error && !e.message.includes('hunter2') && /password/i.test(e.message),
  );
});

test('a wire-format record over maxMessageBytes is not decoded: the engine counts it as too large', async () => {
  const big = wireMessage(1, t1.toBuffer({ id: 1, sensor: 'x'.repeat(200), value: 1, unit: 'C' }));
  const r = await run([reading(0), big], { format: 'auto', schemas: [schemaDir()] }, { maxMessageBytes: 100, checkInterval: { records: 2 } });
  assert.equal(r.last.detectors.parse?.count, 1);
  assert.deepEqual(r.pipeline.samples('parse', 1).map((s) => s.reason), [`message of ${big.length} bytes is over the 100-byte limit (maxMessageBytes); not parsed`]);
});
