/**
 * The clean.yaml JSON Schema (schema/clean.schema.json) as the one source of keys, types, enums,
 * descriptions and defaults: validation, completion and hover all read it.
 */
import rawSchema from '../../schema/clean.schema.json';
import { editDistance } from '../engine/names';

export interface SchemaNode {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  examples?: unknown[];
  enum?: unknown[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
  required?: string[];
  $ref?: string;
}

export const CLEAN_SCHEMA = rawSchema as unknown as SchemaNode;

/** Follows `$ref` (local JSON pointers only); the referring node's own description wins. */
export function deref(node: SchemaNode | undefined): SchemaNode | undefined {
  let cur = node;
  let description = node?.description;
  for (let hops = 0; cur?.$ref && hops < 10; hops++) {
    cur = pointer(cur.$ref);
    description ??= cur?.description;
  }
  if (!cur) return undefined;
  return description !== undefined && description !== cur.description ? { ...cur, description } : cur;
}

function pointer(ref: string): SchemaNode | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let cur: unknown = CLEAN_SCHEMA;
  for (const part of ref.slice(2).split('/')) {
    cur = (cur as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur as SchemaNode | undefined;
}

/** The object branch of a node (for `anyOf: [boolean, object]` such as tls). */
export function objectBranch(node: SchemaNode | undefined): SchemaNode | undefined {
  const n = deref(node);
  if (!n) return undefined;
  if (n.properties || n.additionalProperties !== undefined) return n;
  for (const b of n.anyOf ?? []) {
    const d = deref(b);
    if (d?.properties || (d && d.additionalProperties !== undefined)) return { ...d, description: n.description ?? d.description };
  }
  return undefined;
}

/** The schema of a child: a property, an additional property, or an array item. */
export function childSchema(node: SchemaNode | undefined, key: string | number): SchemaNode | undefined {
  const n = deref(node);
  if (!n) return undefined;
  if (typeof key === 'number' || /^\d+$/.test(String(key))) {
    if (n.items) return deref(n.items);
  }
  const obj = objectBranch(n);
  if (!obj) return undefined;
  const prop = obj.properties?.[String(key)];
  if (prop) return deref(prop);
  if (typeof obj.additionalProperties === 'object') return deref(obj.additionalProperties);
  return undefined;
}

/** The schema at a path of keys and indexes from the root; undefined when the path leaves the schema. */
export function schemaAt(path: Array<string | number>): SchemaNode | undefined {
  let cur: SchemaNode | undefined = deref(CLEAN_SCHEMA);
  for (const k of path) {
    cur = childSchema(cur, k);
    if (!cur) return undefined;
  }
  return cur;
}

/** The declared keys of an object schema, in schema order. */
export function knownKeys(node: SchemaNode | undefined): string[] {
  const obj = objectBranch(node);
  return obj?.properties ? Object.keys(obj.properties).filter((k) => k !== '$schema') : [];
}

/** The allowed types of a node, flattening `anyOf`. */
export function allowedTypes(node: SchemaNode | undefined): string[] {
  const n = deref(node);
  if (!n) return [];
  if (n.anyOf) return n.anyOf.flatMap((b) => allowedTypes(b));
  if (n.type === undefined) return n.properties ? ['object'] : [];
  return Array.isArray(n.type) ? n.type : [n.type];
}

/** The closest candidate, when one is close enough to be what the user meant. */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = cl === lower ? 0 : editDistance(lower, cl);
    const limit = Math.max(1, Math.min(3, Math.floor(c.length / 3)));
    const prefix = cl.startsWith(lower) && lower.length >= 3 ? 1 : Infinity;
    const score = Math.min(d <= limit ? d : Infinity, prefix);
    if (score < bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}

/** "a, b or c" */
export function listWords(words: readonly string[]): string {
  return words.length <= 1 ? words.join('') : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

/** Human text for a default value as it would be written in YAML. */
export function showDefault(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  return typeof v === 'string' ? v : JSON.stringify(v);
}
