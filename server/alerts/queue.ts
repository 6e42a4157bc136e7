/**
 * One sink's delivery queue: bounded, drained by one worker, each event retried with exponential backoff and
 * full jitter. Everything here runs off the record path: `push` only appends (or drops the oldest waiting
 * event when the queue is full) and wakes the worker, so a receiver that is slow, down or hanging costs the
 * pipeline nothing but the queue's memory.
 *
 * Failures and drops are counted, and logged at most once per LOG_EVERY_MS per sink (with the counts since
 * the last line), so a sink that is down for hours writes one line a minute, not one per event.
 */
import type { DeliveryResult, Logger, SinkEvent, SinkKind, SinkStats, Transport } from './types';

export const DEFAULT_QUEUE = 1000;
export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_RETRIES = 3;
/** The first retry waits up to this long; each further one up to twice the previous, capped at MAX_BACKOFF_MS. */
export const DEFAULT_BACKOFF_MS = 500;
export const MAX_BACKOFF_MS = 30_000;
export const LOG_EVERY_MS = 60_000;

export interface QueueOptions {
  name: string;
  kind: SinkKind;
  queue?: number;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  log: Logger;
  /** Random in [0, 1): replaced in tests that need known delays. */
  random?: () => number;
}

/** The full-jitter delay before retry `attempt` (1-based): uniform in [0, min(cap, base × 2^(attempt-1))). */
export function backoffDelay(attempt: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, baseMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export class SinkQueue {
  readonly name: string;
  readonly kind: SinkKind;
  private readonly items: SinkEvent[] = [];
  private readonly capacity: number;
  private readonly timeoutMs: number;
  private readonly retriesMax: number;
  private readonly backoffMs: number;
  private readonly random: () => number;
  private readonly log: Logger;
  private delivered = 0;
  private failed = 0;
  private dropped = 0;
  private retries = 0;
  private lastError: string | undefined;
  private failing = false;
  /** The worker is delivering the head of `items` (it stays queued until done). */
  private busy = false;
  private closed = false;
  private readonly abort = new AbortController();
  private sleepTimer: NodeJS.Timeout | null = null;
  private wakeSleep: (() => void) | null = null;
  private readonly idleWaiters: Array<() => void> = [];
  /** Unlogged figures since the last log line, and when it was written. */
  private loggedAt = -Infinity;
  private unloggedFailed = 0;
  private unloggedDropped = 0;
  private logTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly transport: Transport,
    options: QueueOptions,
  ) {
    this.name = options.name;
    this.kind = options.kind;
    this.capacity = Math.max(1, options.queue ?? DEFAULT_QUEUE);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retriesMax = Math.max(0, options.retries ?? DEFAULT_RETRIES);
    this.backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    this.random = options.random ?? Math.random;
    this.log = options.log;
    if (transport.tick && transport.tickMs) {
      this.tickTimer = setInterval(() => void this.runTick(), transport.tickMs);
      this.tickTimer.unref();
    }
  }

  /** Queues the event; when full, the oldest waiting event (not the one in flight) is dropped. Never throws. */
  push(e: SinkEvent): void {
    if (this.closed) {
      this.countDrop(1);
      return;
    }
    if (this.items.length >= this.capacity) {
      // The head is in flight while busy: drop the next oldest instead.
      const at = this.busy ? 1 : 0;
      if (at < this.items.length) this.items.splice(at, 1);
      this.countDrop(1);
      if (this.items.length >= this.capacity) return; // capacity 1 with one in flight: the new event is the drop
    }
    this.items.push(e);
    if (!this.busy) void this.work();
  }

  get pending(): number {
    return this.items.length;
  }

  get deliveredCount(): number {
    return this.delivered;
  }

  stats(): SinkStats {
    const s: SinkStats = {
      name: this.name,
      kind: this.kind,
      queued: this.items.length,
      delivered: this.delivered,
      failed: this.failed,
      dropped: this.dropped,
      retries: this.retries,
      failing: this.failing,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  /** Resolves once the queue is empty (now, if it is). */
  idle(): Promise<void> {
    if (this.items.length === 0 && !this.busy) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Skips a pending backoff wait: a flush wants the next attempt now. */
  hurry(): void {
    if (this.wakeSleep) this.wakeSleep();
  }

  /** Aborts the attempt in flight and drops (counts) what is still queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    if (this.wakeSleep) this.wakeSleep();
    if (this.tickTimer) clearInterval(this.tickTimer);
    const left = this.items.length;
    this.items.length = 0;
    if (left > 0) this.countDrop(left);
    this.writeLog();
    if (this.logTimer) clearTimeout(this.logTimer);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async work(): Promise<void> {
    this.busy = true;
    try {
      while (this.items.length > 0 && !this.closed) {
        const e = this.items[0];
        const ok = await this.attempt(e);
        if (this.closed) break;
        // The head may have been dropped while in flight only by close(); otherwise it is still ours.
        if (this.items[0] === e) this.items.shift();
        if (ok) this.delivered++;
        else {
          this.failed++;
          this.unloggedFailed++;
          this.noteProblem();
        }
      }
    } finally {
      this.busy = false;
      if (this.items.length === 0 || this.closed) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  /** Sends one event with its retries; true when it got through. */
  private async attempt(e: SinkEvent): Promise<boolean> {
    for (let n = 0; ; n++) {
      const r = await this.sendOnce(e);
      if (r.ok) {
        this.failing = false;
        return true;
      }
      this.failing = true;
      this.lastError = r.error;
      if (!r.retry || n >= this.retriesMax || this.closed) return false;
      this.retries++;
      await this.sleep(backoffDelay(n + 1, this.backoffMs, this.random));
      if (this.closed) return false;
    }
  }

  private async sendOnce(e: SinkEvent): Promise<DeliveryResult> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    this.abort.signal.addEventListener('abort', onAbort);
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    try {
      const r = await Promise.race([
        this.transport.send(e, ctl.signal),
        // A transport that ignores its signal still cannot hold the queue past the timeout.
        new Promise<DeliveryResult>((resolve) => ctl.signal.addEventListener('abort', () => resolve(timedOut(this.timeoutMs, this.closed)))),
      ]);
      return r.ok || !ctl.signal.aborted ? r : timedOut(this.timeoutMs, this.closed);
    } catch (err) {
      return { ok: false, error: `failed: ${(err as Error).message}`, retry: true };
    } finally {
      clearTimeout(timer);
      this.abort.signal.removeEventListener('abort', onAbort);
    }
  }

  private async runTick(): Promise<void> {
    if (this.closed || !this.transport.tick) return;
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    try {
      await this.transport.tick(ctl.signal);
    } catch {
      // The next tick tries again; a failed re-post is not an event lost.
    } finally {
      clearTimeout(timer);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = null;
        this.wakeSleep = null;
        resolve();
      };
      this.wakeSleep = done;
      this.sleepTimer = setTimeout(done, ms);
    });
  }

  private countDrop(n: number): void {
    this.dropped += n;
    this.unloggedDropped += n;
    this.noteProblem();
  }

  /** Logs now if the last line is a minute old, else once when the minute is up. */
  private noteProblem(): void {
    if (Date.now() - this.loggedAt >= LOG_EVERY_MS) this.writeLog();
    else if (!this.logTimer && !this.closed) {
      this.logTimer = setTimeout(() => {
        this.logTimer = null;
        this.writeLog();
      }, LOG_EVERY_MS - (Date.now() - this.loggedAt));
      this.logTimer.unref();
    }
  }

  private writeLog(): void {
    if (this.unloggedFailed === 0 && this.unloggedDropped === 0) return;
    const parts: string[] = [];
    if (this.unloggedFailed > 0) parts.push(`${this.unloggedFailed} event${this.unloggedFailed === 1 ? '' : 's'} not delivered${this.lastError ? ` (${this.lastError})` : ''}`);
    if (this.unloggedDropped > 0) parts.push(`${this.unloggedDropped} dropped (queue full at ${this.capacity}${this.closed ? ', or left at stop' : ''})`);
    this.log.warn(`alert sink ${this.name}: ${parts.join('; ')}`);
    this.unloggedFailed = 0;
    this.unloggedDropped = 0;
    this.loggedAt = Date.now();
  }
}

function timedOut(ms: number, closed: boolean): DeliveryResult {
  return closed ? { ok: false, error: 'stopped', retry: false } : { ok: false, error: `timed out after ${ms} ms`, retry: true };
}
