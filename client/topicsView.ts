/** The "Monitored Topics" tree: rows from client/model/topicTree.ts, redrawn in batches (at most 4 per second). */
import * as vscode from 'vscode';
import type { Ctx } from './ctx';
import { BatchedSignal } from './model/batchedSignal';
import { childrenOf, pipelineNode, type TopicNode } from './model/topicTree';

export const TOPICS_VIEW_ID = 'cleanStreams.topics';
const REFRESH_MS = 250;

export class TopicsTreeProvider implements vscode.TreeDataProvider<TopicNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TopicNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refresh = new BatchedSignal(() => this.changed.fire(undefined), REFRESH_MS);
  private readonly subscription: { dispose(): void };

  constructor(private readonly ctx: Ctx) {
    this.subscription = ctx.store.onChange(() => this.refresh.signal());
  }

  getTreeItem(node: TopicNode): vscode.TreeItem {
    const collapsible =
      node.kind === 'pipeline' && node.hasChildren ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(node.label, collapsible);
    item.id = node.id;
    item.description = node.description;
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

  getChildren(node?: TopicNode): TopicNode[] {
    if (!node) return this.ctx.store.list().map(pipelineNode);
    if (node.kind !== 'pipeline') return [];
    const entry = this.ctx.store.get(node.pipeline);
    return entry ? childrenOf(entry) : [];
  }

  getParent(node: TopicNode): TopicNode | undefined {
    if (node.kind === 'pipeline') return undefined;
    const entry = this.ctx.store.get(node.pipeline);
    return entry ? pipelineNode(entry) : undefined;
  }

  /** The row of a pipeline, for TreeView.reveal. */
  nodeFor(pipeline: string): TopicNode | undefined {
    const entry = this.ctx.store.get(pipeline);
    return entry ? pipelineNode(entry) : undefined;
  }

  dispose(): void {
    this.subscription.dispose();
    this.refresh.dispose();
    this.changed.dispose();
  }
}
