/**
 * Kafka as a passive observer, through kafkajs (kept inside this module so another client can replace it).
 *
 * The monitor joins a consumer group of its own, `clean-monitor-<random>`, never an application's, and runs
 * with autoCommit off: it commits no offsets at all, so no group it touches (its own included) ever gets
 * committed positions. It remembers how far it has read in memory (partition -> next offset) and seeks there
 * after a reconnect, so a broker outage loses no record (at least once: a batch being handed over when the
 * broker went away may come again, and the engine's duplicate detector counts it).
 *
 * Fetching and decoding (kafkajs) run in a worker thread when its script is available, so that decoding the
 * next batch overlaps the engine's work on this one; the worker hands over each batch as one transferred
 * buffer. Without the script (or with `fetchThread=false`) the same fetch loop runs on the main thread.
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, KafkaConfig, KafkaMessage, LogEntry, SASLOptions } from 'kafkajs';
import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from './types';
import { isSharedView } from './types';
import { SourceError } from './types';
import { parseBrokerList } from './brokers';
import { redact } from '../secrets/redact';
import { missingTopicMessage } from './missingTopic';

const BACKOFF_START_MS = 500;
const BACKOFF_CAP_MS = 8000;
const TOPIC_CREATION_ATTEMPTS = 8;
/** Polling the metadata for a topic that does not exist yet: soon at first, then every 5 s. */
const TOPIC_WAIT_START_MS = 500;
const TOPIC_WAIT_CAP_MS = 5000;
const FETCHER_ROLE = 'clean-streams-kafka-fetcher';
/** Batches the fetch thread may post before the engine has taken them: bounded memory, yet decoding never stalls on one batch. */
const FETCH_THREAD_AHEAD = 4;
const HEARTBEAT_WHILE_WAITING_MS = 3000;
/** Fetch sizes: large enough that one batch amortises a round trip, small enough to keep memory modest. */
const DEFAULT_MAX_BYTES = 16 << 20;
const DEFAULT_MAX_BYTES_PER_PARTITION = 4 << 20;

export interface KafkaSourceOptions {
  /** Bytes per fetch request over all partitions (default `options.maxBytes` or 16 MiB). */
  maxBytes?: number;
  /** Bytes per partition in one fetch (default `options.maxBytesPerPartition` or 4 MiB). */
  maxBytesPerPartition?: number;
  /** How long the broker holds a fetch open waiting for data (default `options.maxWaitMs` or 500 ms). */
  maxWaitMs?: number;
  /** The consumer group session timeout (default `options.sessionTimeoutMs` or 30 s; brokers allow 6 s at least). */
  sessionTimeoutMs?: number;
  /** Fetch and decode in a worker thread (default `options.fetchThread`, else true when the worker script exists). */
  fetchThread?: boolean;
}

/** What a kafkajs failure means for a person, and whether waiting can fix it. */
export interface KafkaFailure {
  code: 'unreachable' | 'dns' | 'auth' | 'tls' | 'unknown-topic' | 'authorization' | 'kafka';
  /** What happened, where, and what to do (without a "Retrying in …" tail, which the caller adds). */
  message: string;
  retriable: boolean;
}

/** Where the failure happened, for the message; never carries a secret. */
export interface KafkaWhere {
  brokers: string;
  topic: string;
  username?: string;
  mechanism?: string;
  secretName?: string;
}

type ErrorShape = { name?: string; message?: string; code?: string; type?: string; retriable?: boolean; cause?: unknown };

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN']);
const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED',
  'ERR_SSL_WRONG_VERSION_NUMBER', 'EPROTO', 'ERR_SSL_PACKET_LENGTH_TOO_LONG', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_OSSL_PEM_NO_START_LINE',
]);
const AUTHORIZATION_TYPES = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED']);

/** The error and its causes, outermost first (kafkajs wraps the real reason in retry errors). */
function causeChain(err: unknown): ErrorShape[] {
  const chain: ErrorShape[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object' && chain.length < 8) {
    chain.push(e as ErrorShape);
    const next = (e as ErrorShape).cause;
    if (next === e) break;
    e = next;
  }
  if (chain.length === 0) chain.push({ message: String(err) });
  return chain;
}

