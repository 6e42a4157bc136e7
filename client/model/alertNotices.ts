/** Decides which alerts become notifications: one per crossing, filtered by level and mutes, folded without hiding the worst. */
import type { AcceptNormalParams, DetectorName, MetricsEvent } from '../../shared/protocol';
import type { AlertEvent, RecoveredEvent, Severity } from '../../server/engine/events';
import { formatPercent, formatScore } from './format';
import { inert } from './inertText';

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
/** A folded notice names at most this many of the other alerts, then "…". */
export const FOLDED_NAMED = 4;

/** Which alert severities raise a notification (`clean.notifications`). */
export type NotificationLevel = 'warning' | 'critical' | 'off';
export const NOTIFICATION_LEVELS: NotificationLevel[] = ['warning', 'critical', 'off'];

/** How a notice is shown: VS Code's information, warning or error message. */
export type NoticeKind = 'info' | 'warning' | 'error';

/** One notification: the most severe alert of a fold, and the others that fired with it. */
export interface AlertNotice {
  pipeline: string;
  kind: NoticeKind;
  text: string;
  /** The alert the notice leads with (its actions act on it). */
  alert: AlertEvent;
  /** The other alerts folded into it, most severe first. */
  others: AlertEvent[];
}

export type AlertDecision =
  /** Shown now: an alert worse than the last notice of its pipeline, with what was held folded in. */
  | { show: true; notice: AlertNotice }
  /** Held, to be folded into the notice that flush() gives at `due`. */
  | { show: false; why: 'held'; due: number }
  | { show: false; why: 'level' | 'muted' | 'repeat' };

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
  /** Alerts of a quiet pipeline arriving within this time of the first are gathered into one notice (ms). */
  gatherMs: number;
  /** After a notice, the pipeline's further alerts are held this long and folded into its next notice, unless one is worse (ms). */
  coalesceMs: number;
  /** Whether a pipeline's alerts are muted now (mutes are kept by topic and connection, outside the policy). */
  isMuted?: (pipeline: string, now: number) => boolean;
}

/** The alerts of one pipeline waiting for a notice, and the last notice shown. */
interface Fold {
  held: Map<string, AlertEvent>;
  /** When the held alerts are due as a notice. */
  due: number;
  /** Severity of the last notice, while its quiet period lasts (until `due`). */
  shown?: Severity;
}

/**
 * Decides which alerts become notifications. One per crossing, filtered by level and mutes. Alerts that fire together
 * fold into one notice that leads with the most severe and names the others ("… — and 2 more: duplicates 15%,
 * score 0.58"); a worse alert is never held behind a milder notice: it is shown at once.
 */
export class AlertNoticePolicy {
  /** Metrics currently past their threshold, with the highest severity seen for each. */
  private readonly active = new Map<string, Severity>();
  private readonly folds = new Map<string, Fold>();

  constructor(
    private level: NotificationLevel,
    private readonly options: AlertNoticeOptions = { gatherMs: 1_500, coalesceMs: 10_000 },
  ) {}

  setLevel(level: NotificationLevel): void {
    this.level = level;
  }

  private muted(pipeline: string, now: number): boolean {
    return this.options.isMuted?.(pipeline, now) === true;
  }

  onAlert(alert: AlertEvent, now: number): AlertDecision {
    const key = alertKey(alert);
    const before = this.active.get(key);
    // The same metric still past its threshold is not a new crossing unless it escalated.
    if (before !== undefined && RANK[alert.severity] <= RANK[before]) return { show: false, why: 'repeat' };
    this.active.set(key, alert.severity);
    if (this.level === 'off' || (this.level === 'critical' && alert.severity !== 'critical')) return { show: false, why: 'level' };
    if (this.muted(alert.pipeline, now)) return { show: false, why: 'muted' };
    let fold = this.folds.get(alert.pipeline);
    if (fold && fold.shown !== undefined && now >= fold.due && fold.held.size === 0) fold = undefined;
    if (!fold) {
      this.folds.set(alert.pipeline, { held: new Map([[key, alert]]), due: now + this.options.gatherMs });
      return { show: false, why: 'held', due: now + this.options.gatherMs };
    }
    if (fold.shown !== undefined && RANK[alert.severity] > RANK[fold.shown]) {
      fold.held.delete(key);
      return { show: true, notice: this.noticeOf(fold, alert, now) };
    }
    fold.held.delete(key); // re-inserted last: a later, worse alert of one metric replaces the earlier one
    fold.held.set(key, alert);
    return { show: false, why: 'held', due: fold.due };
  }

