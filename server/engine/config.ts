/** Pipeline settings, their defaults and their validation (shared by the CLI, config files and the agent). */
import { ruleRegexProblem } from './regex';
import { nameTooLong, quoteName } from './names';
import type { Format } from '../decode/types';

export const DETECTORS = ['outliers', 'duplicates', 'missing', 'schema', 'parse', 'rules', 'labels'] as const;
export type DetectorName = (typeof DETECTORS)[number];
export const DEFAULT_DETECTORS: DetectorName[] = ['outliers', 'duplicates', 'missing', 'schema', 'parse'];

export type FieldType = 'number' | 'integer' | 'string' | 'boolean' | 'object' | 'array';
export const FIELD_TYPES: FieldType[] = ['number', 'integer', 'string', 'boolean', 'object', 'array'];

/** A user rule on one top-level field; any violation flags the record under `rules`. */
export interface FieldRule {
  required?: boolean;
  type?: FieldType;
  min?: number;
  max?: number;
  /**
   * A regular expression (JavaScript syntax) the (string) value must match somewhere; it runs on RE2, in
   * time linear in the value, so lookarounds and backreferences are refused.
   */
  regex?: string;
  enum?: Array<string | number | boolean | null>;
}

/** When the checker runs: every `seconds`, or every `records` records (deterministic replays). */
export type CheckInterval = { seconds: number } | { records: number };

export interface OutlierOptions {
  /**
   * Fence reach: a value is a gross error when it lies more than `z` widths of the field's long-horizon
   * span (its 0.5 %–99.5 % quantiles) below the span's low end or above its high end.
   */
  z: number;
  /** Values of a field needed before it is judged. */
  minSamples: number;
}

/** When a rate departs from its learned baseline (see server/engine/baseline.ts). */
export interface BaselineOptions {
  /** One-sided z of the departure. */
  z: number;
  /** Over-dispersion of real streams: the binomial variance of a window rate is multiplied by this. */
  dispersion: number;
  /** A rate naturally above zero stands out only once it is this many times its learned level. */
  ratio: number;
  /**
   * The smallest rise of a rate over its learned level (0..1) that alerts, per detector: 2 % for the field
   * detectors, whose rates cluster in real streams; 5 % for duplicates, which real records with few
   * fields collide into; 0.3 % for parse (a few broken messages in a thousand are news; healthy topics have none).
   */
  minJump: Record<DetectorName, number>;
}

export const DEFAULT_MIN_JUMP: Record<DetectorName, number> = {
  outliers: 0.02,
  duplicates: 0.05,
  missing: 0.02,
  schema: 0.02,
  parse: 0.003,
  rules: 0.05,
  labels: 0.05,
};

export interface PipelineConfig {
  /** Records in the rolling window. */
  windowSize: number;
  /** Alert when the window score (0..1) falls below this. */
  qualityThreshold: number;
  checkInterval: CheckInterval;
  detectors: DetectorName[];
  /**
   * Per-detector rate (fraction of window records flagged). Those the user writes are hard limits: above
   * them an alert fires whatever the baseline. The `rules` threshold always is (rules are the user's own);
   * the parse and duplicates defaults are hard limits while the baseline is learnt, and afterwards the
   * smallest rise over the learned rate that alerts. The others show in the tree: those detectors alert
   * on departures from their baseline.
   */
  thresholds: Record<DetectorName, number>;
  /** The thresholds the user wrote: hard limits. */
  limits: Partial<Record<DetectorName, number>>;
  baseline: BaselineOptions;
  /** Per-detector weight: a record's quality is 1 - sum of the weights of its issues, floored at 0. */
  weights: Record<DetectorName, number>;
  /** Field rules (the `rules` detector runs when any are given). */
  fields: Record<string, FieldRule>;
  /** Field holding the class label, for the `labels` detector. */
  labelField?: string;
  outliers: OutlierOptions;
  /** Whether the user wrote qualityThreshold: a written one alerts whenever the score is under it. */
  scoreIsHard: boolean;
  /** A field counts as usual (so its absence is `missing`) once this share of window records carry it. */
  usualFieldShare: number;
  /** A score must climb this far above the threshold (a rate fall this fraction below its threshold) to recover. */
  hysteresis: number;
  /** After an alert on a metric, the same metric stays quiet this long: seconds, or records in record mode. */
  cooldown: CheckInterval;
  /** Messages larger than this are not parsed; they count as `parse` issues. */
  maxMessageBytes: number;
  /** At most this many distinct top-level fields are tracked (bounded memory under key explosions). */
  maxFields: number;
  /**
   * Milliseconds the checks of 100 records may take on average (a message over 8 KB counts as one record
   * per 8 KB): a pipeline over it is paused with the figures (resume to go on), so that it cannot starve
   * the other pipelines or the editor.
   */
  checkBudgetMs: number;
  /**
   * Hash sampling (server/engine/sampling.ts): the share of records kept, 0 < sample ≤ 1 (1: all). Every copy
   * of a record makes the same choice, so duplicate rates stay unbiased; rates carry a Wilson interval.
   */
  sample?: number;
  /** Engine threads sharing the topic's partitions (server/scale/shardedPipeline.ts); 1: the engine runs on the caller's thread. */
  workers?: number;
  /** What the payloads are (server/decode): `auto` (default) reads JSON and recognises the rest. */
  format?: Format;
}

