/** What activate() returns: a small, read-mostly API for other extensions and the end-to-end tests. */
import * as vscode from 'vscode';
import { ResolveTopicRequest, type AlertParams, type MetricsEvent, type PipelineInfo, type ResolveTopicParams, type ResolveTopicResult } from '../shared/protocol';
import type { AlertNotifier } from './alertNotifier';
import type { Ctx } from './ctx';

export interface CleanStreamsApi {
  /** Resolves once the agent answers requests (starting it if needed). */
  whenAgentReady(): Promise<void>;
  /** The pipelines as the tree shows them, in start order. */
  pipelines(): Array<{ info: PipelineInfo; metrics?: MetricsEvent }>;
  /** Fires after every change of the pipelines' data (the views redraw from it in batches). */
  onDidChangePipelines: vscode.Event<void>;
  /** Fires for every alert notification actually shown (after level, mute and coalescing). */
  onDidShowAlertNotice: vscode.Event<{ alert: AlertParams; text: string; actions: string[] }>;
  /** clean/resolveTopic: the topic, backend and connection a document names. */
  resolveTopic(params: ResolveTopicParams): Promise<ResolveTopicResult>;
}

export function createApi(ctx: Ctx, notifier: AlertNotifier): CleanStreamsApi {
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
  };
}
