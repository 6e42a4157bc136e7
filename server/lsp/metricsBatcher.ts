/** Batches metrics into at most one notification per interval (250 ms: at most 4 per second per pipeline). */
import type { MetricsEvent } from '../engine/events';

export const METRICS_INTERVAL_MS = 250;
/** Checks kept per pipeline between two flushes; older ones are dropped (the history keeps them all). */
export const MAX_EVENTS_PER_PIPELINE = 40;

export class MetricsBatcher {
  private pending = new Map<string, MetricsEvent[]>();
  private lastFlush = -Infinity;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly send: (events: MetricsEvent[]) => void,
    private readonly intervalMs = METRICS_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  add(e: MetricsEvent): void {
    let list = this.pending.get(e.pipeline);
    if (!list) this.pending.set(e.pipeline, (list = []));
    list.push(e);
    if (list.length > MAX_EVENTS_PER_PIPELINE) list.shift();
    if (this.timer) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.now());
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Drops what a pipeline has pending (it was removed). */
  forget(pipeline: string): void {
    this.pending.delete(pipeline);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const events = [...this.pending.values()].flat().sort((a, b) => a.time - b.time);
    this.pending = new Map();
    this.lastFlush = this.now();
    this.send(events);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }
}
