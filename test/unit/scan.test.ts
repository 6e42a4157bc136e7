/**
 * The record scanner is held to JSON.parse: whenever it answers, JSON.parse(bytes.toString()) must give an
 * object with the same keys in for-in order, the same types and the same numbers; and it must answer for
 * every plain record (no escaped, integer-like or repeated key), or the engine would lose its fast path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Members, RecordScanner } from '../../server/decode/json';
import { codeOf } from '../../server/engine/fields';
import { QualityEngine } from '../../server/engine/quality';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { MetricsEvent } from '../../server/engine/events';
import type { PipelineSettings } from '../../server/engine/config';

const scanner = new RecordScanner();
const members = new Members();

type Verdict = { fast: true; keys: string[]; codes: number[]; numbers: number[] } | { fast: false };

function scan(buf: Buffer): Verdict {
  if (!scanner.scan(buf, members)) return { fast: false };
  const keys: string[] = [];
  const codes: number[] = [];
  const numbers: number[] = [];
  for (let k = 0; k < members.count; k++) {
    const key = buf.toString('utf8', members.keyStart[k], members.keyEnd[k]);
    // A repeated key is the engine's to catch (it sends such a record to JSON.parse); mirror that here.
    if (keys.includes(key)) return { fast: false };
    keys.push(key);
    codes.push(members.codes[k]);
    numbers.push(members.codes[k] === 3 ? members.numbers[k] : 0);
  }
  return { fast: true, keys, codes, numbers };
}

/** What JSON.parse makes of the bytes, in the scanner's terms; null when it throws or gives no object. */
function reference(buf: Buffer): { keys: string[]; codes: number[]; numbers: number[] } | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const keys: string[] = [];
  const codes: number[] = [];
  const numbers: number[] = [];
  const obj = parsed as Record<string, unknown>;
  for (const key in obj) {
    keys.push(key);
    codes.push(codeOf(obj[key]));
    numbers.push(typeof obj[key] === 'number' ? (obj[key] as number) : 0);
  }
  return { keys, codes, numbers };
}

/** Asserts the scanner's answer agrees with JSON.parse; returns whether it took the fast path. */
function agree(buf: Buffer): boolean {
  const got = scan(buf);
  if (!got.fast) return false;
  const want = reference(buf);
  assert.ok(want !== null, `scanner accepted what JSON.parse refuses: ${JSON.stringify(buf.toString('latin1'))}`);
  assert.deepEqual(got.keys, want.keys, buf.toString('latin1'));
  assert.deepEqual(got.codes, want.codes, buf.toString('latin1'));
  for (let k = 0; k < want.numbers.length; k++) {
    assert.ok(Object.is(got.numbers[k], want.numbers[k]), `${buf.toString('latin1')}: member ${k} is ${got.numbers[k]}, JSON.parse says ${want.numbers[k]}`);
  }
  return true;
}

test('scanner: plain records are read on the fast path, exactly as JSON.parse reads them', () => {
  const docs = [
    '{}',
    ' \t\r\n{ } \n',
    '{"a":1}',
    '{"id":42,"name":"x","ok":true,"no":false,"none":null,"tags":["a",1,{"b":[]}],"nested":{"x":{"y":[1,2,{"z":null}]}}}',
    '{ "a" : -0 , "b" : 0.1 , "c" : 1e22 , "d" : 1e23 , "e" : 1.7976931348623157e308 , "f" : 5e-324 , "g" : 2.5E-3 , "h" : 1E+2 }',
    '{"big":123456789012345678901234567890,"long":0.1234567890123456789,"tiny":1e-400,"huge":1e400,"neg":-9007199254740993}',
    '{"s":"quote \\" backslash \\\\ slash \\/ \\b\\f\\n\\r\\t \\u00e9 \\ud83d\\ude00 \\uD800"}',
    '{"é":"ü","日本":"語","emoji":"😀"}',
    '{"__proto__":{"polluted":1},"constructor":1,"toString":"x"}',
    '{"a":[],"b":{},"c":[[]],"d":[{}],"e":[1,-1,0,0.5,-0.5,1e5,1E-5]}',
  ];
  for (const d of docs) assert.equal(agree(Buffer.from(d)), true, d);
  // More members than the scanner's first arrays hold.
  const wide = Buffer.from(JSON.stringify(Object.fromEntries(Array.from({ length: 300 }, (_, k) => [`k${k}`, k % 3 ? k / 8 : `v${k}`]))));
  assert.equal(agree(wide), true);
  assert.equal(members.count, 300);
  const deep = Buffer.from('{"d":' + '['.repeat(10_000) + ']'.repeat(10_000) + ',"o":' + '{"a":'.repeat(5000) + '1' + '}'.repeat(5000) + '}');
  assert.equal(agree(deep), true);
});

