/**
 * Pulsar's own schema registry, through the admin REST API on the broker's web port
 * (`GET /admin/v2/schemas/{tenant}/{namespace}/{topic}/schema[/{version}]` and `…/schemas` for every version).
 * A topic with an AVRO, JSON or PROTOBUF_NATIVE schema is decoded with it, whatever the pipeline's `format`
 * (except `json`): a Pulsar user sets nothing.
 *
 * Pulsar stamps each message with the version of the schema that wrote it, but the WebSocket reader does not
 * pass that stamp on. So an Avro record is decoded with the previous record's version when that reads its bytes
 * exactly, else with the newest version that does (Avro is not self-describing, but a wrong schema rarely
 * consumes every byte; records that two versions read alike keep the version before them); a record no known version reads
 * makes the stage ask for the topic's versions again (a new one may have been added), at most every few
 * seconds. Protobuf reads older and newer messages alike, so it always decodes with the newest version.
 * JSON records stay JSON for the engine's in-place scanner; the schema names the record and its fields.
 */
import * as protobuf from 'protobufjs';
import 'protobufjs/ext/descriptor';
import { httpGet, type HttpAnswer, type HttpTarget } from '../sources/httpGet';
import type { SourceContext, SourceMessage, SourceSpec } from '../sources/types';
import { parseAvro } from './avro';
import { protobufDecoder } from './protobuf';
import { schemaChanges } from './drift';
import { failure } from './values';
import {
  DecodeError,
  SchemaSourceError,
  type DecodeInfo,
  type DecodeSettings,
  type DecodeStage,
  type Decoder,
  type ParsedSchema,
  type ResolvedSchema,
  type SchemaField,
  type SchemaRef,
  type SchemaSource,
} from './types';

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_WEB_PORT = 8080;
/** A schema answer is a few kilobytes; an error page from a proxy is not ours to keep. */
const MAX_BODY = 4 * 1024 * 1024;
/** The latest schema of a topic is asked again after this long (hover); fixed versions never change. */
const LATEST_TTL_MS = 10_000;
/** A record that no known version decodes asks for the topic's versions again, at most this often. */
const REFRESH_EVERY_MS = 5000;
/** A topic without a schema (or whose admin API failed) is asked again after this long: a producer may add one. */
const RECHECK_EVERY_MS = 10_000;

/** One version of a topic's schema as the admin API answers it. */
export interface PulsarSchemaInfo {
  version: number;
  /** AVRO, JSON, PROTOBUF_NATIVE, PROTOBUF, STRING, BYTES, KEY_VALUE, … */
  type: string;
  /** The definition: Avro JSON for AVRO and JSON, a JSON object holding a descriptor set for PROTOBUF_NATIVE. */
  data: string;
  properties?: Record<string, string>;
  timestamp?: number;
}

/** Where a Pulsar admin API is, and the topic a pipeline reads. */
export interface PulsarAdminTarget extends HttpTarget {
  /** `host:port` of the web service, for messages. */
  address: string;
  /** `tenant/namespace/topic`. */
  topic: string;
  /** Name of the secret holding the token, when one is configured. */
  secretName?: string;
}

/**
 * The admin address of a Pulsar source spec: the URL's host and port for `pulsar+ws(s)://`; for the binary
 * `pulsar://` URL the same host on the web port (8080, or `?adminPort=`). Undefined for other backends.
 */
