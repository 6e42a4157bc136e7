/** What activate() returns: a small, read-mostly API for other extensions and the end-to-end tests. */
import * as vscode from 'vscode';
import { HistoryRequest, ResolveTopicRequest, type PipelineHistory, type AlertParams, type MetricsEvent, type PipelineInfo, type ResolveTopicParams, type ResolveTopicResult } from '../shared/protocol';
import type { AlertNotifier } from './alertNotifier';
import type { Ctx } from './ctx';
import { statusBarStateOf } from './statusBar';
import type { TopicsTreeProvider } from './topicsView';

export interface CleanStreamsApi {
  /** Resolves once the agent answers requests (starting it if needed). */
  whenAgentReady(): Promise<void>;
  /** The pipelines as the tree shows them, in start order. */
  pipelines(): Array<{ info: PipelineInfo; metrics?: MetricsEvent }>;
  /** Fires after every change of the pipelines' data (the views redraw from it in batches). */
  onDidChangePipelines: vscode.Event<void>;
  /** Fires for every alert notification actually shown (after level, mute and coalescing). */
  onDidShowAlertNotice: vscode.Event<{ alert: AlertParams; text: string; actions: string[]; others: AlertParams[] }>;
  /** clean/resolveTopic: the topic, backend and connection a document names. */
  resolveTopic(params: ResolveTopicParams): Promise<ResolveTopicResult>;
  /** clean/history of one pipeline: the points the chart draws (also those saved before an agent restart). */
  history(pipeline: string): Promise<PipelineHistory>;
  /** The tree's pipeline rows as drawn now: label, description, tooltip, context value, icon, and what a click runs. */
  treeRows(): Array<{ pipeline: string; label: string; description: string; tooltip: string; contextValue: string; icon: string; click?: { command: string; arguments?: unknown[] } }>;
  /** The status-bar item as shown now. */
  statusBar(): { visible: boolean; text: string; tooltip: string };
  /** Fires for every "cannot reach" notification shown (once per pipeline). */
  onDidShowProblemNotice: vscode.Event<{ pipeline: string; text: string; actions: string[] }>;
  /** Fires for every alert that became no notice: filtered by level, muted, or a repeat of an active one. */
  onDidSkipAlert: vscode.Event<{ alert: AlertParams; why: 'level' | 'muted' | 'repeat' }>;
}

export function createApi(ctx: Ctx, notifier: AlertNotifier, tree: TopicsTreeProvider): CleanStreamsApi {
  const changed = new vscode.EventEmitter<void>();
  const subscription = ctx.store.onChange(() => changed.fire());
  ctx.extensionDisposables.push(changed, subscription);
  return {
    async whenAgentReady() {
      await ctx.agent();
    },
    pipelines: () => ctx.store.list().map((e) => ({ info: e.info, metrics: e.metrics })),
    onDidChangePipelines: changed.event,
    onDidShowAlertNotice: notifier.onDidShowNotice,
    async resolveTopic(params) {
      const client = await ctx.agent();
      return client.sendRequest(ResolveTopicRequest.type, params);
    },
    async history(pipeline) {
      const client = await ctx.agent();
      const { pipelines } = await client.sendRequest(HistoryRequest.type, { pipeline });
      return pipelines[0]!;
    },
    treeRows: () =>
      tree.rows().map((n) => {
        const command = tree.getTreeItem(n).command;
        const click = command && { command: command.command, ...(command.arguments ? { arguments: command.arguments } : {}) };
        return { pipeline: n.pipeline, label: n.label, description: n.description, tooltip: n.tooltip, contextValue: n.contextValue, icon: n.icon.id, ...(click ? { click } : {}) };
      }),
    statusBar: () => {
      const s = statusBarStateOf(ctx);
      return { visible: s.visible, text: s.text, tooltip: s.tooltip };
    },
    onDidShowProblemNotice: notifier.onDidShowProblemNotice,
    onDidSkipAlert: notifier.onDidSkipAlert,
  };
}
