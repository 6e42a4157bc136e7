/**
 * Redis Streams as a passive observer: plain XREAD on a dedicated connection, never a consumer group,
 * so the application's groups, pending lists and delivery IDs stay exactly as they would be without us.
 * Commands sent: TYPE, XREVRANGE, XINFO STREAM, and SCAN TYPE stream while a stream is missing (on an ioredis
 * control connection), AUTH, SELECT and XREAD BLOCK (on the reader connection). Nothing that writes: a missing
 * stream is waited for, never created.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import Redis from 'ioredis';
import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from '../types';
import { SourceError } from '../types';
import { missingTopicMessage } from '../missingTopic';
import { MAX_SEQUENCE, compareIds, integerOption, parseRedisUrl } from './config';
import { connectError, connectionReason, firstLine, replyError, wrongType, type RedisWhere } from './errors';
import { scanStreamKeys } from './scan';
import { XReadConnection } from './xreadConnection';
import { xreadMessages } from './xreadReply';

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
    if (type !== 'none' && type !== 'stream') throw wrongType(this.where(), type);
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
        const fatal = replyError(this.where(), outcome.error);
        if (fatal) throw fatal;
        backoff = await this.reconnect(outcome.error, backoff);
        continue;
      }
      backoff = BACKOFF_START_MS;
      const batch = xreadMessages(outcome.reply, this.field);
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
    if (type !== 'stream') throw wrongType(this.where(), type);
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
        if (type !== 'none' && type !== 'stream') throw wrongType(this.where(), type);
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
      throw connectError(this.where(), err);
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
      throw connectError(this.where(), (client as RedisWithLastError).lastError ?? err);
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
      throw replyError(this.where(), err) ?? err;
    }
  }

  private async lastEntryId(): Promise<string | undefined> {
    const control = this.control;
    if (!control) throw new Error('Connection is closed.');
    try {
      const last = (await control.call('XREVRANGE', this.stream, '+', '-', 'COUNT', 1)) as StreamEntry[];
      return last[0]?.[0];
    } catch (err) {
      throw replyError(this.where(), err) ?? err;
    }
  }

  private async lastGeneratedId(): Promise<string | undefined> {
    const control = this.control;
    if (!control) throw new Error('Connection is closed.');
    const info = (await control.call('XINFO', 'STREAM', this.stream)) as unknown[];
    for (let i = 0; i < info.length; i += 2) if (info[i] === 'last-generated-id') return String(info[i + 1]);
    return undefined;
  }

  /** Where failures happen, for their messages. */
  private where(): RedisWhere {
    return { address: this.address, stream: this.stream, username: this.spec.auth?.username, secret: this.spec.auth?.secret, password: this.password, tls: Boolean(this.spec.tls) };
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

function formatSeconds(ms: number): string {
  return ms < 1000 ? `${(ms / 1000).toFixed(2).replace(/0+$/, '')} s` : `${Math.round(ms / 100) / 10} s`;
}
