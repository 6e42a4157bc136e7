/**
 * Redis Streams as a passive observer: plain XREAD on a dedicated connection, never a consumer group,
 * so the application's groups, pending lists and delivery IDs stay exactly as they would be without us.
 * Commands sent: TYPE, XREVRANGE, XINFO STREAM, and SCAN TYPE stream while a stream is missing (on an ioredis
 * control connection), AUTH, SELECT and XREAD BLOCK (on the reader connection). Nothing that writes: a missing
 * stream is waited for, never created.
 */
import { readFileSync } from 'node:fs';
import net, { isIP } from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import Redis from 'ioredis';
import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from './types';
import { SourceError } from './types';
import { missingTopicMessage } from './missingTopic';
import { redact } from '../secrets/redact';

/** The fields tried, in order, when `field` is not configured: the usual places a JSON payload sits. */
export const DEFAULT_PAYLOAD_FIELDS = ['data', 'payload', 'value', 'json'] as const;

const PAYLOAD_FIELD_BYTES = DEFAULT_PAYLOAD_FIELDS.map((name) => Buffer.from(name));
/** Largest sequence part of a stream ID: `<ms-1>-MAX` is the last ID before millisecond `ms`. */
const MAX_SEQUENCE = '18446744073709551615';
const BACKOFF_START_MS = 250;
const BACKOFF_CAP_MS = 5000;
/** SCAN rounds (of COUNT 1000) looking for stream names to suggest for a missing one: bounded on a large keyspace. */
const SUGGEST_SCAN_ROUNDS = 10;

type StreamEntry = [id: string, fields: string[]];
/** The raw RESP2 bytes of one XREAD reply. */
type ReadOutcome = { ok: true; reply: Buffer } | { ok: false; error: unknown };

export interface RedisStreamSourceOptions {
  /** Entries per XREAD (default `options.count` or 1000). */
  count?: number;
  /** Milliseconds one XREAD blocks waiting for new entries (default `options.block` or 2000). */
  blockMs?: number;
}

