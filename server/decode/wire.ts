/**
 * The Confluent wire format: a 0 byte, the schema id as 4 bytes big-endian, then (Protobuf only) the
 * message indexes, then the encoded record.
 */
import { VARINT, varint } from './varint';

/** Bytes before the record in every wire-format message: magic byte and schema id. */
export const WIRE_HEADER = 5;

/** Whether `b` may be a wire-format message (a JSON text never starts with a 0 byte). */
export function isWire(b: Uint8Array): boolean {
  return b.length >= WIRE_HEADER && b[0] === 0;
}

/** The schema id of a wire-format message (isWire must hold). */
export function schemaIdOf(b: Uint8Array): number {
  return ((b[1] << 24) | (b[2] << 16) | (b[3] << 8) | b[4]) >>> 0;
}

/** The Protobuf message indexes after the header, and where the record starts; null when they do not parse. */
export interface MessageIndexes {
  indexes: number[];
  offset: number;
}

/** Indexes as Confluent writes them: a single 0 for [0], else a zigzag varint count and that many zigzag varints. */
export function readMessageIndexes(b: Uint8Array, offset = WIRE_HEADER): MessageIndexes | null {
  const first = readZigzag(b, offset);
  if (first === null) return null;
  const count = first.value;
  let at = first.offset;
  if (count === 0) return { indexes: [0], offset: at };
  if (count < 0 || count > 100) return null;
  const indexes: number[] = [];
  for (let i = 0; i < count; i++) {
    const v = readZigzag(b, at);
    if (v === null || v.value < 0) return null;
    indexes.push(v.value);
    at = v.offset;
  }
  return { indexes, offset: at };
}

/** A zigzag varint of at most 5 bytes (an int32) at `at`; null when cut short or longer. */
function readZigzag(b: Uint8Array, at: number): { value: number; offset: number } | null {
  const end = varint(b, at);
  return end < 0 || end - at > 5 ? null : { value: VARINT[0], offset: end };
}

/** Message indexes as Confluent writes them (for tests and benches that produce wire-format records). */
export function writeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const out: number[] = [];
  for (const v of [indexes.length, ...indexes]) {
    let z = (v << 1) ^ (v >> 31);
    while (z > 0x7f) {
      out.push((z & 0x7f) | 0x80);
      z >>>= 7;
    }
    out.push(z);
  }
  return Buffer.from(out);
}

/** A wire-format message: header, optional message indexes, record bytes. */
export function wireMessage(id: number, record: Uint8Array, indexes?: readonly number[]): Buffer {
  const head = Buffer.alloc(WIRE_HEADER);
  head.writeUInt32BE(id, 1);
  return Buffer.concat(indexes ? [head, writeMessageIndexes(indexes), record] : [head, record]);
}