export function pulsarAdminOf(spec: SourceSpec): PulsarAdminTarget | undefined {
  if (spec.backend !== 'pulsar') return undefined;
  let url: URL;
  try {
    url = new URL(spec.url ?? 'pulsar+ws://127.0.0.1:8080');
  } catch {
    return undefined;
  }
  const web = url.protocol === 'pulsar+ws:' || url.protocol === 'pulsar+wss:';
  const adminPort = Number(spec.options?.adminPort);
  const port = Number.isInteger(adminPort) && adminPort > 0 ? adminPort : web && url.port ? Number(url.port) : DEFAULT_WEB_PORT;
  const hostname = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const topic = spec.topic.replace(/^persistent:\/\//, '');
  const secure = url.protocol === 'pulsar+wss:' || url.protocol === 'pulsar+ssl:' || (spec.tls !== undefined && spec.tls !== false);
  const target: PulsarAdminTarget = { secure, hostname, port, address: `${url.hostname}:${port}`, topic };
  if (typeof spec.tls === 'object' && spec.tls.rejectUnauthorized !== undefined) target.tls = { rejectUnauthorized: spec.tls.rejectUnauthorized };
  if (spec.auth?.secret) target.secretName = spec.auth.secret;
  return target;
}

/**
 * Pulsar's schema registry as a SchemaSource: a subject is a topic (`tenant/namespace/topic`), its versions
 * Pulsar's schema versions. Pulsar has no registry-wide ids: `{id}` is never known here.
 */
export class PulsarSchemaRegistry implements SchemaSource {
  readonly description: string;
  private readonly timeoutMs: number;
  private readonly cache = new Map<string, { at: number; value: ResolvedSchema | null }>();
  private readonly pending = new Map<string, Promise<unknown>>();
  private token: string | null | undefined;

  constructor(
    readonly target: PulsarAdminTarget,
    /** Looks a secret up by name (SourceContext.secret); set by the stage when it starts. */
    public secret?: (name: string) => Promise<string | undefined>,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    this.description = `Pulsar's schema registry at ${target.address}`;
    this.timeoutMs = timeoutMs;
  }

  /** The topic's schema (`{subject: 'tenant/ns/topic', version?}`): null when it has none, or of a kind nothing decodes. */
  resolve(ref: SchemaRef): ResolvedSchema | null | Promise<ResolvedSchema | null> {
    if (!('subject' in ref)) return null;
    const topic = ref.subject.replace(/^persistent:\/\//, '');
    if (topic.split('/').length !== 3) return null;
    const key = `${topic}@${ref.version ?? 'latest'}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && (ref.version !== undefined || Date.now() - hit.at < LATEST_TTL_MS)) return hit.value;
    return this.once(key, async () => {
      const info = await this.get<PulsarSchemaInfo>(`${schemaPath(topic)}/schema${ref.version !== undefined ? `/${ref.version}` : ''}`);
      const value = info === null ? null : this.toResolved(topic, info).resolved ?? null;
      this.cache.set(key, { at: Date.now(), value });
      if (value?.version !== undefined) this.cache.set(`${topic}@${value.version}`, { at: Date.now(), value });
      return value;
    });
  }

  /** Every version of the topic's schema, oldest first ([] when it has none). Rejects with a SchemaSourceError. */
  versions(topic = this.target.topic): Promise<PulsarSchemaVersion[]> {
    return this.once(`all:${topic}`, async () => {
      const answer = await this.get<{ getSchemaResponses?: PulsarSchemaInfo[] }>(`${schemaPath(topic)}/schemas`);
      const list = Array.isArray(answer?.getSchemaResponses) ? answer!.getSchemaResponses : [];
      return list
        .filter((s) => typeof s.version === 'number' && typeof s.type === 'string')
        .sort((a, b) => a.version - b.version)
        .map((s) => this.toResolved(topic, s));
    });
  }

  /** A version as a ResolvedSchema, or why it cannot be decoded here. */
  toResolved(topic: string, info: PulsarSchemaInfo): PulsarSchemaVersion {
    const out: PulsarSchemaVersion = { version: info.version, type: info.type.toUpperCase() };
    try {
      const schema = parsePulsarSchema(info);
      if (schema === null) out.problem = `a ${info.type} schema, which needs no decoding or is not supported`;
      else out.resolved = { schema, subject: topic, version: info.version, origin: this.description };
    } catch (err) {
      out.problem = err instanceof DecodeError ? err.why : String(err);
    }
    return out;
  }

  private once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.pending.get(key) as Promise<T> | undefined;
    if (p === undefined) {
      p = fn().finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  /** GETs an admin path: its JSON, null for a 404, a SchemaSourceError for anything else. */
  private async get<T>(path: string): Promise<T | null> {
    const headers: Record<string, string> = {};
    const token = await this.bearer();
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    let res: HttpAnswer;
    try {
      res = await httpGet(this.target, path, headers, this.timeoutMs, MAX_BODY);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new SchemaSourceError(`Cannot reach ${this.description} (${typeof code === 'string' ? code : failure('error', err)}). Is the broker's web service on this port?`);
    }
    if (res.status === 404) return null;
    if (res.status === 401 || res.status === 403) {
      const who = this.target.secretName ? `the token in secret "${this.target.secretName}"` : 'anonymous clients';
      throw new SchemaSourceError(`${this.description} refused ${who} (HTTP ${res.status}) when asked for the schema of ${this.target.topic}.`);
    }
    if (res.status !== 200) throw new SchemaSourceError(`${this.description} answered HTTP ${res.status} when asked for the schema of ${this.target.topic}.`);
    try {
      return JSON.parse(res.body) as T;
    } catch {
      throw new SchemaSourceError(`${this.description} answered with something that is not JSON. Is this the broker's web service port (usually 8080)?`);
    }
  }

  private async bearer(): Promise<string | null> {
    if (this.token !== undefined) return this.token;
    const name = this.target.secretName;
    if (!name) return (this.token = null);
    const value = this.secret ? await this.secret(name) : undefined;
    // An unset secret: the source says so; the registry asks anonymously.
    return (this.token = value ?? null);
  }
}

/** One version of a topic's schema: decodable (`resolved`) or not (`problem`). */
export interface PulsarSchemaVersion {
  version: number;
  type: string;
  resolved?: ResolvedSchema;
  problem?: string;
}

/**
 * A Pulsar SchemaInfo as a ParsedSchema: AVRO through avsc; JSON (whose definition Pulsar writes in Avro's
 * JSON form) as JSON with the Avro definition's fields; PROTOBUF_NATIVE from its descriptor set. Null for
 * kinds that need no decoding (STRING, BYTES, …) or that are not supported (KEY_VALUE, PROTOBUF). Throws a DecodeError.
 */
export function parsePulsarSchema(info: PulsarSchemaInfo): ParsedSchema | null {
  const type = info.type.toUpperCase();
  if (type === 'AVRO') return parseAvro(info.data);
  if (type === 'JSON') {
    const avro = parseAvro(info.data).decoder();
    const decoder = new PulsarJsonDecoder(avro.name, avro.fields);
    return { type: 'jsonschema', text: info.data, decoder: () => decoder };
  }
  if (type === 'PROTOBUF_NATIVE') return parseNativeProtobuf(info.data);
  return null;
}

/** PROTOBUF_NATIVE: `{fileDescriptorSet: base64, rootMessageTypeName, rootFileDescriptorName}`. */
function parseNativeProtobuf(data: string): ParsedSchema {
  let spec: { fileDescriptorSet?: unknown; rootMessageTypeName?: unknown };
  try {
    spec = JSON.parse(data) as typeof spec;
  } catch (err) {
    throw new DecodeError(failure('the PROTOBUF_NATIVE schema is not JSON', err));
  }
  if (typeof spec.fileDescriptorSet !== 'string' || typeof spec.rootMessageTypeName !== 'string') {
    throw new DecodeError('the PROTOBUF_NATIVE schema has no fileDescriptorSet or rootMessageTypeName');
  }
  let message: protobuf.Type;
  try {
    const root = (protobuf.Root as unknown as { fromDescriptor(d: Uint8Array): protobuf.Root }).fromDescriptor(Buffer.from(spec.fileDescriptorSet, 'base64'));
    root.resolveAll();
    message = root.lookupType(spec.rootMessageTypeName);
  } catch (err) {
    throw new DecodeError(failure('the PROTOBUF_NATIVE descriptor set does not parse', err));
  }
  const decoder = protobufDecoder(message);
  return { type: 'protobuf', text: data, decoder: () => decoder };
}

/** Pulsar JSON: the payload is JSON text; the Avro definition names the record and its fields. */
class PulsarJsonDecoder implements Decoder {
  readonly type = 'jsonschema' as const;

  constructor(
    readonly name: string,
    readonly fields: readonly SchemaField[],
  ) {}

  decode(bytes: Uint8Array, offset: number): Record<string, unknown> {
    let v: unknown;
    try {
      v = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + offset, bytes.length - offset).toString('utf8'));
    } catch (err) {
      throw new DecodeError(failure('not valid JSON', err));
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new DecodeError('a JSON value where an object is expected');
    return v as Record<string, unknown>;
  }
}