  /** The notice a pipeline's held alerts make at their due time, or undefined when none is left (recovered, muted). */
  flush(pipeline: string, now: number): AlertNotice | undefined {
    const fold = this.folds.get(pipeline);
    if (!fold || now < fold.due) return undefined;
    if (fold.held.size === 0 || this.muted(pipeline, now)) {
      this.folds.delete(pipeline);
      return undefined;
    }
    const [lead] = mostSevereFirst([...fold.held.values()]);
    fold.held.delete(alertKey(lead!));
    return this.noticeOf(fold, lead!, now);
  }

  /** When the next flush of a pipeline is due, if anything is held. */
  dueOf(pipeline: string): number | undefined {
    const fold = this.folds.get(pipeline);
    return fold && fold.held.size > 0 ? fold.due : undefined;
  }

  private noticeOf(fold: Fold, lead: AlertEvent, now: number): AlertNotice {
    const others = mostSevereFirst([...fold.held.values()]);
    fold.held.clear();
    fold.shown = lead.severity;
    fold.due = now + this.options.coalesceMs;
    return { pipeline: lead.pipeline, kind: noticeKindFor(lead.severity), text: foldedNoticeText(lead, others), alert: lead, others };
  }

  onRecovered(event: RecoveredEvent, now: number): RecoveryDecision {
    const key = alertKey(event);
    const was = this.active.delete(key);
    // A metric back to normal before its notice was shown is no news any more.
    this.folds.get(event.pipeline)?.held.delete(key);
    if (!was || this.level === 'off' || this.muted(event.pipeline, now)) return { show: false };
    return { show: true, text: `$(pass) ${inert(event.pipeline)}: ${inert(event.message)}` };
  }

  /** A stopped pipeline's crossings and held alerts end with it (its mute, kept by topic, does not). */
  forget(pipeline: string): void {
    for (const key of [...this.active.keys()]) if (key.startsWith(`${pipeline}\u0000`)) this.active.delete(key);
    this.folds.delete(pipeline);
  }
}

/** Critical before warning; at one severity in the order they fired (the first is usually the cause, the score its sum). */
export function mostSevereFirst(alerts: readonly AlertEvent[]): AlertEvent[] {
  return alerts
    .map((a, i) => ({ a, i }))
    .sort((x, y) => RANK[y.a.severity] - RANK[x.a.severity] || x.i - y.i)
    .map(({ a }) => a);
}

/** `duplicates 15%`, `score 0.58`: what an alert's metric stood at. */
export function alertFigure(alert: Pick<AlertEvent, 'detector' | 'value'>): string {
  return alert.detector === null ? `score ${formatScore(alert.value)}` : `${alert.detector} ${formatPercent(alert.value)}`;
}

/** A notice leading with one alert and naming the others that fired with it: "… — and 2 more: duplicates 15%, score 0.58". */
export function foldedNoticeText(lead: Pick<AlertEvent, 'pipeline' | 'message'>, others: ReadonlyArray<Pick<AlertEvent, 'detector' | 'value'>>): string {
  const text = noticeText(lead);
  if (others.length === 0) return text;
  const named = others.slice(0, FOLDED_NAMED).map(alertFigure);
  return `${text} — and ${others.length} more: ${named.join(', ')}${others.length > FOLDED_NAMED ? ', …' : ''}`;
}

/**
 * The text of an alert notice: the pipeline and the alert's message, whose trailing pointer to the latest record
 * ("Latest: record 3272 (position 2@1533).") is left to the log and Show Samples, cut at a word past NOTICE_MAX_CHARS,
 * made inert (the pipeline's name and the field names in the message come from outside).
 */
export function noticeText(alert: Pick<AlertEvent, 'pipeline' | 'message'>): string {
  let message = alert.message.replace(/\s*Latest: record \d+.*$/s, '').trim();
  if (message.length > NOTICE_MAX_CHARS) {
    const cut = message.slice(0, NOTICE_MAX_CHARS - 1);
    const space = cut.lastIndexOf(' ');
    message = `${(space > NOTICE_MAX_CHARS / 2 ? cut.slice(0, space) : cut).replace(/[\s,;:.]+$/, '')}…`;
  }
  return inert(`Clean Streams · ${alert.pipeline}: ${message}`);
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
