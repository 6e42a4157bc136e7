/** Words and figures for the sinks' human-readable messages (Slack, PagerDuty summaries, Alertmanager annotations). */
import type { SinkEvent } from './types';
import { SCORE } from './filter';

/** `outliers 9 % (limit 5 %)`, `score 0.62 (threshold 0.8)`. */
export function figure(e: SinkEvent): string {
  if (e.detector === null) return `score ${fix(e.value)} (threshold ${fix(e.threshold)})`;
  return `${e.detector} ${pct(e.value)} (limit ${pct(e.threshold)})`;
}

/** `orders · outliers` */
export function subject(e: SinkEvent): string {
  return `${e.pipeline} · ${e.detector ?? SCORE}`;
}

/** One line: `[critical] orders · outliers 9 % (limit 5 %)`, `[recovered] …`, `[test] …`. */
export function summary(e: SinkEvent): string {
  const tag = e.test ? 'test' : e.type === 'recovered' ? 'recovered' : e.severity;
  return `[${tag}] ${e.pipeline}: ${figure(e)}`;
}

export function pct(x: number): string {
  const p = x * 100;
  const text = p >= 10 || p === 0 ? p.toFixed(0) : p >= 1 ? p.toFixed(1).replace(/\.0$/, '') : String(Number(p.toPrecision(2)));
  return `${text} %`;
}

function fix(x: number): string {
  return x.toFixed(2);
}

/** ISO time in UTC to the second: `2026-12-02 14:02:11 UTC`. */
export function when(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** Up to five sample records: `#1534 (2@1534)`. */
export function samplesText(e: SinkEvent): string {
  return e.samples.map((s) => (s.position !== undefined ? `#${s.record} (${s.position})` : `#${s.record}`)).join(', ');
}

/** Cuts text to `max` characters with an ellipsis. */
export function cut(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max - 1) + '…';
}
