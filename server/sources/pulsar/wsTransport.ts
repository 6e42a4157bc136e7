/**
 * Pulsar through the broker's WebSocket API (`/ws/v2/reader/...` on the web service port): a non-durable
 * reader per topic partition, acknowledging each message once it is handed to the engine (the reader
 * endpoint uses acknowledgements for flow control only; no cursor is stored). Topic lookups use the
 * read-only admin REST calls of the same port.
 */
import WebSocket from 'ws';
import type { SourceContext, SourceMessage } from '../types';
import { SourceError } from '../types';
import type { PulsarTarget, PulsarTransport } from '../pulsar';
import { HTTP_TIMEOUT_MS, authHeaders, lookupPartitions } from './admin';
import { connectionReason, unreachable, upgradeError } from './errors';
import { describeStart, startMessageId } from './startPosition';

const BACKOFF_START_MS = 250;
const BACKOFF_CAP_MS = 5000;
const MAX_BATCH = 1000;
const PING_INTERVAL_MS = 15_000;
/** Looking again for a topic that does not exist yet: soon at first, then every 5 s. */
const TOPIC_WAIT_START_MS = 500;
const TOPIC_WAIT_CAP_MS = 5000;
/** SourceError codes that mean "try again later" rather than "a person must fix something". */
const RETRYABLE = new Set(['unreachable', 'unavailable']);

/** One reader socket: the whole topic, or one partition of a partitioned topic. */
interface Lane {
  /** Local topic name this socket reads (`orders` or `orders-partition-2`). */
  topic: string;
  socket?: WebSocket;
  /** The last message received on this lane; a reconnect starts after it. */
  lastId?: string;
  /** After a reconnect, a broker that replays the start message inclusively must not hand it to us twice. */
  skipId?: string;
  alive: boolean;
  pinger?: NodeJS.Timeout;
}

/** A received message waiting for the engine, with the socket that must see its acknowledgement. */
interface Pending {
  message: SourceMessage;
  socket: WebSocket;
  ack: string;
}

interface ReaderFrame {
  messageId?: string;
  payload?: string;
  properties?: Record<string, string>;
  publishTime?: string;
  key?: string;
}

export class PulsarWebSocketTransport implements PulsarTransport {
  readonly name = 'websocket' as const;
  private token: string | undefined;
  private lanes: Lane[] = [];
  private queue: Pending[] = [];
  private closed = false;
  private wake: (() => void) | undefined;
  private lostReason = 'connection closed';
  /** The topic did not exist when the monitor started, so everything in it arrived since: read it from the earliest message. */
  private appeared = false;
  /** For a start time: the WebSocket reader cannot seek by time, so earlier messages are skipped here. */
  private readonly notBefore: number | undefined;

  constructor(
    private readonly target: PulsarTarget,
    private readonly ctx: SourceContext,
  ) {
    this.notBefore = target.from.kind === 'time' ? target.from.time : undefined;
  }

  async connect(token: string | undefined): Promise<void> {
    this.token = token;
    this.closed = false;
    const t = this.target;
    this.ctx.status('connecting', `Connecting to Pulsar at ${t.address} over the WebSocket API (transport: websocket)`);
    let delay = BACKOFF_START_MS;
    let waitDelay = TOPIC_WAIT_START_MS;
    let logged = '';
    for (;;) {
      try {
        await this.openLanes();
        break;
      } catch (err) {
        if (err instanceof SourceError && err.code === 'missing') {
          // A reader on a missing topic would create it (brokers auto-create by default): wait for someone else to.
          if (err.message !== logged) this.ctx.log.info((logged = err.message));
          this.ctx.status('waiting', err.message);
          this.ctx.log.debug(`Pulsar at ${t.address}: no topic ${t.fullName} in the admin API; looking again in ${formatSeconds(waitDelay)}`);
          this.appeared = true;
          if (this.closed) return;
          await this.sleep(waitDelay);
          if (this.closed) return;
          waitDelay = Math.min(waitDelay * 2, TOPIC_WAIT_CAP_MS);
          continue;
        }
        if (!(err instanceof SourceError) || !RETRYABLE.has(err.code)) throw err;
        if (this.closed) return;
        // The status repeats every retry; the log says it once per distinct reason.
        if (err.message !== logged) this.ctx.log.warn((logged = err.message));
        this.ctx.status('reconnecting', `${err.message} Retrying in ${formatSeconds(delay)}.`);
        await this.sleep(delay);
        if (this.closed) return;
        delay = Math.min(delay * 2, BACKOFF_CAP_MS);
      }
    }
    const partitions = this.lanes.length > 1 || this.lanes[0]?.topic !== t.local ? ` (${this.lanes.length} partitions)` : '';
    const message = `Reading ${t.fullName}${partitions} at ${t.address} over the WebSocket API (transport: websocket), ${describeStart(t.from)}`;
    this.ctx.log.info(message);
    this.ctx.status('running', message);
  }

