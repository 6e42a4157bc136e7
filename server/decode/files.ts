/**
 * Schema files in the workspace as an offline registry (`schemas: ./schemas` in clean.yaml, `--schemas`):
 * `.avsc` (Avro), `.proto` (Protobuf) and `*.schema.json` (JSON Schema), read once when the pipeline starts.
 * A schema is found by its file (path, name or name without extension) or by its record or message name.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAvro } from './avro';
import { parseProtobuf } from './protobuf';
import { parseJsonSchema } from './jsonschema';
import { DecodeError, type ParsedSchema, type ResolvedSchema, type SchemaRef, type SchemaSource } from './types';

/** Files read at most, and folder depth walked at most: a schema folder is small; a wrong path must not read a disk. */
const MAX_FILES = 2000;
const MAX_DEPTH = 6;
const MAX_FILE_BYTES = 2 * 1024 * 1024;

/** Whether a file name is a schema file this module reads. */
export function isSchemaFile(name: string): boolean {
  return name.endsWith('.avsc') || name.endsWith('.proto') || name.endsWith('.schema.json');
}

/** A schema file that was read, or why it could not be. */
export interface SchemaFile {
  path: string;
  schema?: ParsedSchema;
  problem?: string;
}

export class SchemaFiles implements SchemaSource {
  readonly description: string;
  readonly files: SchemaFile[] = [];
  private readonly byName = new Map<string, ResolvedSchema>();
  private readonly all: ResolvedSchema[] = [];

  /** `places`: folders or files, relative to `base` (the config file's folder, or the working directory). */
  constructor(places: readonly string[], base = process.cwd()) {
    this.description = `the schema files in ${places.join(', ')}`;
    for (const p of places) this.walk(path.resolve(base, p), 0);
    for (const f of this.files) {
      if (!f.schema) continue;
      const r: ResolvedSchema = { schema: f.schema, subject: path.basename(f.path), origin: f.path };
      this.all.push(r);
      const file = path.basename(f.path);
      const names = [f.path, file, file.replace(/\.(avsc|proto|schema\.json)$/, '')];
      if (f.schema.type === 'protobuf') {
        // Each message of the file by its full name and its short name, decoding that message.
        for (const name of messageNames(f.schema)) {
          const schema: ParsedSchema = { type: 'protobuf', text: f.schema.text, decoder: (sel) => f.schema!.decoder(sel ?? { name }) };
          this.add(name, { schema, subject: name, origin: f.path });
          this.add(name.split('.').pop()!, { schema, subject: name, origin: f.path });
        }
      } else {
        const name = f.schema.decoder().name;
        if (name) names.push(name, name.split('.').pop()!);
      }
      for (const n of names) this.add(n, r);
    }
  }

  /** Schema files that could not be read or parsed, with why (shown in the pipeline's status). */
  get problems(): SchemaFile[] {
    return this.files.filter((f) => f.problem !== undefined);
  }

  resolve(ref: SchemaRef): ResolvedSchema | null {
    if ('id' in ref) return null;
    return this.byName.get(ref.subject) ?? this.byName.get(path.resolve(ref.subject)) ?? null;
  }

  list(): readonly ResolvedSchema[] {
    return this.all;
  }

  private add(name: string, r: ResolvedSchema): void {
    if (!this.byName.has(name)) this.byName.set(name, r);
  }

  private walk(p: string, depth: number): void {
    if (this.files.length >= MAX_FILES) return;
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      this.files.push({ path: p, problem: 'no such file or folder' });
      return;
    }
    if (st.isDirectory()) {
      if (depth >= MAX_DEPTH) return;
      let names: string[];
      try {
        names = fs.readdirSync(p).sort();
      } catch (err) {
        this.files.push({ path: p, problem: err instanceof Error ? err.message : String(err) });
        return;
      }
      for (const n of names) {
        if (n.startsWith('.') || n === 'node_modules') continue;
        const child = path.join(p, n);
        if (isSchemaFile(n)) this.read(child);
        else if (depth + 1 < MAX_DEPTH) {
          try {
            if (fs.statSync(child).isDirectory()) this.walk(child, depth + 1);
          } catch {
            // Gone meanwhile.
          }
        }
      }
    } else {
      this.read(p);
    }
  }

  private read(p: string): void {
    if (this.files.length >= MAX_FILES) return;
    try {
      if (fs.statSync(p).size > MAX_FILE_BYTES) {
        this.files.push({ path: p, problem: `larger than ${MAX_FILE_BYTES / 1024 / 1024} MB` });
        return;
      }
      this.files.push({ path: p, schema: parseSchemaFile(p, fs.readFileSync(p, 'utf8')) });
    } catch (err) {
      this.files.push({ path: p, problem: err instanceof DecodeError ? err.why : err instanceof Error ? err.message : String(err) });
    }
  }
}

/** Parses a schema file's text by its extension (`.proto`, `.schema.json`, else Avro). Throws a DecodeError. */
export function parseSchemaFile(file: string, text: string): ParsedSchema {
  if (file.endsWith('.proto')) return parseProtobuf(text);
  if (file.endsWith('.schema.json')) return parseJsonSchema(text);
  return parseAvro(text);
}

/** Full names of the messages a parsed .proto declares, top-level first (nested ones included). */
function messageNames(schema: ParsedSchema): string[] {
  const out: string[] = [];
  const visit = (indexes: number[]): void => {
    for (let i = 0; ; i++) {
      let name: string;
      try {
        name = schema.decoder({ indexes: [...indexes, i] }).name;
      } catch {
        return;
      }
      out.push(name);
      if (indexes.length < 3) visit([...indexes, i]);
    }
  };
  visit([]);
  return out;
}
