/**
 * Avro records of flat fields are scanned in place (server/decode/avro.ts FlatScanner, SourceMessage.scan)
 * instead of decoded to objects: the scanner must read exactly the members decode() gives, refuse whatever
 * decode() would refuse, and the engine must report exactly what it reports on decoded objects — every
 * metrics event, every sample, every alert example — on a faulty stream with two writer schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as avsc from 'avsc';
import { resolvePipelineConfig, type PipelineSettings } from '../../server/engine/config';
import type { MetricsEvent } from '../../server/engine/events';
import { QualityEngine } from '../../server/engine/quality';
import { codeOf } from '../../server/engine/fields';
import { Members } from '../../server/decode/json';
import { parseAvro } from '../../server/decode/avro';
import { createDecodeStage, wireMessage, type DecodeSettings } from '../../server/decode';
import { silentLogger, type SourceMessage } from '../../server/sources/types';
import { tempDir } from '../helpers/tempDir';

const KIND = { type: 'enum', name: 'Kind', symbols: ['SALE', 'REFUND', 'VOID'] };
const TAG = { type: 'fixed', name: 'Tag', size: 4 };
const V1 = {
  type: 'record',
  name: 'Payment',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: ['null', 'double'] },
    { name: 'qty', type: 'int' },
    { name: 'ok', type: 'boolean' },
    { name: 'kind', type: KIND },
    { name: 'blob', type: 'bytes' },
    { name: 'tag', type: TAG },
    { name: 'ratio', type: 'float' },
    { name: 'big', type: 'long' },
    { name: 'note', type: ['null', 'string'] },
    { name: 'n', type: ['int', 'long'] },
  ],
};
/** A new writer schema: amount becomes text, `note` goes, `site` comes. */
const V2 = {
  ...V1,
  fields: V1.fields.map((f) => (f.name === 'amount' ? { name: 'amount', type: ['null', 'string'] } : f.name === 'note' ? { name: 'site', type: 'string' } : f)),
};
/** Encoders that take longs beyond 2^53 as BigInt (avsc's own long refuses them). */
const BigLong = avsc.types.LongType.__with({
  fromBuffer: (b: Buffer) => b.readBigInt64LE(0),
  toBuffer: (n: bigint | number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(n));
    return b;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint' || typeof n === 'number',
  compare: (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0),
});
/** Fresh options per type (avsc files named types in the registry it is given); unions written wrapped (`{"double": 1}`). */
const opts = (): Partial<avsc.ForSchemaOptions> => ({ registry: { long: BigLong }, wrapUnions: true }) as Partial<avsc.ForSchemaOptions>;
const t1 = avsc.Type.forSchema(V1 as avsc.Schema, opts());
const t2 = avsc.Type.forSchema(V2 as avsc.Schema, opts());

function schemaDir(): string {
  const dir = tempDir('clean-avro-fast-');
  writeFileSync(path.join(dir, 'payment-v1.avsc'), JSON.stringify(V1));
  writeFileSync(path.join(dir, 'payment-v2.avsc'), JSON.stringify(V2));
  return dir;
}

