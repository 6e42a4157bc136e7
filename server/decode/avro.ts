/**
 * Avro records through avsc (chosen for decoding speed: it compiles a reader per schema; see the README's
 * Formats section for the figures). Values map as server/decode/values.ts says.
 */
import * as avsc from 'avsc';
import { DecodeError, type Decoder, type ParsedSchema, type SchemaField } from './types';
import { bytesToBase64, failure } from './values';
import { Code } from './codes';
import type { Members } from './json';
import { VARINT, varint, zigzagBig } from './varint';

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
  const decoder = new AvroDecoder(type, lossy, hasBytes(json), hasWrapped(type, new Set()), flatScanner(type));
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
    flat: FlatScanner | null,
  ) {
    this.name = avro.name ?? avro.typeName;
    this.fields = avro instanceof avsc.types.RecordType ? avro.fields.map((f) => ({ name: f.name, type: typeText(f.type) })) : [];
    // Only records of flat fields can be scanned (see FlatScanner); others have none. A field set on every
    // instance, so that all decoders keep one shape (decode() stays a monomorphic call in the stage).
    this.scanInto = flat === null ? undefined : (bytes, offset, m) => flat.scan(bytes, offset, m);
  }

  readonly scanInto: ((bytes: Uint8Array, offset: number, m: Members) => boolean) | undefined;

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

/** How the scanner reads one value (a field's type, or a union's branch). */
const enum Read {
  Null,
  Boolean,
  Int,
  Long,
  Float,
  Double,
  /** string and bytes: a length, then that many bytes. */
  Sized,
  Fixed,
  Enum,
  Union,
}

/** One field's (or union branch's) reader: its kind, a fixed size or enum symbol count, a union's branches. */
interface Reader {
  read: Read;
  /** Fixed: its size; Enum: how many symbols it has. */
  size: number;
  branches: Reader[];
}

/** A reader for a flat type, or null when the type nests (records, arrays, maps) or is a logical type. */
function readerOf(t: avsc.Type): Reader | null {
  const r = (read: Read, size = 0, branches: Reader[] = []): Reader => ({ read, size, branches });
  if (t instanceof avsc.types.UnwrappedUnionType || t instanceof avsc.types.WrappedUnionType) {
    const branches: Reader[] = [];
    for (const b of t.types) {
      const br = readerOf(b);
      if (br === null || br.read === Read.Union) return null;
      branches.push(br);
    }
    return r(Read.Union, 0, branches);
  }
  if (t instanceof avsc.types.NullType) return r(Read.Null);
  if (t instanceof avsc.types.BooleanType) return r(Read.Boolean);
  if (t instanceof avsc.types.IntType) return r(Read.Int);
  if (t instanceof avsc.types.LongType) return r(Read.Long);
  if (t instanceof avsc.types.FloatType) return r(Read.Float);
  if (t instanceof avsc.types.DoubleType) return r(Read.Double);
  if (t instanceof avsc.types.StringType || t instanceof avsc.types.BytesType) return r(Read.Sized);
  if (t instanceof avsc.types.FixedType) return r(Read.Fixed, t.size);
  if (t instanceof avsc.types.EnumType) return r(Read.Enum, t.symbols.length);
  return null;
}

/** A scanner for a record schema whose fields are all flat; null for any other schema. */
function flatScanner(t: avsc.Type): FlatScanner | null {
  if (!(t instanceof avsc.types.RecordType)) return null;
  const readers: Reader[] = [];
  for (const f of t.fields) {
    const r = readerOf(f.type);
    if (r === null) return null;
    readers.push(r);
  }
  return new FlatScanner(
    t.fields.map((f) => f.name),
    readers,
  );
}

