/**
 * The decode stage of a pipeline: between the source's batches and the engine. Plain JSON passes through
 * untouched (the engine scans it in place, server/decode/json.ts); Confluent wire-format records are decoded
 * through the registry, schema files or other schema sources; bare Avro/Protobuf/JSON Schema records with
 * the pipeline's `schema`. Per batch it is synchronous unless a schema must be fetched.
 *
 * How records that cannot be judged count (README, "Formats"):
 * - bytes that do not decode with their schema: a `parse` issue saying why;
 * - a schema id no source knows: a `schema` issue ("schema id 42 is not in the registry at …");
 * - a new writer schema: its first record is a `schema` issue listing what changed;
 * - records of a format nothing is configured for (Avro without a registry, text, binary): held out of the
 *   engine (no parse storm), counted in DecodeInfo.held, and the pipeline is `waiting` with a status that
 *   says what they look like and what to set;
 * - records whose schema cannot be fetched (registry down): held out and counted likewise, the pipeline
 *   `reconnecting`, the registry asked again with backoff.
 */
import type { SourceContext, SourceMessage, SourceSpec } from '../sources/types';
import { RegistryClient } from './registry';
import { SchemaFiles, parseSchemaFile } from './files';
import { adviceFor, isAvroContainer, kindOf, looksLikeJson, type PayloadKind } from './detect';
import { schemaChanges } from './drift';
import { readMessageIndexes, schemaIdOf, WIRE_HEADER } from './wire';
import { pulsarSchemaSources, withPulsarSchemas } from './pulsar';
import fs from 'node:fs';
import type { Members } from './json';
import {
  DecodeError,
  SchemaSourceError,
  type DecodeInfo,
  type DecodeSettings,
  type DecodeStage,
  type Decoder,
  type RecordScan,
  type ResolvedSchema,
  type SchemaRef,
  type SchemaSource,
} from './types';

export * from './types';
export { RegistryClient, registryUrlProblem } from './registry';
export { SchemaFiles, isSchemaFile, parseSchemaFile } from './files';
export { wireMessage } from './wire';

/** Records of an undetermined stream that do not look like JSON, held before the stream is declared not JSON. */
const DETECT_AFTER = 20;
/** A schema id the registry did not know is asked for again after this long (it may have been registered since). */
const UNKNOWN_RETRY_MS = 30_000;
/** Registry backoff after a failure: doubles from the first delay up to the last. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 30_000;
/** A status whose only change is its held count is repeated at most this often. */
const STATUS_EVERY_MS = 5000;

const KEEP = 0;
const DROP = 1;
/** Keep the record, after the records held while the stream was undetermined (they turned out to be JSON's neighbours). */
const RELEASE = 2;

/** A writer schema seen in the stream: its resolved schema and its decoders (Protobuf: one per message indexes). */
class Writer {
  /** The decoder of Avro/JSON Schema, and of Protobuf's first message. */
  readonly main: Decoder;
  private readonly byIndexes = new Map<string, Decoder>();

  constructor(readonly resolved: ResolvedSchema, readonly key: string) {
    this.main = resolved.schema.decoder();
  }

  /** The Protobuf message at `indexes`; throws a DecodeError when the schema has none there. */
  message(indexes: number[]): Decoder {
    if (indexes.length === 1 && indexes[0] === 0) return this.main;
    const k = indexes.join('.');
    let d = this.byIndexes.get(k);
    if (d === undefined) {
      d = this.resolved.schema.decoder({ indexes });
      this.byIndexes.set(k, d);
    }
    return d;
  }

  private scanMark: ScanMark | null = null;

  /**
   * Its main decoder's records at `offset`, for the engine to scan (the main decoder must have scanInto).
   * A writer's records start at one offset, under one wire-format schema id (undefined for bare records).
   */
  scan(offset: number, id: number | undefined): RecordScan {
    let s = this.scanMark;
    if (s === null || s.offset !== offset) s = this.scanMark = new ScanMark(this.main, offset, id);
    return s;
  }

