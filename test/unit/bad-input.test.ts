import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualityEngine } from '../../server/engine/quality';
import { resolvePipelineConfig } from '../../server/engine/config';

/** A warmed-up engine (default detectors) that has learnt its first window of 100 ordinary records. */
function warm(): QualityEngine {
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 100 }));
  for (let i = 0; i < 100; i++) e.process({ value: Buffer.from(JSON.stringify({ id: i, v: i % 10 })) });
  return e;
}

/** Feeds one message and returns the reasons it was flagged for. */
function issuesOf(e: QualityEngine, value: Buffer | string): string[] {
  const before = e.records;
  e.process({ value });
  return e.samplesOf(null, 50).filter((s) => s.record === before + 1).map((s) => `${s.detector}: ${s.reason}`);
}

test('invalid JSON is a parse issue', () => {
  assert.deepEqual(issuesOf(warm(), '{"id": 1,'), ['parse: not valid JSON']);
});

test('a JSON array or scalar where an object is expected is a parse issue', () => {
  const e = warm();
  assert.deepEqual(issuesOf(e, '[1,2]'), ['parse: a JSON array where an object is expected']);
  assert.deepEqual(issuesOf(e, '42'), ['parse: a JSON scalar where an object is expected']);
  assert.deepEqual(issuesOf(e, 'null'), ['parse: a JSON scalar where an object is expected']);
});

test('binary bytes are a parse issue', () => {
  assert.deepEqual(issuesOf(warm(), Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x7b, 0x22])), ['parse: not valid JSON']);
});

test('a 5 MB message is not parsed and counts as a parse issue', () => {
  const big = Buffer.from(JSON.stringify({ id: 1, blob: 'x'.repeat(5 * 1024 * 1024) }));
  assert.deepEqual(issuesOf(warm(), big), [`parse: message of ${big.length} bytes is over the 1048576-byte limit (maxMessageBytes); not parsed`]);
});

test('nesting 10,000 deep: arrays are parse issues, objects are records', () => {
  const e = warm();
  assert.deepEqual(issuesOf(e, '['.repeat(10000) + ']'.repeat(10000)), ['parse: a JSON array where an object is expected']);
  const deep = '{"id":1,"v":2,"n":' + '{"a":'.repeat(10000) + '1' + '}'.repeat(10001);
  assert.deepEqual(issuesOf(e, deep), ['schema: field "n" is not part of the learnt schema']);
  assert.equal(e.records, 102);
});

test('duplicate keys: the last value wins, as in every JSON consumer; no issue by itself', () => {
  const e = warm();
  assert.deepEqual(issuesOf(e, '{"id":500,"v":1,"v":3}'), []);
});

test('__proto__ and constructor keys are plain fields: no prototype pollution', () => {
  const e = warm();
  const issues = issuesOf(e, '{"id":501,"v":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
  // One record, one entry: the latest reason it was flagged for (both keys are new fields).
  assert.deepEqual(issues, ['schema: field "constructor" is not part of the learnt schema']);
  assert.equal(e.rate('schema'), 1 / 100);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  const fields = e.metrics('p', 0, 0).fields;
  assert.equal(fields['__proto__'].missing, 0.99);
  assert.equal(fields['constructor'].missing, 0.99);
});

test('huge keys are tracked as new fields, named in short form', () => {
  const e = warm();
  const key = 'k'.repeat(100_000);
  assert.deepEqual(issuesOf(e, JSON.stringify({ id: 502, v: 1, [key]: 1 })), [`schema: field "${'k'.repeat(80)}…" is not part of the learnt schema`]);
});

test('an empty message and a tombstone are parse issues', () => {
  const e = warm();
  assert.deepEqual(issuesOf(e, ''), ['parse: empty message (no payload)']);
  e.process({ value: null });
  assert.equal(e.samplesOf('parse', 1)[0].reason, 'empty message (no payload)');
});

test('after every kind of bad input the engine goes on scoring', () => {
  const e = warm();
  for (const bad of ['{', '[]', '7', '\u0000\u0001', '{"id":1,"id":2}']) e.process({ value: bad });
  e.process({ value: '{"id":999,"v":5}' });
  assert.equal(e.records, 106);
  assert.equal(e.rate('parse'), 4 / 100);
});

test('a plain Uint8Array payload is read as bytes, on both the scanned and the parsed path', () => {
  const e = warm();
  const bytes = (s: string) => new Uint8Array(Buffer.from(s));
  assert.deepEqual(issuesOf(e, bytes('{"id": 7, "v": 3}') as Buffer), []);
  // A repeated key sends the record through JSON.parse.
  assert.deepEqual(issuesOf(e, bytes('{"id": 8, "id": 9, "v": 3}') as Buffer), []);
  assert.deepEqual(issuesOf(e, bytes('{"id": 8,') as Buffer), ['parse: not valid JSON']);
});