/** Maps a kafkajs error (any wrapping) to a message a person can act on. */
export function describeKafkaError(err: unknown, where: KafkaWhere): KafkaFailure {
  const chain = causeChain(err);
  const at = `Kafka at ${where.brokers}`;
  const find = (test: (e: ErrorShape) => boolean): ErrorShape | undefined => chain.find(test);
  const text = (e: ErrorShape): string => String(e.message ?? '');

  const sasl = find((e) => e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED' || /SASL .*authentication failed/i.test(text(e)));
  if (sasl) {
    const who = where.username ? `user "${where.username}"` : 'the configured user';
    const mech = where.mechanism ? ` with ${where.mechanism.toUpperCase()}` : '';
    const secret = where.secretName ? ` and the password stored as secret "${where.secretName}"` : '';
    return { code: 'auth', retriable: false, message: `${at} refused to authenticate ${who}${mech}. Check the user name${secret}, and that the broker allows this SASL mechanism.` };
  }
  const mechanism = find((e) => e.type === 'UNSUPPORTED_SASL_MECHANISM' || e.type === 'ILLEGAL_SASL_STATE');
  if (mechanism) {
    const mech = where.mechanism ? where.mechanism.toUpperCase() : 'the requested SASL mechanism';
    return { code: 'auth', retriable: false, message: `${at} does not accept ${mech} on this listener. Use a mechanism the broker enables (mechanism=plain, scram-sha-256 or scram-sha-512), or the listener's port that has SASL.` };
  }
  // The errno-style code names the TLS problem best; the message is the fallback (a plaintext port hangs up mid-handshake).
  const tls = find((e) => e.code !== undefined && TLS_CODES.has(e.code)) ?? find((e) => /\b(TLS|SSL)\b|certificate/i.test(text(e)));
  if (tls) {
    const reason = tls.code && tls.code !== 'EPROTO' && TLS_CODES.has(tls.code) ? tls.code : text(tls).replace(/^Connection error: /, '').split('\n')[0];
    return { code: 'tls', retriable: false, message: `TLS connection to ${at} failed (${reason}). Check that this port speaks TLS and that tls.ca names the CA that signed the broker's certificate (and tls.cert/tls.key when the broker asks for a client certificate).` };
  }
  const topic = find((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
  if (topic) {
    return { code: 'unknown-topic', retriable: false, message: `Topic "${where.topic}" does not exist on ${at}. Check the topic name, or create the topic (kafka-topics.sh --bootstrap-server ${where.brokers} --create --topic ${where.topic}).` };
  }
  const denied = find((e) => e.type !== undefined && AUTHORIZATION_TYPES.has(e.type));
  if (denied) {
    const who = where.username ? `User "${where.username}"` : 'This client';
    return { code: 'authorization', retriable: false, message: `${who} may not read topic "${where.topic}" on ${at} (${denied.type}). Grant Describe and Read on the topic, and Read on consumer groups prefixed "clean-monitor-".` };
  }
  const dns = find((e) => e.code === 'ENOTFOUND' || /getaddrinfo ENOTFOUND/.test(text(e)));
  if (dns) {
    return { code: 'dns', retriable: false, message: `Cannot resolve the Kafka host in ${where.brokers} (ENOTFOUND). Check the host name in the source URL.` };
  }
  const unreachable = find(
    (e) =>
      (e.code !== undefined && UNREACHABLE_CODES.has(e.code)) ||
      e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError' || e.name === 'KafkaJSRequestTimeoutError' ||
      e.name === 'KafkaJSBrokerNotFound' || e.name === 'KafkaJSNoBrokerAvailableError' || e.name === 'KafkaJSGroupCoordinatorNotFound' ||
      /Connection (timeout|error)|Closed connection|ECONNREFUSED/.test(text(e)),
  );
  if (unreachable) {
    const code = unreachable.code ?? /\b(E[A-Z]{4,})\b/.exec(text(unreachable))?.[1] ?? (/time(d )?out/i.test(text(unreachable)) ? 'timed out' : 'connection lost');
    return { code: 'unreachable', retriable: true, message: `Cannot reach ${at} (${code}). Is the broker running?` };
  }
  const last = chain[chain.length - 1];
  const retriable = chain.some((e) => e.retriable === true) || chain[0].name === 'KafkaJSNumberOfRetriesExceeded';
  // kafkajs texts can quote broker strings as written: they pass the one redaction before any user sees them.
  const detail = redact(last.type ? `${last.type}: ${text(last)}` : text(last));
  return { code: 'kafka', retriable, message: `${at}, topic "${where.topic}": ${detail}` };
}

/** One Kafka record as a SourceMessage; the position and key text are built only when someone reads them (samples, rules). */
class KafkaRecord implements SourceMessage {
  constructor(
    readonly value: Buffer | null,
    /** The key's bytes lie at keyAt (keyLength of them) in keyData; null for no key. */
    private readonly keyData: ArrayBuffer | null,
    private readonly keyAt: number,
    private readonly keyLength: number,
    private readonly partition: number,
    private readonly offset: number,
    readonly timestamp: number,
    readonly headers: Record<string, string> | undefined,
  ) {}
  get position(): string {
    return `${this.partition}@${this.offset}`;
  }
  get key(): string | null {
    return this.keyData === null ? null : Buffer.from(this.keyData, this.keyAt, this.keyLength).toString('utf8');
  }
  /** This record without views of the batch's bytes, for a sample that outlives the batch. */
  retain(): SourceMessage {
    const v = this.value;
    const k = this.keyData;
    if ((v === null || !isSharedView(v.buffer.byteLength, v.length)) && (k === null || !isSharedView(k.byteLength, this.keyLength))) return this;
    const key = k === null ? null : new Uint8Array(k, this.keyAt, this.keyLength).slice().buffer;
    return new KafkaRecord(v && Buffer.from(v), key, 0, this.keyLength, this.partition, this.offset, this.timestamp, this.headers);
  }
}

/** Kafka headers as text (several values of one name joined by commas); undefined when there are none. */
function headerText(h: KafkaMessage['headers']): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name in h) {
    const v = h[name];
    if (v === undefined) continue;
    (out ??= {})[name] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}

/**
 * The hand-over between the fetch loop and consume(): a batch's put() resolves when consume() has taken it,
 * so the fetcher decodes the next batch while the engine works on this one, and never runs further ahead.
 */
class BatchQueue {
  private readonly items: Array<{ messages: SourceMessage[]; partition: number; next: string; taken: () => void }> = [];
  private waiter: ((item: { messages: SourceMessage[]; partition: number; next: string } | null) => void) | null = null;
  private interrupted = false;

  put(messages: SourceMessage[], partition: number, next: string): Promise<void> {
    if (this.interrupted) return Promise.resolve();
    return new Promise<void>((taken) => {
      const w = this.waiter;
      if (w) {
        this.waiter = null;
        taken();
        w({ messages, partition, next });
      } else {
        this.items.push({ messages, partition, next, taken });
      }
    });
  }

  /** The next batch, or null once interrupted (reconnect or close). */
  take(): Promise<{ messages: SourceMessage[]; partition: number; next: string } | null> {
    if (this.interrupted) return Promise.resolve(null);
    const item = this.items.shift();
    if (item) {
      item.taken();
      return Promise.resolve(item);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Ends take() with null until reset(), and lets every waiting put() return; their batches are dropped (re-read after a seek). */
  interrupt(): void {
    this.interrupted = true;
    for (const item of this.items.splice(0)) item.taken();
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }

  reset(): void {
    this.interrupted = false;
  }
}

// ---- The fetch loop: kafkajs consumer -> batches. Runs in the worker thread, or on the main thread as a fallback. ----

/** Everything the fetch loop needs, as plain data so that it can cross into a worker thread. */
interface FetchPlan {
  client: Omit<KafkaConfig, 'logCreator' | 'logLevel' | 'socketFactory'>;
  topic: string;
  groupId: string;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxWaitMs: number;
  sessionTimeoutMs: number;
  autoCreate: boolean;
  /** Where to start each known partition; others start at their earliest offset. */
  seeks: Array<[partition: number, offset: string]>;
}

interface FetchSink {
  /** Resolves when the batch was taken (or dropped because the loop is stopping). */
  batch(partition: number, messages: KafkaMessage[]): Promise<void>;
  joined(): void;
  crashed(error: unknown): void;
  log(line: string): void;
}

function kafkajsLine(entry: LogEntry): string {
  const log = entry.log as { message?: string; broker?: string; error?: string };
  return `kafkajs ${entry.namespace}: ${log.message ?? ''}${log.broker ? ` (${log.broker})` : ''}${log.error ? `: ${log.error}` : ''}`;
}

function isUnknownTopic(err: unknown): boolean {
  return causeChain(err).some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
}

/** Subscribes; a broker that auto-creates topics answers "unknown topic" while it creates one, so ask again briefly. */
async function subscribe(consumer: ReturnType<Kafka['consumer']>, plan: FetchPlan): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // fromBeginning covers partitions the monitor has no position for yet (ones added after it started).
      await consumer.subscribe({ topics: [plan.topic], fromBeginning: true });
      return;
    } catch (err) {
      if (!plan.autoCreate || attempt >= TOPIC_CREATION_ATTEMPTS || !isUnknownTopic(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** True when the promise settles within ms; the timer never outlives the wait. */
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A consumer in the monitor's own group, autoCommit off, positioned by seeks; returns the function that stops it. */
async function startFetchLoop(plan: FetchPlan, sink: FetchSink): Promise<() => Promise<void>> {
  const kafka = new Kafka({ ...plan.client, logLevel: logLevel.WARN, logCreator: () => (entry) => sink.log(kafkajsLine(entry)) });
  const consumer = kafka.consumer({
    groupId: plan.groupId,
    maxBytes: plan.maxBytes,
    maxBytesPerPartition: plan.maxBytesPerPartition,
    maxWaitTimeInMs: plan.maxWaitMs,
    sessionTimeout: plan.sessionTimeoutMs,
    allowAutoTopicCreation: plan.autoCreate,
    // The source reconnects itself (fresh group, seek to its own positions); kafkajs must not restart behind it.
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000, restartOnFailure: async () => false },
  });
  let stopped = false;
  consumer.on(consumer.events.CRASH, (event) => void (stopped || sink.crashed(event.payload.error)));
  let joins = 0;
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (stopped) return;
    // A rejoin would start from kafkajs' idea of the position (nothing committed: the beginning); the source restarts at its own instead.
    if (++joins === 1) sink.joined();
    else sink.crashed({ name: 'KafkaJSRebalance', message: "the monitor's consumer group was rebalanced", retriable: true } satisfies ErrorShape);
  });
  const stop = async (): Promise<void> => {
    stopped = true;
    await consumer.disconnect().catch(() => undefined);
  };
  try {
    await consumer.connect();
    await subscribe(consumer, plan);
    const running = consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale, heartbeat }) => {
        if (stopped || batch.messages.length === 0 || isStale()) return;
        const taken = sink.batch(batch.partition, batch.messages);
        // While the engine is busy or paused, keep the group membership alive (else the group rebalances).
        while (!stopped && !(await settlesWithin(taken, HEARTBEAT_WHILE_WAITING_MS))) await heartbeat().catch(() => undefined);
      },
    });
    // seek() works once run() has set the group up (synchronously); kafkajs applies it before the first fetch.
    for (const [partition, offset] of plan.seeks) consumer.seek({ topic: plan.topic, partition, offset });
    await running;
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}

