import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashCounter, hashBytes, hashOut, hashString } from '../../server/engine/hash';

test('HashCounter matches a Map under random adds and removes, including colliding homes', () => {
  const c = new HashCounter(64);
  const ref = new Map<string, number>();
  const live: Array<[number, number]> = [];
  let seed = 42;
  const rnd = (n: number) => (seed = (seed * 16807) % 2147483647) % n;
  for (let step = 0; step < 20000; step++) {
    if (live.length < 64 && (live.length === 0 || rnd(2) === 0)) {
      // Few distinct keys, many sharing low bits, so probe chains wrap and shift.
      const k: [number, number] = [rnd(4) * 0x10000, rnd(40) * 128];
      live.push(k);
      const key = k.join(':');
      const n = c.add(k[0], k[1]);
      ref.set(key, (ref.get(key) ?? 0) + 1);
      assert.equal(n, ref.get(key));
    } else {
      const [k] = live.splice(rnd(live.length), 1);
      c.remove(k[0], k[1]);
      const key = k.join(':');
      ref.set(key, ref.get(key)! - 1);
    }
    if (step % 97 === 0) for (const [key, n] of ref) assert.equal(c.count(Number(key.split(':')[0]), Number(key.split(':')[1])), n);
  }
});

test('hashes: equal input gives equal 64-bit hashes; a one-byte change gives another', () => {
  const h = (b: Buffer) => (hashBytes(b), `${hashOut[0]}:${hashOut[1]}`);
  assert.equal(h(Buffer.from('{"a":1}')), h(Buffer.from('{"a":1}')));
  assert.notEqual(h(Buffer.from('{"a":1}')), h(Buffer.from('{"a":2}')));
  assert.notEqual(h(Buffer.from('abc')), h(Buffer.from('abcd')));
  const seen = new Set<string>();
  for (let i = 0; i < 100000; i++) seen.add(h(Buffer.from(`{"id":${i}}`)));
  assert.equal(seen.size, 100000);
  hashString('{"a":1}');
  const s = `${hashOut[0]}:${hashOut[1]}`;
  hashString('{"a":1}');
  assert.equal(`${hashOut[0]}:${hashOut[1]}`, s);
});

test('hashes of messages over the 64 KB scratch buffer see every chunk', () => {
  const h = (b: Buffer) => (hashBytes(b), `${hashOut[0]}:${hashOut[1]}`);
  const big = Buffer.alloc(200_003, 0x61);
  const first = h(big);
  assert.equal(h(Buffer.from(big)), first);
  big[199_000] = 0x62; // in the fourth chunk
  assert.notEqual(h(big), first);
  big[199_000] = 0x61;
  big[200_002] = 0x62; // a trailing byte
  assert.notEqual(h(big), first);
});
