/**
 * Protobuf messages through protobufjs (parsed from .proto text; no generated code). A .proto file holds
 * several messages: the Confluent wire format picks one by message indexes (a path through the file's
 * messages in declaration order), Pulsar and schema files by full name. Values map as values.ts says.
 */
import * as protobuf from 'protobufjs';
import { DecodeError, type Decoder, type ParsedSchema, type SchemaField } from './types';
import { failure } from './values';

/** protobufjs's conversion to plain objects, per values.ts; proto3 scalars at their default are present (0, ''), not missing. */
const TO_OBJECT: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: String, defaults: true, arrays: true, objects: true };

/**
 * Parses .proto text; `imports` are the texts of the files it imports (registry references), parsed into
 * the same root. Throws a DecodeError.
 */
export function parseProtobuf(text: string, imports: readonly string[] = []): ParsedSchema {
  const root = new protobuf.Root();
  let pkg: string | undefined;
  try {
    for (const t of imports) protobuf.parse(t, root, { keepCase: true });
    pkg = protobuf.parse(text, root, { keepCase: true }).package;
    root.resolveAll();
  } catch (err) {
    throw new DecodeError(failure('not a valid .proto schema', err));
  }
  const top = pkg ? root.lookup(pkg) : root;
  if (!(top instanceof protobuf.Namespace)) throw new DecodeError(`the .proto schema's package ${pkg} holds no messages`);
  // The file's own top-level messages, in declaration order (imported files' messages live in `root` too,
  // but Confluent's indexes count only the schema's own).
  const own = ownMessages(text, top);
  const cache = new Map<string, Decoder>();
  return {
    type: 'protobuf',
    text,
    decoder(select) {
      const key = select?.name ?? (select?.indexes ?? [0]).join('.');
      let d = cache.get(key);
      if (d === undefined) {
        d = new ProtobufDecoder(select?.name !== undefined ? byName(root, select.name) : byIndexes(own, select?.indexes ?? [0]));
        cache.set(key, d);
      }
      return d;
    },
  };
}

/** Top-level messages declared by this file's text (not by its imports) in declaration order. */
function ownMessages(text: string, ns: protobuf.Namespace): protobuf.Type[] {
  const types = ns.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  if (types.length <= 1) return types;
  // Imports that share the package put their messages in the same namespace: keep those named in this text.
  return types.filter((t) => new RegExp(`\\bmessage\\s+${t.name}\\b`).test(text));
}

function byIndexes(top: protobuf.Type[], indexes: readonly number[]): protobuf.Type {
  let list = top;
  let t: protobuf.Type | undefined;
  for (const i of indexes) {
    t = list[i];
    if (t === undefined) throw new DecodeError(`message index ${indexes.join('.')} is not in the schema (it has ${list.length} message${list.length === 1 ? '' : 's'} there)`);
    list = t.nestedArray.filter((n): n is protobuf.Type => n instanceof protobuf.Type);
  }
  if (t === undefined) throw new DecodeError('the schema declares no message');
  return t;
}

function byName(root: protobuf.Root, name: string): protobuf.Type {
  try {
    return root.lookupType(name);
  } catch {
    throw new DecodeError(`message ${name} is not in the schema`);
  }
}

/** The decoder of one message type, wherever its schema came from (.proto text, Pulsar's descriptor set). */
export function protobufDecoder(message: protobuf.Type): Decoder {
  return new ProtobufDecoder(message);
}

class ProtobufDecoder implements Decoder {
  readonly type = 'protobuf' as const;
  readonly name: string;
  readonly fields: readonly SchemaField[];

  constructor(private readonly message: protobuf.Type) {
    this.name = message.fullName.replace(/^\./, '');
    this.fields = message.fieldsArray.map((f) => ({ name: f.name, type: (f.repeated ? 'repeated ' : f.map ? `map<${(f as unknown as protobuf.MapField).keyType}> ` : '') + f.type }));
  }

  decode(bytes: Uint8Array, offset: number): Record<string, unknown> {
    let m: protobuf.Message;
    try {
      m = this.message.decode(offset === 0 ? bytes : bytes.subarray(offset));
    } catch (err) {
      throw new DecodeError(failure(`not a valid ${this.name} message`, err));
    }
    return this.message.toObject(m, TO_OBJECT);
  }
}
