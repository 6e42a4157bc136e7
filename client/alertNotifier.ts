/**
 * Alerts as notifications: one per crossing, by severity, folded so that the worst leads and the others are named, with
 * actions; mutes kept by topic and connection; recoveries as a brief status-bar message; and one "cannot reach" notice
 * per pipeline with Edit Address and Stop. The agent already writes every alert to the log: nothing here repeats it.
 */
import * as vscode from 'vscode';
import type { AlertParams } from '../shared/protocol';
import type { AlertEvent } from '../server/engine/events';
import type { Ctx } from './ctx';
import { EDIT_ADDRESS_ACTION, editPipelineAddress, STOP_ACTION } from './editAddress';
import { AlertNoticePolicy, NOTICE_ACTIONS, noticeActions, notificationLevelFrom, type AlertNotice } from './model/alertNotices';
import { pipelineTarget } from './model/commandArgs';
import { formatClock } from './model/format';
import { inert } from './model/inertText';
import { MuteBook } from './model/mutes';
import { isUnreachable, problemOf, unreachableNotice } from './model/pipelineHealth';
import { muteKeyOf } from './model/sourceAddress';

export interface AlertNoticeShown {
  alert: AlertParams;
  text: string;
  actions: string[];
  /** The alerts folded into this notice, most severe first. */
  others: AlertParams[];
}

export interface ProblemNoticeShown {
  pipeline: string;
  text: string;
  actions: string[];
}

const books = new WeakMap<Ctx, MuteBook>();

/** The muted topics, one book per extension, kept in globalState: they outlive the agent, the window and the pipeline. */
export function topicMutes(ctx: Ctx): MuteBook {
  let book = books.get(ctx);
  if (!book) {
    book = new MuteBook(ctx.extension.globalState);
    books.set(ctx, book);
  }
  return book;
}