/** A faulty stream: nulls, gross values, duplicates, a second writer schema, huge longs, truncated and overlong records. */
function stream(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 6000; i++) {
    const v2 = i >= 3000 && i < 3400;
    const amount: number | null = i >= 2000 && i < 2300 ? null : i % 701 === 0 ? 1e9 : 10 + (i % 97) / 10;
    const rec: Record<string, unknown> = {
      id: i,
      customer: `c${i % 13}`,
      amount: amount === null ? null : v2 ? { string: String(amount) } : { double: amount },
      qty: i % 1999 === 0 ? -2_000_000_000 : (i % 7) - 3,
      ok: i % 13 !== 0,
      kind: KIND.symbols[i % 3],
      blob: Buffer.from([i & 0xff, (i >> 8) & 0xff, 0xfe]),
      tag: Buffer.from([1, 2, 3, i & 0xff]),
      ratio: (i % 10) / 3,
      // Beyond 2^53 every so often (decode() reads it with LossyLong, rounded); negative ones too.
      big: i % 50 === 0 ? 2n ** 60n + BigInt(i) : i % 77 === 0 ? -(2n ** 62n) - 12345n : BigInt(i * 1000),
      // Both branches of an ambiguous union (decode() unwraps it after avsc).
      n: i % 2 ? { int: i } : { long: BigInt(i * 3) },
    };
    if (v2) rec.site = `s${i % 3}`;
    else rec.note = i % 5 ? null : { string: 'gift' };
    let b = wireMessage(v2 ? 2 : 1, (v2 ? t2 : t1).toBuffer(rec));
    if (i % 997 === 996) b = b.subarray(0, b.length - 2); // truncated: runs past its end
    if (i % 1409 === 1408) b = Buffer.concat([b, Buffer.from([0])]); // a byte left over
    if (i % 1301 === 1300) b = Buffer.concat([b.subarray(0, 5), Buffer.from([0x0c])]); // one byte of a record
    if (i >= 5000 && i < 5200 && i % 2 === 0) b = out[i - 1]; // duplicates
    out.push(b);
  }
  return out;
}

interface Run {
  checks: MetricsEvent[];
  samples: unknown;
  examples: unknown;
  scanned: number;
  /** The `schema` issues the stage marked (new writer schemas). */
  writerIssues: string[];
}

/** The stage (schema files, wire format) and the engine over the stream, in batches of fresh messages as a source gives them. */
function run(records: Buffer[], settings: PipelineSettings, decode: Partial<DecodeSettings>): Run {
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 500, ...settings }));
  e.now = 0;
  const stage = createDecodeStage({ format: 'avro', schemas: [schemaDir()], ...decode }, { log: silentLogger, status: () => {}, secret: async () => undefined });
  const checks: MetricsEvent[] = [];
  let scanned = 0;
  const writerIssues: string[] = [];
  for (let at = 0; at < records.length; at += 100) {
    const batch: SourceMessage[] = records.slice(at, at + 100).map((value, k) => ({ value, position: at + k + 1 }));
    const out = stage.decodeBatch(batch);
    assert.ok(Array.isArray(out), 'schema files answer at once');
    for (const m of out) {
      if (m.scan !== undefined) scanned++;
      if (m.issue?.detector === 'schema') writerIssues.push(m.issue.why);
      e.process(m);
      if (m.position === undefined || (m.position as number) % 250 === 0) checks.push(e.metrics('p', 0, 0));
    }
  }
  stage.close();
  const examples = ['amount', 'big', 'blob', 'kind', 'note', 'site'].flatMap((f) => ['outliers', 'missing', 'schema', 'parse', 'duplicates'].map((d) => e.examples(d as 'parse', f, 50)));
  return { checks, samples: e.samplesOf(null, 1000), examples, scanned, writerIssues };
}

const RULES_AND_LABELS: PipelineSettings = {
  detectors: ['outliers', 'duplicates', 'missing', 'schema', 'parse', 'rules', 'labels'],
  labelField: 'kind',
  fields: { amount: { type: 'number', min: 0, max: 5000 }, kind: { enum: ['SALE', 'REFUND'] }, big: { max: 1e15 } },
};

for (const [name, settings] of [['default detectors', {}], ['rules and labels', RULES_AND_LABELS]] as const) {
  test(`avro fast path, ${name}: scanned in place and decoded to objects give identical metrics, samples and examples`, () => {
    const records = stream();
    const fast = run(records, settings, {});
    const objects = run(records, settings, { scan: false });
    assert.equal(objects.scanned, 0);
    // Every record of the current writer is left to the engine; the first record of another writer than the
    // record before's is decoded by the stage (the first record, v2 at 3000, v1 again at 3400). Rules and
    // labels decline the scan at the first marked record: only the rest of that batch is marked, per writer.
    assert.equal(fast.scanned, settings === RULES_AND_LABELS ? 99 + 99 : records.length - 3);
    assert.deepEqual(fast.checks, objects.checks);
    assert.deepEqual(fast.samples, objects.samples);
    assert.deepEqual(fast.examples, objects.examples);
    // The comparison has something to compare: every detector fired, and parse samples say why as the stage does.
    const all = objects.samples as Array<{ detector: string; reason: string }>;
    assert.deepEqual([...new Set(all.map((s) => s.detector))].sort(), [...(settings.detectors ?? ['duplicates', 'missing', 'outliers', 'parse', 'schema'])].sort());
    const parse = all.filter((s) => s.detector === 'parse').map((s) => s.reason);
    assert.ok(parse.some((r) => / \(schema id 1\)$/.test(r)), parse.join('\n'));
    // The new writer's first record was a schema issue (its sample has been pushed out by later ones).
    assert.deepEqual(fast.writerIssues, ['new writer schema payment-v2.avsc (id 2) after payment-v1.avsc (id 1): added "site" (string); removed "note"; "amount" null|double → null|string']);
    assert.deepEqual(objects.writerIssues, fast.writerIssues);
  });
}

