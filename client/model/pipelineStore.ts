/** The extension's picture of the agent's pipelines, fed by clean/status, clean/metrics and clean/alert. */
import type { AlertParams, MetricsEvent, PipelineInfo, StartPipelineParams, StatusParams } from '../../shared/protocol';
import type { AlertEvent } from '../../server/engine/events';
import { alertKey } from './alertNotices';
import { STALE_AFTER_MS, isUnreachable } from './pipelineHealth';

export interface PipelineEntry {
  info: PipelineInfo;
  /** The latest check, once one arrived. */
  metrics?: MetricsEvent;
  /** Alerts whose metric has not recovered yet, by metric. */
  activeAlerts: Map<string, AlertEvent>;
  /** Running, but its last check is older than STALE_AFTER_MS: the numbers shown are old, not live. */
  stale?: boolean;
}

export class PipelineStore {
  private readonly entries = new Map<string, PipelineEntry>();
  private readonly listeners = new Set<() => void>();
  private stoppedAt: number | undefined;

  /** Pipelines in start order. */
  list(): PipelineEntry[] {
    return [...this.entries.values()];
  }

  get(id: string): PipelineEntry | undefined {
    return this.entries.get(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Called after every change; the views batch their redraws themselves. */
  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  /** Replaces everything with the agent's list (after a (re)start of the agent). */
  reset(pipelines: readonly PipelineInfo[]): void {
    const before = this.entries;
    const next = new Map<string, PipelineEntry>();
    for (const info of pipelines) {
      const old = before.get(info.id);
      next.set(info.id, { info, metrics: old?.metrics, activeAlerts: old?.activeAlerts ?? new Map() });
    }
    before.clear();
    for (const [k, v] of next) before.set(k, v);
    this.stoppedAt = undefined;
    this.changed();
  }

  /** When the agent stopped for good (its restart limit reached): every number shown is its last, none is live. */
  get agentStoppedAt(): number | undefined {
    return this.stoppedAt;
  }

  markAgentStopped(time: number): void {
    this.stoppedAt = time;
    this.changed();
  }

  /** Marks running pipelines whose last check is older than STALE_AFTER_MS (and clears the mark); true when one changed. */
  sweepStale(now: number): boolean {
    let touched = false;
    for (const entry of this.entries.values()) {
      const stale = entry.info.state === 'running' && entry.metrics !== undefined && now - entry.metrics.time > STALE_AFTER_MS;
      if (stale !== (entry.stale === true)) {
        entry.stale = stale;
        touched = true;
      }
    }
    if (touched) this.changed();
    return touched;
  }

  upsert(given: PipelineInfo): void {
    const { reused: _answerOnly, ...fresh } = given;
    const entry = this.entries.get(fresh.id);
    const info = entry && isRetryOfUnreachable(entry.info, fresh) ? { ...fresh, state: entry.info.state, message: entry.info.message } : fresh;
    if (entry) entry.info = info;
    else this.entries.set(info.id, { info, activeAlerts: new Map() });
    this.changed();
  }

  remove(id: string): void {
    if (this.entries.delete(id)) this.changed();
  }

  applyStatus(status: StatusParams): void {
    if (status.removed) return this.remove(status.info.id);
    this.upsert(status.info);
  }

  applyMetrics(events: readonly MetricsEvent[]): void {
    let touched = false;
    for (const m of events) {
      const entry = this.entries.get(m.pipeline);
      if (!entry) continue;
      if (entry.metrics && entry.metrics.time > m.time) continue;
      entry.metrics = m;
      entry.stale = false;
      entry.info = { ...entry.info, score: m.score, throughput: m.throughput, records: m.records, baseline: m.baseline };
      touched = true;
    }
    if (touched) this.changed();
  }

  applyAlert(event: AlertParams): void {
    const entry = this.entries.get(event.pipeline);
    if (!entry) return;
    const key = alertKey(event);
    if (event.type === 'alert') entry.activeAlerts.set(key, event);
    else entry.activeAlerts.delete(key);
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

/** The status message a pipeline starts with (server/engine/pipeline.ts); a source's own connect says more. */
const PIPELINE_START_MESSAGE = 'connecting';

/**
 * A source that cannot reach its broker tries again: the Kafka source reports `connecting` for each attempt (about as
 * long as the wait before it), between `reconnecting` with the reason. Such an attempt is still the same outage, so the
 * tree, the status bar ("2 down") and the chart header keep it down with its reason until the source gets through
 * (running, waiting for its topic) or says something else. A new start of the pipeline begins with the pipeline's own
 * `connecting`, never held.
 */
function isRetryOfUnreachable(before: PipelineInfo, now: PipelineInfo): boolean {
  return now.state === 'connecting' && now.message !== PIPELINE_START_MESSAGE && before.state === 'reconnecting' && isUnreachable(before);
}

/**
 * How each pipeline was started, by id, to start exactly that again after an agent restart or a window reload.
 * Only what started a pipeline is kept: an answer marked `reused` (the agent already ran that pipeline) keeps the
 * request that started it. Returns whether the record changed.
 */
export function recordStart(started: Map<string, StartPipelineParams>, params: StartPipelineParams, info: PipelineInfo): boolean {
  if (info.reused && started.has(info.id)) return false;
  const { id: _restoreOnly, ...request } = params as StartPipelineParams & { id?: string };
  started.set(info.id, request);
  return true;
}

/** The request that restores a pipeline in a restarted agent: what started it, under the id it had. */
export function restoreRequest(id: string, params: StartPipelineParams): StartPipelineParams {
  return { ...params, id };
}
