/** The "Monitored Topics" tree: rows from client/model/topicTree.ts, redrawn in batches (at most 4 per second). */
import * as vscode from 'vscode';
import { topicMutes } from './alertNotifier';
import type { Ctx } from './ctx';
import { BatchedSignal } from './model/batchedSignal';
import type { PipelineEntry } from './model/pipelineStore';
import { muteKeyOf } from './model/sourceAddress';
import { childrenOf, pipelineNodes, type PipelineNode, type RowContext, type TopicNode } from './model/topicTree';

export const TOPICS_VIEW_ID = 'cleanStreams.topics';
const REFRESH_MS = 250;

/** Everything a row needs besides its pipeline, read now. */
function rowContextOf(ctx: Ctx, entry: PipelineEntry): RowContext {
  const now = Date.now();
  return { now, agentStoppedAt: ctx.store.agentStoppedAt, mutedUntil: topicMutes(ctx).mutedUntil(muteKeyOf(entry.info), now) };
}

/** The pipeline rows as the tree draws them now (also read by the API the end-to-end tests use). */
export function pipelineRowsOf(ctx: Ctx): PipelineNode[] {
  return pipelineNodes(ctx.store.list(), (e) => rowContextOf(ctx, e));
}

export class TopicsTreeProvider implements vscode.TreeDataProvider<TopicNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TopicNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refresh = new BatchedSignal(() => this.changed.fire(undefined), REFRESH_MS);
  private readonly subscriptions: Array<{ dispose(): void }>;

  constructor(private readonly ctx: Ctx) {
    this.subscriptions = [ctx.store.onChange(() => this.refresh.signal()), topicMutes(ctx).onChange(() => this.refresh.signal())];
  }

  private context(entry: PipelineEntry): RowContext {
    return rowContextOf(this.ctx, entry);
  }

  getTreeItem(node: TopicNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'pipeline' && node.hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
    // A plain string: VS Code shows it as text, never as markdown (the model has made it inert as well).
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    item.iconPath = new vscode.ThemeIcon(node.icon.id, node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined);
    if (node.kind === 'pipeline') {
      item.command = { command: 'clean.openChart', title: 'Open Chart', arguments: [node] };
      item.accessibilityInformation = { label: `${node.label}, ${node.state}, ${node.description}` };
    } else if (node.kind === 'detector' && node.contextValue.endsWith('.out')) {
      item.command = { command: 'clean.showSamples', title: 'Show Samples', arguments: [node] };
    }
    return item;
  }

  /** The pipeline rows as drawn now. */
  rows(): PipelineNode[] {
    return pipelineRowsOf(this.ctx);
  }

  getChildren(node?: TopicNode): TopicNode[] {
    if (!node) return this.rows();
    if (node.kind !== 'pipeline') return [];
    const entry = this.ctx.store.get(node.pipeline);
    return entry ? childrenOf(entry, this.context(entry)) : [];
  }

  getParent(node: TopicNode): TopicNode | undefined {
    if (node.kind === 'pipeline') return undefined;
    return this.nodeFor(node.pipeline);
  }

  /** The row of a pipeline, for TreeView.reveal. */
  nodeFor(pipeline: string): TopicNode | undefined {
    return this.rows().find((n) => n.pipeline === pipeline);
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.refresh.dispose();
    this.changed.dispose();
  }
}
