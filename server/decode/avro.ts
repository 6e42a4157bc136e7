/**
 * Avro records through avsc (chosen for decoding speed: it compiles a reader per schema; see the README's
 * Formats section for the figures). Values map as server/decode/values.ts says.
 */
import * as avsc from 'avsc';
import { DecodeError, type Decoder, type ParsedSchema, type SchemaField } from './types';
import { bytesToBase64, failure } from './values';

/** Reads Avro `long`s as numbers even beyond 2^53 (avsc's own long refuses them: one id must not fail a record). */
const LossyLong = avsc.types.LongType.__with({
  fromBuffer: (b: Buffer) => Number(b.readBigInt64LE(0)),
  toBuffer: (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(Math.trunc(n)));
    return b;
  },
  fromJSON: Number,
  toJSON: (n: number) => n,
  isValid: (n: unknown) => typeof n === 'number',
  compare: (a: number, b: number) => (a < b ? -1 : a > b ? 1 : 0),
});

/** Parses an Avro schema (JSON text, or a parsed schema); `named` holds types of referenced schemas. Throws a DecodeError. */
export function parseAvro(text: string, named?: Record<string, unknown>): ParsedSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DecodeError(failure('the Avro schema is not JSON', err));
  }
  let type: avsc.Type;
  let lossy: avsc.Type;
  try {
    // Unions unwrapped where avsc can (`auto`; ambiguous ones such as int|long are unwrapped after decoding);
    // records as plain data objects (no methods on their prototype).
    const opts = { wrapUnions: 'auto', omitRecordMethods: true, registry: { ...(named ?? {}) } } as Partial<avsc.ForSchemaOptions>;
    type = avsc.Type.forSchema(json as avsc.Schema, opts);
    lossy = avsc.Type.forSchema(json as avsc.Schema, { ...opts, registry: { ...(named ?? {}), long: LossyLong } } as Partial<avsc.ForSchemaOptions>);
  } catch (err) {
    throw new DecodeError(failure('not a valid Avro schema', err));
  }
  const decoder = new AvroDecoder(type, lossy, hasBytes(json), hasWrapped(type, new Set()));
  return {
    type: 'avro',
    text,
    decoder: () => decoder,
  };
}

/** The named types a parsed schema defines, for schemas that reference it (registry references). */
export function avroNamedTypes(text: string): Record<string, unknown> {
  const registry: Record<string, unknown> = {};
  try {
    avsc.Type.forSchema(JSON.parse(text) as avsc.Schema, { wrapUnions: false, omitRecordMethods: true, registry } as Partial<avsc.ForSchemaOptions>);
  } catch {
    // An invalid reference shows when the schema that uses it is parsed.
  }
  return registry;
}

class AvroDecoder implements Decoder {
  readonly type = 'avro' as const;
  readonly name: string;
  readonly fields: readonly SchemaField[];

  constructor(
    private readonly avro: avsc.Type,
    private readonly lossy: avsc.Type,
    private readonly bytes: boolean,
    private readonly wrapped: boolean,
  ) {
    this.name = avro.name ?? avro.typeName;
    this.fields = avro instanceof avsc.types.RecordType ? avro.fields.map((f) => ({ name: f.name, type: typeText(f.type) })) : [];
  }

  decode(bytes: Uint8Array, offset: number): Record<string, unknown> {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    let r: { value: unknown; offset: number };
    try {
      r = this.avro.decode(buf, offset);
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('precision'))) throw new DecodeError(failure(`not a valid ${this.name} record`, err));
      try {
        r = this.lossy.decode(buf, offset);
      } catch (err2) {
        throw new DecodeError(failure(`not a valid ${this.name} record`, err2));
      }
    }
    if (r.offset < 0) throw new DecodeError(`not a valid ${this.name} record: its ${buf.length - offset} bytes end before the record does`);
    if (r.offset !== buf.length) throw new DecodeError(`not a valid ${this.name} record: ${buf.length - r.offset} bytes left over after it`);
    let v = r.value;
    if (this.wrapped) v = unwrap(this.avro, v);
    if (this.bytes) v = bytesToBase64(v);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(`an Avro ${this.avro.typeName} where a record is expected`);
    return v as Record<string, unknown>;
  }
}

/** Whether a type holds a wrapped union anywhere. */
function hasWrapped(t: avsc.Type, seen: Set<avsc.Type>): boolean {
  if (seen.has(t)) return false;
  seen.add(t);
  if (t instanceof avsc.types.WrappedUnionType) return true;
  if (t instanceof avsc.types.UnwrappedUnionType) return t.types.some((b) => hasWrapped(b, seen));
  if (t instanceof avsc.types.RecordType) return t.fields.some((f) => hasWrapped(f.type, seen));
  if (t instanceof avsc.types.ArrayType) return hasWrapped(t.itemsType, seen);
  if (t instanceof avsc.types.MapType) return hasWrapped(t.valuesType, seen);
  if (t instanceof avsc.types.LogicalType) return hasWrapped(t.underlyingType, seen);
  return false;
}

/** The value with every wrapped union (`{"long": 5}`) replaced by its branch value, walking type and value together. */
function unwrap(t: avsc.Type, v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (t instanceof avsc.types.WrappedUnionType) {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const branch = t.types.find((b) => b.branchName === k);
      return branch ? unwrap(branch, o[k]) : o[k];
    }
    return v;
  }
  if (t instanceof avsc.types.UnwrappedUnionType) {
    const branch = t.types.find((b) => b.isValid(v));
    return branch ? unwrap(branch, v) : v;
  }
  if (t instanceof avsc.types.RecordType) {
    const o = v as Record<string, unknown>;
    for (const f of t.fields) o[f.name] = unwrap(f.type, o[f.name]);
    return o;
  }
  if (t instanceof avsc.types.ArrayType) {
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) a[i] = unwrap(t.itemsType, a[i]);
    return a;
  }
  if (t instanceof avsc.types.MapType) {
    const o = v as Record<string, unknown>;
    for (const k in o) o[k] = unwrap(t.valuesType, o[k]);
    return o;
  }
  if (t instanceof avsc.types.LogicalType) return unwrap(t.underlyingType, v);
  return v;
}

/** Whether a schema holds `bytes` or `fixed` anywhere (then decoded values need the base64 pass). */
function hasBytes(s: unknown): boolean {
  if (s === 'bytes' || s === 'fixed') return true;
  if (Array.isArray(s)) return s.some(hasBytes);
  if (s !== null && typeof s === 'object') {
    const o = s as Record<string, unknown>;
    if (o.type === 'fixed') return true;
    return hasBytes(o.type) || hasBytes(o.items) || hasBytes(o.values) || (Array.isArray(o.fields) && o.fields.some((f) => hasBytes((f as { type?: unknown }).type)));
  }
  return false;
}

/** A type as a short text: `long`, `null|string`, `array<double>`, `map<string>`, or a named type's name. */
export function typeText(t: avsc.Type): string {
  if (t instanceof avsc.types.UnwrappedUnionType || t instanceof avsc.types.WrappedUnionType) return t.types.map(typeText).join('|');
  if (t instanceof avsc.types.ArrayType) return `array<${typeText(t.itemsType)}>`;
  if (t instanceof avsc.types.MapType) return `map<${typeText(t.valuesType)}>`;
  if (t instanceof avsc.types.LogicalType) return typeText(t.underlyingType);
  return t.name ?? t.typeName;
}
