/** Decides which alerts become notifications: one per crossing, filtered by level, coalesced, mutable per pipeline. */
import type { AlertEvent, RecoveredEvent, Severity } from '../../server/engine/events';

/** Which alert severities raise a notification (`clean.notifications`). */
export type NotificationLevel = 'warning' | 'critical' | 'off';
export const NOTIFICATION_LEVELS: NotificationLevel[] = ['warning', 'critical', 'off'];

/** How a notice is shown: VS Code's information, warning or error message. */
export type NoticeKind = 'info' | 'warning' | 'error';

export type AlertDecision =
  | { show: true; kind: NoticeKind; text: string }
  | { show: false; why: 'level' | 'muted' | 'repeat' | 'coalesced' };

export type RecoveryDecision = { show: true; text: string } | { show: false };

const RANK: Record<Severity, number> = { warning: 1, critical: 2 };

export function notificationLevelFrom(value: unknown): NotificationLevel {
  return NOTIFICATION_LEVELS.includes(value as NotificationLevel) ? (value as NotificationLevel) : 'warning';
}

export function noticeKindFor(severity: Severity | string): NoticeKind {
  if (severity === 'critical') return 'error';
  if (severity === 'warning') return 'warning';
  return 'info';
}

/** The metric an alert is about: the pipeline's score or one detector's rate. */
export function alertKey(e: Pick<AlertEvent, 'pipeline' | 'detector'>): string {
  return `${e.pipeline}\u0000${e.detector ?? 'score'}`;
}

export interface AlertNoticeOptions {
  /** A second alert of the same pipeline within this window is folded into the first notice (ms). */
  coalesceMs: number;
}

export class AlertNoticePolicy {
  /** Metrics currently past their threshold, with the highest severity announced for each. */
  private readonly active = new Map<string, Severity>();
  private readonly mutedUntil = new Map<string, number>();
  private readonly lastShown = new Map<string, { time: number; severity: Severity }>();

  constructor(
    private level: NotificationLevel,
    private readonly options: AlertNoticeOptions = { coalesceMs: 10_000 },
  ) {}

  setLevel(level: NotificationLevel): void {
    this.level = level;
  }

  mute(pipeline: string, now: number, durationMs = 3_600_000): void {
    this.mutedUntil.set(pipeline, now + durationMs);
  }

  isMuted(pipeline: string, now: number): boolean {
    const until = this.mutedUntil.get(pipeline);
    if (until === undefined) return false;
    if (now < until) return true;
    this.mutedUntil.delete(pipeline);
    return false;
  }

  onAlert(alert: AlertEvent, now: number): AlertDecision {
    const key = alertKey(alert);
    const before = this.active.get(key);
    // The same metric still past its threshold is not a new crossing unless it escalated.
    if (before !== undefined && RANK[alert.severity] <= RANK[before]) return { show: false, why: 'repeat' };
    this.active.set(key, alert.severity);
    if (this.level === 'off' || (this.level === 'critical' && alert.severity !== 'critical')) return { show: false, why: 'level' };
    if (this.isMuted(alert.pipeline, now)) return { show: false, why: 'muted' };
    const last = this.lastShown.get(alert.pipeline);
    if (last && now - last.time < this.options.coalesceMs && RANK[alert.severity] <= RANK[last.severity]) return { show: false, why: 'coalesced' };
    this.lastShown.set(alert.pipeline, { time: now, severity: alert.severity });
    return { show: true, kind: noticeKindFor(alert.severity), text: `Clean Streams · ${alert.pipeline}: ${alert.message}` };
  }

  onRecovered(event: RecoveredEvent, now: number): RecoveryDecision {
    const key = alertKey(event);
    const was = this.active.delete(key);
    if (!was || this.level === 'off' || this.isMuted(event.pipeline, now)) return { show: false };
    return { show: true, text: `$(pass) ${event.pipeline}: ${event.message}` };
  }

  /** A stopped pipeline's crossings and mute end with it. */
  forget(pipeline: string): void {
    for (const key of [...this.active.keys()]) if (key.startsWith(`${pipeline}\u0000`)) this.active.delete(key);
    this.lastShown.delete(pipeline);
    this.mutedUntil.delete(pipeline);
  }
}