/** Error fields that describeKafkaError reads, as plain data (for posting across threads). */
function errorShape(err: unknown, depth = 0): ErrorShape {
  if (!err || typeof err !== 'object') return { message: String(err) };
  const e = err as ErrorShape;
  const shape: ErrorShape = { name: e.name, message: e.message, code: e.code, type: e.type, retriable: e.retriable };
  if (e.cause && e.cause !== err && depth < 6) shape.cause = errorShape(e.cause, depth + 1);
  return shape;
}

type ToFetcher = { type: 'taken'; id: number } | { type: 'stop' };
type FromFetcher =
  | { type: 'started' }
  | { type: 'failed'; error: ErrorShape }
  | { type: 'crash'; error: ErrorShape }
  | { type: 'joined' }
  | { type: 'log'; line: string }
  | {
      type: 'batch';
      id: number;
      partition: number;
      next: string;
      /** Values and keys back to back, as bytes (the engine reads JSON in place, without decoding it to text). */
      data: ArrayBuffer;
      /** Per message: value length, key length (-1 for null), in the order they lie in `data`. */
      lengths: Int32Array;
      offsets: Float64Array;
      timestamps: Float64Array;
      headers: Array<Record<string, string> | undefined> | null;
    };

/** The worker thread's side: runs the fetch loop and posts each batch as one transferred buffer. */
function runFetcherThread(): void {
  const port = parentPort!;
  const plan = (workerData as { plan: FetchPlan }).plan;
  const acks = new Map<number, () => void>();
  let lastId = 0;
  let lastTaken = 0;
  let stopping = false;
  let stopLoop: (() => Promise<void>) | null = null;
  port.on('message', (m: ToFetcher) => {
    if (m.type === 'taken') {
      lastTaken = Math.max(lastTaken, m.id);
      const ack = acks.get(m.id);
      acks.delete(m.id);
      ack?.();
    } else if (m.type === 'stop') {
      stopping = true;
      for (const ack of acks.values()) ack();
      acks.clear();
      void (stopLoop ? stopLoop() : Promise.resolve()).finally(() => process.exit(0));
    }
  });
  const sink: FetchSink = {
    batch(partition, messages) {
      if (stopping) return Promise.resolve();
      const n = messages.length;
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += (messages[i].value?.length ?? 0) + (messages[i].key?.length ?? 0);
      const data = Buffer.allocUnsafeSlow(bytes);
      const lengths = new Int32Array(2 * n);
      const offsets = new Float64Array(n);
      const timestamps = new Float64Array(n);
      let headers: Array<Record<string, string> | undefined> | null = null;
      let at = 0;
      for (let i = 0; i < n; i++) {
        const m = messages[i];
        const v = m.value;
        if (v === null) lengths[2 * i] = -1;
        else at += v.copy(data, at), (lengths[2 * i] = v.length);
        const k = m.key;
        if (k === null || k === undefined) lengths[2 * i + 1] = -1;
        else at += k.copy(data, at), (lengths[2 * i + 1] = k.length);
        offsets[i] = Number(m.offset);
        timestamps[i] = Number(m.timestamp);
        const h = headerText(m.headers);
        if (h) (headers ??= new Array(n))[i] = h;
      }
      const id = ++lastId;
      const next = String(offsets[n - 1] + 1);
      const transfer = [data.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer, timestamps.buffer as ArrayBuffer];
      port.postMessage({ type: 'batch', id, partition, next, data: data.buffer as ArrayBuffer, lengths, offsets, timestamps, headers } satisfies FromFetcher, transfer);
      // Run ahead of the engine by a few batches (decoding overlaps its work), then wait for it to take the oldest.
      if (id - lastTaken <= FETCH_THREAD_AHEAD) return Promise.resolve();
      return new Promise<void>((resolve) => acks.set(id - FETCH_THREAD_AHEAD, resolve));
    },
    joined: () => port.postMessage({ type: 'joined' } satisfies FromFetcher),
    crashed: (error) => port.postMessage({ type: 'crash', error: errorShape(error) } satisfies FromFetcher),
    log: (line) => port.postMessage({ type: 'log', line } satisfies FromFetcher),
  };
  startFetchLoop(plan, sink).then(
    (stop) => {
      stopLoop = stop;
      if (stopping) void stop().finally(() => process.exit(0));
      else port.postMessage({ type: 'started' } satisfies FromFetcher);
    },
    (err: unknown) => port.postMessage({ type: 'failed', error: errorShape(err) } satisfies FromFetcher),
  );
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === FETCHER_ROLE) runFetcherThread();