export class AlertNotifier implements vscode.Disposable {
  private readonly policy: AlertNoticePolicy;
  private readonly mutes: MuteBook;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly shown = new vscode.EventEmitter<AlertNoticeShown>();
  private readonly problemShown = new vscode.EventEmitter<ProblemNoticeShown>();
  private readonly skipped = new vscode.EventEmitter<{ alert: AlertParams; why: 'level' | 'muted' | 'repeat' }>();
  /** Every alert notification actually shown. */
  readonly onDidShowNotice = this.shown.event;
  /** Every "cannot reach" notification shown. */
  readonly onDidShowProblemNotice = this.problemShown.event;
  /** Every alert that became no notice, and why (held alerts are folded into a later notice, not skipped). */
  readonly onDidSkipAlert = this.skipped.event;
  /** Pending flushes of held alerts, by pipeline. */
  private readonly timers = new Map<string, { due: number; timer: ReturnType<typeof setTimeout> }>();
  /** Pipelines whose "cannot reach" was said; said again only after they ran. */
  private readonly toldUnreachable = new Set<string>();
  private readonly tracked = new Set<string>();
  private muteExpiry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly ctx: Ctx) {
    this.mutes = topicMutes(ctx);
    // 1.5 s gathers the alerts of two consecutive checks at the default 1 s interval (a detector, then the score).
    this.policy = new AlertNoticePolicy(notificationLevelFrom(ctx.config.get('notifications')), {
      gatherMs: 1_500,
      coalesceMs: 10_000,
      isMuted: (pipeline, now) => this.isMuted(pipeline, now),
    });
    this.disposables.push(
      this.shown,
      this.problemShown,
      this.skipped,
      ctx.onAlert((event) => (event.type === 'alert' ? this.onAlert(event) : this.onRecovered(event))),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('clean.notifications')) this.policy.setLevel(notificationLevelFrom(ctx.config.get('notifications')));
      }),
      ctx.store.onChange(() => this.onStoreChange()),
      this.mutes.onChange(() => this.scheduleMuteExpiry()),
      vscode.commands.registerCommand('clean.unmute', (arg?: unknown) => this.unmuteCommand(arg)),
      vscode.commands.registerCommand('clean.mute', (arg?: unknown) => this.muteCommand(arg)),
      vscode.commands.registerCommand('clean.editAddress', (arg?: unknown) => this.editAddressCommand(arg)),
    );
    this.scheduleMuteExpiry();
  }

  private isMuted(pipeline: string, now: number): boolean {
    const info = this.ctx.store.get(pipeline)?.info;
    return info !== undefined && this.mutes.isMuted(muteKeyOf(info), now);
  }

  private onStoreChange(): void {
    for (const id of this.tracked) if (!this.ctx.store.get(id)) this.forget(id);
    for (const { info } of this.ctx.store.list()) {
      if (info.state === 'running') this.toldUnreachable.delete(info.id);
      else if (isUnreachable(info) && !this.toldUnreachable.has(info.id)) {
        this.toldUnreachable.add(info.id);
        this.tracked.add(info.id);
        this.showUnreachable(info.id, problemOf(info) ?? info.message);
      }
    }
  }

  private forget(id: string): void {
    this.tracked.delete(id);
    this.toldUnreachable.delete(id);
    this.policy.forget(id);
    const t = this.timers.get(id);
    if (t) clearTimeout(t.timer);
    this.timers.delete(id);
  }

  private onAlert(event: AlertEvent): void {
    this.tracked.add(event.pipeline);
    const decision = this.policy.onAlert(event, Date.now());
    if (decision.show) this.present(decision.notice);
    else if (decision.why === 'held') this.scheduleFlush(event.pipeline, decision.due);
    else {
      this.ctx.output.debug(`${event.pipeline}: no notice for the ${event.detector ?? 'score'} alert (${decision.why})`);
      this.skipped.fire({ alert: event, why: decision.why });
    }
  }

  private scheduleFlush(pipeline: string, due: number): void {
    const pending = this.timers.get(pipeline);
    if (pending && pending.due <= due) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.timers.delete(pipeline);
      const notice = this.policy.flush(pipeline, Date.now());
      if (notice) this.present(notice);
      const next = this.policy.dueOf(pipeline);
      if (next !== undefined) this.scheduleFlush(pipeline, next);
    }, Math.max(0, due - Date.now()));
    this.timers.set(pipeline, { due, timer });
  }

  private present(notice: AlertNotice): void {
    const event = notice.alert;
    const show =
      notice.kind === 'error' ? vscode.window.showErrorMessage : notice.kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const actions = noticeActions(event);
    this.shown.fire({ alert: event, text: notice.text, actions, others: notice.others });
    // Pending flush after an escalation: the held alerts were folded into this notice.
    const next = this.policy.dueOf(event.pipeline);
    if (next !== undefined) this.scheduleFlush(event.pipeline, next);
    void show(notice.text, ...actions).then((pick) => {
      if (pick === NOTICE_ACTIONS.openChart) void vscode.commands.executeCommand('clean.openChart', event.pipeline);
      else if (pick === NOTICE_ACTIONS.showSamples) void vscode.commands.executeCommand('clean.showSamples', { pipeline: event.pipeline, detector: event.detector ?? undefined, alert: event.time });
      else if (pick === NOTICE_ACTIONS.thisIsNormal) void vscode.commands.executeCommand('clean.acceptNormal', event);
      else if (pick === NOTICE_ACTIONS.mute) this.mute(event.pipeline);
    });
  }

  /** Mutes the topic (and connection) of a pipeline for an hour. */
  mute(pipeline: string): void {
    const info = this.ctx.store.get(pipeline)?.info;
    if (!info) return;
    const until = this.mutes.mute(muteKeyOf(info), Date.now());
    this.ctx.output.info(`Muted alerts of ${info.topic} (${muteKeyOf(info)}) until ${formatClock(until)}.`);
    vscode.window.setStatusBarMessage(`$(bell-slash) Clean Streams: alerts of ${inert(info.topic)} muted until ${formatClock(until)}`, 5000);
  }

  private async muteCommand(arg: unknown): Promise<boolean> {
    let target = pipelineTarget(arg);
    if (!target) {
      const candidates = this.ctx.store.list().map((e) => e.info);
      if (candidates.length === 0) {
        void vscode.window.showInformationMessage('No pipeline to mute. Start the demo or monitor a topic first.');
        return false;
      }
      const pick = await vscode.window.showQuickPick(
        candidates.map((p) => ({ label: inert(p.topic), description: inert(`${p.id} · ${p.state}`), id: p.id })),
        { title: 'Mute the alerts of which topic for 1 hour?' },
      );
      target = pick ? { pipeline: pick.id } : undefined;
    }
    if (!target || !this.ctx.store.get(target.pipeline)) return false;
    this.mute(target.pipeline);
    return true;
  }

  private async unmuteCommand(arg: unknown): Promise<boolean> {
    const now = Date.now();
    const target = pipelineTarget(arg);
    let key: string | undefined;
    if (target) {
      const info = this.ctx.store.get(target.pipeline)?.info;
      key = info ? muteKeyOf(info) : undefined;
    } else if (typeof arg === 'object' && arg !== null && typeof (arg as { key?: unknown }).key === 'string') {
      key = (arg as { key: string }).key;
    } else {
      const active = this.mutes.active(now);
      if (active.length === 0) {
        void vscode.window.showInformationMessage('No Clean Streams topic is muted.');
        return false;
      }
      const pick =
        active.length === 1
          ? { key: active[0]!.key }
          : await vscode.window.showQuickPick(
              active.map((m) => ({ label: inert(m.key), description: `muted until ${formatClock(m.until)}`, key: m.key })),
              { title: 'Unmute which topic?' },
            );
      key = pick?.key;
    }
    if (key === undefined || !this.mutes.unmute(key)) return false;
    this.ctx.output.info(`Unmuted alerts of ${key}.`);
    vscode.window.setStatusBarMessage(`$(bell) Clean Streams: alerts of ${inert(key)} unmuted`, 4000);
    return true;
  }

  /** The tree redraws when a mute ends, so that "muted" does not linger. */
  private scheduleMuteExpiry(): void {
    if (this.muteExpiry !== undefined) clearTimeout(this.muteExpiry);
    this.muteExpiry = undefined;
    const end = this.mutes.nextEnd(Date.now());
    if (end === undefined) return;
    // setTimeout holds at most about 24.8 days; mutes are far shorter, but a clamp keeps a stored odd value harmless.
    this.muteExpiry = setTimeout(() => {
      this.mutes.active(Date.now()); // drops what ended, which tells the tree
      this.scheduleMuteExpiry();
    }, Math.min(Math.max(0, end - Date.now()) + 50, 2 ** 31 - 1));
  }

  /** Said once per pipeline (again only after it ran): the reason, and what the user can do about it. */
  private showUnreachable(pipeline: string, problem: string): void {
    const info = this.ctx.store.get(pipeline)?.info;
    if (!info) return;
    const text = inert(unreachableNotice(info.name, problem, info.state));
    const actions = [EDIT_ADDRESS_ACTION, STOP_ACTION];
    this.problemShown.fire({ pipeline, text, actions });
    void vscode.window.showWarningMessage(text, ...actions).then((pick) => {
      if (pick === EDIT_ADDRESS_ACTION) void vscode.commands.executeCommand('clean.editAddress', { pipeline });
      else if (pick === STOP_ACTION) void vscode.commands.executeCommand('clean.stopPipeline', { pipeline });
    });
  }

  private async editAddressCommand(arg: unknown): Promise<unknown> {
    const target = pipelineTarget(arg);
    if (!target) {
      void vscode.window.showInformationMessage('Choose "Edit Address" on a pipeline row, or on its "cannot reach" notification.');
      return undefined;
    }
    // The end-to-end tests pass the address; a person types it.
    const given = (arg as { address?: unknown }).address;
    try {
      return await editPipelineAddress(this.ctx, target.pipeline, typeof given === 'string' ? async () => given : undefined);
    } catch (err) {
      const message = `Could not edit the address: ${(err as Error).message}`;
      this.ctx.output.error(message);
      void vscode.window.showErrorMessage(inert(message));
      return undefined;
    }
  }

  private onRecovered(event: AlertParams & { type: 'recovered' }): void {
    const decision = this.policy.onRecovered(event, Date.now());
    if (decision.show) vscode.window.setStatusBarMessage(decision.text, 8000);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    if (this.muteExpiry !== undefined) clearTimeout(this.muteExpiry);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
