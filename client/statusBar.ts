/**
 * The status-bar item: pipelines down, the worst live score, stale and learning counts, coloured below the threshold,
 * hidden when nothing runs. It also sweeps the store for stale pipelines, since a pipeline going quiet changes nothing else.
 */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { BatchedSignal } from './model/batchedSignal';
import { computeStatusBar, type HealthLevel, type StatusBarState } from './model/statusBarState';

/** How often running pipelines are checked for staleness. */
const STALE_SWEEP_MS = 5_000;

const BACKGROUNDS: Record<HealthLevel, vscode.ThemeColor | undefined> = {
  ok: undefined,
  warning: new vscode.ThemeColor('statusBarItem.warningBackground'),
  error: new vscode.ThemeColor('statusBarItem.errorBackground'),
};

/** What the item shows for the store now (also read by the API the end-to-end tests use). */
export function statusBarStateOf(ctx: Ctx): StatusBarState {
  return computeStatusBar(
    ctx.store.list().map(({ info, metrics, stale }) => ({
      name: info.id,
      state: info.state,
      score: info.score,
      threshold: info.threshold,
      throughput: info.throughput,
      baseline: info.baseline,
      message: info.message,
      stale,
      lastCheck: metrics?.time,
    })),
    ctx.store.agentStoppedAt,
  );
}

export class QualityStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('cleanStreams.quality', vscode.StatusBarAlignment.Left, 50);
  private readonly refresh = new BatchedSignal(() => this.render(), 250);
  private readonly subscription: { dispose(): void };
  private readonly sweep = setInterval(() => this.ctx.store.sweepStale(Date.now()), STALE_SWEEP_MS);

  constructor(private readonly ctx: Ctx) {
    this.item.name = 'Clean Streams quality';
    this.subscription = ctx.store.onChange(() => this.refresh.signal());
    this.render();
  }


  private render(): void {
    const state = statusBarStateOf(this.ctx);
    if (!state.visible) {
      this.item.hide();
      return;
    }
    this.item.text = state.text;
    this.item.tooltip = state.tooltip;
    this.item.backgroundColor = BACKGROUNDS[state.level];
    this.item.accessibilityInformation = { label: `Clean Streams worst quality score ${state.text.replace(/^\$\([a-z-]+\) /, '')}` };
    this.item.command = state.command === 'clean.restartAgent' ? { command: 'clean.restartAgent', title: 'Restart Agent' } : { command: 'clean.openChart', title: 'Open Chart' };
    this.item.show();
  }

  dispose(): void {
    clearInterval(this.sweep);
    this.subscription.dispose();
    this.refresh.dispose();
    this.item.dispose();
  }
}
