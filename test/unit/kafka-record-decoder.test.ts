import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { KAFKAJS_RECORD_DECODER, decodeRecord, type RecordBatchContext } from '../../server/sources/kafka/recordDecoder';

const load = createRequire(__filename);
/** kafkajs's own record decoder and byte reader, loaded from its files (this process never installs ours). */
const kafkajsDecodeRecord = load(KAFKAJS_RECORD_DECODER) as typeof decodeRecord;
const KafkajsDecoder = load('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { buffer: Buffer; offset: number };

/** Zigzag varint bytes of a (possibly 64-bit) integer, written from the protocol's definition. */
function varlong(n: bigint): number[] {
  let z = BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
  const out: number[] = [];
  do {
    const low = Number(z & 0x7fn);
    z >>= 7n;
    out.push(z > 0n ? low | 0x80 : low);
  } while (z > 0n);
  return out;
}

function bytes(b: Buffer | null): number[] {
  return b === null ? varlong(-1n) : [...varlong(BigInt(b.length)), ...b];
}

interface Spec {
  attributes?: number;
  timestampDelta?: bigint;
  offsetDelta?: number;
  key: Buffer | null;
  value: Buffer | null;
  headers?: Array<[string, Buffer | null]>;
}

/** One record's body (what the batch decoder hands the record decoder, its length prefix already read). */
function record(s: Spec): Buffer {
  const headers = s.headers ?? [];
  return Buffer.from([
    s.attributes ?? 0,
    ...varlong(s.timestampDelta ?? 0n),
    ...varlong(BigInt(s.offsetDelta ?? 0)),
    ...bytes(s.key),
    ...bytes(s.value),
    ...varlong(BigInt(headers.length)),
    ...headers.flatMap(([k, v]) => [...bytes(Buffer.from(k, 'utf8')), ...bytes(v)]),
  ]);
}

const ctx = (over: Partial<RecordBatchContext> = {}): RecordBatchContext => ({
  firstOffset: '1200',
  firstTimestamp: '1764000000000',
  maxTimestamp: '1764000000950',
  magicByte: 2,
  isControlBatch: false,
  timestampType: 0,
  ...over,
});

const cases: Array<[string, Spec, RecordBatchContext]> = [
  ['key, value, no headers', { timestampDelta: 17n, offsetDelta: 3, key: Buffer.from('k-1'), value: Buffer.from('{"a":1}') }, ctx()],
  ['null key and value', { key: null, value: null }, ctx()],
  ['empty key and value', { key: Buffer.alloc(0), value: Buffer.alloc(0) }, ctx()],
  ['a negative timestamp delta', { timestampDelta: -250n, offsetDelta: 1, key: null, value: Buffer.from('x') }, ctx()],
  [
    'headers: repeated keys become arrays, a null value stays null, UTF-8 names',
    { key: null, value: Buffer.from('v'), headers: [['trace', Buffer.from('t1')], ['trace', Buffer.from('t2')], ['trace', null], ['größe', Buffer.from('3')], ['empty', null]] },
    ctx(),
  ],
  ['a 300-byte value (two-byte length)', { offsetDelta: 200_000, key: Buffer.from('k'), value: Buffer.alloc(300, 7) }, ctx()],
  ['a log-append-time batch takes its max timestamp', { timestampDelta: 5n, key: null, value: Buffer.from('v') }, ctx({ timestampType: 1 })],
  ['a control batch', { key: Buffer.from([0, 0, 0, 1]), value: Buffer.from([0, 0, 0, 0, 0, 0]) }, ctx({ isControlBatch: true })],
  ['a first offset past 2^53', { offsetDelta: 7, key: null, value: Buffer.from('v') }, ctx({ firstOffset: '9007199254740993' })],
  ['a timestamp delta past 2^49 (8-byte varlong)', { timestampDelta: 2n ** 50n + 3n, key: null, value: Buffer.from('v') }, ctx({ firstTimestamp: '0' })],
  ['a negative first timestamp (-1: none)', { timestampDelta: 0n, key: null, value: Buffer.from('v') }, ctx({ firstTimestamp: '-1' })],
  ['attributes are kept signed', { attributes: 0xff, key: null, value: Buffer.from('v') }, ctx()],
];

for (const [name, spec, context] of cases) {
  test(`the monitor's Kafka record decoder returns what kafkajs's does: ${name}`, () => {
    const body = record(spec);
    const ours = decodeRecord({ buffer: body, offset: 0 }, context);
    const theirs = kafkajsDecodeRecord(new KafkajsDecoder(body), context);
    assert.deepEqual(ours, theirs);
    assert.deepEqual(Object.keys(ours), Object.keys(theirs));
  });
}

test('offsets and timestamps are exact decimal strings on both sides of 2^53', () => {
  const body = record({ timestampDelta: 17n, offsetDelta: 3, key: null, value: Buffer.from('v') });
  const near = decodeRecord({ buffer: body, offset: 0 }, ctx({ firstOffset: '9007199254740990' }));
  assert.equal(near.offset, '9007199254740993');
  assert.equal(near.timestamp, '1764000000017');
  const plain = decodeRecord({ buffer: body, offset: 0 }, ctx());
  assert.equal(plain.offset, '1203');
  const huge = decodeRecord({ buffer: record({ timestampDelta: 2n ** 50n, key: null, value: null }), offset: 0 }, ctx({ firstTimestamp: '0' }));
  assert.equal(huge.timestamp, '1125899906842624');
});

test('a record cut short is an error, not a record with made-up bytes', () => {
  const body = record({ key: Buffer.from('key'), value: Buffer.from('value') });
  assert.throws(() => decodeRecord({ buffer: body.subarray(0, body.length - 3), offset: 0 }, ctx()), /bytes past the end of the record/);
});

test('unbundled, importing the Kafka source puts the decoder in the place kafkajs loads it from', () => {
  const root = path.resolve(__dirname, '..', '..');
  const script = [
    "require('./server/sources/kafka');",
    "const { decodeRecord, KAFKAJS_RECORD_DECODER } = require('./server/sources/kafka/recordDecoder');",
    'const installed = require(KAFKAJS_RECORD_DECODER);',
    "process.stdout.write(String(installed === decodeRecord));",
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(out, 'true');
});
