/** The status-bar item: worst current score, coloured below the threshold, hidden when nothing runs. */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { BatchedSignal } from './model/batchedSignal';
import { computeStatusBar, type HealthLevel } from './model/statusBarState';

const BACKGROUNDS: Record<HealthLevel, vscode.ThemeColor | undefined> = {
  ok: undefined,
  warning: new vscode.ThemeColor('statusBarItem.warningBackground'),
  error: new vscode.ThemeColor('statusBarItem.errorBackground'),
};

export class QualityStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cleanStreams.quality', vscode.StatusBarAlignment.Left, 50);
  private readonly refresh = new BatchedSignal(() => this.render(), 250);
  private readonly subscription: { dispose(): void };

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'Clean Streams quality';
    this.subscription = ctx.store.onChange(() => this.refresh.signal());
    this.render();
  }

  private render(): void {
    const state = computeStatusBar(
      this.ctx.store.list().map(({ info }) => ({
        name: info.id,
        state: info.state,
        score: info.score,
        threshold: info.threshold,
        throughput: info.throughput,
        baseline: info.baseline,
      })),
    );
    if (!state.visible) {
      this.item.hide();
      return;
    }
    this.item.text = state.text;
    this.item.tooltip = state.tooltip;
    this.item.backgroundColor = BACKGROUNDS[state.level];
    this.item.accessibilityInformation = { label: `Clean Streams worst quality score ${state.text.replace('$(pulse) ', '')}` };
    this.item.command = { command: 'clean.openChart', title: 'Open Chart' };
    this.item.show();
  }

  dispose(): void {
    this.subscription.dispose();
    this.refresh.dispose();
    this.item.dispose();
  }
}
