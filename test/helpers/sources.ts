/** Shared helpers for tests that read real sources: a recording context, a background drain, polling. */
import net from 'node:net';
import type { SourceContext, SourceMessage, StreamSource } from '../../server/sources/types';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Recorded {
  ctx: SourceContext;
  statuses: Array<{ state: string; message: string }>;
  logs: string[];
}

/** A SourceContext that records every status and log line; secrets from a map or a lookup function. */
export function recordingContext(secrets: Record<string, string> | ((name: string) => Promise<string | undefined>) = {}): Recorded {
  const statuses: Recorded['statuses'] = [];
  const logs: string[] = [];
  const log = (level: string) => (msg: string) => void logs.push(`${level}: ${msg}`);
  return {
    statuses,
    logs,
    ctx: {
      log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      status: (state, message) => void statuses.push({ state, message }),
      secret: typeof secrets === 'function' ? secrets : async (name) => secrets[name],
    },
  };
}

/**
 * A record a test appends after its last one: once it has arrived, everything before it in the same stream (or
 * partition) has too, so "nothing more came" is checked on an event rather than after a pause.
 */
export const endMarker = (tag: string) => JSON.stringify({ endMarker: tag });
const isMarker = (m: SourceMessage, tag?: string) => {
  const text = m.value === null || m.value === undefined ? '' : typeof m.value === 'object' && !Buffer.isBuffer(m.value) ? JSON.stringify(m.value) : String(m.value);
  return text.startsWith('{"endMarker":') && (tag === undefined || text === endMarker(tag));
};

/** Consumes a source in the background, collecting every message (optionally slowly, to test backpressure). */
export function drain(source: StreamSource, delayPerBatchMs = 0) {
  const messages: SourceMessage[] = [];
  const state: { error?: unknown } = {};
  const done = (async () => {
    try {
      for await (const batch of source.consume()) {
        messages.push(...batch);
        if (delayPerBatchMs) await sleep(delayPerBatchMs);
      }
    } catch (err) {
      state.error = err;
    }
  })();
  return {
    messages,
    done,
    state,
    /** Resolves once `check` holds; rejects with the source's error, or with what arrived after limitMs. */
    async waitUntil(check: () => boolean, what: string, limitMs = 30_000): Promise<void> {
      const start = Date.now();
      while (!check()) {
        if (state.error) throw state.error;
        if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what} (${messages.length} messages so far)`);
        await sleep(10);
      }
    },
    /** Resolves once `count` end markers tagged `tag` arrived (one per partition), then takes every marker out of `messages`. */
    async untilMarker(tag: string, count = 1, limitMs = 30_000): Promise<void> {
      await this.waitUntil(() => messages.filter((m) => isMarker(m, tag)).length >= count, `${count} end marker(s) "${tag}"`, limitMs);
      for (let i = messages.length - 1; i >= 0; i--) if (isMarker(messages[i])) messages.splice(i, 1);
    },
    /** Resolves once n messages arrived. */
    async waitFor(n: number, limitMs = 30_000): Promise<void> {
      const start = Date.now();
      while (messages.length < n) {
        if (state.error) throw state.error;
        if (Date.now() - start > limitMs) throw new Error(`only ${messages.length} of ${n} messages arrived within ${limitMs} ms`);
        await sleep(10);
      }
    },
  };
}

/** Polls until `check` holds. */
export async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > limitMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** The promise's value, or a rejection naming `what` once limitMs has passed first. */
export function within<T>(what: string, promise: Promise<T>, limitMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${limitMs} ms waiting for ${what}`)), limitMs)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
