/**
 * The long-horizon reference (LogSketch, held to exact quantiles of the same values) and the learned rate
 * baseline (RateBaseline: its limit, its one-window-late learning, acceptance).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogSketch } from '../../server/engine/sketch';
import { RateBaseline, ACCEPT_AFTER_WINDOWS, type Significance } from '../../server/engine/baseline';

function rng(seed: number): () => number {
  return () => (seed = (seed * 16807) % 2147483647) / 2147483647;
}

/** Exact q-quantile as the sketch defines rank: the value at floor(q·(n−1)) of the sorted values. */
function exact(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))];
}

test('sketch: every quantile within 2 % of the exact one, over negatives, zeros and twelve decades', () => {
  const r = rng(3);
  const s = new LogSketch();
  const xs: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const u = r();
    const x = u < 0.3 ? -Math.exp(r() * 10) : u < 0.35 ? 0 : Math.exp(r() * 20 - 5);
    xs.push(x);
    s.add(x);
  }
  xs.sort((a, b) => a - b);
  assert.equal(s.count, 100_000);
  for (const q of [0.001, 0.005, 0.01, 0.1, 0.25, 0.3, 0.32, 0.5, 0.75, 0.9, 0.99, 0.995, 0.999]) {
    const e = exact(xs, q);
    const got = s.quantile(q);
    if (e === 0) assert.equal(got, 0, `q=${q}`);
    else assert.ok(Math.abs(got - e) <= 0.02 * Math.abs(e), `q=${q}: ${got} vs ${e}`);
  }
  assert.deepEqual([s.quantile(0), s.quantile(1)], [xs[0], xs[xs.length - 1]]);
});

test('sketch: merging shards equals one sketch of all their values; weights count as repeats', () => {
  const r = rng(5);
  const all = new LogSketch();
  const a = new LogSketch();
  const b = new LogSketch();
  for (let i = 0; i < 20_000; i++) {
    const x = Math.round(Math.exp(r() * 8) * 100) / 100;
    all.add(x);
    (i % 3 === 0 ? a : b).add(x);
  }
  a.merge(b);
  assert.deepEqual(a.toJSON(), all.toJSON());
  const w = new LogSketch();
  w.add(7, 3);
  w.add(70, 1);
  // Ranks count from 0 to n − 1 = 3: the 0.9-quantile (rank 2.7) is still a 7; only the top rank is the 70.
  assert.deepEqual([w.count, w.quantile(0.5), w.quantile(0.9), w.quantile(1)].map((x) => Math.round(x)), [4, 7, 7, 70]);
});

test('sketch: a saved sketch restores the same quantiles, and its buckets stay bounded', () => {
  const s = new LogSketch(0.02, 256);
  const xs: number[] = [];
  for (let i = 0; i < 5000; i++) xs.push(Math.pow(10, (i % 400) / 20)); // 20 decades: more buckets than allowed
  for (const x of xs) s.add(x);
  xs.sort((a, b) => a - b);
  const saved = JSON.parse(JSON.stringify(s.toJSON()));
  assert.ok(saved.pos[1].length <= 256, `${saved.pos[1].length} buckets`);
  const back = LogSketch.from(saved);
  for (const q of [0.01, 0.5, 0.99]) assert.equal(back.quantile(q), s.quantile(q));
  // The largest magnitudes keep their precision (the fences' high end); the smallest collapsed into one bucket.
  for (const q of [0.9, 0.99, 0.995]) assert.ok(Math.abs(s.quantile(q) - exact(xs, q)) <= 0.02 * exact(xs, q), `q=${q}`);
  assert.ok(s.quantile(0.5) > 2 * exact(xs, 0.5));
});

const sig: Significance = { z: 4, dispersion: 4, minJump: 0.02, ratio: 2 };

test('baseline: the limit is the largest of the minimum jump, the noise of the window, the ratio and the peak', () => {
  const b = new RateBaseline();
  assert.equal(b.standsOut(1, 1000, sig), false); // nothing learnt: never stands out
  b.learn(0, 1000, 1000);
  // One window learnt at 0 %: the prior spread (2 %, over (1 + 1)²) dominates: 4 · sqrt(0.0004/4 + 4·0.001·0.999/1000).
  assert.equal(Math.round(b.limit(1000, sig) * 1e6), Math.round(4 * Math.sqrt(0.0001 + 0.000003996) * 1e6));
  for (let w = 2; w <= 40; w++) b.learn(0.03, w * 1000, 1000);
  // A natural 3 %: a wobble to 5 % stays normal, a jump to 10 % stands out (the ratio asks for at least 6 %).
  assert.equal(b.standsOut(0.05, 1000, sig), false);
  assert.equal(b.standsOut(0.1, 1000, sig), true);
  // Fewer records in the window need a bigger jump.
  assert.ok(b.limit(100, sig) > b.limit(1000, sig));
});

test('baseline: a window learns one learning point late, and not at all when something stood out before then', () => {
  const b = new RateBaseline();
  b.learn(0, 1000, 1000); // the first window at once
  b.learn(0.01, 2000, 1000); // pending
  assert.deepEqual([b.windows, b.mean], [1, 0]);
  b.judge(0.2, 1000, 2500, sig); // a fault starts before the next learning point
  b.judge(0.0, 1000, 2900, sig); // and is gone again
  b.learn(0.0, 3000, 1000); // the pending 1 % window is dropped: it may hold the fault's start
  assert.deepEqual([b.windows, b.mean], [1, 0]);
  b.learn(0.0, 4000, 1000);
  assert.deepEqual([b.windows, b.mean], [2, 0]);
});

test('baseline: a departure that lasts five windows is accepted as the new normal; accept() does it at once', () => {
  const b = new RateBaseline();
  for (let w = 1; w <= 10; w++) b.learn(0, w * 1000, 1000);
  let accepted = false;
  for (let w = 11; w <= 11 + ACCEPT_AFTER_WINDOWS; w++) {
    assert.equal(b.judge(0.3, 1000, w * 1000, sig), true);
    accepted = b.learn(0.3, w * 1000, 1000);
  }
  assert.equal(accepted, true);
  assert.equal(b.judge(0.3, 1000, 17_000, sig), false);
  const c = new RateBaseline();
  c.learn(0, 1000, 1000);
  c.accept(0.12);
  assert.deepEqual([c.mean, c.judge(0.12, 1000, 2000, sig), c.judge(0.5, 1000, 2000, sig)], [0.12, false, true]);
});

test('baseline: a level accepted as normal stays normal, however long the rate runs lower in between', () => {
  const b = new RateBaseline();
  b.learn(0.01, 1000, 1000);
  b.accept(0.12);
  for (let w = 2; w <= 60; w++) {
    b.judge(0.01, 1000, w * 1000, sig);
    b.learn(0.01, w * 1000, 1000);
  }
  // The mean and peak are long back near 1 %; the accepted 12 % still does not alert, 25 % does.
  assert.deepEqual([Math.round(b.mean * 1000) / 1000, b.judge(0.12, 1000, 61_000, sig), b.judge(0.25, 1000, 61_000, sig)], [0.011, false, true]);
  assert.deepEqual(RateBaseline.from(JSON.parse(JSON.stringify(b.toJSON()))).accepted, 0.12);
});
