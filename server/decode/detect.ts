/**
 * Auto-detection: what a payload that is not JSON looks like, and what to configure so that it is read.
 * Only the first bytes of a record are looked at; nothing here is on the path of a JSON record.
 */
import { isWire, schemaIdOf } from './wire';

/** `bare`: records without the wire-format header under an explicit format, with no `schema` to read them. */
export type PayloadKind = 'json' | 'wire' | 'container' | 'text' | 'binary' | 'bare';

/** JSON whitespace. */
const WS = new Uint8Array(256);
WS[0x20] = WS[0x09] = WS[0x0a] = WS[0x0d] = 1;
/** Bytes a JSON text may start with (after whitespace): { [ " - 0-9 t f n. */
const JSON_START = new Uint8Array(256);
for (const c of '{["-0123456789tfn') JSON_START[c.charCodeAt(0)] = 1;

/** Whether the payload starts like a JSON text (it may still be invalid: the engine judges that). */
export function looksLikeJson(v: Uint8Array | string): boolean {
  const n = v.length;
  let i = 0;
  if (typeof v === 'string') {
    while (i < n && v.charCodeAt(i) < 256 && WS[v.charCodeAt(i)] === 1) i++;
    return i < n && v.charCodeAt(i) < 256 && JSON_START[v.charCodeAt(i)] === 1;
  }
  while (i < n && WS[v[i]] === 1) i++;
  return i < n && JSON_START[v[i]] === 1;
}

/** An Avro object container file starts with `Obj` and the version byte 1. */
export function isAvroContainer(v: Uint8Array): boolean {
  return v.length >= 4 && v[0] === 0x4f && v[1] === 0x62 && v[2] === 0x6a && v[3] === 0x01;
}

/** What a payload that is not JSON looks like (a JSON-looking one is `json`). */
export function kindOf(v: Uint8Array | string): PayloadKind {
  if (typeof v === 'string') return looksLikeJson(v) ? 'json' : 'text';
  if (isWire(v)) return 'wire';
  if (isAvroContainer(v)) return 'container';
  if (looksLikeJson(v)) return 'json';
  return isText(v) ? 'text' : 'binary';
}

/** Valid UTF-8 without control characters other than whitespace (the first 512 bytes are judged). */
function isText(v: Uint8Array): boolean {
  const n = Math.min(v.length, 512);
  for (let i = 0; i < n; i++) {
    const c = v[i];
    if (c < 0x20 && WS[c] === 0) return false;
    if (c === 0x7f) return false;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(v.length > 512 ? v.subarray(0, n - (n > 3 ? 3 : 0)) : v);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first status of a pipeline whose records are of `kind` and that has no decoder for them: what they
 * look like and what to set. `hasRegistry`: a registry or schema files are configured (they did not help).
 */
export function adviceFor(kind: PayloadKind, sample: Uint8Array | string, hasRegistry: boolean, format = 'auto'): string {
  switch (kind) {
    case 'wire': {
      const id = typeof sample === 'string' ? 0 : schemaIdOf(sample);
      return hasRegistry
        ? `Records are in the Confluent wire format (schema id ${id}), but no schema source could decode them; check the registry's URL.`
        : `Records are in the Confluent wire format (schema id ${id}): set a schema registry (registry: {url} on the connection, or ?registry=<url>), or schemas: <folder> with the schema files.`;
    }
    case 'container':
      return 'Records are Avro object container files ("Obj" + 1): each record carries its own schema; Clean Streams reads single Avro records (Confluent wire format, or format: avro with schema: <file>), not container files.';
    case 'text':
      return 'Records are UTF-8 text that is not JSON: Clean Streams judges JSON, Avro, Protobuf and JSON Schema records. If they are meant to be JSON, the producer writes something else.';
    case 'binary':
      return 'Records are binary, neither JSON nor the Confluent wire format: if they are bare Avro or Protobuf, set format: avro|protobuf with schema: <file> (or ?format=avro&schema=<file>).';
    case 'bare':
      return `Records carry no Confluent wire-format header, and no schema is set for bare ${format} records: set schema: <file or name> on the pipeline (or ?schema=), or format: auto if they are JSON.`;
    case 'json':
      return 'Records are JSON.';
  }
}
