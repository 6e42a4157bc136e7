/**
 * The decode stage's contract: formats, schemas, where schemas come from, and the stage itself.
 *
 * The stage sits between a source and the engine (server/engine/pipeline.ts). Plain JSON passes through
 * untouched (the engine scans it in place); Avro, Protobuf and JSON Schema records become plain objects on
 * `SourceMessage.decoded`, and a record that cannot be decoded carries a `SourceMessage.issue` the engine
 * counts (`parse` or `schema`), never an exception. Avro records of flat fields are marked instead
 * (`SourceMessage.scan`): the engine scans their bytes in place as it does JSON's, and decodes only those
 * whose values it needs.
 */
import type { SourceContext, SourceMessage } from '../sources/types';
import type { Members } from './json';

/** What a pipeline's payloads are: `auto` (the default) takes JSON as JSON and recognises everything else. */
export type Format = 'json' | 'avro' | 'protobuf' | 'jsonschema' | 'auto';
export const FORMATS: readonly Format[] = ['json', 'avro', 'protobuf', 'jsonschema', 'auto'];

/** The kinds of schema a registry or a schema file holds. */
export type SchemaType = 'avro' | 'protobuf' | 'jsonschema';

/** One top-level field of a record type, for schema-aware drift and hover. */
export interface SchemaField {
  name: string;
  /** The type as the schema writes it, compact: `long`, `null|string`, `repeated int32`, `Address`. */
  type: string;
}

/** Decodes one record type (an Avro schema, a Protobuf message, a JSON Schema) into plain objects. */
export interface Decoder {
  readonly type: SchemaType;
  /** The record type's full name (`shop.Order`), or the schema's title; '' when it has none. */
  readonly name: string;
  /** Its top-level fields in declaration order. */
  readonly fields: readonly SchemaField[];
  /**
   * The record whose encoding starts at `bytes[offset]` and runs to the end of `bytes`, as a plain object
   * (see server/decode/values.ts for how values map). Throws a DecodeError saying why when it does not decode.
   */
  decode(bytes: Uint8Array, offset: number): Record<string, unknown>;
  /**
   * Avro records of flat fields only (server/decode/avro.ts): reads the record's top-level members into `m`
   * as the engine would read them from decode()'s object, without building it. True only when decode()
   * would give exactly those members; false when it cannot say (then decode() decides).
   */
  scanInto?(bytes: Uint8Array, offset: number, m: Members): boolean;
}

/**
 * A record the decode stage leaves to the engine to scan in place (SourceMessage.scan): one per writer
 * schema, shared by all its records (a reference per message, nothing allocated per record).
 */
export interface RecordScan {
  /** The record's top-level members into `m` (Decoder.scanInto); false: decode it. */
  scanInto(bytes: Uint8Array, m: Members): boolean;
  /** The record as an object; throws a DecodeError whose why is what the stage's own `parse` issue would say. */
  decode(bytes: Uint8Array): Record<string, unknown>;
  /**
   * Set by the engine when it reads every record's values anyway (rules, a label field): the stage then
   * decodes the writer's records itself again, a batch at a time, which measured about 20 % faster than
   * the engine decoding them one by one between its own work.
   */
  declined: boolean;
}

/** A parsed schema: an Avro schema, a .proto file's messages, or a JSON Schema. */
export interface ParsedSchema {
  readonly type: SchemaType;
  /** The schema as written (shown on hover). */
  readonly text: string;
  /**
   * The decoder of one record type. Avro and JSON Schema have one; Protobuf picks a message by Confluent
   * message indexes (`[0]`, the first message of the file, by default) or by full name.
   * Throws a DecodeError when there is no such message.
   */
  decoder(select?: { indexes?: readonly number[]; name?: string }): Decoder;
}

/** A schema found by id or by subject, with what identifies it. */
export interface ResolvedSchema {
  schema: ParsedSchema;
  /** The registry's schema id, when it has one (files do not). */
  id?: number;
  subject?: string;
  version?: number;
  /** Every subject and version the registry files this schema under (one schema can serve several topics). */
  subjects?: Array<{ subject: string; version: number }>;
  /** Where it came from, for messages: a registry URL (no credentials), a file path, `pulsar <topic>`. */
  origin: string;
}

/** How a schema is asked for: by registry id, or by subject (a file name or record name for files), latest or a version. */
export type SchemaRef = { id: number } | { subject: string; version?: number };

