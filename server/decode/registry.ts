/**
 * A small client of the Confluent-compatible schema registry REST API (Confluent Schema Registry, Apicurio's
 * ccompat API, Redpanda, Karapace): schemas by id, their subject and version, references. Our own rather
 * than @kafkajs/confluent-schema-registry: we need only GETs, schemas parsed our way (values.ts), a
 * synchronous cache for the hot path, and errors a person can act on, and it would bring its own avsc and
 * protobufjs versions.
 */
import { credentialProblem } from '../secrets/credentials';
import { parseAvro, avroNamedTypes } from './avro';
import { parseProtobuf } from './protobuf';
import { parseJsonSchema } from './jsonschema';
import { DecodeError, SchemaSourceError, type ParsedSchema, type RegistrySettings, type ResolvedSchema, type SchemaRef, type SchemaSource } from './types';

const DEFAULT_TIMEOUT_MS = 5000;
/** A referenced schema may reference others; past this depth the registry's answer is not followed. */
const MAX_REFERENCE_DEPTH = 8;
/** Bytes of a registry answer read at most (a schema is a few kilobytes; a proxy error page is not ours to keep). */
const MAX_BODY = 4 * 1024 * 1024;

interface RegistryAnswer {
  schema?: string;
  schemaType?: string;
  references?: Array<{ name?: string; subject?: string; version?: number }>;
  id?: number;
  subject?: string;
  version?: number;
}

/** Why a registry URL cannot be used (it carries a credential, or is not http(s)); undefined when it can. */
export function registryUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `the schema registry URL "${url.slice(0, 80)}" does not parse; write it as http://host:port[/path]`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `the schema registry URL must start with http:// or https:// (got ${u.protocol}//)`;
  const cred = credentialProblem({ url });
  if (cred !== undefined) return cred.replace(/\?secret=<name> to the URL/, 'auth: { username, secret: <name> } to the registry');
  return undefined;
}

export class RegistryClient implements SchemaSource {
  readonly description: string;
  private readonly base: string;
  private readonly timeoutMs: number;
  /** Schemas by id, fetched once: a registry's ids are immutable. */
  private readonly byId = new Map<number, ResolvedSchema>();
  private readonly pending = new Map<string, Promise<ResolvedSchema | null>>();
  private authHeader: string | null | undefined;

  constructor(
    private readonly settings: RegistrySettings,
    private readonly secret: (name: string) => Promise<string | undefined>,
  ) {
    const problem = registryUrlProblem(settings.url);
    if (problem !== undefined) throw new SchemaSourceError(problem);
    this.base = settings.url.replace(/\/+$/, '');
    this.timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.description = `the schema registry at ${this.base}`;
  }