/** What the source hears from a running fetch loop, whichever thread it runs on. */
interface FetchEvents {
  batch(messages: SourceMessage[], partition: number, next: string): Promise<void>;
  joined(): void;
  crashed(error: unknown): void;
  log(line: string): void;
}

interface Fetcher {
  stop(): Promise<void>;
}

/** Thrown when the worker thread itself cannot run (not a Kafka problem): the source falls back to the main thread. */
class FetchThreadUnavailable extends Error {}

async function startLocalFetcher(plan: FetchPlan, events: FetchEvents): Promise<Fetcher> {
  const stop = await startFetchLoop(plan, {
    batch(partition, messages) {
      const n = messages.length;
      const out = new Array<SourceMessage>(n);
      for (let i = 0; i < n; i++) {
        const m = messages[i];
        const k = m.key ?? null;
        out[i] = new KafkaRecord(m.value, k && (k.buffer as ArrayBuffer), k ? k.byteOffset : 0, k ? k.length : 0, partition, Number(m.offset), Number(m.timestamp), headerText(m.headers));
      }
      return events.batch(out, partition, String(Number(messages[n - 1].offset) + 1));
    },
    joined: events.joined,
    crashed: events.crashed,
    log: events.log,
  });
  return { stop };
}

function unpackBatch(m: Extract<FromFetcher, { type: 'batch' }>): SourceMessage[] {
  const n = m.offsets.length;
  const out = new Array<SourceMessage>(n);
  const { data, lengths, offsets, timestamps, headers, partition } = m;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const vl = lengths[2 * i];
    const kl = lengths[2 * i + 1];
    let value: Buffer | null = null;
    if (vl >= 0) (value = Buffer.from(data, at, vl)), (at += vl);
    // The key stays a place in the batch's bytes until someone reads it.
    out[i] = new KafkaRecord(value, kl >= 0 ? data : null, at, kl, partition, offsets[i], timestamps[i], headers ? headers[i] : undefined);
    if (kl > 0) at += kl;
  }
  return out;
}