  /** `orders-value v2 (id 9)`, `orders.avsc`. */
  get label(): string {
    const r = this.resolved;
    const parts: string[] = [];
    if (r.subject !== undefined) parts.push(r.version !== undefined ? `${r.subject} v${r.version}` : r.subject);
    if (r.id !== undefined) parts.push(parts.length ? `(id ${r.id})` : `schema id ${r.id}`);
    return parts.join(' ') || r.origin;
  }
}

/** A writer's records left to the engine to scan (SourceMessage.scan): its decoder, where records start, what a failure adds. */
class ScanMark implements RecordScan {
  declined = false;

  constructor(
    private readonly decoder: Decoder,
    readonly offset: number,
    private readonly id: number | undefined,
  ) {}

  scanInto(bytes: Uint8Array, m: Members): boolean {
    return this.decoder.scanInto!(bytes, this.offset, m);
  }

  decode(bytes: Uint8Array): Record<string, unknown> {
    try {
      return this.decoder.decode(bytes, this.offset);
    } catch (err) {
      throw new DecodeError((err instanceof DecodeError ? err.why : String(err)) + whereOf(this.id));
    }
  }
}

/** What a `parse` issue adds about where the record's schema came from; built only for a failing record. */
function whereOf(id: number | undefined): string {
  return id === undefined ? '' : ` (schema id ${id})`;
}

export function createDecodeStage(settings: DecodeSettings, ctx: SourceContext): DecodeStage {
  // A Pulsar topic with a schema in Pulsar's registry is decoded with it (server/decode/pulsar.ts).
  return withPulsarSchemas(settings, ctx, new DecodingStage(settings, ctx));
}

class DecodingStage implements DecodeStage {
  private readonly format: DecodeSettings['format'];
  private readonly registry: RegistryClient | null = null;
  private readonly files: SchemaFiles | null = null;
  private readonly extra: SchemaSource[];
  /** Writers by schema id; null: no source knows the id (until unknownUntil). */
  private readonly byId = new Map<number, Writer | null>();
  private readonly unknownUntil = new Map<number, number>();
  /** The schema of bare (headerless) records: undefined until resolved, null when it cannot be. */
  private bare: Writer | null | undefined;
  private bareProblem = '';
  /** The writer of the latest decoded record, and the writers seen so far (by key). */
  private current: Writer | null = null;
  private currentDecoder: Decoder | null = null;
  private readonly seen = new Set<string>();
  /** auto: whether the stream showed JSON yet, or was declared to be something else. */
  private mode: 'undetermined' | 'json' | 'foreign' = 'undetermined';
  private queue: SourceMessage[] = [];
  private held = 0;
  private kind: PayloadKind | 'undecodable' | null = null;
  private retryAt = 0;
  private retryDelay = RETRY_FIRST_MS;
  private registryTrouble: string | null = null;
  private statusKey = '';
  private statusAt = 0;
  private now = Date.now();
  private _info: DecodeInfo | null = null;
  private readonly maxBytes: number;
  /** Whether records the engine can scan in place are left to it (DecodeSettings.scan). */
  private readonly scan: boolean;

  constructor(
    private readonly settings: DecodeSettings,
    private readonly ctx: SourceContext,
  ) {
    this.format = settings.format;
    this.scan = settings.scan !== false;
    this.maxBytes = ctx.maxMessageBytes ?? Infinity;
    this.extra = settings.sources ?? [];
    if (settings.registry) this.registry = new RegistryClient(settings.registry, ctx.secret);
    if (settings.schemas && settings.schemas.length > 0) {
      this.files = new SchemaFiles(settings.schemas);
      for (const f of this.files.problems) ctx.log.warn(`schema file ${f.path}: ${f.problem}`);
    }
  }

  get info(): DecodeInfo | null {
    if (this._info === null) return this.held > 0 ? { format: 'unknown', held: this.held } : null;
    return this.held > 0 ? { ...this._info, held: this.held } : this._info;
  }