  async *consume(): AsyncGenerator<SourceMessage[]> {
    while (!this.closed) {
      if (this.queue.length > 0) {
        const n = Math.min(this.queue.length, MAX_BATCH);
        const taken = n === this.queue.length ? this.queue : this.queue.slice(0, n);
        this.queue = n === this.queue.length ? [] : this.queue.slice(n);
        const batch = new Array<SourceMessage>(n);
        for (let i = 0; i < n; i++) {
          const p = taken[i];
          batch[i] = p.message;
          // The reader stops after receiverQueueSize unacknowledged messages; acking on hand-over is our backpressure.
          if (p.socket.readyState === WebSocket.OPEN) p.socket.send(p.ack);
        }
        yield batch;
        continue;
      }
      if (this.lanes.some((lane) => lane.socket === undefined)) {
        await this.reconnect();
        continue;
      }
      await this.sleep(0);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const lane of this.lanes) this.dropLane(lane, true);
    this.wake?.();
  }

  /** Opens every lane that has no socket; the first call also looks the topic up. */
  private async openLanes(): Promise<void> {
    if (this.lanes.length === 0) {
      const partitions = await lookupPartitions(this.target, this.token, this.ctx.log);
      const t = this.target;
      this.lanes = partitions > 0 ? Array.from({ length: partitions }, (_, i) => ({ topic: `${t.local}-partition-${i}`, alive: true })) : [{ topic: t.local, alive: true }];
    }
    const down = this.lanes.filter((lane) => lane.socket === undefined);
    const results = await Promise.allSettled(down.map((lane) => this.openLane(lane)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      for (const lane of down) this.dropLane(lane, true);
      throw failed.reason;
    }
  }

  private readerUrl(lane: Lane): string {
    const t = this.target;
    const start = lane.lastId ?? (this.appeared && t.from.kind === 'latest' ? 'earliest' : startMessageId(t.from));
    const query = `messageId=${encodeURIComponent(start)}&receiverQueueSize=${t.receiverQueueSize}&readerName=clean-streams-monitor`;
    return `${t.secure ? 'wss' : 'ws'}://${hostForUrl(t.hostname)}:${t.port}/ws/v2/reader/persistent/${encodeURIComponent(t.tenant)}/${encodeURIComponent(t.namespace)}/${encodeURIComponent(lane.topic)}?${query}`;
  }

  private openLane(lane: Lane): Promise<void> {
    const t = this.target;
    const socket = new WebSocket(this.readerUrl(lane), {
      headers: authHeaders(this.token),
      handshakeTimeout: HTTP_TIMEOUT_MS,
      perMessageDeflate: false,
      ...(t.secure ? { ca: t.tls?.ca, cert: t.tls?.cert, key: t.tls?.key, rejectUnauthorized: t.tls?.rejectUnauthorized, servername: t.hostname } : {}),
    });
    return new Promise<void>((resolve, reject) => {
      let opened = false;
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk.length + body.length > 8192 ? '' : chunk));
        res.on('end', () => reject(upgradeError(t, this.token, res.statusCode ?? 0, body, lane.topic)));
        res.on('error', () => reject(upgradeError(t, this.token, res.statusCode ?? 0, body, lane.topic)));
      });
      socket.on('error', (err: Error) => {
        if (!opened) reject(unreachable(t, err));
        else this.lostReason = connectionReason(err);
      });
      socket.on('open', () => {
        opened = true;
        lane.socket = socket;
        lane.alive = true;
        lane.pinger = setInterval(() => {
          if (!lane.alive) {
            this.lostReason = `no answer to ping within ${PING_INTERVAL_MS / 1000} s`;
            socket.terminate();
            return;
          }
          lane.alive = false;
          socket.ping();
        }, PING_INTERVAL_MS);
        lane.pinger.unref?.();
        resolve();
      });
      socket.on('pong', () => (lane.alive = true));
      socket.on('message', (data: WebSocket.RawData) => this.onFrame(lane, socket, data));
      socket.on('close', (code: number, reason: Buffer) => {
        if (!opened) {
          reject(new SourceError(`Pulsar at ${t.address} closed the reader connection for ${t.fullName} before it opened (code ${code}).`, 'unavailable'));
          return;
        }
        if (lane.socket !== socket) return;
        if (lane.pinger) clearInterval(lane.pinger);
        lane.socket = undefined;
        if (!this.closed) {
          const why = reason.length ? `: ${reason.toString()}` : '';
          if (this.lostReason === 'connection closed' || code !== 1006) this.lostReason = `connection closed, code ${code}${why}`;
          this.ctx.log.warn(`Pulsar reader for ${t.fullName} at ${t.address} lost its connection (${this.lostReason})`);
        }
        this.wake?.();
      });
    });
  }

  private onFrame(lane: Lane, socket: WebSocket, data: WebSocket.RawData): void {
    let frame: ReaderFrame;
    try {
      frame = JSON.parse(data.toString()) as ReaderFrame;
    } catch {
      this.ctx.log.warn(`Pulsar at ${this.target.address} sent a reader frame that is not JSON; ignored.`);
      return;
    }
    const id = frame.messageId;
    if (typeof id !== 'string') return;
    const ack = `{"messageId":"${id}"}`;
    if (lane.skipId !== undefined) {
      const skip = lane.skipId === id;
      lane.skipId = undefined;
      if (skip) {
        socket.send(ack);
        return;
      }
    }
    const timestamp = frame.publishTime ? Date.parse(frame.publishTime) : undefined;
    if (this.notBefore !== undefined && timestamp !== undefined && timestamp < this.notBefore) {
      socket.send(ack);
      return;
    }
    lane.lastId = id;
    const message: SourceMessage = { value: Buffer.from(frame.payload ?? '', 'base64'), position: id, timestamp };
    if (frame.key !== undefined) message.key = frame.key;
    if (frame.properties) message.headers = frame.properties;
    this.queue.push({ message, socket, ack });
    if (this.queue.length === 1) this.wake?.();
  }

  /** Retries with exponential backoff (capped at 5 s) until every lane is back, resuming after its last message. */
  private async reconnect(): Promise<void> {
    const t = this.target;
    let delay = BACKOFF_START_MS;
    let reason = this.lostReason;
    for (const lane of this.lanes) if (lane.socket === undefined && lane.lastId !== undefined) lane.skipId = lane.lastId;
    while (!this.closed) {
      this.ctx.status('reconnecting', `Lost Pulsar at ${t.address} (${reason}). Retrying in ${formatSeconds(delay)}; will resume ${this.resumePoint()}.`);
      await this.sleep(delay);
      if (this.closed) return;
      delay = Math.min(delay * 2, BACKOFF_CAP_MS);
      try {
        await this.openLanes();
        this.lostReason = 'connection closed';
        const message = `Reconnected to Pulsar at ${t.address} (transport: websocket); reading ${t.fullName} ${this.resumePoint()}`;
        this.ctx.log.info(message);
        this.ctx.status('running', message);
        return;
      } catch (err) {
        if (!(err instanceof SourceError) || !RETRYABLE.has(err.code)) throw err;
        reason = err.code === 'unreachable' ? connectionReason((err as { cause?: unknown }).cause ?? err) : err.message;
      }
    }
  }

  private resumePoint(): string {
    const ids = this.lanes.map((lane) => lane.lastId).filter((id): id is string => id !== undefined);
    if (ids.length === 0) return describeStart(this.target.from);
    return ids.length === 1 ? `after message ${ids[0]}` : `after the last message seen on each of ${this.lanes.length} partitions`;
  }

  private dropLane(lane: Lane, terminate: boolean): void {
    if (lane.pinger) clearInterval(lane.pinger);
    lane.pinger = undefined;
    const socket = lane.socket;
    lane.socket = undefined;
    if (socket && terminate) {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000);
      else socket.terminate();
    }
  }

  /** Waits for ms, for a new message, a lost connection or close(); ms = 0 waits for an event only. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
      const wakeOnEvent = ms === 0;
      const self = this;
      function done(): void {
        if (timer) clearTimeout(timer);
        if (self.wake === wake) self.wake = undefined;
        resolve();
      }
      // A backoff sleep only ends early for close(); an idle wait also ends for a message or a lost lane.
      const wake = wakeOnEvent ? done : () => (self.closed ? done() : undefined);
      this.wake = wake;
    });
  }
}

function hostForUrl(hostname: string): string {
  return hostname.includes(':') ? `[${hostname}]` : hostname;
}

export function formatSeconds(ms: number): string {
  return ms < 1000 ? `${(ms / 1000).toFixed(2).replace(/0+$/, '')} s` : `${Math.round(ms / 100) / 10} s`;
}