function startThreadFetcher(script: string, plan: FetchPlan, events: FetchEvents): Promise<Fetcher> {
  return new Promise<Fetcher>((resolve, reject) => {
    let worker: Worker;
    try {
      // Under tsx (tests, benchmarks) the worker loads this TypeScript module through tsx's require hook.
      worker = script.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { eval: true, workerData: { role: FETCHER_ROLE, plan } })
        : new Worker(script, { workerData: { role: FETCHER_ROLE, plan } });
    } catch (err) {
      reject(new FetchThreadUnavailable((err as Error).message));
      return;
    }
    let started = false;
    let ended = false;
    const stop = (): Promise<void> =>
      new Promise<void>((done) => {
        if (ended) return done();
        ended = true;
        const timer = setTimeout(() => void worker.terminate().then(() => done(), () => done()), 3000);
        worker.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        worker.postMessage({ type: 'stop' } satisfies ToFetcher);
      });
    worker.on('message', (m: FromFetcher) => {
      switch (m.type) {
        case 'started':
          started = true;
          resolve({ stop });
          break;
        case 'failed':
          ended = true;
          void worker.terminate();
          reject(m.error);
          break;
        case 'batch':
          void events.batch(unpackBatch(m), m.partition, m.next).then(() => {
            if (!ended) worker.postMessage({ type: 'taken', id: m.id } satisfies ToFetcher);
          });
          break;
        case 'joined':
          events.joined();
          break;
        case 'crash':
          events.crashed(m.error);
          break;
        case 'log':
          events.log(m.line);
          break;
      }
    });
    worker.on('error', (err) => {
      if (started) events.crashed(err);
      else {
        ended = true;
        reject(new FetchThreadUnavailable(err.message));
      }
    });
    worker.on('exit', (code) => {
      if (ended) return;
      ended = true;
      if (started) events.crashed({ message: `the Kafka fetch thread exited with code ${code}` });
      else reject(new FetchThreadUnavailable(`exited with code ${code}`));
    });
  });
}

