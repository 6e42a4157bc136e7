/** Alerts as notifications: one per crossing, by severity, with actions; recoveries as a brief status-bar message. */
import * as vscode from 'vscode';
import type { AlertParams } from '../shared/protocol';
import type { Ctx } from './ctx';
import { AlertNoticePolicy, NOTICE_ACTIONS, noticeActions, notificationLevelFrom } from './model/alertNotices';

export interface AlertNoticeShown {
  alert: AlertParams;
  text: string;
  actions: string[];
}

export class AlertNotifier implements vscode.Disposable {
  private readonly policy: AlertNoticePolicy;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly shown = new vscode.EventEmitter<AlertNoticeShown>();
  /** Every notification actually shown. */
  readonly onDidShowNotice = this.shown.event;

  constructor(private readonly ctx: Ctx) {
    this.policy = new AlertNoticePolicy(notificationLevelFrom(ctx.config.get('notifications')));
    this.disposables.push(
      this.shown,
      ctx.onAlert((event) => (event.type === 'alert' ? this.onAlert(event) : this.onRecovered(event))),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('clean.notifications')) this.policy.setLevel(notificationLevelFrom(ctx.config.get('notifications')));
      }),
      ctx.store.onChange(() => {
        for (const id of this.tracked) if (!ctx.store.get(id)) this.forget(id);
      }),
    );
  }

  private readonly tracked = new Set<string>();

  private forget(id: string): void {
    this.tracked.delete(id);
    this.policy.forget(id);
  }

  private onAlert(event: Parameters<AlertNoticePolicy['onAlert']>[0]): void {
    this.tracked.add(event.pipeline);
    const decision = this.policy.onAlert(event, Date.now());
    this.ctx.output.info(`Alert ${event.severity} on ${event.pipeline}: ${event.message}${decision.show ? '' : ` (not shown: ${decision.why})`}`);
    if (!decision.show) return;
    const show =
      decision.kind === 'error' ? vscode.window.showErrorMessage : decision.kind === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
    const actions = noticeActions(event);
    this.shown.fire({ alert: event, text: decision.text, actions });
    void show(decision.text, ...actions).then((pick) => {
      if (pick === NOTICE_ACTIONS.openChart) void vscode.commands.executeCommand('clean.openChart', event.pipeline);
      else if (pick === NOTICE_ACTIONS.showSamples) void vscode.commands.executeCommand('clean.showSamples', { pipeline: event.pipeline, detector: event.detector ?? undefined });
      else if (pick === NOTICE_ACTIONS.thisIsNormal) void vscode.commands.executeCommand('clean.acceptNormal', event);
      else if (pick === NOTICE_ACTIONS.mute) {
        this.policy.mute(event.pipeline, Date.now());
        vscode.window.setStatusBarMessage(`$(bell-slash) Clean Streams: alerts of ${event.pipeline} muted for 1 hour`, 5000);
      }
    });
  }

  private onRecovered(event: Parameters<AlertNoticePolicy['onRecovered']>[0]): void {
    this.ctx.output.info(`Recovered on ${event.pipeline}: ${event.message}`);
    const decision = this.policy.onRecovered(event, Date.now());
    if (decision.show) vscode.window.setStatusBarMessage(decision.text, 8000);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
