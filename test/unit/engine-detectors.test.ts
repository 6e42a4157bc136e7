import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualityEngine } from '../../server/engine/quality';
import { resolvePipelineConfig, type PipelineSettings } from '../../server/engine/config';

function engineWith(settings: PipelineSettings): QualityEngine {
  return new QualityEngine(resolvePipelineConfig(settings));
}
function feed(e: QualityEngine, values: unknown[]): void {
  for (const v of values) e.process({ value: typeof v === 'string' ? v : JSON.stringify(v) });
}

test('duplicates: a payload seen earlier in the window, and only while it is in the window', () => {
  const e = engineWith({ windowSize: 4, detectors: ['duplicates'] });
  feed(e, ['{"a":1}', '{"b":1}', '{"a":1}', '{"c":1}']);
  assert.equal(e.rate('duplicates'), 0.25);
  // The fifth record evicts the first {"a":1}; the third is still in the window, so this one is a duplicate.
  feed(e, ['{"a":1}', '{"d":1}']);
  assert.equal(e.rate('duplicates'), 0.5);
  assert.equal(e.score, 0.5);
  // Two more unique records push both flagged copies out… except the fifth, still inside.
  feed(e, ['{"e":1}', '{"f":1}']);
  assert.equal(e.rate('duplicates'), 0.25);
  assert.deepEqual(e.samplesOf('duplicates', 5).map((s) => s.record), [5, 3]);
});

test('parse: invalid JSON, arrays and scalars are parse issues with quality 0', () => {
  const e = engineWith({ windowSize: 5, detectors: ['parse'] });
  feed(e, ['{"a":1}', 'nope', '[1]', '"x"', '{"a":2}']);
  assert.equal(e.rate('parse'), 0.6);
  assert.equal(e.score, 0.4);
  const reasons = e.samplesOf('parse', 5).map((s) => [s.record, s.reason]);
  assert.deepEqual(reasons, [
    [4, 'a JSON scalar where an object is expected'],
    [3, 'a JSON array where an object is expected'],
    [2, 'not valid JSON'],
  ]);
});

test('missing: a usual field that is null or absent; metrics give the per-field missing share', () => {
  const e = engineWith({ windowSize: 10, detectors: ['missing'], outliers: { minSamples: 3 } });
  feed(e, [{ a: 1 }, { a: 2 }, { a: 3 }, { a: null }, {}]);
  assert.equal(e.rate('missing'), 0.4);
  assert.equal(e.score, 0.8); // two records at quality 1 - 0.5
  const m = e.metrics('p', 0, 0);
  assert.equal(m.fields.a.missing, 0.4);
  assert.deepEqual(m.detectors, { missing: { rate: 0.4, count: 2, threshold: 0.1 } });
});

test('missing: a field that is often null is not usual, so its nulls are normal', () => {
  const e = engineWith({ windowSize: 100, detectors: ['missing'], outliers: { minSamples: 10 } });
  for (let i = 0; i < 100; i++) feed(e, [{ id: i, coupon: i % 3 === 0 ? 'SAVE5' : null }]);
  assert.equal(e.rate('missing'), 0);
  assert.equal(e.metrics('p', 0, 0).fields.coupon.missing, 0.66);
});

test('schema: a type change of an established field, and a field outside the learnt schema in every record carrying it', () => {
  const e = engineWith({ windowSize: 10, detectors: ['schema'], outliers: { minSamples: 3 } });
  // The first full window is learnt: {a: number} is the schema.
  for (let i = 0; i < 10; i++) feed(e, [{ a: i + 0.5 }]);
  feed(e, [{ a: 'x' }, { a: 4, b: true }, { a: 5, b: false }]);
  assert.equal(e.rate('schema'), 0.3);
  assert.deepEqual(e.samplesOf('schema', 5).map((s) => s.reason), [
    'field "b" is not part of the learnt schema',
    'field "b" is not part of the learnt schema',
    'field "a" is string, not its usual type',
  ]);
  assert.equal(e.metrics('p', 0, 0).fields.a.type, 'number');
});

test('outliers: a value beyond the fences, z widths past the long-horizon 0.5–99.5 % span, is a gross error', () => {
  const e = engineWith({ windowSize: 100, detectors: ['outliers'], outliers: { minSamples: 10, z: 3 } });
  // Span ≈ 10 … 19, width ≈ 9: the fences sit near -17 and 46.
  for (let i = 0; i < 60; i++) feed(e, [{ v: 10 + ((i * 7) % 10) }]);
  feed(e, [{ v: 40 }, { v: -10 }]);
  assert.equal(e.rate('outliers'), 0);
  feed(e, [{ v: 60 }, { v: -30 }, { v: 15 }]);
  assert.equal(e.rate('outliers'), 2 / 65);
  assert.equal(e.metrics('p', 0, 0).fields.v.outliers, 0.030769);
  assert.deepEqual(e.samplesOf('outliers', 5).map((s) => s.reason), ['field "v" = -30 is far outside its usual range', 'field "v" = 60 is far outside its usual range']);
});