  decodeBatch(batch: SourceMessage[]): SourceMessage[] | Promise<SourceMessage[]> {
    if (this.format === 'json') return batch;
    // The JSON hot path: a stream that has shown JSON, with no schema source to decode anything else, is
    // looked at once a batch (its first record): a switch to another format is still noticed, within a batch.
    if (this.mode === 'json' && this.sourceless && this.format === 'auto' && batch.length > 0) {
      const v = batch[0].value;
      if (!(v instanceof Uint8Array) || (v[0] !== 0 && !isAvroContainer(v))) return batch;
    }
    this.now = Date.now();
    return this.run(batch, 0, null);
  }

  /** No registry, schema files or other schema source: nothing but JSON can be decoded. */
  private get sourceless(): boolean {
    return this.registry === null && this.files === null && this.extra.length === 0;
  }

  flush(): SourceMessage[] {
    if (this.queue.length === 0) return [];
    // A finite source that ended before it showed any JSON: say what it was, count nothing against it.
    const first = this.queue[0].value as Uint8Array | string;
    this.held += this.queue.length;
    this.queue = [];
    this.declare(kindOf(first), first);
    return [];
  }

  close(): void {
    for (const s of this.extra) s.close?.();
  }

  /** Decodes batch[start..]; `out` is the output so far, null while it is batch[0..start) unchanged. */
  private run(batch: SourceMessage[], start: number, out: SourceMessage[] | null): SourceMessage[] | Promise<SourceMessage[]> {
    const auto = this.format === 'auto';
    for (let i = start; i < batch.length; i++) {
      const m = batch[i];
      const v = m.value;
      let verdict = KEEP;
      if (v instanceof Uint8Array && (v.length > this.maxBytes || m.oversize !== undefined)) {
        // Over maxMessageBytes: not decoded; the engine counts it as too large, whatever its format.
      } else if (v instanceof Uint8Array) {
        // With a schema for bare records (Redis `?schema=`), a leading 0 is the record's own first byte (an id 0, a
        // null branch, an empty string), not a wire-format header.
        if (v.length >= WIRE_HEADER && v[0] === 0 && (auto || this.settings.schema === undefined)) {
          const r = this.wire(m, v, batch, i, out);
          if (typeof r !== 'number') return r;
          verdict = r;
        } else if (auto) {
          if (this.mode !== 'json') verdict = this.undetermined(m, v);
        } else {
          const r = this.bareRecord(m, v, batch, i, out);
          if (typeof r !== 'number') return r;
          verdict = r;
        }
      } else if (typeof v === 'string' && auto && this.mode !== 'json') {
        verdict = this.undetermined(m, v);
      }
      if (verdict === KEEP) {
        if (out !== null) out.push(m);
      } else {
        if (out === null) out = batch.slice(0, i);
        if (verdict === RELEASE) {
          for (const q of this.queue) out.push(q);
          this.queue = [];
          out.push(m);
        }
      }
    }
    this.report();
    return out ?? batch;
  }

  /** A non-wire record while the stream has not shown JSON yet (auto). */
  private undetermined(m: SourceMessage, v: Uint8Array | string): number {
    if (typeof v !== 'string' && isAvroContainer(v)) return this.hold('container', v);
    if (looksLikeJson(v)) {
      if (this.mode === 'foreign') this.ctx.status('running', 'records are JSON now');
      this.mode = 'json';
      return this.queue.length > 0 ? RELEASE : KEEP;
    }
    if (this.mode === 'foreign') return this.hold(kindOf(v), v);
    this.queue.push(m);
    if (this.queue.length >= DETECT_AFTER) {
      this.held += this.queue.length;
      this.queue = [];
      this.declare(kindOf(v), v);
    }
    return DROP;
  }

  /** Holds a record of a format nothing decodes, and says so. */
  private hold(kind: PayloadKind, v: Uint8Array | string): number {
    this.held++;
    this.declare(kind, v);
    return DROP;
  }

  private declare(kind: PayloadKind, v: Uint8Array | string): void {
    if (this.mode !== 'json') this.mode = 'foreign';
    if (this.kind !== kind) {
      this.kind = kind;
      this.statusKey = '';
      this.advice = adviceFor(kind, v, this.registry !== null || this.files !== null, this.format);
    }
    this.report();
  }

  private advice = '';

