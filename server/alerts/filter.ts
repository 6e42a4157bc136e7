/**
 * Which events a sink takes: a minimum severity, and optionally only some pipelines or detectors. A recovery
 * carries the severity its alert ended at, so it passes exactly when that alert (or its escalation) did.
 */
import type { Severity } from '../engine/events';
import type { SinkConfig, SinkEvent } from './types';

/** The name a filter and a sink's labels give the quality-score alert (its `detector` is null). */
export const SCORE = 'score';

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

export type SinkFilter = (e: SinkEvent) => boolean;

export function sinkFilter(c: Pick<SinkConfig, 'minSeverity' | 'pipelines' | 'detectors'>): SinkFilter {
  const min = RANK[c.minSeverity ?? 'warning'] ?? 1;
  const pipelines = c.pipelines && c.pipelines.length > 0 ? new Set(c.pipelines) : null;
  const detectors = c.detectors && c.detectors.length > 0 ? new Set(c.detectors) : null;
  return (e) => {
    if ((RANK[e.severity] ?? 0) < min) return false;
    if (pipelines && !pipelines.has(e.pipeline)) return false;
    if (detectors && !detectors.has(e.detector ?? SCORE)) return false;
    return true;
  };
}

/** The metric an event is about, for dedup keys and threads: one per pipeline and detector. */
export function metricKey(e: SinkEvent): string {
  return `${e.pipeline}/${e.detector ?? SCORE}`;
}