test('scanner: what it is not sure of goes to JSON.parse, invalid input included', () => {
  const docs = [
    '',
    '   ',
    '[1,2]',
    '"text"',
    '42',
    'null',
    '\ufeff{"a":1}',
    '{"a":1}x',
    '{"a":1,}',
    '{,"a":1}',
    '{"a":1 "b":2}',
    '{"a" 1}',
    '{"a":}',
    '{"a":01}',
    '{"a":1.}',
    '{"a":.5}',
    '{"a":-}',
    '{"a":1e}',
    '{"a":1e+}',
    '{"a":+1}',
    '{"a":tru}',
    '{"a":truex}',
    '{"a":nul}',
    '{"a":NaN}',
    '{"a":Infinity}',
    "{'a':1}",
    '{a:1}',
    '{"a":"tab\there"}',
    '{"a":"bad \\x escape"}',
    '{"a":"\\u12G4"}',
    '{"a":"unterminated}',
    '{"a":[1,2}',
    '{"a":[1,2,]}',
    '{"a":{"b":1,}}',
    '{"a":{"b"}}',
    '{"a":{1:2}}',
    '{"a":[1 2]}',
    '{"a":1',
    '{"a\\"b":1}', // an escaped key
    '{"0":1,"a":2}', // integer-like keys come first in for-in
    '{"a":1,"a":2}', // a repeated key: JSON.parse keeps the last value
  ];
  for (const d of docs) assert.equal(agree(Buffer.from(d)), false, JSON.stringify(d));
  assert.equal(agree(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0x7d])), false);
  assert.equal(agree(Buffer.from('{"a":' + '['.repeat(3000) + ']'.repeat(2999) + '}')), false);
});

test('scanner: numbers agree with JSON.parse bit for bit, on and off the exact fast path', () => {
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
  const digits = (n: number, first = true) => {
    let s = '';
    for (let i = 0; i < n; i++) s += String(i === 0 && first ? 1 + rnd(9) : rnd(10));
    return s;
  };
  let fast = 0;
  for (let i = 0; i < 20_000; i++) {
    let t = rnd(2) ? '-' : '';
    t += rnd(5) === 0 ? '0' : digits(1 + rnd(19));
    if (rnd(2)) t += '.' + (rnd(3) === 0 ? '000' : '') + digits(1 + rnd(19), false);
    if (rnd(3) === 0) t += (rnd(2) ? 'e' : 'E') + ['', '+', '-'][rnd(3)] + String(rnd(3) === 0 ? rnd(400) : rnd(30));
    const buf = Buffer.from(`{"n":${t}}`);
    assert.equal(agree(buf), true, t);
    if (t.replace(/[-.]/g, '').replace(/[eE].*/, '').replace(/^0+/, '').length <= 15) fast++;
  }
  // Both branches were exercised: numbers of up to 15 significant digits, and longer ones.
  assert.equal(fast, 11_990);
});

test('scanner: random documents and random damage never make it disagree with JSON.parse', () => {
  let seed = 99;
  const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
  const KEYS = ['id', 'amount', 'name', 'é', 'a b', '_', 'x1', 'tags'];
  const ODD_KEYS = ['0', '12', 'dup', 'es\\"c', '__proto__'];
  const STRINGS = ['', 'plain', 'é日😀', 'esc \\n\\t\\"', '\\u0041\\u00e9', 'x'.repeat(40)];
  const value = (depth: number): string => {
    switch (rnd(depth > 3 ? 4 : 6)) {
      case 0:
        return String((rnd(2) ? -1 : 1) * rnd(100000) / [1, 10, 100, 1000][rnd(4)]);
      case 1:
        return `"${STRINGS[rnd(STRINGS.length)]}"`;
      case 2:
        return ['true', 'false', 'null'][rnd(3)];
      case 3:
        return String(rnd(1 << 30) * 1e10 + rnd(1000));
      case 4:
        return '[' + Array.from({ length: rnd(4) }, () => value(depth + 1)).join(',') + ']';
      default:
        return '{' + Array.from({ length: rnd(4) }, (_, k) => `"k${k}":${value(depth + 1)}`).join(',') + '}';
    }
  };
  const ws = () => [' ', '', '', '\n', '\t', '\r\n  '][rnd(6)];
  let plainFast = 0;
  let damaged = 0;
  let damagedFast = 0;
  for (let i = 0; i < 20_000; i++) {
    const n = rnd(10);
    const used = new Set<string>();
    let plain = true;
    const parts: string[] = [];
    for (let k = 0; k < n; k++) {
      let key = KEYS[rnd(KEYS.length)];
      if (rnd(20) === 0) {
        key = ODD_KEYS[rnd(ODD_KEYS.length)];
        if (key !== '__proto__') plain = false;
      }
      if (used.has(key)) {
        if (rnd(4) !== 0) continue;
        plain = false;
      }
      used.add(key);
      parts.push(`${ws()}"${key}"${ws()}:${ws()}${value(0)}${ws()}`);
    }
    let text = `${ws()}{${parts.join(',')}}${ws()}`;
    let buf = Buffer.from(text);
    if (rnd(3) === 0) {
      // Damage: drop, change or insert a byte, or cut the message short.
      damaged++;
      plain = false;
      const at = rnd(buf.length);
      const bytes = [...buf];
      const junk = '{}[]",:\\-+.eE0 9tfn\x01'.charCodeAt(rnd(20));
      switch (rnd(4)) {
        case 0:
          bytes.splice(at, 1);
          break;
        case 1:
          bytes[at] = junk;
          break;
        case 2:
          bytes.splice(at, 0, junk);
          break;
        default:
          bytes.length = at;
      }
      buf = Buffer.from(bytes);
      text = buf.toString();
      if (agree(buf)) damagedFast++;
      continue;
    }
    const fast = agree(buf);
    if (plain) {
      assert.equal(fast, true, text);
      plainFast++;
    }
  }
  // The seeded run covers both kinds; some damage leaves valid JSON (a digit changed, a space inserted).
  assert.deepEqual({ plainFast, damaged, damagedFast }, { plainFast: 8730, damaged: 6640, damagedFast: 1304 });
});