/**
 * Where schemas come from: a Confluent-compatible registry (server/decode/registry.ts), schema files
 * (server/decode/files.ts), Pulsar's schema registry.
 *
 * `resolve` answers synchronously when it can (cached, or files), and with a Promise only when it must
 * fetch: the stage stays synchronous on the hot path. `null` means the source does not know the schema
 * (a 404). A source that cannot be reached throws (or rejects with) a SchemaSourceError.
 */
export interface SchemaSource {
  /** For messages, without credentials: `registry http://127.0.0.1:8080/apis/ccompat/v7`, `schema files in ./schemas`. */
  readonly description: string;
  resolve(ref: SchemaRef): ResolvedSchema | null | Promise<ResolvedSchema | null>;
  /** Every schema it holds, when it can list them without fetching (files): for matching wire-format ids offline. */
  list?(): readonly ResolvedSchema[];
  close?(): void;
}

/** A record that does not decode: `why` is shown with the sample ("bytes 12..14 are not a valid long"). */
export class DecodeError extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = 'DecodeError';
  }
}

/** A schema source that cannot be reached or answers wrongly (not a 404): the message says what to do. */
export class SchemaSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaSourceError';
  }
}

/** A Confluent-compatible schema registry: `registry: {url, auth}` on a connection, or `?registry=<url>`. */
export interface RegistrySettings {
  /** Base URL of the Confluent-compatible API (`http://host:8081`, `http://host:8080/apis/ccompat/v7`); never with credentials. */
  url: string;
  /** Basic auth: a user name and the NAME of a secret holding the password (SourceContext.secret). */
  auth?: { username?: string; secret?: string };
  /** Milliseconds one request may take (5000). */
  timeoutMs?: number;
}

/** What the decode stage is told, from a pipeline's `format`, its connection's `registry` and the file's `schemas`. */
export interface DecodeSettings {
  format: Format;
  registry?: RegistrySettings;
  /** Schema folders or files (`.avsc`, `.proto`, `*.schema.json`): an offline registry. */
  schemas?: string[];
  /**
   * Payloads carry no wire-format header: every record is decoded with this schema (Redis
   * `?format=avro&schema=<file>`: a file path or a subject/record name; Pulsar: the topic's schema).
   */
  schema?: SchemaRef | string;
  /** Further schema sources given in code (Pulsar's schema registry); asked after the registry and the files. */
  sources?: SchemaSource[];
  /**
   * The topic, to pick the subject shown for a schema the registry files under several subjects
   * (`<topic>-value` first, as Confluent's TopicNameStrategy names it).
   */
  topic?: string;
  /**
   * false: every record is decoded to an object, never left to the engine to scan (tests compare the two
   * paths with it). Default true.
   */
  scan?: boolean;
}

/**
 * What a pipeline decodes now, carried on its status and metrics events (the tree shows it):
 * the format, and for schema'd records the writer schema of the latest record.
 */
export interface DecodeInfo {
  /** `unknown`: nothing decoded yet, records held (see `held` and the pipeline's status). */
  format: 'json' | 'avro' | 'protobuf' | 'jsonschema' | 'unknown';
  subject?: string;
  version?: number;
  schemaId?: number;
  /** Record type name (`shop.Order`). */
  record?: string;
  /** Where the schema came from (registry URL without credentials, file path). */
  origin?: string;
  /**
   * Records held out of the engine so far: of a format no decoder is configured for (see the status
   * message), or undecodable while the registry could not be reached.
   */
  held?: number;
}

/** The decode stage of one pipeline (server/decode/index.ts). */
export interface DecodeStage {
  /**
   * The batch as the engine takes it: records decoded (`decoded`), left to scan (`scan`) or marked (`issue`); records held out
   * (see DecodeInfo.held) are left out. Synchronous unless a schema must be fetched first.
   */
  decodeBatch(batch: SourceMessage[]): SourceMessage[] | Promise<SourceMessage[]>;
  /** At the end of a finite source: records still held for detection, as the engine should see them. */
  flush(): SourceMessage[];
  /** The current DecodeInfo; null while nothing but plain JSON was seen. */
  readonly info: DecodeInfo | null;
  close(): void;
}

export type CreateDecodeStage = (settings: DecodeSettings, ctx: SourceContext) => DecodeStage;
