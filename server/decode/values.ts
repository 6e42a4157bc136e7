/**
 * How decoded values map to what the engine reads (one rule for every format, stated in the README):
 * - longs (Avro long, Protobuf int64/uint64/sint64/fixed64) → numbers; beyond 2^53 they lose precision
 *   rather than failing the record (a quality monitor compares magnitudes, not exact ids);
 * - bytes and fixed → base64 text: a field the detectors see as a string (samples stay readable, rules
 *   can test it), never a Buffer that would pin the message's memory;
 * - enums → their symbol names; unions → the value of the branch present (null stays null);
 * - nested records, maps → objects; arrays, repeated fields → arrays (the engine's Object and Array codes).
 */

/** Replaces every Buffer/Uint8Array in `v` by its base64 text, in place where it can; returns the new value. */
export function bytesToBase64(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.length).toString('base64');
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = bytesToBase64(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) o[k] = bytesToBase64(o[k]);
  return o;
}

/** A short account of a decoding failure, without the payload (it may hold personal data). */
export function failure(what: string, err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return `${what}: ${m.length > 160 ? m.slice(0, 160) + '…' : m}`;
}