export const DEFAULT_THRESHOLDS: Record<DetectorName, number> = {
  outliers: 0.05,
  duplicates: 0.05,
  missing: 0.1,
  schema: 0.05,
  parse: 0.01,
  rules: 0.05,
  labels: 0.1,
};

export const DEFAULT_WEIGHTS: Record<DetectorName, number> = {
  outliers: 0.5,
  duplicates: 1,
  missing: 0.5,
  schema: 0.5,
  parse: 1,
  rules: 1,
  labels: 0.5,
};

export function defaultPipelineConfig(): PipelineConfig {
  return {
    windowSize: 1000,
    qualityThreshold: 0.8,
    checkInterval: { seconds: 1 },
    detectors: [...DEFAULT_DETECTORS],
    thresholds: { ...DEFAULT_THRESHOLDS },
    weights: { ...DEFAULT_WEIGHTS },
    limits: {},
    baseline: { z: 4, dispersion: 4, ratio: 2, minJump: { ...DEFAULT_MIN_JUMP } },
    scoreIsHard: false,
    fields: {},
    outliers: { z: 3, minSamples: 50 },
    usualFieldShare: 0.97,
    hysteresis: 0.2,
    cooldown: { seconds: 30 },
    maxMessageBytes: 1024 * 1024,
    maxFields: 256,
    checkBudgetMs: 50,
  };
}

/** The user-facing subset: what a config file or CLI flags may set. */
export interface PipelineSettings {
  windowSize?: number;
  qualityThreshold?: number;
  checkInterval?: CheckInterval;
  detectors?: DetectorName[];
  thresholds?: Partial<Record<DetectorName, number>>;
  weights?: Partial<Record<DetectorName, number>>;
  fields?: Record<string, FieldRule>;
  labelField?: string;
  outliers?: Partial<OutlierOptions>;
  baseline?: { z?: number; dispersion?: number; ratio?: number; minJump?: Partial<Record<DetectorName, number>> };
  usualFieldShare?: number;
  hysteresis?: number;
  cooldown?: CheckInterval;
  maxMessageBytes?: number;
  maxFields?: number;
  checkBudgetMs?: number;
  sample?: number;
  workers?: number;
  format?: Format;
}

/** Merges settings over the defaults; `rules` joins the detectors when fields are given, `labels` when labelField is. */
export function resolvePipelineConfig(settings: PipelineSettings = {}): PipelineConfig {
  const base = defaultPipelineConfig();
  const cfg: PipelineConfig = {
    ...base,
    ...stripUndefined(settings),
    thresholds: { ...base.thresholds, ...stripUndefined(settings.thresholds ?? {}) },
    weights: { ...base.weights, ...stripUndefined(settings.weights ?? {}) },
    outliers: { ...base.outliers, ...stripUndefined(settings.outliers ?? {}) },
    baseline: { ...base.baseline, ...stripUndefined(settings.baseline ?? {}), minJump: { ...base.baseline.minJump, ...stripUndefined(settings.baseline?.minJump ?? {}) } },
    limits: stripUndefined(settings.thresholds ?? {}),
    scoreIsHard: settings.qualityThreshold !== undefined,
    fields: settings.fields ?? {},
    detectors: [...(settings.detectors ?? base.detectors)],
  };
  if (!settings.cooldown && 'records' in cfg.checkInterval) cfg.cooldown = { records: cfg.checkInterval.records * 10 };
  if (Object.keys(cfg.fields).length > 0 && !settings.detectors && !cfg.detectors.includes('rules')) cfg.detectors.push('rules');
  if (cfg.labelField && !settings.detectors && !cfg.detectors.includes('labels')) cfg.detectors.push('labels');
  const problems = validatePipelineConfig(cfg);
  if (problems.length) throw new ConfigError(problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);
  return cfg;
}