  /** The pipeline's status while records are held: what they are, what to set, how many so far (throttled). */
  private report(): void {
    if (this.kind === null || this.held === 0) return;
    const key = `${this.kind}:${this.registryTrouble ?? ''}`;
    if (key === this.statusKey && this.now - this.statusAt < STATUS_EVERY_MS) return;
    this.statusKey = key;
    this.statusAt = this.now;
    const count = `${this.held} record${this.held === 1 ? '' : 's'} held out of the score so far.`;
    if (this.kind === 'undecodable') this.ctx.status('reconnecting', `${this.registryTrouble ?? 'The schema source cannot be reached.'} ${count}`);
    else this.ctx.status('waiting', `${this.advice} ${count}`);
  }

  /** A Confluent wire-format record. */
  private wire(m: SourceMessage, v: Uint8Array, batch: SourceMessage[], i: number, out: SourceMessage[] | null): number | Promise<SourceMessage[]> {
    if (this.registry === null && this.files === null && this.extra.length === 0) return this.hold('wire', v);
    const id = schemaIdOf(v);
    let w = this.byId.get(id);
    if (w === null && this.now >= (this.unknownUntil.get(id) ?? 0)) {
      this.byId.delete(id);
      w = undefined;
    }
    if (w === undefined) {
      if (this.registry !== null && this.now < this.retryAt) return this.undecodable();
      const r = this.lookup(id, v);
      if (r instanceof Promise) return this.fetchThen(batch, i, out, r);
      w = r;
    }
    if (w === null) {
      m.issue = { detector: 'schema', why: `schema id ${id} is not in ${this.describeSources()}` };
      return KEEP;
    }
    let decoder = w.main;
    let offset = WIRE_HEADER;
    if (w.resolved.schema.type === 'protobuf') {
      const idx = readMessageIndexes(v);
      if (idx === null) {
        m.issue = { detector: 'parse', why: `the Protobuf message indexes after schema id ${id} do not parse` };
        return KEEP;
      }
      try {
        decoder = w.message(idx.indexes);
      } catch (err) {
        m.issue = { detector: 'parse', why: err instanceof DecodeError ? err.why : String(err) };
        return KEEP;
      }
      offset = idx.offset;
    }
    return this.decodeWith(m, v, offset, w, decoder, id);
  }

  /** A record without wire-format header under an explicit format: decoded with the pipeline's `schema`. */
  private bareRecord(m: SourceMessage, v: Uint8Array, batch: SourceMessage[], i: number, out: SourceMessage[] | null): number | Promise<SourceMessage[]> {
    if (this.bare === undefined) {
      const r = this.resolveBare();
      if (r instanceof Promise) return r.then(() => this.run(batch, i, out));
    }
    const w = this.bare;
    if (w === null || w === undefined) {
      if (this.format === 'jsonschema' && looksLikeJson(v)) return KEEP;
      if (this.settings.schema === undefined) return this.hold('bare', v);
      m.issue = { detector: 'parse', why: this.bareProblem };
      return KEEP;
    }
    return this.decodeWith(m, v, 0, w, w.main, undefined);
  }

  /** `id`: the record's wire-format schema id (undefined for a bare record), named in its `parse` issue. */
  private decodeWith(m: SourceMessage, v: Uint8Array, offset: number, w: Writer, decoder: Decoder, id: number | undefined): number {
    // A record the engine can scan in place, of the writer of the record before: marked, not decoded (the
    // engine decodes it when it needs values, or when the scan says no; a bad record is then its `parse`
    // issue with the same why), unless the engine declined the scan (it reads every record's values).
    // A new writer's first record is decoded here: whether it decodes decides the switch.
    if (this.scan && decoder === w.main && decoder.scanInto !== undefined && w === this.current && decoder === this.currentDecoder) {
      const mark = w.scan(offset, id);
      if (!mark.declined) {
        m.scan = mark;
        return KEEP;
      }
    }
    try {
      m.decoded = decoder.decode(v, offset);
    } catch (err) {
      m.issue = { detector: 'parse', why: (err instanceof DecodeError ? err.why : String(err)) + whereOf(id) };
      return KEEP;
    }
    if (w !== this.current || decoder !== this.currentDecoder) this.switchWriter(m, w, decoder);
    return KEEP;
  }

