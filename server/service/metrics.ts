/**
 * The agent's figures for Prometheus (`clean-agent run --metrics-port`), in a prom-client Registry of its own
 * (never the library's global one, which anything else loaded in the process could write to).
 *
 * Every series is rebuilt from the pipelines' latest check at each scrape: a pipeline removed by a reload
 * leaves no stale series behind, and nothing is done per record. Label cardinality is bounded: per pipeline,
 * FIELD_SERIES_PER_PIPELINE fields keep series of their own and the rest fold into field="_other".
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AlertEvent, MetricsEvent, StatusEvent } from '../engine/events';
import type { PipelineState } from '../sources/types';

/**
 * Fields with series of their own in clean_field_rate, per pipeline: the 20 whose worst rate (missing,
 * outliers or rules) is highest now, ties by name. The others are folded into field="_other", which carries
 * the highest rate among them, so that a bad field beyond the 20 still shows.
 */
export const FIELD_SERIES_PER_PIPELINE = 20;
export const OTHER_FIELDS = '_other';

const STATES: readonly PipelineState[] = ['connecting', 'waiting', 'running', 'reconnecting', 'paused', 'stopped', 'error'];
/** States in which the pipeline is connected to its source (clean_pipeline_up 1). */
const UP_STATES: ReadonlySet<PipelineState> = new Set(['running', 'waiting', 'paused']);
/** The per-field rates the engine reports, named as the detectors behind them. */
const FIELD_RATES = ['missing', 'outliers', 'rules'] as const;

/** What the metrics read of a pipeline (RealtimePipeline has it). */
export interface MeteredPipeline {
  readonly name: string;
  readonly state: PipelineState;
  readonly message: string;
  /** The latest check's metrics. */
  snapshot(): MetricsEvent;
  on(type: 'status', listener: (e: StatusEvent) => void): () => void;
  on(type: 'alert', listener: (e: AlertEvent) => void): () => void;
  on(type: 'end', listener: () => void): () => void;
}

/** What the metrics read of an alert sink (server/alerts SinkStats has it). */
export interface MeteredSink {
  name: string;
  kind: string;
  failed: number;
  dropped: number;
}

interface Tracked {
  pipeline: MeteredPipeline;
  /** It has connected to its source (or read it to its end) at least once since it started. */
  connected: boolean;
  off: Array<() => void>;
}

/** Whether every pipeline has connected, and the text /readyz answers. */
export interface Readiness {
  ready: boolean;
  body: string;
}

