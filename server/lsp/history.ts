/**
 * A bounded, columnar history of one pipeline's checks (at most one point per second), its alerts, and where
 * its latest learning period began and ended (two times, however long the stream).
 */
import { DETECTORS } from '../engine/config';
import type { DetectorName } from '../engine/config';
import type { AlertEvent, MetricsEvent, RecoveredEvent } from '../engine/events';
import type { PipelineHistory } from '../../shared/protocol';

/** Two hours at one point per second. */
export const HISTORY_POINTS = 7200;
export const HISTORY_ALERTS = 500;

export class PipelineHistoryRing {
  private readonly time: Float64Array;
  private readonly score: Float64Array;
  private readonly throughput: Float64Array;
  private readonly records: Float64Array;
  /** NaN where the detector had no rate at that point. */
  private readonly detectors = new Map<DetectorName, Float64Array>();
  private head = 0; // next slot to write
  private size = 0;
  private readonly alerts: Array<AlertEvent | RecoveredEvent> = [];
  /** Learning at the latest check; undefined before the first check. */
  private learning: boolean | undefined;
  private learningFrom: number | undefined;
  private learningUntil: number | undefined;

  constructor(
    readonly pipeline: string,
    readonly threshold: number,
    readonly thresholds: Partial<Record<DetectorName, number>>,
    readonly capacity = HISTORY_POINTS,
    private readonly alertCapacity = HISTORY_ALERTS,
  ) {
    this.time = new Float64Array(capacity);
    this.score = new Float64Array(capacity);
    this.throughput = new Float64Array(capacity);
    this.records = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  addMetrics(m: MetricsEvent): void {
    const last = this.size > 0 ? (this.head - 1 + this.capacity) % this.capacity : -1;
    // Checks faster than 1 Hz share their second's point: the latest check of a second wins.
    let slot: number;
    if (last >= 0 && Math.floor(this.time[last] / 1000) === Math.floor(m.time / 1000)) slot = last;
    else {
      slot = this.head;
      this.head = (this.head + 1) % this.capacity;
      if (this.size < this.capacity) this.size++;
    }
    const learning = m.baseline.state === 'learning';
    // A new learning period (the first, or after a reset) starts a new band; its first ready check ends it.
    if (learning && this.learning !== true) {
      this.learningFrom = m.time;
      this.learningUntil = undefined;
    } else if (!learning && this.learning === true) this.learningUntil = m.time;
    this.learning = learning;
    this.time[slot] = m.time;
    this.score[slot] = m.score;
    this.throughput[slot] = m.throughput;
    this.records[slot] = m.records;
    for (const d of DETECTORS) {
      const rate = m.detectors[d]?.rate;
      let col = this.detectors.get(d);
      if (rate === undefined && !col) continue;
      if (!col) {
        col = new Float64Array(this.capacity).fill(NaN);
        this.detectors.set(d, col);
      }
      col[slot] = rate ?? NaN;
    }
  }

  addAlert(e: AlertEvent | RecoveredEvent): void {
    this.alerts.push(e);
    if (this.alerts.length > this.alertCapacity) this.alerts.splice(0, this.alerts.length - this.alertCapacity);
  }

  /** The points and alerts at or after `since` (all when absent), oldest first. */
  since(since = -Infinity): PipelineHistory {
    const out: PipelineHistory = {
      pipeline: this.pipeline,
      threshold: this.threshold,
      thresholds: this.thresholds,
      time: [],
      score: [],
      throughput: [],
      records: [],
      detectors: {},
      alerts: this.alerts.filter((a) => a.time >= since),
    };
    if (this.learning !== undefined) out.learning = this.learning;
    if (this.learningFrom !== undefined) out.learningFrom = this.learningFrom;
    if (this.learningUntil !== undefined) out.learningUntil = this.learningUntil;
    const start = (this.head - this.size + this.capacity) % this.capacity;
    const cols = [...this.detectors.entries()].map(([d, col]) => [col, (out.detectors[d] = [] as Array<number | null>)] as const);
    for (let i = 0; i < this.size; i++) {
      const s = (start + i) % this.capacity;
      if (this.time[s] < since) continue;
      out.time.push(this.time[s]);
      out.score.push(this.score[s]);
      out.throughput.push(this.throughput[s]);
      out.records.push(this.records[s]);
      for (const [col, arr] of cols) arr.push(Number.isNaN(col[s]) ? null : col[s]);
    }
    return out;
  }
}
