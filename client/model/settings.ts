/** Coercion of the `clean.*` settings (the agent reads them itself; the extension needs a few and watches changes). */
import { DETECTORS, type DetectorName } from '../../server/engine/config';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'info', 'debug'];

export function logLevelFrom(value: unknown): LogLevel {
  return LOG_LEVELS.includes(value as LogLevel) ? (value as LogLevel) : 'info';
}

export function maxRestartsFrom(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 20 ? value : 4;
}

export function thresholdFrom(value: unknown): number {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : 0.8;
}

export function detectorsFrom(value: unknown): DetectorName[] {
  if (!Array.isArray(value)) return ['outliers', 'duplicates', 'missing', 'schema', 'parse'];
  return value.filter((d): d is DetectorName => (DETECTORS as readonly string[]).includes(d));
}

/** Settings that running pipelines or the agent only pick up when the agent restarts. */
export const RESTART_SETTINGS = ['clean.logLevel', 'clean.windowSize', 'clean.qualityThreshold', 'clean.checkInterval', 'clean.detectors'] as const;

/** The restart-needing settings a configuration change touched, given VS Code's `affectsConfiguration`. */
export function settingsNeedingRestart(affects: (section: string) => boolean): string[] {
  return RESTART_SETTINGS.filter((s) => affects(s));
}

export function restartPrompt(changed: readonly string[]): string {
  const names = changed.map((s) => `"${s}"`).join(', ');
  return `Clean Streams: ${names} ${changed.length === 1 ? 'takes' : 'take'} effect when the agent restarts (running pipelines are started again).`;
}
