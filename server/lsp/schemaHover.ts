/**
 * Hovering a topic in clean.yaml shows its schema, fetched through the same schema sources the pipeline would
 * decode with: Pulsar's registry for a Pulsar topic, the connection's Confluent-compatible registry (subject
 * `<topic>-value`), the pipeline's `schema:` file, or the file's `schemas:` folders. A hover must not wait on a
 * slow registry: each lookup has a short timeout, and answers (found, absent or failed) are cached for a while.
 */
import fs from 'node:fs';
import { RegistryClient } from '../decode/registry';
import { SchemaFiles, parseSchemaFile } from '../decode/files';
import { PulsarSchemaRegistry, pulsarAdminOf } from '../decode/pulsar';
import type { ResolvedSchema, SchemaSource } from '../decode/types';
import type { SourceSpec } from '../sources/types';

/** How long a hover waits for a schema source. */
export const SCHEMA_HOVER_TIMEOUT_MS = 1500;
/** How long an answer is reused (a registry's latest version may change; files may be edited). */
const CACHE_MS = 30_000;
const MAX_CACHED = 200;

/** What a lookup found: a schema, none, or why it could not be asked. */
/** `unset`: the pipeline has no schema source at all (nothing worth a word in a hover). */
export type SchemaLookupResult = { schema: ResolvedSchema } | { none: string; unset?: true } | { failed: string };

export class SchemaLookup {
  private readonly cache = new Map<string, { at: number; result: SchemaLookupResult }>();

  constructor(
    private readonly secret: (name: string) => Promise<string | undefined>,
    private readonly timeoutMs = SCHEMA_HOVER_TIMEOUT_MS,
  ) {}

  /** The schema of a pipeline's topic, from the first source that has one. */
  async lookup(spec: SourceSpec): Promise<SchemaLookupResult> {
    const key = JSON.stringify([spec.backend, spec.url ?? spec.brokers, spec.topic, spec.decode ?? null]);
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.result;
    const result = await this.ask(spec);
    if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { at: Date.now(), result });
    return result;
  }

  private async ask(spec: SourceSpec): Promise<SchemaLookupResult> {
    const d = spec.decode;
    if (d?.format === 'json') return { none: 'the pipeline reads JSON (`format: json`)' };
    const asked: Array<{ source: SchemaSource; subject: string }> = [];
    if (typeof d?.schema === 'string' && /\.(avsc|proto|json)$/.test(d.schema) && fs.existsSync(d.schema)) {
      try {
        const schema = parseSchemaFile(d.schema, fs.readFileSync(d.schema, 'utf8'));
        return { schema: { schema, subject: d.schema, origin: d.schema } };
      } catch (err) {
        return { failed: `the schema file ${d.schema} does not parse: ${err instanceof Error ? err.message : String(err)}` };
      }
    }
    const admin = pulsarAdminOf(spec);
    if (admin) asked.push({ source: new PulsarSchemaRegistry(admin, this.secret, this.timeoutMs), subject: admin.topic });
    if (d?.registry) {
      try {
        asked.push({ source: new RegistryClient({ ...d.registry, timeoutMs: this.timeoutMs }, this.secret), subject: `${spec.topic}-value` });
      } catch (err) {
        return { failed: err instanceof Error ? err.message : String(err) };
      }
    }
    if (d?.schemas?.length) asked.push({ source: new SchemaFiles(d.schemas), subject: typeof d.schema === 'string' ? d.schema : spec.topic });
    if (asked.length === 0) return { none: 'no schema source is set for it (a registry on its connection, or `schemas:`)', unset: true };
    const failures: string[] = [];
    for (const { source, subject } of asked) {
      try {
        const r = await withTimeout(Promise.resolve(source.resolve({ subject })), this.timeoutMs, source.description);
        if (r !== null) return { schema: r };
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
      }
    }
    if (failures.length) return { failed: failures.join(' ') };
    return { none: `${asked.map((a) => a.source.description).join(' and ')} ${asked.length > 1 ? 'have' : 'has'} no schema for it` };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000} s.`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** At most this many fields are listed in a hover. */
const MAX_FIELDS = 40;

/**
 * The hover text of a lookup: `Schema: avro orders-value v3 (id 7), record shop.Order, from …` and the fields in a
 * code block. Names come from a registry (anyone's text): escaped, never a link.
 */
export function schemaHoverMarkdown(result: SchemaLookupResult): string {
  const esc = (s: string) => s.replace(/[\\`*_[\]<>!$]/g, '\\$&');
  if ('none' in result) return `Schema: none found — ${esc(result.none)}.`;
  if ('failed' in result) return `Schema: not available — ${esc(result.failed)}`;
  const r = result.schema;
  let decoder;
  try {
    decoder = r.schema.decoder();
  } catch {
    decoder = undefined;
  }
  const head: string[] = [r.schema.type];
  if (r.subject !== undefined) head.push(r.version !== undefined ? `${r.subject} v${r.version}` : r.subject);
  if (r.id !== undefined) head.push(`(id ${r.id})`);
  const parts = [`**Schema**: ${esc(head.join(' '))}${decoder?.name ? `, record ${esc(decoder.name)}` : ''}${r.origin !== r.subject ? `, from ${esc(r.origin)}` : ''}`];
  const fields = decoder?.fields ?? [];
  if (fields.length) {
    const shown = fields.slice(0, MAX_FIELDS).map((f) => `${f.name}: ${f.type}`.replace(/`/g, "'"));
    if (fields.length > MAX_FIELDS) shown.push(`… and ${fields.length - MAX_FIELDS} more`);
    parts.push('```\n' + shown.join('\n') + '\n```');
  }
  return parts.join('\n\n');
}
