/** The events a pipeline emits. The CLI writes them as NDJSON; the agent forwards them over LSP. */
import type { DetectorName } from './config';
import type { PipelineState } from '../sources/types';
import type { DecodeInfo } from '../decode/types';

/** A record behind an issue: its 1-based number in the consumed stream and, when the source has one, its native position. */
export interface Sample {
  record: number;
  position?: string | number;
}

/** Rates, shares and scores in events and saved baselines carry six decimals. */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

export interface DetectorMetrics {
  /** Fraction of window records this detector flagged. */
  rate: number;
  /** Flagged records in the window. */
  count: number;
  /** The configured threshold: a hard limit when the user wrote it (and for parse, duplicates and rules). */
  threshold: number;
  /** Whether something behind this detector stands out from its learned baseline (or a hard limit) now. */
  out?: boolean;
  /** With sampling: the 95 % Wilson interval of the topic's rate that the sampled `rate` estimates. */
  low?: number;
  high?: number;
}

/** One field (or the record as a whole) behind an alert. */
export interface AlertField {
  /** The field, or null when the alert is about whole records (duplicates, parse). */
  name: string | null;
  /** Share of the window's records behind the alert, 0..1. */
  share: number;
  /** The learned normal share. */
  usual: number;
  /** What changed, in words ("\"amount\": 9% of records far outside its usual range 1.2 … 950 (usually 0.1%), e.g. 1200000"). */
  detail: string;
  /** Recent offending values. */
  examples?: unknown[];
  /** The usual range of a numeric field (its long-horizon 0.5 %–99.5 % span). */
  range?: [number, number];
  /** The type the field carries now, and the one it usually has (schema). */
  type?: string;
  usualType?: string;
  /** Usual fields that went missing as this new one appeared: the other side of a likely rename. */
  renamedFrom?: string[];
}

/** Where a pipeline's baseline stands: learning its first window, or watching against what it learnt. */
export interface BaselineInfo {
  state: 'learning' | 'ready';
  /** Records learnt from so far (toward `needed` while learning). */
  records: number;
  needed: number;
  /** Whether this baseline was restored from a saved state. */
  restored?: boolean;
}

export interface FieldMetrics {
  /** Fraction of window records (among those that parsed as objects) whose field is null or absent. */
  missing: number;
  /** Fraction of window records whose value of this field was an outlier. */
  outliers?: number;
  /** Fraction of window records that broke a rule on this field. */
  rules?: number;
  /** The field's established JSON type, once it has one. */
  type?: string;
}

export interface MetricsEvent {
  type: 'metrics';
  pipeline: string;
  /** Epoch milliseconds of the check. */
  time: number;
  /** Records consumed so far. */
  records: number;
  /** Records currently in the window. */
  window: number;
  /** Mean record quality over the window, 0..1 (1 for an empty window). */
  score: number;
  /** Records per second since the previous check. */
  throughput: number;
  detectors: Partial<Record<DetectorName, DetectorMetrics>>;
  fields: Record<string, FieldMetrics>;
  /** Learning (baseline-driven detectors silent) or ready. */
  baseline: BaselineInfo;
  /** With sampling (`sample`): the share of records kept, and the records read in all (`records` counts the kept). */
  sample?: { rate: number; seen: number };
  /** From worker threads or a group: the shards merged into these metrics (server/scale). */
  shards?: number;
  /** What the records decode as (format, writer schema subject/version/id); absent for plain JSON. */
  decode?: DecodeInfo;
}

export type Severity = 'warning' | 'critical';

export interface AlertEvent {
  type: 'alert';
  pipeline: string;
  time: number;
  severity: Severity;
  /** The detector whose rate crossed its threshold, or null for the quality score. */
  detector: DetectorName | null;
  value: number;
  threshold: number;
  /** Records consumed when the alert fired. */
  records: number;
  message: string;
  /** Up to 5 recent records behind the alert. */
  samples: Sample[];
  /** The fields behind the alert, worst first (for a score alert: those of every detector standing out). */
  fields: AlertField[];
}

export interface RecoveredEvent extends Omit<AlertEvent, 'type'> {
  type: 'recovered';
}

export interface StatusEvent {
  type: 'status';
  pipeline: string;
  time: number;
  state: PipelineState;
  message: string;
  /** What the records decode as, once known (absent for plain JSON). */
  decode?: DecodeInfo;
}

export interface EndEvent {
  type: 'end';
  pipeline: string;
  records: number;
}

export type PipelineEvent = MetricsEvent | AlertEvent | RecoveredEvent | StatusEvent | EndEvent;

/** A recent offending record, kept for `clean/samples` and the samples view. */
export interface SampleRecord extends Sample {
  detector: DetectorName;
  /** Why it was flagged ("amount = 1.2e9 is 14.2 robust SDs from the window median"). */
  reason: string;
  /** The payload as text, cut at 2 KB. */
  text: string;
  time: number;
}
