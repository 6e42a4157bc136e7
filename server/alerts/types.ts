/**
 * Alert sinks: where alerts and recoveries go beyond the editor and stdout (a webhook, Slack, PagerDuty,
 * Alertmanager, a local command). The contract the CLI, the agent and the metrics code use.
 *
 * A sink never slows or stalls a pipeline: `deliver` only puts the event on the sink's bounded queue and
 * returns; delivery, retries and timeouts run off the record path. A sink that is down costs memory only up
 * to its queue, and what it drops or fails to deliver is counted in its stats.
 */
import type { SinkStatus } from '../../shared/protocol';
import type { AlertEvent, RecoveredEvent, Severity } from '../engine/events';
import type { Logger } from '../sources/types';

export type { Logger } from '../sources/types';

export type SinkKind = 'webhook' | 'slack' | 'pagerduty' | 'alertmanager' | 'command';
export const SINK_KINDS: readonly SinkKind[] = ['webhook', 'slack', 'pagerduty', 'alertmanager', 'command'];

/** What a sink carries: an alert or a recovery. `test` marks the event sent by "Send test alert". */
export type SinkEvent = (AlertEvent | RecoveredEvent) & { test?: boolean };

/** One sink as declared in clean.yaml (`alerts:`) or on the CLI (`--alert-webhook <url>`). */
export interface SinkConfig {
  kind: SinkKind;
  /** A name for logs, the tree and metrics; default `<kind>` (`<kind>-2`, … when a kind repeats). */
  name?: string;
  /** The receiver: webhook URL, Slack incoming-webhook URL, PagerDuty events URL, Alertmanager base URL. */
  url?: string;
  /**
   * A secret NAME, never a value: the webhook's HMAC key, PagerDuty's routing key, Slack's bot token in
   * chat.postMessage mode. Resolved through the pipeline's secret lookup (headless: CLEAN_SECRET_<NAME>).
   */
  secret?: string;
  /** Slack chat.postMessage mode (threads recoveries under their alert): the channel to post to. */
  channel?: string;
  /** Events below this severity are not sent (recoveries follow their alert). Default `warning`: all. */
  minSeverity?: Severity;
  /** Only these pipelines' events (default: all). */
  pipelines?: string[];
  /** Only these detectors' events; `score` names the quality-score alert (default: all). */
  detectors?: string[];
  /** Events waiting for delivery at most; past it the oldest is dropped and counted. Default 1000. */
  queue?: number;
  /** One delivery attempt's deadline. Default 5000 ms. */
  timeoutMs?: number;
  /** Attempts after the first one failed (exponential backoff with full jitter). Default 3. */
  retries?: number;
  /** The first retry's backoff ceiling, doubling per retry (full jitter: a uniform wait below it). Default 500 ms. */
  backoffMs?: number;
  /** `alertmanager`: how often alerts still firing are re-posted (keep it under half of resolve_timeout). Default 60000 ms. */
  resendMs?: number;
  /** `command`: the program and its arguments, run without a shell, the event as JSON on stdin. */
  command?: string[];
  /** Where the sink was declared in clean.yaml (0-based line), for the code lens and diagnostics. */
  line?: number;
}

/**
 * A sink's figures, for the tree, the status and /metrics: the protocol's SinkStatus (the one declaration
 * of its fields), with the kind narrowed. Counters only grow while the sink lives.
 */
export interface SinkStats extends SinkStatus {
  kind: SinkKind;
}

/** What a sink needs from its host. */
export interface SinkContext {
  log: Logger;
  /** Resolves a secret by name; undefined when it is not set. Values are never logged. */
  secret(name: string): Promise<string | undefined>;
}

/** The outcome of one delivery attempt. */
export type DeliveryResult = { ok: true } | { ok: false; error: string; /** Worth another attempt (5xx, 429, timeouts, network). */ retry: boolean };

/** One kind's delivery: sends one event once; the queue around it retries. Never throws. */
export interface Transport {
  send(event: SinkEvent, signal: AbortSignal): Promise<DeliveryResult>;
  /** Alertmanager re-posts firing alerts: called on a timer while the sink lives. */
  tick?(signal: AbortSignal): Promise<void>;
  /** How often `tick` is wanted, in ms. */
  tickMs?: number;
}

/** The result of "Send test alert". */
export interface TestOutcome {
  ok: boolean;
  /** "delivered to slack in 120 ms", "HTTP 500 from the receiver after 3 attempts". */
  message: string;
}

/** The API of server/alerts/index.ts (SinkSet), spelled out for those who code against it. */
export interface SinkSetApi {
  /** Puts the event on the queue of every sink whose filter takes it. Never blocks, never throws. */
  deliver(e: AlertEvent | RecoveredEvent): void;
  /** Waits until every queue is empty or the deadline (ms from now) passes; then what was delivered and what is left. */
  flush(deadlineMs: number): Promise<{ delivered: number; left: number }>;
  stats(): SinkStats[];
  /** Stops timers and in-flight requests; what is still queued is dropped (counted). Flush first to deliver it. */
  close(): Promise<void>;
}
