/** The extension's picture of the agent's pipelines, fed by clean/status, clean/metrics and clean/alert. */
import type { AlertParams, MetricsEvent, PipelineInfo, StatusParams } from '../../shared/protocol';
import type { AlertEvent } from '../../server/engine/events';
import { alertKey } from './alertNotices';

export interface PipelineEntry {
  info: PipelineInfo;
  /** The latest check, once one arrived. */
  metrics?: MetricsEvent;
  /** Alerts whose metric has not recovered yet, by metric. */
  activeAlerts: Map<string, AlertEvent>;
}

export class PipelineStore {
  private readonly entries = new Map<string, PipelineEntry>();
  private readonly listeners = new Set<() => void>();

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
    this.changed();
  }

  upsert(info: PipelineInfo): void {
    const entry = this.entries.get(info.id);
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