export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly tracked = new Map<string, Tracked>();
  /** Alerts fired per pipeline, by `detector\0severity`: kept across a pipeline's restart, dropped with its removal. */
  private readonly alerts = new Map<string, Map<string, number>>();
  private sinks: () => MeteredSink[] = () => [];

  private readonly score: Gauge;
  private readonly detectorRate: Gauge;
  private readonly fieldRate: Gauge;
  private readonly records: Counter;
  private readonly alertsTotal: Counter;
  private readonly sinkFailures: Counter;
  private readonly sinkDropped: Counter;
  private readonly pipelineState: Gauge;
  private readonly pipelineUp: Gauge;

  constructor(options: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.score = new Gauge({ name: 'clean_quality_score', help: 'Mean record quality over the pipeline window, 0..1 (1 for an empty window).', labelNames: ['pipeline'], registers });
    this.detectorRate = new Gauge({ name: 'clean_detector_rate', help: 'Fraction of window records the detector flagged, 0..1.', labelNames: ['pipeline', 'detector'], registers });
    this.fieldRate = new Gauge({
      name: 'clean_field_rate',
      help: `Fraction of window records flagged on a field by a detector (missing, outliers, rules), 0..1; beyond ${FIELD_SERIES_PER_PIPELINE} fields a pipeline's others are folded into field="${OTHER_FIELDS}" (their highest rate).`,
      labelNames: ['pipeline', 'detector', 'field'],
      registers,
    });
    this.records = new Counter({ name: 'clean_records_total', help: 'Records the pipeline consumed since it (re)started.', labelNames: ['pipeline'], registers });
    this.alertsTotal = new Counter({ name: 'clean_alerts_total', help: 'Alerts fired (detector="score" for the quality score).', labelNames: ['pipeline', 'detector', 'severity'], registers });
    this.sinkFailures = new Counter({ name: 'clean_sink_failures_total', help: 'Alert deliveries that failed (each try).', labelNames: ['sink', 'kind'], registers });
    this.sinkDropped = new Counter({ name: 'clean_sink_dropped_total', help: 'Alert events dropped because the sink queue was full.', labelNames: ['sink', 'kind'], registers });
    this.pipelineState = new Gauge({ name: 'clean_pipeline_state', help: `1 for the pipeline's current state (${STATES.join(', ')}), 0 for the others.`, labelNames: ['pipeline', 'state'], registers });
    this.pipelineUp = new Gauge({ name: 'clean_pipeline_up', help: 'Whether the pipeline is connected to its source (running, waiting for its topic, or paused).', labelNames: ['pipeline'], registers });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Reports `pipeline` until untrack(name) (a restarted pipeline is tracked again under its name). */
  track(pipeline: MeteredPipeline): void {
    this.untrack(pipeline.name, true);
    const t: Tracked = { pipeline, connected: UP_STATES.has(pipeline.state), off: [] };
    t.off.push(
      pipeline.on('status', (s) => {
        if (UP_STATES.has(s.state)) t.connected = true;
      }),
      pipeline.on('end', () => (t.connected = true)),
      pipeline.on('alert', (e) => this.countAlert(e)),
    );
    this.tracked.set(pipeline.name, t);
  }

  /** Stops reporting a pipeline; its alert counts go too unless it is about to be tracked again (`restarting`). */
  untrack(name: string, restarting = false): void {
    const t = this.tracked.get(name);
    if (t) for (const off of t.off) off();
    this.tracked.delete(name);
    if (!restarting) this.alerts.delete(name);
  }

  /** Where the sink figures come from (the CLI's SinkSets); read at each scrape. */
  setSinks(stats: () => MeteredSink[]): void {
    this.sinks = stats;
  }

  /** The exposition text, built from the pipelines' latest checks. */
  async render(): Promise<string> {
    this.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Ready once every pipeline has connected; the body names those that have not, with their state. */
  readiness(): Readiness {
    const waiting = [...this.tracked.values()].filter((t) => !t.connected);
    if (waiting.length === 0) return { ready: true, body: `ready: ${this.tracked.size} pipeline${this.tracked.size === 1 ? '' : 's'} connected\n` };
    const lines = waiting.map((t) => `${t.pipeline.name}: ${t.pipeline.state} (${t.pipeline.message})`);
    return { ready: false, body: `not ready: ${waiting.length} of ${this.tracked.size} pipeline${this.tracked.size === 1 ? '' : 's'} not connected yet\n${lines.join('\n')}\n` };
  }

  private countAlert(e: AlertEvent): void {
    let m = this.alerts.get(e.pipeline);
    if (!m) this.alerts.set(e.pipeline, (m = new Map()));
    const key = `${e.detector ?? 'score'}\0${e.severity}`;
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  private refresh(): void {
    for (const metric of [this.score, this.detectorRate, this.fieldRate, this.records, this.alertsTotal, this.sinkFailures, this.sinkDropped, this.pipelineState, this.pipelineUp]) metric.reset();
    for (const { pipeline: p } of this.tracked.values()) {
      const m = p.snapshot();
      const pipeline = p.name;
      this.score.set({ pipeline }, m.score);
      this.records.inc({ pipeline }, m.records);
      for (const [detector, d] of Object.entries(m.detectors)) if (d) this.detectorRate.set({ pipeline, detector }, d.rate);
      this.setFieldRates(pipeline, m);
      for (const state of STATES) this.pipelineState.set({ pipeline, state }, state === p.state ? 1 : 0);
      this.pipelineUp.set({ pipeline }, UP_STATES.has(p.state) ? 1 : 0);
      for (const [key, n] of this.alerts.get(pipeline) ?? []) {
        const [detector, severity] = key.split('\0');
        this.alertsTotal.inc({ pipeline, detector, severity }, n);
      }
    }
    for (const s of this.sinks()) {
      this.sinkFailures.inc({ sink: s.name, kind: s.kind }, s.failed);
      this.sinkDropped.inc({ sink: s.name, kind: s.kind }, s.dropped);
    }
  }

  private setFieldRates(pipeline: string, m: MetricsEvent): void {
    const entries = Object.entries(m.fields);
    if (entries.length > FIELD_SERIES_PER_PIPELINE) {
      const worst = (f: (typeof entries)[number][1]) => Math.max(f.missing, f.outliers ?? 0, f.rules ?? 0);
      entries.sort((a, b) => worst(b[1]) - worst(a[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    }
    const other: Partial<Record<(typeof FIELD_RATES)[number], number>> = {};
    entries.forEach(([field, f], i) => {
      for (const detector of FIELD_RATES) {
        const rate = f[detector];
        if (rate === undefined) continue;
        if (i < FIELD_SERIES_PER_PIPELINE) this.fieldRate.set({ pipeline, detector, field }, rate);
        else other[detector] = Math.max(other[detector] ?? 0, rate);
      }
    });
    for (const [detector, rate] of Object.entries(other)) this.fieldRate.set({ pipeline, detector, field: OTHER_FIELDS }, rate);
  }
}
