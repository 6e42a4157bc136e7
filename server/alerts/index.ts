/**
 * SinkSet: the alert sinks of one config (or one CLI run), each with its filter and its own bounded queue.
 * A pipeline's alert handler calls `deliver`, which filters and queues and returns at once; the queues deliver
 * in the background. On stop the host calls `flush(deadline)` to deliver what is queued, then `close()`.
 */
import type { AlertEvent, RecoveredEvent } from '../engine/events';
import { credentialProblem } from '../secrets/credentials';
import { AlertmanagerTransport } from './alertmanager';
import { CommandTransport } from './command';
import { sinkFilter, type SinkFilter } from './filter';
import { PagerDutyTransport } from './pagerduty';
import { DEFAULT_TIMEOUT_MS, SinkQueue } from './queue';
import { SlackTransport } from './slack';
import { SINK_KINDS, type SinkConfig, type SinkContext, type SinkEvent, type SinkSetApi, type SinkStats, type TestOutcome, type Transport } from './types';
import { WebhookTransport } from './webhook';

export * from './types';

interface Sink {
  config: SinkConfig;
  filter: SinkFilter;
  queue: SinkQueue;
  transport: Transport;
}

/** What is wrong with a sink's declaration, in words for a diagnostic; empty when it can run. */
export function sinkProblems(c: SinkConfig): string[] {
  const out: string[] = [];
  if (!SINK_KINDS.includes(c.kind)) {
    out.push(`Unknown alert sink kind "${String(c.kind)}": use one of ${SINK_KINDS.join(', ')}.`);
    return out;
  }
  const needsUrl = c.kind === 'webhook' || c.kind === 'alertmanager' || (c.kind === 'slack' && !c.channel && !c.secret);
  if (needsUrl && !c.url) out.push(c.kind === 'slack' ? 'A slack sink needs the url of an incoming webhook, or secret: <name> of a secret holding that URL (or channel and secret for chat.postMessage).' : `A ${c.kind} sink needs a url.`);
  if (c.url) {
    const credential = credentialProblem({ url: c.url }, 'config');
    if (credential) out.push(credential.replace('auth: { secret: <name> }', 'secret: <name>'));
    else if (!/^https?:\/\/[^/]/i.test(c.url)) out.push(`The url of an alert sink must be http:// or https://, not "${c.url.replace(/[?#].*$/, '')}".`);
  }
  if (c.kind === 'pagerduty' && !c.secret) out.push('A pagerduty sink needs secret: <name>, the name of the secret holding the routing key (integration key).');
  if (c.kind === 'slack' && c.channel && !c.secret) out.push('A slack sink with a channel posts with chat.postMessage: it needs secret: <name>, the name of the secret holding the bot token.');
  if (c.kind === 'command' && (!c.command || c.command.length === 0 || !c.command[0])) out.push('A command sink needs command: [program, args…] (run without a shell).');
  return out;
}

/** The configs with their names filled in, as SinkSet.fromConfig names them (the code lens and the tree use these). */
export function namedSinks(configs: readonly SinkConfig[]): SinkConfig[] {
  const n = names(configs);
  return configs.map((c, i) => ({ ...c, name: n[i] }));
}

/** `<kind>`, then `<kind>-2`, `<kind>-3` … for unnamed sinks of a kind already used. */
function names(sinks: readonly SinkConfig[]): string[] {
  const used = new Set(sinks.map((s) => s.name).filter((n): n is string => !!n));
  return sinks.map((s) => {
    if (s.name) return s.name;
    let name: string = s.kind;
    for (let i = 2; used.has(name); i++) name = `${s.kind}-${i}`;
    used.add(name);
    return name;
  });
}

function transportFor(c: SinkConfig, ctx: SinkContext): Transport {
  switch (c.kind) {
    case 'webhook':
      return new WebhookTransport(c, ctx);
    case 'slack':
      return new SlackTransport(c, ctx);
    case 'pagerduty':
      return new PagerDutyTransport(c, ctx);
    case 'alertmanager':
      return new AlertmanagerTransport(c);
    case 'command':
      return new CommandTransport(c);
  }
}

export class SinkSet implements SinkSetApi {
  private constructor(private readonly sinks: Sink[]) {}

