import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FileSource } from '../../server/sources/file';
import { MemorySource } from '../../server/sources/memory';
import { DemoSource } from '../../server/sources/demo';
import { parseSourceUrl, parseStartPosition, UsageError } from '../../server/sources/url';
import type { SourceMessage } from '../../server/sources/types';
import { tempDir } from '../helpers/tempDir';

const ctx = { log: { debug() {}, info() {}, warn() {}, error() {} }, status() {}, secret: async () => undefined };

async function collect(it: AsyncIterable<SourceMessage[]>, max = Infinity): Promise<SourceMessage[]> {
  const out: SourceMessage[] = [];
  for await (const b of it) {
    out.push(...b);
    if (out.length >= max) break;
  }
  return out;
}

test('file: lines become messages with their line numbers; blank lines and CRLF handled; no final newline', async () => {
  const dir = tempDir('clean-src-');
  const file = path.join(dir, 'a.jsonl');
  writeFileSync(file, '{"a":1}\r\n\n{"a":2}\n{"a":3}');
  const src = new FileSource({ backend: 'file', topic: file, from: { kind: 'earliest' } }, ctx);
  await src.connect();
  const got = await collect(src.consume());
  await src.close();
  assert.deepEqual(got.map((m) => [m.position, (m.value as Buffer).toString()]), [
    [1, '{"a":1}'],
    [3, '{"a":2}'],
    [4, '{"a":3}'],
  ]);
});

test('file --follow: tails appended lines, waits for a partial line to finish, restarts at line 1 after truncation', async () => {
  const dir = tempDir('clean-src-');
  const file = path.join(dir, 'tail.jsonl');
  writeFileSync(file, '{"n":1}\n');
  // The source logs when it sees the truncation: the test waits on that, not on the clock.
  let truncated: () => void = () => {};
  const seen = new Promise<void>((resolve) => (truncated = resolve));
  const log = { ...ctx.log, info: (m: string) => m.includes('was truncated') && truncated() };
  const src = new FileSource({ backend: 'file', topic: file, from: { kind: 'earliest' }, options: { follow: true } }, { ...ctx, log });
  await src.connect();
  const it = src.consume()[Symbol.asyncIterator]();
  const next = async () => ((await it.next()).value as SourceMessage[]).map((m) => [m.position, String(m.value)]);
  assert.deepEqual(await next(), [[1, '{"n":1}']]);
  appendFileSync(file, '{"n":2}\n{"n":');
  assert.deepEqual(await next(), [[2, '{"n":2}']]);
  appendFileSync(file, '3}\n');
  assert.deepEqual(await next(), [[3, '{"n":3}']]);
  truncateSync(file, 0);
  const pending = next();
  await seen;
  appendFileSync(file, '{"n":4}\n{"n":5}\n');
  assert.deepEqual(await pending, [
    [1, '{"n":4}'],
    [2, '{"n":5}'],
  ]);
  await src.close();
  assert.equal((await it.next()).done, true);
});

test('file: a line over maxMessageBytes is passed on as too large (its first bytes only) and skipped to its newline', async () => {
  const dir = tempDir('clean-src-');
  const file = path.join(dir, 'long.jsonl');
  // Line 2 (3 MB) spans four 1 MiB reads: it is passed on once the first read holds more than the limit of it
  // (1048568 bytes), and the rest is dropped. Line 4 (5000 bytes) ends within one read: it goes whole, for the
  // engine to flag by its size. Line 6 has no newline and runs past the limit before the file ends.
  writeFileSync(file, '{"a":1}\n' + '{"x":"' + 'y'.repeat(3 << 20) + '"}\n{"a":2}\n' + 'z'.repeat(5000) + '\n{"a":3}\n' + 'w'.repeat(2000));
  const src = new FileSource({ backend: 'file', topic: file, from: { kind: 'earliest' } }, { ...ctx, maxMessageBytes: 1000 });
  await src.connect();
  const got = await collect(src.consume());
  await src.close();
  assert.deepEqual(
    got.map((m) => [m.position, (m.value as Buffer).length, m.oversize]),
    [
      [1, 7, undefined],
      [2, 256, 1048568],
      [3, 7, undefined],
      [4, 5000, undefined],
      [5, 7, undefined],
      [6, 256, 2000],
    ],
  );
  assert.equal((got[1].value as Buffer).subarray(0, 8).toString(), '{"x":"yy');
});

test('file: a missing file is a clear error', async () => {
  const src = new FileSource({ backend: 'file', topic: '/no/such.jsonl', from: { kind: 'earliest' } }, ctx);
  await assert.rejects(src.connect(), /File not found: \/no\/such.jsonl/);
  const underFile = new FileSource({ backend: 'file', topic: path.join(__filename, 'x.jsonl'), from: { kind: 'earliest' } }, ctx);
  await assert.rejects(underFile.connect(), /a part of that path is a file, not a folder/);
});

test('memory: records in batches, objects passed through', async () => {
  const src = new MemorySource([{ a: 1 }, '{"b":2}', Buffer.from('{"c":3}')], 2);
  const batches: number[] = [];
  for await (const b of src.consume()) batches.push(b.length);
  assert.deepEqual(batches, [2, 1]);
});

test('demo: a seed replays the same stream', async () => {
  const make = () => new DemoSource({ backend: 'demo', topic: 'orders', from: { kind: 'earliest' }, options: { seed: 9 } }, ctx);
  const a = make();
  const b = make();
  for (let i = 0; i < 5000; i++) assert.equal(a.next(), b.next());
  assert.throws(() => new DemoSource({ backend: 'demo', topic: 'sensors2', from: { kind: 'earliest' } }, ctx), /unknown scenario "sensors2"/);
});

test('source URLs', () => {
  assert.deepEqual(parseSourceUrl('kafka://b1:9092,b2:9093/orders?secret=prod&mechanism=scram-sha-512', { kind: 'earliest' }), {
    backend: 'kafka',
    topic: 'orders',
    brokers: ['b1:9092', 'b2:9093'],
    from: { kind: 'earliest' },
    options: {},
    auth: { username: undefined, secret: 'prod', mechanism: 'scram-sha-512' },
  });
  assert.deepEqual(parseSourceUrl('rediss://app@cache:6380/events?db=2'), {
    backend: 'redis',
    topic: 'events',
    url: 'rediss://cache:6380',
    from: { kind: 'latest' },
    options: { db: 2 },
    auth: { username: 'app', secret: undefined, mechanism: undefined },
    tls: true,
  });
  assert.deepEqual(parseSourceUrl('pulsar+ws://127.0.0.1:8080/public/default/orders').url, 'pulsar+ws://127.0.0.1:8080');
  assert.deepEqual(parseSourceUrl('file:./a b.jsonl').topic, './a b.jsonl');
  assert.deepEqual(parseSourceUrl('demo:?rate=0').options, { rate: 0 });
  assert.throws(() => parseSourceUrl('pulsar+ws://h:8080/orders'), /<tenant>\/<namespace>\/<topic>/);
  assert.throws(() => parseSourceUrl('kafka://h:9092/'), /name the topic/);
  assert.throws(() => parseSourceUrl('redis://u:pw@h:6379/s'), UsageError);
  assert.deepEqual(parseStartPosition('2026-11-28T10:00:00Z'), { kind: 'time', time: Date.UTC(2026, 10, 28, 10) });
});
