/**
 * JSON Schema: the payload is JSON (after the wire-format header, when there is one); the schema gives the
 * record's name and its declared properties, for schema-aware drift and hover. Records are not validated
 * against it here: the engine's own detectors (schema, missing, rules) judge the values.
 */
import { DecodeError, type Decoder, type ParsedSchema, type SchemaField } from './types';
import { failure } from './values';

export function parseJsonSchema(text: string): ParsedSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DecodeError(failure('the JSON Schema is not JSON', err));
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new DecodeError('a JSON Schema must be a JSON object');
  const decoder = new JsonSchemaDecoder(json as Record<string, unknown>);
  return { type: 'jsonschema', text, decoder: () => decoder };
}

class JsonSchemaDecoder implements Decoder {
  readonly type = 'jsonschema' as const;
  readonly name: string;
  readonly fields: readonly SchemaField[];

  constructor(schema: Record<string, unknown>) {
    this.name = typeof schema.title === 'string' ? schema.title : typeof schema.$id === 'string' ? schema.$id : '';
    const props = schema.properties;
    this.fields =
      props !== null && typeof props === 'object'
        ? Object.entries(props as Record<string, unknown>).map(([name, p]) => ({ name, type: propertyType(p) }))
        : [];
  }

  decode(bytes: Uint8Array, offset: number): Record<string, unknown> {
    const text = Buffer.from(bytes.buffer, bytes.byteOffset + offset, bytes.length - offset).toString('utf8');
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (err) {
      throw new DecodeError(failure('not valid JSON', err));
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DecodeError(`a JSON ${Array.isArray(v) ? 'array' : 'scalar'} where an object is expected`);
    return v as Record<string, unknown>;
  }
}

/** A property's declared type as text: `integer`, `null|string`, `object`, or its $ref. */
function propertyType(p: unknown): string {
  if (p === null || typeof p !== 'object') return 'any';
  const o = p as Record<string, unknown>;
  if (typeof o.type === 'string') return o.type;
  if (Array.isArray(o.type)) return o.type.join('|');
  if (typeof o.$ref === 'string') return o.$ref;
  for (const k of ['oneOf', 'anyOf'] as const) if (Array.isArray(o[k])) return (o[k] as unknown[]).map(propertyType).join('|');
  return 'any';
}