/** avsc's isSafeLong bound (one below MAX_SAFE_INTEGER on each side, for its rounding). */
const SAFE_LONG = 9007199254740990;
/** Scratch for reading floats and doubles out of any Uint8Array without a DataView or Buffer per record. */
const F64 = new Float64Array(1);
const F32 = new Float32Array(F64.buffer, 0, 1);
const SCRATCH = new Uint8Array(F64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * Reads a flat record's Avro binary straight into the engine's Members (server/decode/json.ts): the keys
 * are the schema's field names (the same string objects every record, so the engine's shape compare is a
 * pointer compare), the codes and numbers those of the value decode() would give (strings, bytes, fixed and
 * enums → Code.String, unions → their branch's code, booleans 1/0, longs beyond 2^53 as LossyLong reads them),
 * and no string or object is made: strings and bytes are skipped by their length. This is where avsc spends
 * most of its time per record, and the engine needs none of it unless a rule, a label or a sample reads a value.
 *
 * It answers only when decode() would succeed with exactly those members: a record that runs past its end,
 * leaves bytes over, or holds a bad union or enum index (or an int beyond 2^53) gets `false`, and the
 * engine decodes it, so the verdict on bad bytes is avsc's own.
 */
class FlatScanner {
  constructor(
    private readonly names: readonly string[],
    private readonly readers: readonly Reader[],
  ) {}

  scan(b: Uint8Array, offset: number, m: Members): boolean {
    const readers = this.readers;
    const n = readers.length;
    if (n > m.codes.length) m.reserve(n);
    const keys = m.keys;
    const names = this.names;
    const codes = m.codes;
    const numbers = m.numbers;
    const end = b.length;
    let pos = offset;
    for (let k = 0; k < n; k++) {
      let r = readers[k];
      if (r.read === Read.Union) {
        pos = varint(b, pos);
        const branch = VARINT[0];
        if (pos < 0 || branch < 0 || branch >= r.branches.length) return false;
        r = r.branches[branch];
      }
      let code: number = Code.String;
      let x = 0;
      switch (r.read) {
        case Read.Null:
          code = Code.Null;
          break;
        case Read.Boolean:
          if (pos >= end) return false;
          code = Code.Boolean;
          // avsc reads any byte but 0 as true.
          x = b[pos++] !== 0 ? 1 : 0;
          break;
        case Read.Int:
        case Read.Long: {
          // avsc reads an int as a long without the precision check: its float value, whatever the size.
          const start = pos;
          pos = varint(b, pos);
          if (pos < 0) return false;
          x = VARINT[0];
          if (r.read === Read.Long && VARINT[1] === 1) {
            const wide = wideLong(b, start, pos, x);
            if (wide === null) return false;
            x = wide;
          }
          code = Code.Number;
          break;
        }
        case Read.Float:
        case Read.Double: {
          const size = r.read === Read.Float ? 4 : 8;
          if (pos + size > end) return false;
          if (LITTLE_ENDIAN) for (let i = 0; i < size; i++) SCRATCH[i] = b[pos + i];
          else for (let i = 0; i < size; i++) SCRATCH[size - 1 - i] = b[pos + i];
          pos += size;
          code = Code.Number;
          x = size === 4 ? F32[0] : F64[0];
          break;
        }
        case Read.Sized: {
          pos = varint(b, pos);
          const length = VARINT[0];
          if (pos < 0 || length < 0 || pos + length > end) return false;
          pos += length;
          break;
        }
        case Read.Fixed:
          if (pos + r.size > end) return false;
          pos += r.size;
          break;
        case Read.Enum:
          pos = varint(b, pos);
          if (pos < 0 || VARINT[0] < 0 || VARINT[0] >= r.size) return false;
          break;
        default:
          // A union inside a union: readerOf never builds one.
          return false;
      }
      codes[k] = code;
      numbers[k] = x;
      // Usually the names of the record before: a compare is cheaper than a store into the array.
      if (keys[k] !== names[k]) keys[k] = names[k];
    }
    if (pos !== end) return false;
    m.count = n;
    return true;
  }
}

/**
 * A long of 2^53 or more (before zigzag) as decode() gives it: avsc refuses it and decode() reads the record
 * again with LossyLong, the 64-bit value rounded to a number, done here through BigInt (rare: ids and hashes).
 * A value whose float sum `x` lands just inside avsc's safe range is one avsc reads with float rounding, and
 * which LossyLong would read otherwise if another long in the record is beyond: null then, and decode() decides.
 */
function wideLong(b: Uint8Array, start: number, end: number, x: number): number | null {
  if (x >= -SAFE_LONG && x <= SAFE_LONG) return null;
  return Number(zigzagBig(b, start, end));
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