export class RedisStreamSource implements StreamSource {
  readonly description: string;
  private readonly host: string;
  private readonly port: number;
  private readonly stream: string;
  private readonly db: number;
  private readonly field: Buffer | undefined;
  private readonly count: number;
  private readonly blockMs: number;
  private password: string | undefined;
  private control: Redis | undefined;
  /** The dedicated blocking-read connection: raw RESP, so replies are parsed straight from the socket bytes. */
  private reader: XReadConnection | undefined;
  /** The ID after which the next XREAD reads: the last entry handed to the engine. */
  private lastId = '0-0';
  private closed = false;
  /** The stream was missing at the last look; the first entries flip the status back to running. */
  private waiting = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly spec: SourceSpec,
    private readonly ctx: SourceContext,
    opts: RedisStreamSourceOptions = {},
  ) {
    const url = parseRedisUrl(spec.url);
    this.host = url.host;
    this.port = url.port;
    this.stream = spec.topic;
    if (!this.stream) throw new SourceError('Name the Redis stream to watch, for example redis://127.0.0.1:6379/orders.', 'config');
    const options = spec.options ?? {};
    this.db = integerOption(options.db, 'db', 0);
    this.field = typeof options.field === 'string' && options.field !== '' ? Buffer.from(options.field) : undefined;
    this.count = opts.count ?? integerOption(options.count, 'count', 1000);
    this.blockMs = opts.blockMs ?? integerOption(options.block, 'block', 2000);
    if (this.count < 1) throw new SourceError(`Redis option count=${this.count} must be at least 1.`, 'config');
    const where = `${this.host}:${this.port}${this.db ? `/db${this.db}` : ''}`;
    this.description = `redis ${where}/${this.stream}`;
  }

  private get address(): string {
    return `${this.host}:${this.port}`;
  }

  async connect(): Promise<void> {
    this.closed = false;
    const secretName = this.spec.auth?.secret;
    if (secretName) {
      this.password = await this.ctx.secret(secretName);
      if (this.password === undefined) {
        throw new SourceError(
          `The secret "${secretName}" for Redis at ${this.address} is not set. ` +
            `Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_${secretName.toUpperCase().replace(/[^A-Z0-9]/g, '_')} for the CLI.`,
          'auth',
        );
      }
    }
    this.ctx.status('connecting', `Connecting to Redis at ${this.address}`);
    await this.open();
    const type = await this.keyType();
    if (type !== 'none' && type !== 'stream') throw this.wrongType(type);
    this.lastId = await this.resolveStart(type);
    this.waiting = type === 'none';
    // XREAD never creates a stream: a missing one is waited for, and the first entries flip the status to running.
    if (this.waiting) await this.reportWaiting();
    else this.ctx.status('running', `Reading stream "${this.stream}" at ${this.address} after ID ${this.lastId}`);
  }

  async *consume(): AsyncGenerator<SourceMessage[]> {
    let backoff = BACKOFF_START_MS;
    let pending: Promise<ReadOutcome> | undefined;
    while (!this.closed) {
      const outcome = await (pending ?? this.read(this.lastId));
      pending = undefined;
      if (this.closed) return;
      if (!outcome.ok) {
        const fatal = this.replyError(outcome.error);
        if (fatal) throw fatal;
        backoff = await this.reconnect(outcome.error, backoff);
        continue;
      }
      backoff = BACKOFF_START_MS;
      const batch = this.toMessages(outcome.reply);
      if (batch.length === 0) {
        await this.checkWhileIdle();
        continue;
      }
      if (this.waiting) {
        this.waiting = false;
        this.ctx.status('running', `Stream "${this.stream}" appeared at ${this.address}; reading it`);
      }
      this.lastId = batch[batch.length - 1].position as string;
      // Read ahead while the engine scores this batch: the round trip overlaps the work.
      pending = this.read(this.lastId);
      yield batch;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake?.();
    this.dropClients();
  }

  /**
   * Maps one XREAD reply (`*1 *2 $key *N`, each entry `*2 $id *2k fields…`) to messages: the payload field's
   * bytes, or the whole field map as an object. A null reply is an empty batch.
   */
  private toMessages(b: Buffer): SourceMessage[] {
    cursor = 0;
    if (header(b) <= 0) return NO_MESSAGES; // *-1: BLOCK timed out
    header(b); // *2: [key, entries]
    const keyLength = header(b);
    cursor += keyLength + 2; // the key (header() moves the cursor, so it is read first)
    const count = header(b);
    const out = new Array<SourceMessage>(count);
    const field = this.field;
    for (let e = 0; e < count; e++) {
      header(b); // *2: [id, fields]
      const idLength = header(b);
      const idStart = cursor;
      let ms = 0;
      for (let i = idStart, end = idStart + idLength; i < end && b[i] !== 45; i++) ms = ms * 10 + b[i] - 48;
      const id = b.toString('latin1', idStart, idStart + idLength);
      cursor += idLength + 2;
      const fieldCount = Math.max(0, header(b));
      const fieldsStart = cursor;
      let value: Buffer | object | null = null;
      let rank = PAYLOAD_FIELD_BYTES.length;
      let valueAt = -1;
      let valueSize = 0;
      for (let f = 0; f < fieldCount; f += 2) {
        const nameLength = header(b);
        const nameStart = cursor;
        cursor += nameLength + 2;
        const valueLength = header(b);
        const valueStart = cursor;
        cursor += valueLength + 2;
        if (field !== undefined) {
          if (value === null && nameLength === field.length && field.compare(b, nameStart, nameStart + nameLength) === 0) {
            value = copyOut(b, valueStart, valueLength);
          }
        } else if (rank > 0) {
          const r = payloadRank(b, nameStart, nameLength);
          if (r < rank) {
            rank = r;
            valueAt = valueStart;
            valueSize = valueLength;
          }
        }
      }
      if (field === undefined) value = valueAt >= 0 ? copyOut(b, valueAt, valueSize) : fieldMapRecord(b, fieldsStart, fieldCount);
      out[e] = { value, position: id, timestamp: ms };
    }
    return out;
  }

  /** One XREAD on the dedicated reader; never rejects, so a read-ahead cannot leak an unhandled rejection. */
  private read(after: string): Promise<ReadOutcome> {
    const reader = this.reader;
    if (!reader) return Promise.resolve({ ok: false, error: new Error('Connection is closed.') });
    return reader.command(['XREAD', 'COUNT', String(this.count), 'BLOCK', String(this.blockMs), 'STREAMS', this.stream, after]).then(
      (reply) => ({ ok: true, reply }),
      (error: unknown) => ({ ok: false, error }),
    );
  }

  /** On an idle read: say so once when the stream is missing, and notice a stream deleted and re-created. */
  private async checkWhileIdle(): Promise<void> {
    let type: string;
    try {
      type = await this.keyType();
    } catch (err) {
      if (err instanceof SourceError) throw err;
      return; // a connection problem shows up on the next XREAD and is handled there
    }
    if (type === 'none') {
      if (!this.waiting) await this.reportWaiting();
      this.waiting = true;
      return;
    }
    if (type !== 'stream') throw this.wrongType(type);
    // last-generated-id only moves back when the stream was deleted and re-created (XDEL/XTRIM never lower it);
    // continuing from our old ID would then skip the new stream's entries.
    const generated = await this.lastGeneratedId().catch(() => undefined);
    if (generated !== undefined && compareIds(generated, this.lastId) < 0) {
      this.ctx.log.warn(`Stream "${this.stream}" at ${this.address} was re-created (last ID ${generated} < ${this.lastId}); reading it from the start.`);
      this.lastId = '0-0';
    }
  }

  private async reportWaiting(): Promise<void> {
    const where = `${this.address}${this.db ? ` (db ${this.db})` : ''}`;
    const message = missingTopicMessage('stream', this.stream, where, await this.streamNames());
    this.ctx.log.info(message);
    this.ctx.status('waiting', message);
  }

  /** Stream keys of this database, for a "did you mean"; none when SCAN is not allowed or the connection is gone. */
  private async streamNames(): Promise<string[]> {
    const control = this.control;
    if (!control) return [];
    try {
      return (await scanStreamKeys(control, { rounds: SUGGEST_SCAN_ROUNDS })).names;
    } catch {
      return []; // a least-privilege user may lack SCAN; the message then goes without a suggestion
    }
  }

  /** Retries with exponential backoff (capped at 5 s) until both connections are back; returns the next backoff. */
  private async reconnect(cause: unknown, backoff: number): Promise<number> {
    this.dropClients();
    let reason = connectionReason(cause);
    let delay = backoff;
    while (!this.closed) {
      this.ctx.status(
        'reconnecting',
        `Lost Redis at ${this.address} (${reason}). Retrying in ${formatSeconds(delay)}; will resume after ID ${this.lastId}.`,
      );
      await this.sleep(delay);
      if (this.closed) break;
      delay = Math.min(delay * 2, BACKOFF_CAP_MS);
      try {
        await this.open();
        const type = await this.keyType();
        if (type !== 'none' && type !== 'stream') throw this.wrongType(type);
        this.ctx.status('running', `Reconnected to Redis at ${this.address}; reading stream "${this.stream}" after ID ${this.lastId}`);
        return delay;
      } catch (err) {
        if (err instanceof SourceError && err.code !== 'unreachable') throw err;
        this.dropClients();
        reason = connectionReason(err instanceof SourceError ? (err.cause ?? err) : err);
      }
    }
    return delay;
  }

  /** Opens the control and reader connections, authenticated and on the right database. */
  private async open(): Promise<void> {
    this.dropClients();
    const control = this.newClient();
    this.control = control;
    await this.connectClient(control);
    try {
      this.reader = await XReadConnection.open({
        host: this.host,
        port: this.port,
        tls: this.tlsOptions(),
        username: this.spec.auth?.username,
        password: this.password,
        connectTimeoutMs: 10_000,
      });
      if (this.db !== 0) await this.reader.command(['SELECT', String(this.db)]);
    } catch (err) {
      throw this.connectError(err);
    }
    if (this.closed) this.dropClients(); // close() ran while we were connecting
  }

  private newClient(): Redis {
    const client = new Redis({
      host: this.host,
      port: this.port,
      username: this.spec.auth?.username,
      password: this.password,
      tls: this.tlsOptions(),
      protocol: 2,
      lazyConnect: true,
      // Reconnection is ours: it must resume from our last ID and report status, not replay a stale XREAD.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      enableOfflineQueue: false,
      connectTimeout: 10_000,
      keepAlive: 10_000,
      // No INFO ready check and no CLIENT SETINFO: a least-privilege ACL user needs only the commands listed above.
      enableReadyCheck: false,
      disableClientInfo: true,
    });
    // Errors surface through the rejected commands; an 'error' event without a listener would be printed.
    client.on('error', (err: Error) => {
      (client as RedisWithLastError).lastError = err;
    });
    return client;
  }

  private async connectClient(client: Redis): Promise<void> {
    try {
      await client.connect();
    } catch (err) {
      throw this.connectError((client as RedisWithLastError).lastError ?? err);
    }
    if (this.db !== 0) {
      try {
        await client.select(this.db);
      } catch (err) {
        throw new SourceError(
          `Redis at ${this.address} has no database ${this.db} (${firstLine(err)}). Use a db index below the server's "databases" setting.`,
          'config',
        );
      }
    }
  }

  private tlsOptions(): ConnectionOptions | undefined {
    const tls = this.spec.tls;
    if (!tls) return undefined;
    // SNI takes host names only; Node warns when given an IP address.
    const options: ConnectionOptions = isIP(this.host) ? {} : { servername: this.host };
    if (tls === true) return options;
    try {
      if (tls.ca) options.ca = readFileSync(tls.ca);
      if (tls.cert) options.cert = readFileSync(tls.cert);
      if (tls.key) options.key = readFileSync(tls.key);
    } catch (err) {
      throw new SourceError(`Cannot read TLS material for Redis at ${this.address}: ${firstLine(err)}. Check the file path.`, 'config');
    }
    if (tls.rejectUnauthorized !== undefined) options.rejectUnauthorized = tls.rejectUnauthorized;
    return options;
  }

  /** The ID after which reading starts; `latest` is pinned now so nothing added before the first read is lost. */
  private async resolveStart(type: string): Promise<string> {
    const from = this.spec.from;
    switch (from.kind) {
      case 'earliest':
        return '0-0';
      case 'latest':
        return type === 'none' ? '0-0' : ((await this.lastEntryId()) ?? '0-0');
      case 'time':
        return from.time > 0 ? `${Math.floor(from.time) - 1}-${MAX_SEQUENCE}` : '0-0';
      case 'id':
        if (!/^\d+(-\d+)?$/.test(from.id)) {
          throw new SourceError(`"${from.id}" is not a Redis stream ID. Use <milliseconds>-<sequence>, for example 1700000000000-0.`, 'config');
        }
        return from.id;
    }
  }

  private async keyType(): Promise<string> {
    const control = this.control;
    if (!control) throw new Error('Connection is closed.');
    try {
      return (await control.type(this.stream)) as string;
    } catch (err) {
      throw this.replyError(err) ?? err;
    }
  }

  private async lastEntryId(): Promise<string | undefined> {
    const control = this.control;
    if (!control) throw new Error('Connection is closed.');
    try {
      const last = (await control.call('XREVRANGE', this.stream, '+', '-', 'COUNT', 1)) as StreamEntry[];
      return last[0]?.[0];
    } catch (err) {
      throw this.replyError(err) ?? err;
    }
  }

  private async lastGeneratedId(): Promise<string | undefined> {
    const control = this.control;
    if (!control) throw new Error('Connection is closed.');
    const info = (await control.call('XINFO', 'STREAM', this.stream)) as unknown[];
    for (let i = 0; i < info.length; i += 2) if (info[i] === 'last-generated-id') return String(info[i + 1]);
    return undefined;
  }

  private wrongType(type: string): SourceError {
    return new SourceError(
      `Key "${this.stream}" in Redis at ${this.address} holds a ${type}, not a stream (WRONGTYPE). ` +
        `Point the monitor at a stream key (check with: redis-cli TYPE ${this.stream}).`,
      'wrongtype',
    );
  }

  /** A server reply that retrying cannot fix becomes a SourceError; connection trouble returns undefined. */
  private replyError(err: unknown): SourceError | undefined {
    const text = firstLine(err);
    const code = /^[A-Z]+(?= |$)/.exec(text)?.[0];
    if (!code || code === 'LOADING' || code === 'BUSY' || code === 'MASTERDOWN' || code === 'TRYAGAIN') return undefined;
    if (code === 'WRONGTYPE') {
      return new SourceError(
        `Key "${this.stream}" in Redis at ${this.address} is not a stream (WRONGTYPE). Point the monitor at a stream key (check with: redis-cli TYPE ${this.stream}).`,
        'wrongtype',
      );
    }
    if (code === 'WRONGPASS' || code === 'NOAUTH' || code === 'NOPERM') return this.authError(code, text);
    return new SourceError(`Redis at ${this.address} refused to read stream "${this.stream}": ${text}`, 'redis');
  }

  private connectError(err: unknown): SourceError {
    const reply = this.replyError(err);
    if (reply) return reply;
    const reason = connectionReason(err);
    if (this.spec.tls && /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_|HOSTNAME|ALTNAME/i.test(reason)) {
      const error = new SourceError(
        `TLS handshake with Redis at ${this.address} failed (${reason}: ${firstLine(err)}). ` +
          `If the server uses its own CA, give its certificate with ?ca=<file> (tls.ca in a config file).`,
        'tls',
      );
      error.cause = err;
      return error;
    }
    const error = new SourceError(
      `Cannot reach Redis at ${this.address} (${reason}). Is the server running? ` +
        `For a local test server run: scripts/broker start redis.`,
      'unreachable',
    );
    error.cause = err;
    return error;
  }

  private authError(code: string, text: string): SourceError {
    const user = this.spec.auth?.username ?? 'default';
    const secret = this.spec.auth?.secret;
    if (code === 'NOAUTH') {
      return new SourceError(
        `Redis at ${this.address} requires a password (NOAUTH). Store it as a secret and add ?secret=<name> to the source URL.`,
        'auth',
      );
    }
    if (code === 'NOPERM') {
      return new SourceError(
        `Redis user "${user}" at ${this.address} may not read stream "${this.stream}" (NOPERM: ${redact(text, this.password ? [this.password] : [])}). ` +
          `Grant it +type +xread +xrevrange +xinfo|stream (+select for a db index) and read access to the key.`,
        'auth',
      );
    }
    return new SourceError(
      `Redis at ${this.address} rejected user "${user}" with ${secret ? `the password in secret "${secret}"` : 'no password'} (WRONGPASS). ` +
        `Check the user name and update the secret.`,
      'auth',
    );
  }

  private dropClients(): void {
    this.control?.disconnect();
    this.reader?.close();
    this.control = undefined;
    this.reader = undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

type RedisWithLastError = Redis & { lastError?: Error };

/** Redis field values are text; canonical decimal numbers become numbers so numeric detectors see them. */
function fieldMapRecord(b: Buffer, start: number, fieldCount: number): Record<string, string | number> {
  const record: Record<string, string | number> = {};
  cursor = start;
  for (let f = 0; f < fieldCount; f += 2) {
    const nameLength = header(b);
    const name = b.toString('utf8', cursor, cursor + nameLength);
    cursor += nameLength + 2;
    const valueLength = header(b);
    const text = b.toString('utf8', cursor, cursor + valueLength);
    cursor += valueLength + 2;
    const n = Number(text);
    record[name] = text !== '' && Number.isFinite(n) && String(n) === text ? n : text;
  }
  return record;
}

const NO_MESSAGES: SourceMessage[] = [];

/**
 * A payload's own copy: a view into the reply would keep the whole ~200 KB reply alive for as long as the
 * engine keeps that message as a sample. Small copies come from Node's shared 8 KB pool, so this stays cheap.
 */
function copyOut(b: Buffer, start: number, length: number): Buffer {
  const value = Buffer.allocUnsafe(length);
  b.copy(value, 0, start, start + length);
  return value;
}

/** Where the RESP helpers below read next; one shared cursor keeps the per-entry path free of allocations. */
let cursor = 0;

/** Reads a `<type><integer>\r\n` header at the cursor (array or bulk length; -1 for null) and moves past it. */
function header(b: Buffer): number {
  let i = cursor + 1;
  let negative = false;
  if (b[i] === 45) {
    negative = true;
    i++;
  }
  let n = 0;
  for (const end = b.length; i < end && b[i] !== 13; i++) n = n * 10 + b[i] - 48;
  cursor = i + 2;
  return negative ? -n : n;
}

/** The index of a field name in DEFAULT_PAYLOAD_FIELDS (earlier wins), or the list's length when it is none of them. */
function payloadRank(b: Buffer, start: number, length: number): number {
  for (let r = 0; r < PAYLOAD_FIELD_BYTES.length; r++) {
    const name = PAYLOAD_FIELD_BYTES[r];
    if (length === name.length && name.compare(b, start, start + length) === 0) return r;
  }
  return PAYLOAD_FIELD_BYTES.length;
}

/**
 * Where the RESP2 value starting at `pos` ends, or -1 while the buffer does not hold all of it yet.
 * Only lengths are read, so checking a partial reply again as chunks arrive stays cheap.
 */
function respEnd(b: Buffer, pos: number): number {
  if (pos >= b.length) return -1;
  const type = b[pos];
  const lineEnd = b.indexOf(10, pos);
  if (lineEnd < 0) return -1;
  if (type === 43 || type === 45 || type === 58) return lineEnd + 1; // + - :
  let n = 0;
  let negative = false;
  for (let i = pos + 1; i < lineEnd - 1; i++) {
    if (b[i] === 45) negative = true;
    else n = n * 10 + b[i] - 48;
  }
  if (negative) return lineEnd + 1; // $-1 or *-1: null
  if (type === 36) {
    const end = lineEnd + 1 + n + 2; // $
    return end <= b.length ? end : -1;
  }
  let p = lineEnd + 1; // *
  for (let i = 0; i < n; i++) {
    p = respEnd(b, p);
    if (p < 0) return -1;
  }
  return p;
}

/** A reply error from Redis (`-WRONGTYPE …`); its message starts with the error code, as ioredis's do. */
class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

interface XReadConnectionOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
}

/**
 * The monitor's blocking-read connection: a minimal RESP2 client (AUTH, SELECT, XREAD) whose replies are handed
 * over as raw bytes. Decoding XREAD replies through a general client cost more than the quality engine itself.
 */
class XReadConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending: Array<{ resolve: (reply: Buffer) => void; reject: (err: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('Connection is closed.')));
  }

  static async open(options: XReadConnectionOptions): Promise<XReadConnection> {
    const socket = options.tls
      ? tls.connect({ ...options.tls, host: options.host, port: options.port })
      : net.connect({ host: options.host, port: options.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect ETIMEDOUT ${options.host}:${options.port}`), { code: 'ETIMEDOUT' });
        socket.destroy(err);
      }, options.connectTimeoutMs);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve();
      });
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
    });
    const connection = new XReadConnection(socket);
    try {
      if (options.password !== undefined) {
        await connection.command(options.username ? ['AUTH', options.username, options.password] : ['AUTH', options.password]);
      }
    } catch (err) {
      connection.close();
      throw err;
    }
    return connection;
  }

  /** Sends one command; resolves with its whole reply as raw bytes, rejects on an error reply or a lost connection. */
  command(args: string[]): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    let text = `*${args.length}\r\n`;
    for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(text);
    });
  }

  close(): void {
    this.fail(new Error('Connection is closed.'));
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.pending.length > 0 && this.buffered.length > 0) {
      const end = respEnd(this.buffered, 0);
      if (end < 0) return;
      const reply = this.buffered.subarray(0, end);
      this.buffered = end === this.buffered.length ? Buffer.alloc(0) : this.buffered.subarray(end);
      const waiter = this.pending.shift()!;
      if (reply[0] === 45) waiter.reject(new RedisReplyError(reply.toString('utf8', 1, reply.length - 2)));
      else waiter.resolve(reply);
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
  }
}

function parseRedisUrl(text: string | undefined): { host: string; port: number } {
  if (!text) return { host: '127.0.0.1', port: 6379 };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SourceError(`"${text}" is not a Redis URL. Use redis://host:port or rediss://host:port.`, 'config');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port: url.port ? Number(url.port) : 6379 };
}

function integerOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SourceError(`Redis option ${name}=${String(value)} must be a whole number of 0 or more.`, 'config');
  return n;
}

/** Compares two stream IDs numerically (`<ms>-<seq>`, each part up to 64 bits). */
export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}

function connectionReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code) return code;
  return firstLine(err) || 'connection closed';
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].trim();
}

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${(ms / 1000).toFixed(2).replace(/0+$/, '')} s` : `${Math.round(ms / 100) / 10} s`;
}

/**
 * The stream keys of a Redis database, by `SCAN … COUNT 1000 TYPE stream`, for the did-you-mean of a missing stream
 * and the wizard's list: at most `rounds` SCAN calls, and no more once over `names` keys; `more` when the scan stopped
 * before the cursor came back to 0.
 */
export async function scanStreamKeys(
  client: Pick<Redis, 'call'>,
  bounds: { rounds?: number; names?: number },
): Promise<{ names: string[]; more: boolean }> {
  const rounds = bounds.rounds ?? Infinity;
  const most = bounds.names ?? Infinity;
  const names = new Set<string>();
  let cursor = '0';
  for (let round = 0; round < rounds; round++) {
    const [next, keys] = (await client.call('SCAN', cursor, 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]];
    for (const k of keys) names.add(k);
    cursor = next;
    if (cursor === '0' || names.size > most) break;
  }
  return { names: [...names], more: cursor !== '0' };
}