function schemaPath(topic: string): string {
  return `/admin/v2/schemas/${topic.split('/').map(encodeURIComponent).join('/')}`;
}

/** The schema sources a source spec brings: Pulsar's registry for a Pulsar topic, none otherwise. */
export function pulsarSchemaSources(spec: SourceSpec): SchemaSource[] {
  const admin = pulsarAdminOf(spec);
  return admin ? [new PulsarSchemaRegistry(admin)] : [];
}

/** The stage of a pipeline: Pulsar's when its settings carry Pulsar's registry (see pulsarSchemaSources), else `inner`. */
export function withPulsarSchemas(settings: DecodeSettings, ctx: SourceContext, inner: DecodeStage): DecodeStage {
  const registry = settings.sources?.find((s): s is PulsarSchemaRegistry => s instanceof PulsarSchemaRegistry);
  if (registry === undefined || settings.format === 'json') return inner;
  registry.secret ??= ctx.secret;
  return new PulsarDecodeStage(registry, ctx, inner);
}

/** A decodable version of the topic's schema, with its decoder. */
interface Writer {
  version: number;
  resolved: ResolvedSchema;
  decoder: Decoder;
}

/**
 * The decode stage of a Pulsar topic: its schema's versions decode its records; a topic without a schema
 * (or of a kind that needs no decoding) goes to `inner`, the general stage (JSON, detection, wire format).
 */
