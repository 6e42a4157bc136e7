/**
 * The decoders one by one: Avro (avsc), Protobuf (protobufjs), JSON Schema, the Confluent wire format,
 * schema-aware drift, auto-detection and schema files. Records are encoded with the libraries themselves,
 * as producers do, and decoded values are held to the mapping of server/decode/values.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as avsc from 'avsc';
import * as protobuf from 'protobufjs';
import { parseAvro } from '../../server/decode/avro';
import { parseProtobuf } from '../../server/decode/protobuf';
import { parseJsonSchema } from '../../server/decode/jsonschema';
import { readMessageIndexes, schemaIdOf, wireMessage, writeMessageIndexes } from '../../server/decode/wire';
import { schemaChanges } from '../../server/decode/drift';
import { adviceFor, kindOf } from '../../server/decode/detect';
import { SchemaFiles } from '../../server/decode/files';
import { DecodeError } from '../../server/decode/types';
import { tempDir } from '../helpers/tempDir';

const ORDER_AVSC = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'amount', type: ['null', 'double'] },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    { name: 'token', type: 'bytes' },
    { name: 'either', type: ['null', 'int', 'long', 'string'] },
    { name: 'address', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }, { name: 'raw', type: { type: 'fixed', name: 'F2', size: 2 } }] } },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'attrs', type: { type: 'map', values: 'int' } },
  ],
};

const ORDER_PROTO = `syntax = "proto3";
package shop;
message Header { string source = 1; }
message Order {
  int64 id = 1;
  double amount = 2;
  enum Status { NEW = 0; PAID = 1; }
  Status status = 3;
  bytes token = 4;
  optional string note = 5;
  message Line { string sku = 1; int32 qty = 2; }
  repeated Line lines = 6;
  uint64 big = 7;
}`;

function throwsWhy(fn: () => unknown, why: string): void {
  assert.throws(fn, (err: unknown) => err instanceof DecodeError && err.why === why);
}

test('avro: values map to engine values (long, unions, enum, bytes/fixed as base64, nested record, array, map)', () => {
  const schema = parseAvro(JSON.stringify(ORDER_AVSC));
  const d = schema.decoder();
  assert.equal(d.name, 'shop.Order');
  assert.deepEqual(d.fields, [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'null|double' },
    { name: 'status', type: 'shop.Status' },
    { name: 'token', type: 'bytes' },
    { name: 'either', type: 'null|int|long|string' },
    { name: 'address', type: 'shop.Address' },
    { name: 'tags', type: 'array<string>' },
    { name: 'attrs', type: 'map<int>' },
  ]);
  const writer = avsc.Type.forSchema(ORDER_AVSC as avsc.Schema, { wrapUnions: 'auto' } as Partial<avsc.ForSchemaOptions>);
  const bytes = writer.toBuffer({ id: 2 ** 50, amount: null, status: 'PAID', token: Buffer.from('hi'), either: { long: 5 }, address: { city: 'Oslo', raw: Buffer.from([1, 2]) }, tags: ['a'], attrs: { x: 1 } });
  const v = d.decode(Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), bytes]), 5);
  assert.equal(JSON.stringify(v), '{"id":1125899906842624,"amount":null,"status":"PAID","token":"aGk=","either":5,"address":{"city":"Oslo","raw":"AQI="},"tags":["a"],"attrs":{"x":1}}');
  assert.deepEqual(Object.keys(v), ['id', 'amount', 'status', 'token', 'either', 'address', 'tags', 'attrs']);
});

test('avro: a long past 2^53 decodes with lost precision rather than failing the record', () => {
  const s = { type: 'record', name: 'R', fields: [{ name: 'n', type: 'long' }] };
  const d = parseAvro(JSON.stringify(s)).decoder();
  // zigzag varint of 2^60: written by hand (avsc refuses to write it as a number).
  const n = 2n ** 60n;
  let z = n << 1n;
  const out: number[] = [];
  while (z > 0x7fn) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  assert.equal(JSON.stringify(d.decode(Buffer.from(out), 0)), JSON.stringify({ n: 2 ** 60 }));
});

test('avro: bytes that do not decode say why, exactly', () => {
  const d = parseAvro(JSON.stringify({ type: 'record', name: 'R', namespace: 'x', fields: [{ name: 'a', type: 'string' }, { name: 'b', type: 'int' }] })).decoder();
  throwsWhy(() => d.decode(Buffer.from([0x08, 0x61]), 0), 'not a valid x.R record: its 2 bytes end before the record does');
  throwsWhy(() => d.decode(Buffer.from([0x02, 0x61, 0x02, 0x02, 0x02]), 0), 'not a valid x.R record: 2 bytes left over after it');
  // The JSON error itself is the runtime's wording.
  assert.throws(() => parseAvro('{"type":"record"'), (e: unknown) => e instanceof DecodeError && e.why.startsWith('the Avro schema is not JSON: '));
  assert.throws(() => parseAvro('{"type":"nope"}'), (e: unknown) => e instanceof DecodeError && e.why.startsWith('not a valid Avro schema: '));
});

test('protobuf: messages by Confluent indexes or name; enums as names, int64 as numbers, bytes as base64, proto3 defaults present', () => {
  const schema = parseProtobuf(ORDER_PROTO);
  const d = schema.decoder({ indexes: [1] });
  assert.equal(d.name, 'shop.Order');
  assert.deepEqual(d.fields, [
    { name: 'id', type: 'int64' },
    { name: 'amount', type: 'double' },
    { name: 'status', type: 'Status' },
    { name: 'token', type: 'bytes' },
    { name: 'note', type: 'string' },
    { name: 'lines', type: 'repeated Line' },
    { name: 'big', type: 'uint64' },
  ]);
  assert.equal(schema.decoder().name, 'shop.Header');
  assert.equal(schema.decoder({ indexes: [1, 0] }).name, 'shop.Order.Line');
  assert.deepEqual(schema.decoder({ name: 'shop.Order' }).fields, d.fields);
  const T = protobuf.parse(ORDER_PROTO, { keepCase: true }).root.lookupType('shop.Order');
  const bytes = T.encode(T.fromObject({ id: 42, amount: 0, status: 'PAID', token: Buffer.from('hi'), lines: [{ sku: 'a', qty: 2 }], big: '18446744073709551615' })).finish();
  assert.deepEqual(d.decode(bytes, 0), { lines: [{ sku: 'a', qty: 2 }], id: 42, amount: 0, status: 'PAID', token: 'aGk=', big: 18446744073709552000 });
  throwsWhy(() => d.decode(Buffer.from([0x0a, 0x05, 0x01]), 0), 'not a valid shop.Order message: index out of range: 2 + 5 > 3');
  throwsWhy(() => schema.decoder({ indexes: [5] }), 'message index 5 is not in the schema (it has 2 messages there)');
  throwsWhy(() => schema.decoder({ name: 'shop.Nope' }), 'message shop.Nope is not in the schema');
});

test('json schema: properties give the fields; payloads decode as JSON objects', () => {
  const d = parseJsonSchema(JSON.stringify({ title: 'Order', type: 'object', properties: { id: { type: 'integer' }, note: { type: ['null', 'string'] }, addr: { $ref: '#/defs/A' } } })).decoder();
  assert.equal(d.name, 'Order');
  assert.deepEqual(d.fields, [
    { name: 'id', type: 'integer' },
    { name: 'note', type: 'null|string' },
    { name: 'addr', type: '#/defs/A' },
  ]);
  assert.deepEqual(d.decode(Buffer.from('\0\0\0\0\x01{"id":3}'), 5), { id: 3 });
  throwsWhy(() => d.decode(Buffer.from('[1]'), 0), 'a JSON array where an object is expected');
});

test('wire format: schema id big-endian, message indexes zigzag with [0] as one byte', () => {
  const m = wireMessage(0x01020304, Buffer.from([9]), [2, 0]);
  assert.deepEqual([...m], [0, 1, 2, 3, 4, 4, 4, 0, 9]);
  assert.equal(schemaIdOf(m), 0x01020304);
  assert.deepEqual(readMessageIndexes(m), { indexes: [2, 0], offset: 8 });
  assert.deepEqual([...writeMessageIndexes([0])], [0]);
  assert.deepEqual(readMessageIndexes(wireMessage(7, Buffer.from([9]), [0])), { indexes: [0], offset: 6 });
  assert.equal(readMessageIndexes(Buffer.from([0, 0, 0, 0, 7, 0x80])), null);
});

test('drift: fields added, removed and retyped, from the two schemas', () => {
  const v1 = [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'double' },
    { name: 'note', type: 'string' },
  ];
  const v2 = [
    { name: 'id', type: 'long' },
    { name: 'amount', type: 'string' },
    { name: 'coupon', type: 'null|string' },
  ];
  assert.equal(schemaChanges(v1, v2), 'added "coupon" (null|string); removed "note"; "amount" double → string');
  assert.equal(schemaChanges(v1, v1), '');
});

test('detect: what a payload looks like, and what the first status says to set', () => {
  assert.equal(kindOf(Buffer.from(' {"a":1}')), 'json');
  assert.equal(kindOf(wireMessage(7, Buffer.from([2, 4]))), 'wire');
  assert.equal(kindOf(Buffer.from('Obj\x01\x04\x14avro.schema')), 'container');
  assert.equal(kindOf(Buffer.from('GET /index.html HTTP/1.1')), 'text');
  assert.equal(kindOf(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a])), 'binary');
  assert.equal(kindOf('plain words'), 'text');
  assert.equal(
    adviceFor('wire', wireMessage(7, Buffer.from([2])), false),
    'Records are in the Confluent wire format (schema id 7): set a schema registry (registry: {url} on the connection, or ?registry=<url>), or schemas: <folder> with the schema files.',
  );
});

test('schema files: .avsc, .proto and .schema.json found by file, name or record name; bad files reported', () => {
  const dir = tempDir('clean-schemas-');
  mkdirSync(path.join(dir, 'nested'));
  writeFileSync(path.join(dir, 'order.avsc'), JSON.stringify(ORDER_AVSC));
  writeFileSync(path.join(dir, 'nested', 'order.proto'), ORDER_PROTO);
  writeFileSync(path.join(dir, 'user.schema.json'), JSON.stringify({ title: 'User', properties: { name: { type: 'string' } } }));
  writeFileSync(path.join(dir, 'broken.avsc'), '{"type":');
  writeFileSync(path.join(dir, 'notes.txt'), 'not a schema');
  const files = new SchemaFiles([dir]);
  assert.deepEqual(files.files.map((f) => path.relative(dir, f.path)).sort(), ['broken.avsc', 'nested/order.proto', 'order.avsc', 'user.schema.json']);
  assert.deepEqual(files.problems.map((f) => path.basename(f.path)), ['broken.avsc']);
  assert.match(files.problems[0].problem!, /^the Avro schema is not JSON: /);
  assert.equal(files.resolve({ subject: 'order.avsc' })?.schema.decoder().name, 'shop.Order');
  // A name two files give (order.proto and order.avsc both declare shop.Order) is the first file's in path order.
  assert.equal(files.resolve({ subject: 'order' })?.schema.type, 'protobuf');
  assert.equal(files.resolve({ subject: 'shop.Order' })?.schema.type, 'protobuf');
  assert.equal(files.resolve({ subject: path.join(dir, 'order.avsc') })?.schema.type, 'avro');
  assert.equal(files.resolve({ subject: 'shop.Order.Line' })?.schema.decoder().name, 'shop.Order.Line');
  assert.equal(files.resolve({ subject: 'Header' })?.schema.decoder().name, 'shop.Header');
  assert.equal(files.resolve({ subject: 'User' })?.schema.type, 'jsonschema');
  assert.equal(files.resolve({ subject: 'nothing' }), null);
  assert.equal(files.resolve({ id: 1 }), null);
  assert.equal(files.list().length, 3);
});
