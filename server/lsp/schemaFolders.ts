/**
 * The workspace folders that hold schema files (`.avsc`, `.proto`, `*.schema.json`), for completing `schemas:` in
 * clean.yaml: developers keep these files in their repositories. The walk is bounded (depth, entries, time) and its
 * answer cached for a few seconds, so completion stays quick in a large repository.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { isSchemaFile } from '../decode/files';

const MAX_DEPTH = 5;
const MAX_ENTRIES = 5000;
const CACHE_MS = 10_000;
/** Folders never worth offering (dependencies, build output, version control). */
const SKIP = new Set(['node_modules', 'dist', 'out', 'build', 'target', '__pycache__', 'venv']);

export interface SchemaFolder {
  /** Relative to the base, `./`-prefixed and with forward slashes: `./schemas`, `./src/main/avro`. */
  path: string;
  /** Schema files directly in it, by kind. */
  avro: number;
  proto: number;
  jsonSchema: number;
}

const cache = new Map<string, { at: number; folders: Promise<SchemaFolder[]> }>();

/** Folders under `base` (itself included, as `.`) that directly hold schema files, nearest first. */
export function schemaFolders(base: string): Promise<SchemaFolder[]> {
  const hit = cache.get(base);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.folders;
  const folders = walk(base);
  cache.set(base, { at: Date.now(), folders });
  return folders;
}

async function walk(base: string): Promise<SchemaFolder[]> {
  const out: SchemaFolder[] = [];
  let entries = 0;
  const queue: Array<{ dir: string; depth: number }> = [{ dir: base, depth: 0 }];
  // Breadth first: the folders nearest the config file come first, and a large tree is cut at its far end.
  while (queue.length > 0 && entries < MAX_ENTRIES) {
    const { dir, depth } = queue.shift()!;
    let list;
    try {
      list = await fsp.readdir(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const found: SchemaFolder = { path: relative(base, dir), avro: 0, proto: 0, jsonSchema: 0 };
    for (const e of list) {
      if (++entries > MAX_ENTRIES) break;
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH && !e.name.startsWith('.') && !SKIP.has(e.name)) queue.push({ dir: path.join(dir, e.name), depth: depth + 1 });
      } else if (e.isFile() && isSchemaFile(e.name)) {
        if (e.name.endsWith('.avsc')) found.avro++;
        else if (e.name.endsWith('.proto')) found.proto++;
        else found.jsonSchema++;
      }
    }
    if (found.avro + found.proto + found.jsonSchema > 0) out.push(found);
  }
  return out;
}

function relative(base: string, dir: string): string {
  const r = path.relative(base, dir).split(path.sep).join('/');
  return r === '' ? '.' : `./${r}`;
}

/** `3 .avsc, 1 .proto`: what a folder holds, for the completion's detail. */
export function describeFolder(f: SchemaFolder): string {
  const parts: string[] = [];
  if (f.avro) parts.push(`${f.avro} .avsc`);
  if (f.proto) parts.push(`${f.proto} .proto`);
  if (f.jsonSchema) parts.push(`${f.jsonSchema} .schema.json`);
  return parts.join(', ');
}