  resolve(ref: SchemaRef): ResolvedSchema | null | Promise<ResolvedSchema | null> {
    if ('id' in ref) {
      const hit = this.byId.get(ref.id);
      if (hit !== undefined) return hit;
    }
    const key = 'id' in ref ? `id:${ref.id}` : `s:${ref.subject}@${ref.version ?? 'latest'}`;
    let p = this.pending.get(key);
    if (p === undefined) {
      p = ('id' in ref ? this.fetchId(ref.id) : this.fetchSubject(ref.subject, ref.version)).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  private async fetchId(id: number): Promise<ResolvedSchema | null> {
    const a = await this.get<RegistryAnswer>(`/schemas/ids/${id}`);
    if (a === null) return null;
    const schema = await this.parse(a, 0);
    // Subject and version are a nicety for the tree: a registry that cannot say still decodes.
    let subjects: Array<{ subject: string; version: number }> = [];
    try {
      const versions = await this.get<Array<{ subject?: string; version?: number }>>(`/schemas/ids/${id}/versions`);
      if (Array.isArray(versions)) subjects = versions.filter((v): v is { subject: string; version: number } => typeof v?.subject === 'string' && typeof v.version === 'number');
    } catch {
      // The schema itself came: go on without them.
    }
    const r: ResolvedSchema = { schema, id, origin: this.base };
    if (subjects.length > 0) {
      r.subjects = subjects;
      r.subject = subjects[0].subject;
      r.version = subjects[0].version;
    }
    this.byId.set(id, r);
    return r;
  }

  private async fetchSubject(subject: string, version?: number): Promise<ResolvedSchema | null> {
    const a = await this.get<RegistryAnswer>(`/subjects/${encodeURIComponent(subject)}/versions/${version ?? 'latest'}`);
    if (a === null) return null;
    const r: ResolvedSchema = { schema: await this.parse(a, 0), subject, origin: this.base };
    if (typeof a.id === 'number') r.id = a.id;
    if (typeof a.version === 'number') r.version = a.version;
    if (r.id !== undefined) this.byId.set(r.id, r);
    return r;
  }

  /** Parses a registry answer by its schemaType (AVRO when absent), its references fetched first. */
  private async parse(a: RegistryAnswer, depth: number): Promise<ParsedSchema> {
    if (typeof a.schema !== 'string') throw new SchemaSourceError(`${this.description} answered without a schema; is this URL its Confluent-compatible API (Apicurio: …/apis/ccompat/v7)?`);
    const refs: string[] = [];
    if (Array.isArray(a.references) && depth < MAX_REFERENCE_DEPTH) {
      for (const r of a.references) {
        if (typeof r.subject !== 'string') continue;
        const ra = await this.get<RegistryAnswer>(`/subjects/${encodeURIComponent(r.subject)}/versions/${r.version ?? 'latest'}`);
        if (ra !== null && typeof ra.schema === 'string') refs.push(ra.schema);
      }
    }
    const type = (a.schemaType ?? 'AVRO').toUpperCase();
    try {
      if (type === 'PROTOBUF') return parseProtobuf(a.schema, refs);
      if (type === 'JSON') return parseJsonSchema(a.schema);
      const named: Record<string, unknown> = {};
      for (const r of refs) Object.assign(named, avroNamedTypes(r));
      return parseAvro(a.schema, named);
    } catch (err) {
      if (err instanceof DecodeError) throw new SchemaSourceError(`${this.description} holds a schema that does not parse: ${err.why}`);
      throw err;
    }
  }

  /** GETs a path: the JSON answer, null for a 404, a SchemaSourceError for anything else. */
  private async get<T>(path: string): Promise<T | null> {
    const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    const auth = await this.auth();
    if (auth !== null) headers.Authorization = auth;
    let res: Response;
    try {
      res = await fetch(this.base + path, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      const why = e.name === 'TimeoutError' ? `no answer in ${this.timeoutMs / 1000} s` : (e.cause?.code ?? (err instanceof Error ? err.message : String(err)));
      throw new SchemaSourceError(`Cannot reach ${this.description} (${why}). Is it running?`);
    }
    const text = (await res.text()).slice(0, MAX_BODY);
    if (res.status === 404) return null;
    if (res.status === 401 || res.status === 403) {
      const hint = this.settings.auth?.secret ? `check the secret "${this.settings.auth.secret}"` : 'set auth: { username, secret: <name> } on the registry';
      throw new SchemaSourceError(`${this.description} refused the request (${res.status}): ${hint}.`);
    }
    if (res.status !== 200) throw new SchemaSourceError(`${this.description} answered ${res.status} to GET ${path}.`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SchemaSourceError(`${this.description} answered GET ${path} with something that is not JSON; is this URL its Confluent-compatible API?`);
    }
  }

  /** The Basic authorization header, from the user name and the named secret (looked up once). */
  private async auth(): Promise<string | null> {
    if (this.authHeader !== undefined) return this.authHeader;
    const a = this.settings.auth;
    if (!a?.secret && !a?.username) return (this.authHeader = null);
    const password = a.secret ? await this.secret(a.secret) : '';
    if (a.secret && password === undefined) throw new SchemaSourceError(`the secret "${a.secret}" for ${this.description} is not set (headless: CLEAN_SECRET_${a.secret.toUpperCase().replace(/[^A-Z0-9]/g, '_')}).`);
    this.authHeader = 'Basic ' + Buffer.from(`${a.username ?? ''}:${password ?? ''}`).toString('base64');
    return this.authHeader;
  }
}
