/**
 * A 64-bit, non-cryptographic hash of a message's bytes (two 32-bit lanes with murmur-style mixing).
 * Results land in `hashOut` to keep the per-record path allocation-free.
 */
export const hashOut = new Uint32Array(2);

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca6b;
const C4 = 0xc2b2ae35;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, C3);
  h ^= h >>> 13;
  h = Math.imul(h, C4);
  return (h ^ (h >>> 16)) >>> 0;
}

const ALIGNED = 1 << 16;
const alignedBuffer = new ArrayBuffer(ALIGNED);
const alignedBytes = new Uint8Array(alignedBuffer);
const alignedWords = new Int32Array(alignedBuffer);

/**
 * Hashes `bytes` into hashOut[0] (high lane) and hashOut[1] (low lane). The bytes are copied, 64 KB at a
 * time, into an aligned scratch buffer so that words are read whole; both lanes absorb every word (a lane
 * that saw only a constant prefix would leave 32 bits) and are mixed together at the end.
 */
export function hashBytes(bytes: Uint8Array): void {
  const n = bytes.length;
  const w = alignedWords;
  let a = 0x9747b28c ^ n;
  let b = 0x2f6b6a35 ^ Math.imul(n, 0x27d4eb2d);
  let offset = 0;
  let rest = 0;
  let base = 0;
  do {
    const chunk = Math.min(ALIGNED, n - offset);
    // One message in one chunk (the usual case) is copied without making a view of it.
    alignedBytes.set(chunk === n ? bytes : bytes.subarray(offset, offset + chunk));
    offset += chunk;
    const words = chunk >>> 2;
    for (let j = 0; j < words; j++) {
      let k = w[j];
      b = Math.imul(b ^ k, C3);
      b = (b << 17) | (b >>> 15);
      k = Math.imul(k, C1);
      k = (k << 15) | (k >>> 17);
      a ^= Math.imul(k, C2);
      a = (a << 13) | (a >>> 19);
      a = (Math.imul(a, 5) + 0xe6546b64) | 0;
    }
    // Chunks are multiples of four bytes except the last, whose 0–3 trailing bytes follow.
    rest = chunk & 3;
    base = words << 2;
  } while (offset < n);
  let k = 0;
  if (rest > 0) k = alignedBytes[base];
  if (rest > 1) k |= alignedBytes[base + 1] << 8;
  if (rest > 2) k |= alignedBytes[base + 2] << 16;
  b = Math.imul(b ^ k, C3);
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  a ^= Math.imul(k, C2);
  hashOut[0] = fmix(a ^ Math.imul(b, 0x165667b1));
  hashOut[1] = fmix(b ^ a);
}

/** Hashes a string's UTF-16 code units (two per step) into hashOut. */
export function hashString(s: string): void {
  const n = s.length;
  let a = 0x9747b28c ^ n;
  let b = 0x3c6ef372 ^ Math.imul(n, 0x27d4eb2d);
  const end = n & ~1;
  let i = 0;
  for (; i < end; i += 2) {
    let k = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    b = Math.imul(b ^ k, C3);
    b = (b << 17) | (b >>> 15);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    a ^= Math.imul(k, C2);
    a = (a << 13) | (a >>> 19);
    a = (Math.imul(a, 5) + 0xe6546b64) | 0;
  }
  if (n & 1) {
    let k = s.charCodeAt(i);
    b = Math.imul(b ^ k, C3);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    a ^= Math.imul(k, C2);
  }
  hashOut[0] = fmix(a ^ Math.imul(b, 0x165667b1));
  hashOut[1] = fmix(b ^ a);
}

/**
 * Counts 64-bit keys (hi, lo) with open addressing and linear probing in typed arrays: no allocation
 * per operation. Capacity stays at least twice the number of live keys (the window bounds it).
 * The lanes are int32 (a hash's uint32 lanes as `hashOut[i] | 0`): small integers, passed between
 * functions as they are, where a uint32 of 2^31 or more would be boxed as a heap number at every call.
 */
export class HashCounter {
  private hi: Int32Array;
  private lo: Int32Array;
  private counts: Int32Array;
  private mask: number;

  constructor(maxKeys: number) {
    let cap = 16;
    while (cap < maxKeys * 2) cap *= 2;
    this.hi = new Int32Array(cap);
    this.lo = new Int32Array(cap);
    this.counts = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private home(hi: number, lo: number): number {
    return (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
  }

  /** Adds one occurrence and returns the count after adding. */
  add(hi: number, lo: number): number {
    const mask = this.mask;
    let i = this.home(hi, lo);
    for (;;) {
      const c = this.counts[i];
      if (c === 0) {
        this.hi[i] = hi;
        this.lo[i] = lo;
        this.counts[i] = 1;
        return 1;
      }
      if (this.lo[i] === lo && this.hi[i] === hi) return (this.counts[i] = c + 1);
      i = (i + 1) & mask;
    }
  }

  /** Removes one occurrence of a key that is present. */
  remove(hi: number, lo: number): void {
    const mask = this.mask;
    let i = this.home(hi, lo);
    for (;;) {
      const c = this.counts[i];
      if (c === 0) return;
      if (this.lo[i] === lo && this.hi[i] === hi) break;
      i = (i + 1) & mask;
    }
    if (this.counts[i] > 1) {
      this.counts[i]--;
      return;
    }
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let hole = i;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.counts[j] === 0) break;
      const h = this.home(this.hi[j], this.lo[j]);
      // Move j into the hole when its home is not cyclically within (hole, j].
      if (hole <= j ? h <= hole || h > j : h <= hole && h > j) {
        this.hi[hole] = this.hi[j];
        this.lo[hole] = this.lo[j];
        this.counts[hole] = this.counts[j];
        hole = j;
      }
    }
    this.counts[hole] = 0;
  }

  count(hi: number, lo: number): number {
    let i = this.home(hi, lo);
    for (;;) {
      const c = this.counts[i];
      if (c === 0) return 0;
      if (this.lo[i] === lo && this.hi[i] === hi) return c;
      i = (i + 1) & this.mask;
    }
  }
}