export class PulsarDecodeStage implements DecodeStage {
  /** Decodable versions, newest first; empty while the topic has no schema this stage decodes. */
  private writers: Writer[] = [];
  private kind: 'unknown' | 'avro' | 'protobuf' | 'json' | 'none' = 'unknown';
  private current: Writer | null = null;
  private readonly seen = new Set<number>();
  private loadedAt = 0;
  private _info: DecodeInfo | null = null;
  private lastProblem = '';

  constructor(
    private readonly registry: PulsarSchemaRegistry,
    private readonly ctx: SourceContext,
    private readonly inner: DecodeStage,
  ) {}

  get info(): DecodeInfo | null {
    return this.kind === 'none' || this.kind === 'unknown' ? this.inner.info : this._info;
  }

  decodeBatch(batch: SourceMessage[]): SourceMessage[] | Promise<SourceMessage[]> {
    const now = Date.now();
    if (this.kind === 'unknown' || (this.kind === 'none' && now - this.loadedAt >= RECHECK_EVERY_MS)) {
      return this.load(now).then(() => this.decodeBatch(batch));
    }
    if (this.kind === 'none') return this.inner.decodeBatch(batch);
    if (this.kind === 'json') return batch;
    return this.run(batch, 0, now);
  }

  flush(): SourceMessage[] {
    return this.kind === 'none' || this.kind === 'unknown' ? this.inner.flush() : [];
  }

  close(): void {
    this.inner.close();
  }

  private run(batch: SourceMessage[], start: number, now: number): SourceMessage[] | Promise<SourceMessage[]> {
    const avro = this.kind === 'avro';
    for (let i = start; i < batch.length; i++) {
      const m = batch[i];
      const v = m.value;
      if (v === null || m.oversize !== undefined) continue;
      const bytes = typeof v === 'string' ? Buffer.from(v) : v instanceof Uint8Array ? v : null;
      if (bytes === null) continue;
      let why = '';
      let found: Writer | null = null;
      // Avro: the previous record's version when it reads every byte (records two versions read alike, such as
      // a null in a changed union, stay with it), else the newest that does. Protobuf: the newest, which reads
      // older messages too.
      const current = avro ? this.current : null;
      if (current !== null) {
        try {
          m.decoded = current.decoder.decode(bytes, 0);
          found = current;
        } catch (err) {
          // Another version wrote it, or none did: say why the one the stream is at failed.
          why = err instanceof DecodeError ? err.why : String(err);
        }
      }
      const tries = avro ? this.writers.length : 1;
      for (let k = 0; found === null && k < tries; k++) {
        const w = this.writers[k];
        if (w === current) continue;
        try {
          m.decoded = w.decoder.decode(bytes, 0);
          found = w;
        } catch (err) {
          if (why === '') why = err instanceof DecodeError ? err.why : String(err);
        }
      }
      if (found === null) {
        if (avro && now - this.loadedAt >= REFRESH_EVERY_MS) {
          // A version added since the last look may read it.
          return this.load(now).then(() => this.run(batch, i, Date.now()));
        }
        const versions = this.writers.map((w) => w.version);
        const span = versions.length > 1 ? `any of its ${versions.length} schema versions (${Math.min(...versions)}–${Math.max(...versions)})` : `its schema version ${versions[0]}`;
        m.issue = { detector: 'parse', why: `does not decode with ${span} of ${this.registry.target.topic}: ${why}` };
        continue;
      }
      if (found !== this.current) this.switchWriter(m, found);
    }
    return batch;
  }

