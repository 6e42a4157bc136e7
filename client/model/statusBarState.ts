/** What the status-bar item shows, computed from the pipelines' latest state. */
import type { BaselineInfo } from '../../server/engine/events';
import type { PipelineState } from '../../server/sources/types';
import { learningNow, learningProgress } from './baseline';
import { formatScore, formatThroughput } from './format';

export interface PipelineHealth {
  name: string;
  state: PipelineState;
  /** Latest window score, undefined before the first check. */
  score: number | undefined;
  threshold: number;
  throughput: number | undefined;
  /** Where its baseline stands, once a check ran. */
  baseline?: BaselineInfo;
}

export type HealthLevel = 'ok' | 'warning' | 'error';

export interface StatusBarState {
  visible: boolean;
  text: string;
  level: HealthLevel;
  tooltip: string;
  /** The pipeline with the worst score, opened by a click. */
  worst: string | undefined;
}

/** Same rule as the agent's alerts: below the threshold is a warning, 0.2 or more below it is critical. */
export const CRITICAL_MARGIN = 0.2;

const LIVE: PipelineState[] = ['connecting', 'running', 'reconnecting', 'paused'];

export function levelOf(score: number, threshold: number): HealthLevel {
  if (score >= threshold) return 'ok';
  return score <= threshold - CRITICAL_MARGIN + 1e-9 ? 'error' : 'warning';
}

export function computeStatusBar(pipelines: readonly PipelineHealth[]): StatusBarState {
  const live = pipelines.filter((p) => LIVE.includes(p.state));
  if (live.length === 0) return { visible: false, text: '', level: 'ok', tooltip: '', worst: undefined };
  let worst: PipelineHealth | undefined;
  let level: HealthLevel = 'ok';
  for (const p of live) {
    if (p.score === undefined || p.state === 'paused') continue;
    const l = levelOf(p.score, p.threshold);
    if (rank(l) > rank(level)) level = l;
    if (!worst || p.score - p.threshold < worst.score! - worst.threshold) worst = p;
  }
  const text = worst ? `$(pulse) ${formatScore(worst.score!)}` : '$(pulse) –';
  const lines = live.map((p) => {
    const parts: string[] = [p.state];
    if (p.throughput !== undefined && p.state !== 'paused') parts.push(formatThroughput(p.throughput));
    const score = p.score === undefined ? '–' : formatScore(p.score);
    return `${p.name}: ${score} (${parts.join(', ')})`;
  });
  const learning = live.flatMap((p) => {
    const b = learningNow(p);
    return b ? [`${p.name} ${learningProgress(b)}`] : [];
  });
  const held = learning.length ? [`Still learning a baseline (alerts held): ${learning.join(', ')}`] : [];
  const tooltip = [`Clean Streams — worst quality score${worst ? ` (${worst.name})` : ''}`, ...lines, ...held, 'Click to open the chart'].join('\n');
  return { visible: true, text, level, tooltip, worst: worst?.name ?? live[0]!.name };
}

function rank(l: HealthLevel): number {
  return l === 'ok' ? 0 : l === 'warning' ? 1 : 2;
}