test('outliers: ids and timestamps read one partition batch after another are a sequence, not outliers', () => {
  const e = engineWith({ windowSize: 1000, detectors: ['outliers'] });
  // Two partitions' batches of 600 in turn: each new batch starts far from the window's median.
  let amountSeed = 3;
  const amount = () => 20 + ((amountSeed = (amountSeed * 16807) % 2147483647) % 5000) / 100;
  for (let batch = 0; batch < 10; batch++) {
    const base = batch % 2 === 0 ? 1_000_000 + batch * 300 : 9_000_000 + batch * 300;
    for (let i = 0; i < 600; i++) feed(e, [{ id: base + i, ts: 1_790_000_000_000 + base * 7 + i, amount: amount() }]);
  }
  assert.equal(e.rate('outliers'), 0);
  assert.deepEqual(e.metrics('p', 0, 0).fields.id, { missing: 0, outliers: 0, type: 'number' });
  // The sequence fields are spared; a far-off amount in the same records is still caught.
  feed(e, [{ id: 9_003_600, ts: 1_790_063_025_200, amount: 1e9 }]);
  assert.deepEqual(e.samplesOf('outliers', 5).map((s) => s.reason), ['field "amount" = 1000000000 is far outside its usual range']);
});

test('outliers: heavy-tailed and discrete fields stay quiet', () => {
  const e = engineWith({ windowSize: 1000, detectors: ['outliers'] });
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let i = 0; i < 5000; i++) {
    const pareto = Math.round(400 * Math.pow(1 - rnd(), -1 / 1.6));
    const count = rnd() < 0.9 ? 0 : 1 + Math.floor(rnd() * 4);
    feed(e, [{ delay_ms: pareto, retries: count }]);
  }
  assert.ok(e.rate('outliers') < 0.05, `outlier rate ${e.rate('outliers')} on heavy-tailed data`);
  feed(e, [{ delay_ms: 4e9, retries: 0 }]);
  assert.equal(e.samplesOf('outliers', 1)[0].record, 5001);
});

test('rules: required, type, min/max, regex and enum, with per-field rates', () => {
  const e = engineWith({
    windowSize: 4,
    fields: { amount: { type: 'number', min: 0 }, status: { enum: ['a', 'b'] }, id: { required: true }, code: { regex: '^[A-Z]{3}$' } },
    detectors: ['rules'],
  });
  feed(e, [{ id: 1, amount: 5, status: 'a', code: 'ABC' }]);
  assert.equal(e.rate('rules'), 0);
  feed(e, [{ id: 2, amount: -1 }, { id: 3, status: 'c' }, { amount: 3, status: 'b' }, { id: 5, code: 'abc' }]);
  assert.equal(e.rate('rules'), 1);
  const f = e.metrics('p', 0, 0).fields;
  assert.deepEqual([f.amount.rules, f.status.rules, f.id.rules, f.code.rules], [0.25, 0.25, 0.25, 0.25]);
  assert.equal(e.samplesOf('rules', 1)[0].reason, 'field "code" = "abc" breaks its rule');
});

test('labels: a record far from its class centroid relative to the class spread', () => {
  const e = engineWith({ windowSize: 200, labelField: 'cls', outliers: { minSamples: 5 }, detectors: ['labels'] });
  for (let i = 0; i < 40; i++) feed(e, [{ cls: i % 2 ? 'a' : 'b', x: (i % 2 ? 10 : 1000) + (i % 3) }]);
  assert.equal(e.rate('labels'), 0);
  feed(e, [{ cls: 'a', x: 1000 }]);
  assert.equal(e.rate('labels'), 1 / 41);
  assert.equal(e.samplesOf('labels', 1)[0].reason, 'record labelled "a" lies far from that class\'s centroid');
});

test('score: mean record quality with weights, floored at 0 per record', () => {
  const e = engineWith({ windowSize: 3, detectors: ['parse', 'duplicates'], weights: { parse: 1, duplicates: 0.25 } });
  feed(e, ['{"a":1}', '{"a":1}', 'x']);
  assert.equal(e.score, (1 + 0.75 + 0) / 3);
});

test('memory stays bounded: fields that leave the window are forgotten', () => {
  const e = engineWith({ windowSize: 50, detectors: ['schema', 'missing'] });
  for (let i = 0; i < 5000; i++) feed(e, [{ ['k' + i]: i }]);
  const fields = Object.keys(e.metrics('p', 0, 0).fields).length;
  assert.ok(fields <= 50 + 64, `tracking ${fields} fields for a window of 50`);
});

test('samples do not pin the large buffer a payload is a view of', () => {
  const e = engineWith({ windowSize: 10, detectors: ['parse'] });
  const chunk = Buffer.alloc(1 << 20, 0x20);
  chunk.write('not json', 100);
  // Sources build positions on demand (a getter on their message class): the copy keeps them.
  class Positioned {
    constructor(readonly value: Buffer) {}
    get position(): string {
      return '3@7';
    }
  }
  e.process(new Positioned(chunk.subarray(100, 108)));
  const kept = (e as unknown as { samples: Array<{ messages: Array<{ value: Buffer } | null> }> }).samples[4].messages[0]!.value;
  assert.equal(kept.toString(), 'not json');
  assert.ok(kept.buffer.byteLength < 1 << 16, `sample holds a ${kept.buffer.byteLength}-byte buffer`);
  const [sample] = e.samplesOf('parse', 1);
  assert.equal(sample.position, '3@7');
  assert.equal(sample.text, 'not json');
});