/** The worker script: this module itself under tsx, or dist/kafka-fetcher.js (this module bundled) beside the agent. */
function fetcherScript(): string | null {
  const file = typeof __filename === 'string' ? __filename : '';
  const script = file.endsWith('.ts') ? file : path.join(path.dirname(file), 'kafka-fetcher.js');
  return file && existsSync(script) ? script : null;
}

/** Kafka's SASL mechanisms as users write them in URLs and config files. */
function saslMechanism(name: string | undefined): 'plain' | 'scram-sha-256' | 'scram-sha-512' {
  const m = (name ?? 'plain').toLowerCase().replace(/_/g, '-');
  if (m === 'plain' || m === 'scram-sha-256' || m === 'scram-sha-512') return m;
  throw new SourceError(`Kafka SASL mechanism "${name}" is not supported. Use mechanism=plain, scram-sha-256 or scram-sha-512.`, 'config');
}

function positiveOption(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new SourceError(`Kafka option ${name}=${String(v)} must be a positive whole number.`, 'config');
  return n;
}

export class KafkaSource implements StreamSource {
  readonly description: string;
  /** The monitor's own consumer group; each (re)connection adds a suffix, so a dead member never delays a rejoin. */
  readonly groupId = `clean-monitor-${randomBytes(6).toString('hex')}`;
  private readonly brokers: string[];
  private readonly topic: string;
  private readonly where: KafkaWhere;
  private readonly maxBytes: number;
  private readonly maxBytesPerPartition: number;
  private readonly maxWaitMs: number;
  private readonly sessionTimeoutMs: number;
  /** Ask the broker to create a missing topic (`autoCreate=true`); off by default, the monitor is a passive observer. */
  private readonly autoCreate: boolean;
  /** The topic did not exist when the monitor started, so everything in it arrived since: read it from the beginning. */
  private appeared = false;
  private fetchThread: boolean;
  private client: FetchPlan['client'] | null = null;
  private admin: Admin | null = null;
  private fetcher: Fetcher | null = null;
  /** partition -> offset of the next record to hand to the engine. */
  private readonly nextOffsets = new Map<number, string>();
  private readonly queue = new BatchQueue();
  private generation = 0;
  private crash: unknown = null;
  private closed = false;
  private wake: (() => void) | null = null;
  private secretValue: string | undefined;

  constructor(private readonly spec: SourceSpec, private readonly ctx: SourceContext, opts: KafkaSourceOptions = {}) {
    this.topic = spec.topic;
    if (!spec.brokers?.length) throw new SourceError('Name the Kafka brokers, for example kafka://127.0.0.1:9092/orders.', 'config');
    // Every broker parses, or the source is refused: none is ever dropped, none carries a password.
    const list = parseBrokerList(spec.brokers, 'spec');
    if ('problem' in list) throw new SourceError(list.problem, 'config');
    this.brokers = list.brokers;
    if (!this.topic) throw new SourceError('Name the Kafka topic to watch, for example kafka://127.0.0.1:9092/orders.', 'config');
    const o = spec.options ?? {};
    this.maxBytes = opts.maxBytes ?? positiveOption(o.maxBytes, 'maxBytes', DEFAULT_MAX_BYTES);
    this.maxBytesPerPartition = opts.maxBytesPerPartition ?? positiveOption(o.maxBytesPerPartition, 'maxBytesPerPartition', DEFAULT_MAX_BYTES_PER_PARTITION);
    this.maxWaitMs = opts.maxWaitMs ?? positiveOption(o.maxWaitMs, 'maxWaitMs', 500);
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? positiveOption(o.sessionTimeoutMs, 'sessionTimeoutMs', 30_000);
    this.autoCreate = o.autoCreate === true || o.autoCreate === 'true';
    this.fetchThread = opts.fetchThread ?? o.fetchThread !== false;
    const auth = spec.auth;
    this.where = {
      brokers: this.brokers.join(','),
      topic: this.topic,
      username: auth?.username,
      mechanism: auth ? saslMechanism(auth.mechanism) : undefined,
      secretName: auth?.secret,
    };
    this.description = `kafka ${this.where.brokers}/${this.topic}`;
  }

  /** Whether batches are fetched and decoded on a worker thread (false once it proved unavailable). */
  get threaded(): boolean {
    return this.fetchThread;
  }

