/**
 * The contract between a stream backend and the quality engine.
 *
 * A source yields batches of raw messages; the engine decodes them. Sources never parse payloads
 * themselves (a malformed payload is a quality issue, counted by the engine, never a source error).
 */

import type { RecordScan } from '../decode/types';

/** One raw message as it came off the wire. */
export interface SourceMessage {
  /** The payload: bytes as received, or text/an object for in-memory sources. `null` is a tombstone. */
  value: Buffer | string | object | null;
  /**
   * Where the message sits in its source, shown with samples and alerts:
   * a file line (17), a Kafka partition and offset ("2@1534"), a Redis stream id, a Pulsar message id.
   */
  position?: string | number;
  /** Kafka message key, Pulsar key, when the backend has one. */
  key?: string | null;
  /** Kafka headers, Pulsar properties, as text. */
  headers?: Record<string, string>;
  /** Broker timestamp in epoch milliseconds, when known. */
  timestamp?: number;
  /**
   * Set when the payload was over maxMessageBytes and the source did not keep it (a file line that ran on):
   * the bytes it had when the source let it go. `value` then holds only its first bytes; the engine counts
   * the message as too large.
   */
  oversize?: number;
  /**
   * A copy holding no view of a larger shared buffer, for a sample kept after the batch is gone. Sources
   * whose messages hold such views beyond `value` provide it; without it a large view in `value` is copied.
   */
  retain?(): SourceMessage;
  /**
   * Set by the decode stage (server/decode), never by a source: the record decoded from Avro, Protobuf or
   * JSON Schema as a plain object; the engine reads its top-level members instead of parsing `value`.
   */
  decoded?: Record<string, unknown>;
  /**
   * Set by the decode stage: why the record counts as an issue of `detector` (`parse`: its bytes do not
   * decode; `schema`: its writer schema is unknown, or new with the changes listed in `why`).
   */
  issue?: { detector: 'parse' | 'schema'; why: string };
  /**
   * Set by the decode stage instead of `decoded` for a record the engine can scan in place (Avro of flat
   * fields, server/decode/avro.ts): the engine reads its members from `value` without building an object,
   * and decodes it through here only when a rule, a label or a sample needs its values.
   */
  scan?: RecordScan;
}

/** Whether `length` bytes that are a view into a buffer of `bufferLength` bytes would pin much more than themselves. */
export function isSharedView(bufferLength: number, length: number): boolean {
  return bufferLength > length * 4 + 8192;
}

/** Where a source starts reading. Latest is the default: a monitor watches what happens from now on. */
export type StartPosition =
  | { kind: 'latest' }
  | { kind: 'earliest' }
  | { kind: 'time'; time: number } // epoch milliseconds
  | { kind: 'id'; id: string }; // a backend-native id (Redis stream id, Pulsar message id)

export type Backend = 'kafka' | 'redis' | 'pulsar' | 'file' | 'demo' | 'memory';

/** Everything needed to open a source; built from a CLI URL or a config file's connection + pipeline. */
export interface SourceSpec {
  backend: Backend;
  /** Kafka topic, Redis stream key, Pulsar `tenant/namespace/topic`, file path, demo scenario. */
  topic: string;
  /** Kafka bootstrap brokers (`host:port`). */
  brokers?: string[];
  /** Redis URL (`redis://`, `rediss://`), Pulsar service URL (`pulsar://`, `pulsar+ws://`). */
  url?: string;
  from: StartPosition;
  /** Credentials: `secret` names a stored secret (SecretStorage, or `CLEAN_SECRET_<NAME>` headless), never a value. */
  auth?: { mechanism?: string; username?: string; secret?: string };
  /** TLS material as file paths; `true` means TLS with the system CAs. */
  tls?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  /** Backend-specific settings (Redis `field` and `db`, demo `rate` and `seed`, file `follow`). */
  options?: Record<string, unknown>;
  /**
   * How payloads are decoded (server/decode): `?format=`, `?registry=`, `?schema=` in a URL; a pipeline's
   * `format`, its connection's `registry: {url, auth}` and the file's `schemas:` in clean.yaml.
   */
  decode?: {
    format?: 'json' | 'avro' | 'protobuf' | 'jsonschema' | 'auto';
    /** A Confluent-compatible registry; `auth.secret` names a stored secret, never a value. */
    registry?: { url: string; auth?: { username?: string; secret?: string }; timeoutMs?: number };
    /** Schema folders or files, absolute or relative to the working directory. */
    schemas?: string[];
    /** The schema of bare (headerless) records: a file, or a subject or record name. */
    schema?: string;
  };
}

/**
 * Lifecycle states a pipeline reports; sources report connecting, waiting, running and reconnecting.
 * `waiting`: connected, but the topic or stream does not exist (yet); the monitor never creates it and
 * starts reading once it appears.
 */
export type PipelineState = 'connecting' | 'waiting' | 'running' | 'reconnecting' | 'paused' | 'stopped' | 'error';

/** What the engine hands a source: a logger, a status reporter and a secret lookup. */
export interface SourceContext {
  log: Logger;
  /** Report `connecting`, `waiting`, `running` or `reconnecting` with a message a person can act on. */
  status(state: 'connecting' | 'waiting' | 'running' | 'reconnecting', message: string): void;
  /** Resolves a secret by name; undefined when it is not set. Values must never be logged. */
  secret(name: string): Promise<string | undefined>;
  /** The pipeline's maxMessageBytes: a source that buffers a message stops buffering past it. */
  maxMessageBytes?: number;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface StreamSource {
  /** A short human description for logs and the status line, without secrets ("kafka 127.0.0.1:9092/orders"). */
  readonly description: string;
  /** Opens connections; rejects with a `SourceError` a person can act on. */
  connect(): Promise<void>;
  /**
   * Batches of messages until the source ends (finite sources) or `close()` is called.
   * Transient broker failures are retried inside, reported through `SourceContext.status`.
   */
  consume(): AsyncIterable<SourceMessage[]>;
  /** Stops consuming and releases connections; idempotent. */
  close(): Promise<void>;
}

/** A failure a person can fix (wrong address, refused credentials, unknown topic). The message says what to do. */
export class SourceError extends Error {
  constructor(message: string, readonly code: string = 'source') {
    super(message);
    this.name = 'SourceError';
  }
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
