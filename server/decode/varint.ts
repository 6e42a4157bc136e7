/**
 * Zigzag varints, as Avro, Protobuf's message indexes in the Confluent wire format and Kafka's record format
 * write them: one reader for all of them, with no allocation per value.
 */

/**
 * The last value read (VARINT[0]) and whether its bytes held 2^53 or more before zigzag (VARINT[1], 1 then): results
 * in a typed array, since a double returned from a call is boxed as a heap number.
 */
export const VARINT = new Float64Array(2);

const TWO_POW_53 = 2 ** 53;

/**
 * Reads the zigzag varint at `pos` into VARINT and returns where it ends; -1 past the end or beyond 64 bits.
 * Values of up to four bytes (ids, counts, lengths) are summed in integers; longer ones as avsc's readLong sums
 * them (7-bit groups in floats), exact below 2^53. Beyond, `zigzagBig` gives the exact value.
 */
export function varint(b: Uint8Array, pos: number): number {
  const end = b.length;
  let p = pos;
  let u = 0;
  let c = 0;
  // Up to 28 bits in an int32: the common case.
  for (let shift = 0; shift < 28; shift += 7) {
    if (p >= end) return -1;
    c = b[p++];
    u |= (c & 0x7f) << shift;
    if ((c & 0x80) === 0) {
      VARINT[0] = (u & 1) === 1 ? -((u >>> 1) + 1) : u >>> 1;
      VARINT[1] = 0;
      return p;
    }
  }
  let scale = 2 ** 28;
  do {
    if (p >= end || scale > 2 ** 63) return -1;
    c = b[p++];
    u += (c & 0x7f) * scale;
    scale *= 128;
  } while (c & 0x80);
  VARINT[0] = (u % 2 === 1 ? -(u + 1) : u) / 2;
  VARINT[1] = u >= TWO_POW_53 ? 1 : 0;
  return p;
}

/** The exact 64-bit value of the zigzag varint in b[start, end) (one `varint` read), for values past 2^53. */
export function zigzagBig(b: Uint8Array, start: number, end: number): bigint {
  let big = 0n;
  for (let i = end - 1; i >= start; i--) big = (big << 7n) | BigInt(b[i] & 0x7f);
  big = BigInt.asUintN(64, big);
  return BigInt.asIntN(64, (big >> 1n) ^ -(big & 1n));
}