/** Everything the engine reports for a stream, for comparing two runs. */
function runEngine(values: Array<Buffer | string>, settings: PipelineSettings): { metrics: MetricsEvent; samples: unknown } {
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 500, ...settings }));
  e.now = 0;
  const checks: MetricsEvent[] = [];
  for (let i = 0; i < values.length; i++) {
    e.process({ value: values[i], position: i + 1 });
    if ((i + 1) % 250 === 0) checks.push(e.metrics('p', 0, 0));
  }
  return { metrics: e.metrics('p', 0, 0), samples: { checks, all: e.samplesOf(null, 1000) } };
}

/** Rules of every kind and a label field: with these the engine reads values, not only types and numbers. */
const RULES_AND_LABELS: PipelineSettings = {
  detectors: ['outliers', 'duplicates', 'missing', 'schema', 'parse', 'rules', 'labels'],
  labelField: 'currency',
  fields: {
    id: { required: true, type: 'integer' },
    amount: { type: 'number', min: 0, max: 5000 },
    currency: { enum: ['EUR', 'USD'] },
    note: { regex: '^(gift|"q")$' },
    meta: { type: 'object', regex: 'src' },
    flag: { enum: [true] },
  },
};

for (const [name, settings] of [['default detectors', {}], ['rules and labels', RULES_AND_LABELS]] as const) {
  test(`engine, ${name}: bytes (scanned) and text (JSON.parse) give identical metrics and samples on a faulty stream`, () => {
    const { viaBytes, viaText } = bothWays(settings);
    assert.deepEqual(viaBytes, viaText);
    // The comparison has something to compare: every detector fired along the way.
    const fired = new Set((viaText.samples as { all: Array<{ detector: string }> }).all.map((s) => s.detector));
    assert.deepEqual([...fired].sort(), [...(settings.detectors ?? ['outliers', 'duplicates', 'missing', 'schema', 'parse'])].sort());
  });
}

function bothWays(settings: PipelineSettings): { viaBytes: ReturnType<typeof runEngine>; viaText: ReturnType<typeof runEngine> } {
  const values: string[] = [];
  for (let i = 0; i < 6000; i++) {
    const rec: Record<string, unknown> = { id: i, amount: 10 + (i % 97) / 10, currency: i % 3 ? 'EUR' : 'USD', note: i % 5 ? null : i % 7 ? 'gift' : '"q"' };
    if (i % 11 === 0) rec.meta = i % 2 ? { src: 'web', n: [1, 2] } : ['x'];
    rec.flag = i % 13 !== 0;
    if (i % 1601 === 0) rec.currency = 'GBP'; // a mislabelled-looking, rule-breaking record
    if (i % 1999 === 0) rec.amount = 1e7 + i;
    if (i % 701 === 0) rec.amount = 1e9; // outliers
    if (i >= 2000 && i < 2300) delete rec.currency; // missing
    if (i >= 3000 && i < 3200) rec.amount = String(rec.amount); // schema drift
    if (i >= 4000 && i < 4100) rec[`extra${i % 7}`] = true; // new fields
    let text = JSON.stringify(rec);
    if (i % 997 === 0) text = text.slice(0, -3); // parse failures
    if (i >= 5000 && i < 5200 && i % 2 === 0) text = values[i - 1]; // duplicates
    if (i % 1301 === 0) text = `{"id":${i},"id":${i + 1},"amount":11}`; // a repeated key goes through JSON.parse
    if (i % 1409 === 0) text = `{"0":1,"id":${i}}`; // as does an integer-like key
    values.push(text);
  }
  return { viaBytes: runEngine(values.map((v) => Buffer.from(v)), settings), viaText: runEngine(values, settings) };
}