  /** A record of another writer than the previous record's: a writer never seen before is a `schema` issue saying what changed. */
  private switchWriter(m: SourceMessage, w: Writer, decoder: Decoder): void {
    const prev = this.currentDecoder;
    const key = `${w.key}#${decoder.name}`;
    if (prev !== null && !this.seen.has(key)) {
      const changes = schemaChanges(prev.fields, decoder.fields);
      m.issue = { detector: 'schema', why: `new writer schema ${w.label} after ${this.current!.label}: ${changes || 'the same fields'}` };
    }
    this.seen.add(key);
    this.current = w;
    this.currentDecoder = decoder;
    const r = w.resolved;
    const info: DecodeInfo = { format: r.schema.type, origin: r.origin };
    if (decoder.name) info.record = decoder.name;
    if (r.subject !== undefined) info.subject = r.subject;
    if (r.version !== undefined) info.version = r.version;
    if (r.id !== undefined) info.schemaId = r.id;
    this._info = info;
  }

  /** A record whose schema cannot be fetched now (registry down): held and counted. */
  private undecodable(): number {
    this.held++;
    this.kind = 'undecodable';
    return DROP;
  }

  /** The writer of schema id `id` from the sources: synchronous when cached or offline, a Promise when fetched. */
  private lookup(id: number, v: Uint8Array): Writer | null | Promise<void> {
    const sources: SchemaSource[] = [...(this.registry ? [this.registry] : []), ...this.extra];
    for (let k = 0; k < sources.length; k++) {
      const r = sources[k].resolve({ id });
      if (r instanceof Promise) return this.settle(id, r, sources.slice(k + 1), v);
      if (r !== null) return this.remember(id, r);
    }
    return this.remember(id, this.matchFile(id, v));
  }

  /** Waits for a fetch; on failure, backs off and says so (the records wait as undecodable). */
  private async settle(id: number, p: Promise<ResolvedSchema | null>, rest: SchemaSource[], v: Uint8Array): Promise<void> {
    try {
      let r = await p;
      for (const s of rest) {
        if (r !== null) break;
        r = await s.resolve({ id });
      }
      this.now = Date.now();
      if (this.registryTrouble !== null) {
        this.registryTrouble = null;
        this.kind = null;
        this.ctx.status('running', `${this.registry?.description ?? 'the schema source'} answers again`);
      }
      this.retryDelay = RETRY_FIRST_MS;
      this.remember(id, r ?? this.matchFile(id, v));
    } catch (err) {
      this.now = Date.now();
      if (!(err instanceof SchemaSourceError)) throw err;
      this.retryAt = this.now + this.retryDelay;
      this.registryTrouble = `${err.message} Retrying in ${Math.round(this.retryDelay / 1000)} s.`;
      this.retryDelay = Math.min(this.retryDelay * 2, RETRY_MAX_MS);
      this.kind = 'undecodable';
      this.statusKey = '';
      this.ctx.log.warn(this.registryTrouble);
    }
  }

  private fetchThen(batch: SourceMessage[], i: number, out: SourceMessage[] | null, p: Promise<void>): Promise<SourceMessage[]> {
    return p.then(() => this.run(batch, i, out));
  }

  private remember(id: number, r: ResolvedSchema | null): Writer | null {
    if (r === null) {
      this.byId.set(id, null);
      this.unknownUntil.set(id, this.now + UNKNOWN_RETRY_MS);
      return null;
    }
    let w: Writer;
    try {
      w = new Writer(this.forTopic(r.id === undefined ? { ...r, id } : r), `id:${id}`);
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      this.ctx.log.warn(`schema id ${id} from ${r.origin}: ${err.why}`);
      return this.remember(id, null);
    }
    this.byId.set(id, w);
    return w;
  }

  /** A schema filed under several subjects shows the topic's own (`<topic>-value`, else one naming the topic). */
  private forTopic(r: ResolvedSchema): ResolvedSchema {
    const topic = this.settings.topic;
    if (!topic || !r.subjects || r.subjects.length < 2) return r;
    const own = r.subjects.find((s) => s.subject === `${topic}-value`) ?? r.subjects.find((s) => s.subject.includes(topic));
    return own ? { ...r, subject: own.subject, version: own.version } : r;
  }

