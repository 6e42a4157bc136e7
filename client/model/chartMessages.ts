/**
 * Messages between the chart panel (client/chartPanel.ts) and its webview script (media/chart.js).
 * The webview is plain JavaScript loaded from media/; its handlers switch on exactly these `type`s.
 */
import type { AlertParams, MetricsEvent, PipelineHistory, PipelineInfo } from '../../shared/protocol';
import { learningLabel, learningNow } from './baseline';

/** What the chart needs to know about a pipeline besides its points. */
export interface ChartPipeline {
  id: string;
  label: string;
  threshold: number;
  state: string;
  /** While it learns its baseline: "Learning baseline: 450 / 1,000 records — alerts held". */
  learning?: string;
  /** While its numbers are not live: "reconnecting: cannot reach …", "stale: no check since 12:03:04", "agent stopped …". */
  status?: string;
}

/** Persisted with the webview's setState and handed back to the serializer after a reload. */
export interface ChartState {
  /** One pipeline, or null for all of them. */
  focus: string | null;
  /** Series the user switched off, by label. */
  hidden: string[];
}

export type ToChart =
  /** Everything to draw from scratch: sent on open, after a reload, and after an agent restart. */
  | { type: 'init'; pipelines: ChartPipeline[]; history: PipelineHistory[]; focus: string | null }
  /** New checks, batched (at most a few messages per second). */
  | { type: 'metrics'; events: MetricsEvent[] }
  | { type: 'alert'; event: AlertParams }
  /** The pipeline list changed (started, stopped, state). */
  | { type: 'pipelines'; pipelines: ChartPipeline[] }
  /** Show one pipeline, or all (`null`). */
  | { type: 'focus'; pipeline: string | null };

export type FromChart =
  /** The script loaded and wants an `init`. */
  | { type: 'ready'; state: ChartState | null }
  /** The user picked a pipeline (or all) in the chart's selector. */
  | { type: 'focus'; pipeline: string | null }
  /** The user clicked an alert marker: the records behind that alert (its time). */
  | { type: 'showSamples'; pipeline: string; detector: string | null; alert?: number }
  /** An error inside the webview script, for the log. */
  | { type: 'error'; message: string };

export function isFromChart(value: unknown): value is FromChart {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as { type?: unknown }).type;
  return t === 'ready' || t === 'focus' || t === 'showSamples' || t === 'error';
}

export function chartStateFrom(value: unknown): ChartState {
  const v = (typeof value === 'object' && value !== null ? value : {}) as Partial<ChartState>;
  return {
    focus: typeof v.focus === 'string' ? v.focus : null,
    hidden: Array.isArray(v.hidden) ? v.hidden.filter((h): h is string => typeof h === 'string') : [],
  };
}

/** What the chart is told about a pipeline. */
export function chartPipelineOf(info: PipelineInfo): ChartPipeline {
  const out: ChartPipeline = { id: info.id, label: info.topic === info.id ? info.id : `${info.topic} (${info.id})`, threshold: info.threshold, state: info.state };
  const learning = learningNow(info);
  if (learning) out.learning = learningLabel(learning);
  return out;
}
