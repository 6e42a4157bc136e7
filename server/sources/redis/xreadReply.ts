/**
 * XREAD replies parsed straight from their RESP2 bytes into messages: the per-entry hot path, so one shared cursor
 * and no intermediate arrays or strings beyond the ID.
 */
import type { SourceMessage } from '../types';

/** The fields tried, in order, when `field` is not configured: the usual places a JSON payload sits. */
export const DEFAULT_PAYLOAD_FIELDS = ['data', 'payload', 'value', 'json'] as const;

const PAYLOAD_FIELD_BYTES = DEFAULT_PAYLOAD_FIELDS.map((name) => Buffer.from(name));

/**
 * Maps one XREAD reply (`*1 *2 $key *N`, each entry `*2 $id *2k fields…`) to messages: the payload field's
 * bytes (`field`, or the first of DEFAULT_PAYLOAD_FIELDS present), or the whole field map as an object. A null reply
 * is an empty batch.
 */
export function xreadMessages(b: Buffer, field: Buffer | undefined): SourceMessage[] {
  cursor = 0;
  if (header(b) <= 0) return NO_MESSAGES; // *-1: BLOCK timed out
  header(b); // *2: [key, entries]
  const keyLength = header(b);
  cursor += keyLength + 2; // the key (header() moves the cursor, so it is read first)
  const count = header(b);
  const out = new Array<SourceMessage>(count);
  for (let e = 0; e < count; e++) {
    header(b); // *2: [id, fields]
    const idLength = header(b);
    const idStart = cursor;
    let ms = 0;
    for (let i = idStart, end = idStart + idLength; i < end && b[i] !== 45; i++) ms = ms * 10 + b[i] - 48;
    const id = b.toString('latin1', idStart, idStart + idLength);
    cursor += idLength + 2;
    const fieldCount = Math.max(0, header(b));
    const fieldsStart = cursor;
    let value: Buffer | object | null = null;
    let rank = PAYLOAD_FIELD_BYTES.length;
    let valueAt = -1;
    let valueSize = 0;
    for (let f = 0; f < fieldCount; f += 2) {
      const nameLength = header(b);
      const nameStart = cursor;
      cursor += nameLength + 2;
      const valueLength = header(b);
      const valueStart = cursor;
      cursor += valueLength + 2;
      if (field !== undefined) {
        if (value === null && nameLength === field.length && field.compare(b, nameStart, nameStart + nameLength) === 0) {
          value = copyOut(b, valueStart, valueLength);
        }
      } else if (rank > 0) {
        const r = payloadRank(b, nameStart, nameLength);
        if (r < rank) {
          rank = r;
          valueAt = valueStart;
          valueSize = valueLength;
        }
      }
    }
    if (field === undefined) value = valueAt >= 0 ? copyOut(b, valueAt, valueSize) : fieldMapRecord(b, fieldsStart, fieldCount);
    out[e] = { value, position: id, timestamp: ms };
  }
  return out;
}

/** Redis field values are text; canonical decimal numbers become numbers so numeric detectors see them. */
function fieldMapRecord(b: Buffer, start: number, fieldCount: number): Record<string, string | number> {
  const record: Record<string, string | number> = {};
  cursor = start;
  for (let f = 0; f < fieldCount; f += 2) {
    const nameLength = header(b);
    const name = b.toString('utf8', cursor, cursor + nameLength);
    cursor += nameLength + 2;
    const valueLength = header(b);
    const text = b.toString('utf8', cursor, cursor + valueLength);
    cursor += valueLength + 2;
    const n = Number(text);
    record[name] = text !== '' && Number.isFinite(n) && String(n) === text ? n : text;
  }
  return record;
}

const NO_MESSAGES: SourceMessage[] = [];

/**
 * A payload's own copy: a view into the reply would keep the whole ~200 KB reply alive for as long as the
 * engine keeps that message as a sample. Small copies come from Node's shared 8 KB pool, so this stays cheap.
 */
function copyOut(b: Buffer, start: number, length: number): Buffer {
  const value = Buffer.allocUnsafe(length);
  b.copy(value, 0, start, start + length);
  return value;
}

/** Where the RESP helpers below read next; one shared cursor keeps the per-entry path free of allocations. */
let cursor = 0;

/** Reads a `<type><integer>\r\n` header at the cursor (array or bulk length; -1 for null) and moves past it. */
function header(b: Buffer): number {
  let i = cursor + 1;
  let negative = false;
  if (b[i] === 45) {
    negative = true;
    i++;
  }
  let n = 0;
  for (const end = b.length; i < end && b[i] !== 13; i++) n = n * 10 + b[i] - 48;
  cursor = i + 2;
  return negative ? -n : n;
}

/** The index of a field name in DEFAULT_PAYLOAD_FIELDS (earlier wins), or the list's length when it is none of them. */
function payloadRank(b: Buffer, start: number, length: number): number {
  for (let r = 0; r < PAYLOAD_FIELD_BYTES.length; r++) {
    const name = PAYLOAD_FIELD_BYTES[r];
    if (length === name.length && name.compare(b, start, start + length) === 0) return r;
  }
  return PAYLOAD_FIELD_BYTES.length;
}