  async connect(): Promise<void> {
    this.closed = false;
    this.client = await this.clientConfig();
    const kafka = new Kafka({ ...this.client, logLevel: logLevel.WARN, logCreator: () => (entry) => this.logLine(kafkajsLine(entry)) });
    this.admin = kafka.admin({ retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 } });
    let backoff = BACKOFF_START_MS;
    for (;;) {
      this.ctx.status('connecting', `Connecting to Kafka at ${this.where.brokers}`);
      try {
        await this.admin.connect();
        await this.ensureTopic(kafka);
        await this.resolveStart();
        return;
      } catch (err) {
        if (err instanceof SourceError) throw err;
        const failure = describeKafkaError(err, this.where);
        if (!failure.retriable || this.closed) throw new SourceError(failure.message, failure.code);
        backoff = await this.waitBeforeRetry(failure, backoff);
        if (this.closed) throw new SourceError(`Stopped while connecting to Kafka at ${this.where.brokers}.`, 'closed');
      }
    }
  }

  async *consume(): AsyncGenerator<SourceMessage[]> {
    if (!this.client) throw new SourceError('KafkaSource.consume() called before connect()');
    let backoff = BACKOFF_START_MS;
    while (!this.closed) {
      try {
        await this.startFetcher();
      } catch (err) {
        await this.stopFetcher();
        if (this.closed) return;
        const failure = describeKafkaError(err, this.where);
        if (!failure.retriable) throw new SourceError(failure.message, failure.code);
        backoff = await this.waitBeforeRetry(failure, backoff);
        continue;
      }
      for (;;) {
        const item = await this.queue.take();
        if (item === null) break;
        backoff = BACKOFF_START_MS;
        this.nextOffsets.set(item.partition, item.next);
        yield item.messages;
        if (this.closed) return;
      }
      if (this.closed) return;
      const err = this.crash;
      await this.stopFetcher();
      const failure = describeKafkaError(err, this.where);
      if (!failure.retriable) throw new SourceError(failure.message, failure.code);
      backoff = await this.waitBeforeRetry(failure, backoff);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.stopFetcher();
    const admin = this.admin;
    this.admin = null;
    if (admin) await admin.disconnect().catch(() => undefined);
  }

  /** Offsets the monitor would resume from, by partition. */
  positions(): Map<number, string> {
    return new Map(this.nextOffsets);
  }

  private async clientConfig(): Promise<FetchPlan['client']> {
    const config: FetchPlan['client'] = {
      clientId: 'clean-streams-monitor',
      brokers: this.brokers,
      connectionTimeout: 3000,
      requestTimeout: 30000,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    };
    const tls = this.tlsOptions();
    if (tls !== undefined) config.ssl = tls;
    const auth = this.spec.auth;
    if (auth) {
      const mechanism = saslMechanism(auth.mechanism);
      if (!auth.username) {
        throw new SourceError(`Kafka SASL needs a user name: kafka://<user>@${this.where.brokers}/${this.topic}?secret=<name>&mechanism=${mechanism}.`, 'config');
      }
      if (!auth.secret) {
        throw new SourceError(`Kafka SASL for user "${auth.username}" needs a password: name a stored secret with ?secret=<name> (headless: export CLEAN_SECRET_<NAME>=...).`, 'config');
      }
      const password = await this.ctx.secret(auth.secret);
      if (password === undefined) {
        throw new SourceError(
          `The secret "${auth.secret}" for Kafka user "${auth.username}" at ${this.where.brokers} is not set. ` +
            `Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_${auth.secret.toUpperCase().replace(/[^A-Z0-9]/g, '_')} for the CLI.`,
          'auth',
        );
      }
      this.secretValue = password;
      config.sasl = { mechanism, username: auth.username, password } as SASLOptions;
    }
    return config;
  }

  private tlsOptions(): boolean | ConnectionOptions | undefined {
    const tls = this.spec.tls;
    if (tls === undefined || tls === false) return undefined;
    if (tls === true) return true;
    const read = (file: string | undefined, what: string): Buffer | undefined => {
      if (!file) return undefined;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new SourceError(`Cannot read the TLS ${what} file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check tls.${what} in the source settings.`, 'tls');
      }
    };
    const options: ConnectionOptions = {};
    const ca = read(tls.ca, 'ca');
    const cert = read(tls.cert, 'cert');
    const key = read(tls.key, 'key');
    if (ca) options.ca = [ca];
    if (cert) options.cert = cert;
    if (key) options.key = key;
    if (tls.rejectUnauthorized === false) options.rejectUnauthorized = false;
    return options;
  }

  /** kafkajs' own lines go to debug (the source reports outages itself), with the password masked should one ever appear. */
  private logLine(line: string): void {
    this.ctx.log.debug(redact(line, this.secretValue ? [this.secretValue] : []));
  }

  /**
   * The topic must exist: a missing one is waited for (status `waiting`, the metadata polled with backoff; the
   * admin client's metadata requests never auto-create), unless `autoCreate=true` asks the broker to create it.
   */
  private async ensureTopic(kafka: Kafka): Promise<void> {
    let topics = await this.admin!.listTopics();
    if (topics.includes(this.topic)) return;
    if (!this.autoCreate) {
      let backoff = TOPIC_WAIT_START_MS;
      while (!topics.includes(this.topic)) {
        const existing = topics.filter((t) => !t.startsWith('__'));
        this.ctx.status('waiting', missingTopicMessage('topic', this.topic, this.where.brokers, existing));
        this.ctx.log.debug(`${this.description}: no topic "${this.topic}" in the metadata; looking again in ${backoff / 1000} s`);
        if (!this.closed) await this.pause(backoff);
        if (this.closed) throw new SourceError(`Stopped while waiting for topic "${this.topic}" on Kafka at ${this.where.brokers}.`, 'closed');
        backoff = Math.min(backoff * 2, TOPIC_WAIT_CAP_MS);
        topics = await this.admin!.listTopics();
      }
      this.appeared = true;
      const message = `Topic "${this.topic}" appeared on Kafka at ${this.where.brokers}; reading it from the beginning`;
      this.ctx.log.info(message);
      this.ctx.status('connecting', message);
      return;
    }
    const consumer = kafka.consumer({ groupId: `${this.groupId}-0`, allowAutoTopicCreation: true });
    try {
      await consumer.connect();
      await subscribe(consumer, this.plan());
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /** Start offsets per partition: earliest, latest (now), or the first record at or after a time. */
  private async resolveStart(): Promise<void> {
    const admin = this.admin!;
    const from = this.spec.from;
    if (from.kind === 'id') throw new SourceError(`Kafka starts from earliest, latest or a time; "${from.id}" is none of these.`, 'config');
    if (from.kind === 'time') {
      for (const p of await admin.fetchTopicOffsetsByTimestamp(this.topic, from.time)) this.nextOffsets.set(p.partition, p.offset);
    } else {
      const earliest = from.kind === 'earliest' || this.appeared;
      for (const p of await admin.fetchTopicOffsets(this.topic)) this.nextOffsets.set(p.partition, earliest ? p.low : p.high);
    }
  }

  private plan(): FetchPlan {
    return {
      client: this.client!,
      topic: this.topic,
      groupId: `${this.groupId}-${this.generation}`,
      maxBytes: this.maxBytes,
      maxBytesPerPartition: this.maxBytesPerPartition,
      maxWaitMs: this.maxWaitMs,
      sessionTimeoutMs: this.sessionTimeoutMs,
      autoCreate: this.autoCreate,
      seeks: [...this.nextOffsets],
    };
  }

  private async startFetcher(): Promise<void> {
    const generation = ++this.generation;
    this.crash = null;
    this.queue.reset();
    const events: FetchEvents = {
      batch: (messages, partition, next) => (generation === this.generation ? this.queue.put(messages, partition, next) : Promise.resolve()),
      joined: () => {
        if (generation !== this.generation || this.closed) return;
        const n = this.nextOffsets.size;
        this.ctx.status('running', `Reading topic "${this.topic}" (${n} partition${n === 1 ? '' : 's'}) at Kafka ${this.where.brokers}`);
      },
      crashed: (error) => {
        if (generation !== this.generation) return;
        this.crash = error;
        this.queue.interrupt();
      },
      log: (line) => this.logLine(line),
    };
    const plan = this.plan();
    const script = this.fetchThread ? fetcherScript() : null;
    if (script) {
      try {
        this.fetcher = await startThreadFetcher(script, plan, events);
        return;
      } catch (err) {
        if (!(err instanceof FetchThreadUnavailable)) throw err;
        this.fetchThread = false;
        this.ctx.log.debug(`${this.description}: fetching on the main thread (the fetch thread could not start: ${err.message})`);
      }
    }
    this.fetchThread = false;
    this.fetcher = await startLocalFetcher(plan, events);
  }

  private async stopFetcher(): Promise<void> {
    const fetcher = this.fetcher;
    this.fetcher = null;
    this.generation++;
    this.queue.interrupt();
    if (fetcher) await fetcher.stop();
  }

  private async waitBeforeRetry(failure: KafkaFailure, backoff: number): Promise<number> {
    this.ctx.status('reconnecting', `${failure.message} Retrying in ${Math.round(backoff / 100) / 10} s.`);
    this.ctx.log.warn(`${this.description}: ${failure.message}`);
    await this.pause(backoff);
    return Math.min(backoff * 2, BACKOFF_CAP_MS);
  }

  /** Waits ms, or less when close() wakes it. */
  private pause(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }
}
