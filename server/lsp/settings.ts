/** The `clean` settings section, coerced by small functions: bad values are dropped with a reason, never thrown. */
import { DETECTORS, parseInterval } from '../engine/config';
import type { DetectorName, PipelineSettings } from '../engine/config';
import type { AgentSettings, WirePipelineSettings } from '../../shared/protocol';
import { DEFAULT_MAX_MEMORY_MB, checkMaxMemoryMB } from '../engine/budget';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface CoercedSettings {
  /** Defaults for pipelines that do not set their own. */
  pipelineDefaults: PipelineSettings;
  logLevel: LogLevel;
  /** The agent's memory budget (clean.maxMemoryMB). */
  maxMemoryMB: number;
  /** One line per ignored value, for the log. */
  ignored: string[];
}

export function coerceAgentSettings(raw: unknown): CoercedSettings {
  const s = (raw && typeof raw === 'object' ? raw : {}) as AgentSettings & Record<string, unknown>;
  const out: CoercedSettings = { pipelineDefaults: {}, logLevel: 'info', maxMemoryMB: DEFAULT_MAX_MEMORY_MB, ignored: [] };
  const d = out.pipelineDefaults;
  if (s.windowSize !== undefined && s.windowSize !== null) {
    if (Number.isInteger(s.windowSize) && (s.windowSize as number) > 0) d.windowSize = s.windowSize;
    else out.ignored.push(`clean.windowSize must be a positive whole number (got ${JSON.stringify(s.windowSize)}); using the default`);
  }
  if (s.qualityThreshold !== undefined && s.qualityThreshold !== null) {
    const x = s.qualityThreshold;
    if (typeof x === 'number' && x >= 0 && x <= 1) d.qualityThreshold = x;
    else out.ignored.push(`clean.qualityThreshold must be between 0 and 1 (got ${JSON.stringify(x)}); using the default`);
  }
  if (s.checkInterval !== undefined && s.checkInterval !== null && s.checkInterval !== '') {
    const ci = typeof s.checkInterval === 'string' || typeof s.checkInterval === 'number' ? parseInterval(s.checkInterval) : undefined;
    if (ci) d.checkInterval = ci;
    else out.ignored.push(`clean.checkInterval must be a duration such as 1s or a record count (got ${JSON.stringify(s.checkInterval)}); using the default`);
  }
  if (Array.isArray(s.detectors) && s.detectors.length > 0) {
    const known = s.detectors.filter((x): x is DetectorName => (DETECTORS as readonly string[]).includes(x as string));
    const unknown = s.detectors.filter((x) => !(DETECTORS as readonly string[]).includes(x as string));
    if (unknown.length) out.ignored.push(`clean.detectors: unknown ${unknown.map((x) => JSON.stringify(x)).join(', ')} ignored; use ${DETECTORS.join(', ')}`);
    if (known.length) d.detectors = known;
  }
  if (typeof s.logLevel === 'string' && (LOG_LEVELS as string[]).includes(s.logLevel)) out.logLevel = s.logLevel as LogLevel;
  if (s.maxMemoryMB !== undefined && s.maxMemoryMB !== null) {
    const m = checkMaxMemoryMB(s.maxMemoryMB);
    if ('mb' in m) out.maxMemoryMB = m.mb;
    else out.ignored.push(`clean.maxMemoryMB ${m.problem}; using ${DEFAULT_MAX_MEMORY_MB}`);
  }
  return out;
}

/** Inline settings from clean/startPipeline: intervals may come as text or a record count. */
export function coerceWireSettings(s: WirePipelineSettings | undefined): PipelineSettings {
  const out = { ...(s ?? {}) } as Record<string, unknown>;
  for (const k of ['checkInterval', 'cooldown']) {
    const v = out[k];
    if (typeof v === 'string' || typeof v === 'number') {
      const parsed = parseInterval(v);
      if (!parsed) throw new RangeError(`settings.${k}: "${String(v)}" is not an interval; use 1s, 500ms or a record count such as 1000`);
      out[k] = parsed;
    }
  }
  return out as PipelineSettings;
}
