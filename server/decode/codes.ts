/**
 * The value codes the engine reads for each top-level member of a record, whatever its format: the JSON
 * scanner writes them in place, decoded Avro/Protobuf/JSON Schema objects get them through codeOf().
 * They live here, below the engine, because decoding produces them (server/engine/fields.ts re-exports them).
 */

/** Type codes stored per window slot (low three bits); bit 3 marks an outlier. */
export const enum Code {
  None = 0, // the record did not parse as an object
  Absent = 1,
  Null = 2,
  Number = 3,
  String = 4,
  Boolean = 5,
  Object = 6,
  Array = 7,
}

export function codeOf(v: unknown): number {
  switch (typeof v) {
    case 'number':
      return Code.Number;
    case 'string':
      return Code.String;
    case 'boolean':
      return Code.Boolean;
    case 'object':
      return v === null ? Code.Null : Array.isArray(v) ? Code.Array : Code.Object;
    case 'undefined':
      return Code.Absent;
    default:
      return Code.String; // bigint/function/symbol never come from JSON; count them as text
  }
}