  /**
   * Offline (schema files, no registry): the file whose schema decodes the record exactly. Avro first (a
   * wrong Avro schema rarely consumes every byte), then JSON Schema, then Protobuf (best effort: Protobuf
   * decodes many byte strings).
   */
  private matchFile(id: number, v: Uint8Array): ResolvedSchema | null {
    const list = this.files?.list() ?? [];
    for (const type of ['avro', 'jsonschema', 'protobuf'] as const) {
      for (const r of list) {
        if (r.schema.type !== type) continue;
        try {
          if (type === 'protobuf') {
            const idx = readMessageIndexes(v);
            if (idx === null) continue;
            r.schema.decoder({ indexes: idx.indexes }).decode(v, idx.offset);
          } else {
            r.schema.decoder().decode(v, WIRE_HEADER);
          }
          this.ctx.log.info(`schema id ${id}: decoded with ${r.origin}`);
          return { ...r, id };
        } catch {
          // Not this one.
        }
      }
    }
    return null;
  }

  /** Resolves the pipeline's `schema` for bare records (a file path, or a name the sources know). */
  private resolveBare(): void | Promise<void> {
    const s = this.settings.schema;
    if (s === undefined) {
      this.bare = null;
      return;
    }
    if (typeof s === 'string' && /\.(avsc|proto|json)$/.test(s) && fs.existsSync(s)) {
      try {
        this.bare = new Writer({ schema: parseSchemaFile(s, fs.readFileSync(s, 'utf8')), subject: s, origin: s }, `file:${s}`);
      } catch (err) {
        this.bare = null;
        this.bareProblem = `the schema ${s} does not parse: ${err instanceof DecodeError ? err.why : String(err)}`;
        this.ctx.log.warn(this.bareProblem);
      }
      return;
    }
    const ref: SchemaRef = typeof s === 'string' ? { subject: s } : s;
    const sources: SchemaSource[] = [...(this.files ? [this.files] : []), ...this.extra, ...(this.registry ? [this.registry] : [])];
    const next = (k: number): void | Promise<void> => {
      for (; k < sources.length; k++) {
        const r = sources[k].resolve(ref);
        if (r instanceof Promise) {
          const at = k;
          return r.then(
            (x) => (x !== null ? this.setBare(x) : next(at + 1)),
            (err: unknown) => {
              this.bare = null;
              this.bareProblem = err instanceof Error ? err.message : String(err);
              this.ctx.log.warn(this.bareProblem);
            },
          );
        }
        if (r !== null) return this.setBare(r);
      }
      this.bare = null;
      this.bareProblem = `the schema "${'subject' in ref ? ref.subject : ref.id}" is not in ${this.describeSources()}`;
      this.ctx.log.warn(this.bareProblem);
    };
    return next(0);
  }

  private setBare(r: ResolvedSchema): void {
    this.bare = new Writer(r, `bare:${r.origin}:${r.subject ?? ''}`);
  }

  private describeSources(): string {
    const d = [this.registry?.description, this.files?.description, ...this.extra.map((s) => s.description)].filter((x): x is string => !!x);
    return d.length ? d.join(' or ') : 'any schema source (none is configured)';
  }
}

/** The decode settings of a source spec (URL parameters, clean.yaml), with the pipeline's `format` as the fallback. */
export function decodeSettingsOf(spec: SourceSpec, format?: DecodeSettings['format']): DecodeSettings {
  const d = spec.decode;
  const settings: DecodeSettings = { format: d?.format ?? format ?? 'auto' };
  if (spec.topic) settings.topic = spec.topic;
  if (d?.registry) settings.registry = d.registry;
  if (d?.schemas) settings.schemas = d.schemas;
  if (d?.schema !== undefined) settings.schema = d.schema;
  const pulsar = pulsarSchemaSources(spec);
  if (pulsar.length > 0) settings.sources = pulsar;
  return settings;
}