test('avro scanner: members exactly as decode() gives them, and false wherever decode() fails', () => {
  const parsed = parseAvro(JSON.stringify(V1));
  const d = parsed.decoder();
  assert.ok(d.scanInto, 'a flat record schema is scanned');
  assert.equal(parseAvro(JSON.stringify({ type: 'record', name: 'R', fields: [{ name: 'a', type: { type: 'array', items: 'int' } }] })).decoder().scanInto, undefined);
  const m = new Members();
  let agreed = 0;
  let refused = 0;
  /** Records decode() takes that the scanner left to it (only longs whose float sum lands at 2^53 would). */
  let refusedValid = 0;
  let seed = 7;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  for (const b of stream()) {
    for (let damage = 0; damage < 4; damage++) {
      let bytes = b;
      if (damage > 0) {
        bytes = Buffer.from(b);
        // Damage: a byte changed, or the tail cut.
        if (damage < 3) bytes[5 + Math.floor(rnd() * (bytes.length - 5))] = Math.floor(rnd() * 256);
        else bytes = bytes.subarray(0, 5 + Math.floor(rnd() * (bytes.length - 5)));
      }
      let obj: Record<string, unknown> | null = null;
      try {
        obj = d.decode(bytes, 5);
      } catch {
        obj = null;
      }
      if (!d.scanInto!(bytes, 5, m)) {
        refused++;
        if (obj !== null) refusedValid++;
        continue;
      }
      assert.ok(obj !== null, 'the scanner takes only what decode() takes');
      const keys = Object.keys(obj);
      assert.deepEqual(m.keys.slice(0, m.count), keys);
      for (let k = 0; k < m.count; k++) {
        const v: unknown = obj[keys[k]];
        const code = codeOf(v);
        assert.equal(m.codes[k], code, keys[k]);
        assert.equal(m.numbers[k], code === 3 ? v : code === 5 ? Number(v) : 0, keys[k]);
      }
      agreed++;
    }
  }
  // Seeded: much damage still decodes (a changed byte inside a string or a number), the rest is refused.
  assert.deepEqual({ agreed, refused, refusedValid }, { agreed: 13547, refused: 10453, refusedValid: 0 });
});

test('avro scanner: longs beyond 2^53 read as LossyLong reads them', () => {
  const d = parseAvro(JSON.stringify({ type: 'record', name: 'L', fields: [{ name: 'a', type: 'long' }, { name: 'b', type: 'long' }] })).decoder();
  const t = avsc.Type.forSchema({ type: 'record', name: 'L', fields: [{ name: 'a', type: 'long' }, { name: 'b', type: 'long' }] } as avsc.Schema, opts());
  const m = new Members();
  for (const [a, b] of [
    [2n ** 60n + 1n, 5n],
    [-(2n ** 63n), 2n ** 63n - 1n],
    [9007199254740993n, -9007199254740993n],
    [1n, 2n ** 53n - 1n],
  ]) {
    const bytes = t.toBuffer({ a, b });
    assert.ok(d.scanInto!(bytes, 0, m));
    assert.deepEqual([m.numbers[0], m.numbers[1]], [Number(a), Number(b)]);
    assert.deepEqual({ ...d.decode(bytes, 0) }, { a: Number(a), b: Number(b) });
  }
});
