/** Decides which alerts become notifications: one per crossing, filtered by level, coalesced, mutable per pipeline. */
import type { AcceptNormalParams, DetectorName, MetricsEvent } from '../../shared/protocol';
import type { AlertEvent, RecoveredEvent, Severity } from '../../server/engine/events';

/** The actions an alert notice offers, in the order VS Code shows them. */
export const NOTICE_ACTIONS = {
  openChart: 'Open Chart',
  showSamples: 'Show Samples',
  thisIsNormal: 'This is normal',
  mute: 'Mute for 1 hour',
} as const;

/** Every alert offers the chart, its samples and a mute; "This is normal" too, except for broken rules (the user's contract). */
export function noticeActions(alert: Pick<AlertEvent, 'detector'>): string[] {
  const normal = alert.detector === 'rules' ? [] : [NOTICE_ACTIONS.thisIsNormal];
  return [NOTICE_ACTIONS.openChart, NOTICE_ACTIONS.showSamples, ...normal, NOTICE_ACTIONS.mute];
}

/** Notices stay short: the alert's message (it names the cause) cut at a word, without the record pointer. */
export const NOTICE_MAX_CHARS = 200;

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
    return { show: true, kind: noticeKindFor(alert.severity), text: noticeText(alert) };
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

/**
 * The text of an alert notice: the pipeline and the alert's message, whose trailing pointer to the latest record
 * ("Latest: record 3272 (position 2@1533).") is left to the log and Show Samples, cut at a word past NOTICE_MAX_CHARS.
 */
export function noticeText(alert: Pick<AlertEvent, 'pipeline' | 'message'>): string {
  let message = alert.message.replace(/\s*Latest: record \d+.*$/s, '').trim();
  if (message.length > NOTICE_MAX_CHARS) {
    const cut = message.slice(0, NOTICE_MAX_CHARS - 1);
    const space = cut.lastIndexOf(' ');
    message = `${(space > NOTICE_MAX_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
  }
  return `Clean Streams · ${alert.pipeline}: ${message}`;
}

/** The detectors of a check that stand out now (in the check's order). */
export function outDetectors(metrics: Pick<MetricsEvent, 'detectors'> | undefined): DetectorName[] {
  if (!metrics) return [];
  return (Object.entries(metrics.detectors) as Array<[DetectorName, { out?: boolean } | undefined]>).filter(([, d]) => d?.out === true).map(([name]) => name);
}

/**
 * What "This is normal" on an alert asks the agent to accept. A detector's alert: that detector, on its field when
 * the alert names exactly one. A score alert names no detector of its own: the one detector standing out now when
 * there is exactly one, else every detector — one request either way, so that one Undo puts everything back.
 */
export function acceptNormalParamsFor(alert: Pick<AlertEvent, 'pipeline' | 'detector' | 'fields'>, outNow: readonly DetectorName[]): AcceptNormalParams {
  const params: AcceptNormalParams = { pipeline: alert.pipeline };
  if (alert.detector !== null) {
    params.detector = alert.detector;
    const only = alert.fields.length === 1 ? alert.fields[0]!.name : null;
    if (only !== null) params.field = only;
  } else {
    // Broken rules are the user's contract, never "normal".
    const learnt = outNow.filter((d) => d !== 'rules');
    if (learnt.length === 1) params.detector = learnt[0]!;
  }
  return params;
}