  /** Sinks that cannot run (see sinkProblems) are left out, each with one error logged. */
  static fromConfig(configs: readonly SinkConfig[], ctx: SinkContext): SinkSet {
    const named = names(configs);
    const sinks: Sink[] = [];
    configs.forEach((c, i) => {
      const config = { ...c, name: named[i] };
      const problems = sinkProblems(config);
      if (problems.length > 0) {
        ctx.log.error(`alert sink ${config.name} not started: ${problems.join(' ')}`);
        return;
      }
      const transport = transportFor(config, ctx);
      const queue = new SinkQueue(transport, { name: config.name, kind: config.kind, queue: config.queue, timeoutMs: config.timeoutMs, retries: config.retries, backoffMs: config.backoffMs, log: ctx.log });
      sinks.push({ config, filter: sinkFilter(config), queue, transport });
    });
    return new SinkSet(sinks);
  }

  static empty(): SinkSet {
    return new SinkSet([]);
  }

  get size(): number {
    return this.sinks.length;
  }

  /** The sinks' configs as run (with their names). */
  configs(): SinkConfig[] {
    return this.sinks.map((s) => s.config);
  }

  deliver(e: AlertEvent | RecoveredEvent): void {
    for (const s of this.sinks) {
      try {
        if (s.filter(e)) s.queue.push(e);
      } catch {
        // A filter over a malformed event cannot stop the others; push itself never throws.
      }
    }
  }

  async flush(deadlineMs: number): Promise<{ delivered: number; left: number }> {
    const before = this.sinks.reduce((n, s) => n + s.queue.deliveredCount, 0);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadlineMs))));
    // Past the deadline nothing waits for its backoff any more.
    for (const s of this.sinks) s.queue.hurry();
    const hurry = setInterval(() => this.sinks.forEach((s) => s.queue.hurry()), 50);
    try {
      await Promise.race([Promise.all(this.sinks.map((s) => s.queue.idle())), deadline]);
    } finally {
      clearTimeout(timer);
      clearInterval(hurry);
    }
    const delivered = this.sinks.reduce((n, s) => n + s.queue.deliveredCount, 0) - before;
    const left = this.sinks.reduce((n, s) => n + s.queue.pending, 0);
    return { delivered, left };
  }

  stats(): SinkStats[] {
    return this.sinks.map((s) => s.queue.stats());
  }

  /** The figures of the sinks that take this pipeline's events (by their `pipelines:`; severity and detectors aside). */
  statsFor(pipeline: string): SinkStats[] {
    return this.sinks.filter((s) => !s.config.pipelines?.length || s.config.pipelines.includes(pipeline)).map((s) => s.queue.stats());
  }

  async close(): Promise<void> {
    for (const s of this.sinks) s.queue.close();
  }

  /**
   * "Send test alert": one attempt of a test event straight to the named sink (no filter, no queue, no
   * retry), so the outcome is the receiver's own answer.
   */
  async test(name: string, event: SinkEvent): Promise<TestOutcome> {
    const s = this.sinks.find((x) => x.config.name === name);
    if (!s) return { ok: false, message: `no alert sink named ${name}` };
    return testDelivery(s.transport, s.config, event);
  }
}

/** One test delivery through a transport, timed, with its outcome in words. */
export async function testDelivery(transport: Transport, config: SinkConfig, event: SinkEvent): Promise<TestOutcome> {
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  const t0 = Date.now();
  try {
    const r = await Promise.race([
      transport.send({ ...event, test: true }, ctl.signal),
      new Promise<{ ok: false; error: string; retry: true }>((resolve) => ctl.signal.addEventListener('abort', () => resolve({ ok: false, error: `timed out after ${timeoutMs} ms`, retry: true }))),
    ]);
    const ms = Date.now() - t0;
    const label = config.name ?? config.kind;
    if (r.ok) return { ok: true, message: `Test alert delivered to ${label} (${config.kind}) in ${ms} ms.` };
    return { ok: false, message: `Test alert to ${label} (${config.kind}) failed: ${ctl.signal.aborted ? `timed out after ${timeoutMs} ms` : r.error}.` };
  } catch (err) {
    return { ok: false, message: `Test alert to ${config.name ?? config.kind} failed: ${(err as Error).message}.` };
  } finally {
    clearTimeout(timer);
  }
}

/** A made-up alert for "Send test alert": plausible figures, marked `test`. */
export function testEvent(pipeline: string, now = Date.now()): SinkEvent {
  return {
    type: 'alert',
    test: true,
    pipeline,
    time: now,
    severity: 'warning',
    detector: 'outliers',
    value: 0.09,
    threshold: 0.05,
    records: 0,
    message: `Test alert from Clean Streams for pipeline ${pipeline}: nothing is wrong, this checks that alerts reach you.`,
    samples: [],
    fields: [],
  };
}