  /** A record of another version than the previous record's: a version not seen before is a `schema` issue saying what changed. */
  private switchWriter(m: SourceMessage, w: Writer): void {
    const prev = this.current;
    if (prev !== null && !this.seen.has(w.version)) {
      const changes = schemaChanges(prev.decoder.fields, w.decoder.fields);
      const topic = this.registry.target.topic;
      m.issue = { detector: 'schema', why: `new writer schema ${topic} v${w.version} after v${prev.version}: ${changes || 'the same fields'}` };
    }
    this.seen.add(w.version);
    this.current = w;
    this._info = this.infoOf(w);
  }

  private infoOf(w: Writer): DecodeInfo {
    const format = this.kind === 'json' ? 'json' : w.decoder.type;
    const info: DecodeInfo = { format, subject: this.registry.target.topic, version: w.version, origin: this.registry.description };
    if (w.decoder.name) info.record = w.decoder.name;
    return info;
  }

  /** Asks for the topic's schema versions; a failure leaves the topic to the general stage until the next look. */
  private async load(now: number): Promise<void> {
    this.loadedAt = now;
    const topic = this.registry.target.topic;
    let versions: PulsarSchemaVersion[];
    try {
      versions = await this.registry.versions();
    } catch (err) {
      if (!(err instanceof SchemaSourceError)) throw err;
      if (this.kind === 'unknown' || this.kind === 'none') this.kind = 'none';
      this.say(`${err.message} Records are read without the topic's schema; asking again in ${RECHECK_EVERY_MS / 1000} s.`);
      return;
    }
    const writers: Writer[] = [];
    for (let k = versions.length - 1; k >= 0; k--) {
      const v = versions[k];
      if (v.resolved === undefined) continue;
      try {
        writers.push({ version: v.version, resolved: v.resolved, decoder: v.resolved.schema.decoder() });
      } catch (err) {
        this.ctx.log.warn(`${topic} schema version ${v.version}: ${err instanceof DecodeError ? err.why : String(err)}`);
      }
    }
    const latest = versions[versions.length - 1];
    if (writers.length === 0 || (latest !== undefined && latest.resolved === undefined)) {
      // No schema, or the newest is one that needs no decoding (BYTES, STRING): the general stage judges.
      this.kind = 'none';
      if (latest?.problem && latest.type !== 'BYTES' && latest.type !== 'STRING') this.say(`${topic} has ${latest.problem}; its records are read without it.`);
      return;
    }
    const type = writers[0].resolved.schema.type;
    const kind = type === 'avro' ? 'avro' : type === 'protobuf' ? 'protobuf' : 'json';
    if (this.kind !== kind) this.ctx.log.info(`${topic}: decoding with its ${kind === 'json' ? 'JSON' : kind === 'avro' ? 'Avro' : 'Protobuf'} schema from ${this.registry.description} (version${writers.length > 1 ? 's' : ''} ${writers.map((w) => w.version).reverse().join(', ')})`);
    this.kind = kind;
    // Keep the current writer's identity across a reload: the same version is not a new writer.
    const same = this.current ? writers.find((w) => w.version === this.current!.version) : undefined;
    if (same) this.current = same;
    this.writers = writers;
    if (kind === 'json' || this.current === null) this._info = this.infoOf(same ?? writers[0]);
  }

  private say(message: string): void {
    if (message === this.lastProblem) return;
    this.lastProblem = message;
    this.ctx.log.warn(message);
  }
}