export interface ConfigProblem {
  /** Dotted path of the offending setting ("thresholds.duplicates"). */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(message: string, readonly problems: ConfigProblem[]) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Every problem with a resolved config, each with its path and what to fix. */
export function validatePipelineConfig(cfg: PipelineConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const rate = (path: string, v: unknown) => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) out.push({ path, message: `must be a number between 0 and 1 (got ${show(v)})` });
  };
  if (!Number.isInteger(cfg.windowSize) || cfg.windowSize <= 0) out.push({ path: 'windowSize', message: `must be a positive whole number of records (got ${show(cfg.windowSize)})` });
  else if (cfg.windowSize > 10_000_000) out.push({ path: 'windowSize', message: `must be at most 10000000 records (got ${cfg.windowSize})` });
  rate('qualityThreshold', cfg.qualityThreshold);
  rate('usualFieldShare', cfg.usualFieldShare);
  rate('hysteresis', cfg.hysteresis);
  checkInterval('checkInterval', cfg.checkInterval, out);
  checkInterval('cooldown', cfg.cooldown, out, true);
  // A name over MAX_NAME_LENGTH is refused as such, and never becomes part of a path or a message.
  const unknownDetector = (prefix: string, d: string) => {
    const tooLong = nameTooLong('Detector name', d);
    out.push(tooLong ? { path: prefix, message: tooLong } : { path: `${prefix}.${d}`, message: `unknown detector; use ${DETECTORS.join(', ')}` });
  };
  for (const d of cfg.detectors) {
    if (!(DETECTORS as readonly string[]).includes(d)) out.push({ path: 'detectors', message: nameTooLong('Detector name', d) ?? `unknown detector ${quoteName(String(d))}; use ${DETECTORS.join(', ')}` });
  }
  for (const [d, v] of Object.entries(cfg.thresholds)) {
    if (!(DETECTORS as readonly string[]).includes(d)) unknownDetector('thresholds', d);
    else rate(`thresholds.${d}`, v);
  }
  for (const [d, v] of Object.entries(cfg.weights)) {
    if (!(DETECTORS as readonly string[]).includes(d)) unknownDetector('weights', d);
    else if (typeof v !== 'number' || !(v >= 0)) out.push({ path: `weights.${d}`, message: `must be a number ≥ 0 (got ${show(v)})` });
  }
  if (!(cfg.baseline.z > 0)) out.push({ path: 'baseline.z', message: `must be a number > 0 (got ${show(cfg.baseline.z)})` });
  if (!(cfg.baseline.ratio >= 1)) out.push({ path: 'baseline.ratio', message: `must be a number ≥ 1 (got ${show(cfg.baseline.ratio)})` });
  if (!(cfg.baseline.dispersion >= 1)) out.push({ path: 'baseline.dispersion', message: `must be a number ≥ 1 (got ${show(cfg.baseline.dispersion)})` });
  for (const [d, v] of Object.entries(cfg.baseline.minJump)) {
    if (!(DETECTORS as readonly string[]).includes(d)) unknownDetector('baseline.minJump', d);
    else rate(`baseline.minJump.${d}`, v);
  }
  if (!(cfg.outliers.z > 0)) out.push({ path: 'outliers.z', message: `must be a number > 0 (got ${show(cfg.outliers.z)})` });
  if (!Number.isInteger(cfg.outliers.minSamples) || cfg.outliers.minSamples < 3) out.push({ path: 'outliers.minSamples', message: `must be a whole number ≥ 3 (got ${show(cfg.outliers.minSamples)})` });
  if (!Number.isInteger(cfg.maxMessageBytes) || cfg.maxMessageBytes <= 0) out.push({ path: 'maxMessageBytes', message: `must be a positive whole number (got ${show(cfg.maxMessageBytes)})` });
  if (!Number.isInteger(cfg.maxFields) || cfg.maxFields <= 0) out.push({ path: 'maxFields', message: `must be a positive whole number (got ${show(cfg.maxFields)})` });
  if (typeof cfg.checkBudgetMs !== 'number' || !(cfg.checkBudgetMs > 0) || !Number.isFinite(cfg.checkBudgetMs)) out.push({ path: 'checkBudgetMs', message: `must be a number of milliseconds > 0 per 100 records (got ${show(cfg.checkBudgetMs)})` });
  if (cfg.sample !== undefined && !(typeof cfg.sample === 'number' && cfg.sample > 0 && cfg.sample <= 1)) out.push({ path: 'sample', message: `must be a share of records to keep, above 0 and at most 1, such as 0.1 (got ${show(cfg.sample)})` });
  if (cfg.format !== undefined && !['auto', 'json', 'avro', 'protobuf', 'jsonschema'].includes(cfg.format)) out.push({ path: 'format', message: `must be auto, json, avro, protobuf or jsonschema (got ${show(cfg.format)})` });
  if (cfg.workers !== undefined && !(Number.isInteger(cfg.workers) && cfg.workers >= 1 && cfg.workers <= 64)) out.push({ path: 'workers', message: `must be a whole number of engine threads from 1 to 64 (got ${show(cfg.workers)})` });
  const labelTooLong = nameTooLong('Field name', cfg.labelField);
  if (labelTooLong) out.push({ path: 'labelField', message: labelTooLong });
  if (cfg.detectors.includes('labels') && !cfg.labelField) out.push({ path: 'labelField', message: 'the labels detector needs labelField, the field that holds each record\'s class' });
  for (const [name, rule] of Object.entries(cfg.fields)) {
    const fieldTooLong = nameTooLong('Field name', name);
    if (fieldTooLong) {
      out.push({ path: 'fields', message: fieldTooLong });
      continue;
    }
    if (rule.type !== undefined && !FIELD_TYPES.includes(rule.type)) out.push({ path: `fields.${name}.type`, message: `unknown type "${rule.type}"; use ${FIELD_TYPES.join(', ')}` });
    if (rule.min !== undefined && typeof rule.min !== 'number') out.push({ path: `fields.${name}.min`, message: 'must be a number' });
    if (rule.max !== undefined && typeof rule.max !== 'number') out.push({ path: `fields.${name}.max`, message: 'must be a number' });
    if (typeof rule.min === 'number' && typeof rule.max === 'number' && rule.min > rule.max) out.push({ path: `fields.${name}`, message: `min ${rule.min} is above max ${rule.max}` });
    if (rule.regex !== undefined) {
      const problem = typeof rule.regex === 'string' ? ruleRegexProblem(rule.regex) : 'must be text: a regular expression';
      if (problem) out.push({ path: `fields.${name}.regex`, message: problem });
    }
    if (rule.enum !== undefined && !Array.isArray(rule.enum)) out.push({ path: `fields.${name}.enum`, message: 'must be a list of allowed values' });
  }
  return out;
}

function checkInterval(path: string, v: CheckInterval, out: ConfigProblem[], zeroOk = false): void {
  if ('records' in v) {
    if (!Number.isInteger(v.records) || v.records < (zeroOk ? 0 : 1)) out.push({ path, message: `must be a positive whole number of records (got ${show(v.records)})` });
  } else if (!(typeof v.seconds === 'number' && (zeroOk ? v.seconds >= 0 : v.seconds > 0) && Number.isFinite(v.seconds))) {
    out.push({ path, message: `must be a positive duration such as 1s or 500ms (got ${show(v.seconds)})` });
  }
}

/** `2s`, `500ms`, `1m` → seconds; a bare number → records. Returns undefined for anything else. */
export function parseInterval(v: string | number): CheckInterval | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v > 0 ? { records: v } : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  switch (m[2]) {
    case undefined:
      return Number.isInteger(n) && n > 0 ? { records: n } : undefined;
    case 'ms':
      return n > 0 ? { seconds: n / 1000 } : undefined;
    case 's':
      return n > 0 ? { seconds: n } : undefined;
    case 'm':
      return n > 0 ? { seconds: n * 60 } : undefined;
    default:
      return n > 0 ? { seconds: n * 3600 } : undefined;
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? quoteName(v) : String(v);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
