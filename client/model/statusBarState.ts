/** What the status-bar item shows, computed from the pipelines' latest state: never an old number as if live. */
import type { BaselineInfo } from '../../server/engine/events';
import type { PipelineState } from '../../server/sources/types';
import { learningNow, learningProgress } from './baseline';
import { formatClock, formatScore, formatThroughput } from './format';
import { inert } from './inertText';
import { conditionOf, problemOf } from './pipelineHealth';

export interface PipelineHealth {
  name: string;
  state: PipelineState;
  /** Latest window score, undefined before the first check. */
  score: number | undefined;
  threshold: number;
  throughput: number | undefined;
  /** Where its baseline stands, once a check ran. */
  baseline?: BaselineInfo;
  /** The agent's message for its state (the reason it is down). */
  message?: string;
  /** Running, but no check for a while: its score is old. */
  stale?: boolean;
  /** Time of its last check. */
  lastCheck?: number;
}

export type HealthLevel = 'ok' | 'warning' | 'error';

export interface StatusBarState {
  visible: boolean;
  text: string;
  level: HealthLevel;
  tooltip: string;
  /** The pipeline with the worst score, opened by a click. */
  worst: string | undefined;
  /** What a click runs: the chart, or a restart when the agent stopped for good. */
  command: 'clean.openChart' | 'clean.restartAgent';
}

/** Same rule as the agent's alerts: below the threshold is a warning, 0.2 or more below it is critical. */
export const CRITICAL_MARGIN = 0.2;

/** Every state the item reports on; a stopped pipeline is gone from it. */
const SHOWN: PipelineState[] = ['connecting', 'waiting', 'running', 'reconnecting', 'paused', 'error'];

export function levelOf(score: number, threshold: number): HealthLevel {
  if (score >= threshold) return 'ok';
  return score <= threshold - CRITICAL_MARGIN + 1e-9 ? 'error' : 'warning';
}

/**
 * The item's text leads with what is not live ("2 down"), then the worst live score, then how many are stale or
 * learning: `$(pulse) 2 down · 1.00`. A score is only ever one that is live; pipelines down or stale make it a warning
 * at least. When the agent stopped for good, nothing is live: `$(debug-disconnect) agent stopped`.
 */
export function computeStatusBar(pipelines: readonly PipelineHealth[], agentStoppedAt?: number): StatusBarState {
  const shown = pipelines.filter((p) => SHOWN.includes(p.state));
  if (shown.length === 0) return { visible: false, text: '', level: 'ok', tooltip: '', worst: undefined, command: 'clean.openChart' };
  if (agentStoppedAt !== undefined) {
    const lines = shown.map((p) => `${p.name}: ${p.score === undefined ? '–' : `last ${formatScore(p.score)}`}${p.lastCheck !== undefined ? ` at ${formatClock(p.lastCheck)}` : ''}`);
    const tooltip = inert([
      `Clean Streams — the agent stopped at ${formatClock(agentStoppedAt)} and was not restarted: no number below is live.`,
      ...lines,
      'Click to restart the agent',
    ].join('\n'));
    return { visible: true, text: '$(debug-disconnect) agent stopped', level: 'error', tooltip, worst: shown[0]!.name, command: 'clean.restartAgent' };
  }
  let worst: PipelineHealth | undefined;
  let level: HealthLevel = 'ok';
  let down = 0;
  let stale = 0;
  let learning = 0;
  for (const p of shown) {
    const condition = conditionOf(p.state, p.stale === true, false);
    if (condition === 'down') down++;
    if (condition === 'stale') stale++;
    if (condition !== 'live' || p.score === undefined) continue;
    if (learningNow(p)) learning++;
    const l = levelOf(p.score, p.threshold);
    if (rank(l) > rank(level)) level = l;
    if (!worst || p.score - p.threshold < worst.score! - worst.threshold) worst = p;
  }
  if ((down > 0 || stale > 0) && level === 'ok') level = 'warning';
  const segments: string[] = [];
  if (down > 0) segments.push(`${down} down`);
  if (worst) segments.push(formatScore(worst.score!));
  else if (down === 0) segments.push('–');
  if (stale > 0) segments.push(`${stale} stale`);
  if (learning > 0) segments.push(`${learning} learning`);
  const text = `$(pulse) ${segments.join(' · ')}`;
  const lines = shown.map((p) => {
    const condition = conditionOf(p.state, p.stale === true, false);
    if (condition === 'down') {
      const problem = problemOf({ state: p.state, message: p.message ?? '' });
      return `${p.name}: ${p.state}${problem ? ` — ${problem}` : ''}`;
    }
    if (condition === 'stale') return `${p.name}: stale, last ${p.score === undefined ? '–' : formatScore(p.score)}${p.lastCheck !== undefined ? ` at ${formatClock(p.lastCheck)}` : ''}`;
    const parts: string[] = [p.state];
    if (p.throughput !== undefined && p.state === 'running') parts.push(formatThroughput(p.throughput));
    const score = p.score === undefined ? '–' : formatScore(p.score);
    return `${p.name}: ${score} (${parts.join(', ')})`;
  });
  const learners = shown.flatMap((p) => {
    const b = learningNow(p);
    return b ? [`${p.name} ${learningProgress(b)}`] : [];
  });
  const held = learners.length ? [`Still learning a baseline (alerts held): ${learners.join(', ')}`] : [];
  const tooltip = inert([`Clean Streams — worst quality score${worst ? ` (${worst.name})` : ''}`, ...lines, ...held, 'Click to open the chart'].join('\n'));
  return { visible: true, text, level, tooltip, worst: worst?.name ?? shown[0]!.name, command: 'clean.openChart' };
}

function rank(l: HealthLevel): number {
  return l === 'ok' ? 0 : l === 'warning' ? 1 : 2;
}
