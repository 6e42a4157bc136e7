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

/**
 * Row clicks through command ids of their own. A TreeItem command that carries arguments goes through VS Code's
 * command converter, which keeps the arguments under a one-off id for as long as that drawing of the row lives;
 * this tree redraws up to 4 times a second, and a click that landed just after a redraw failed with "Actual
 * command not found, wanted to execute clean.openChart /N". A command without arguments is passed as it is, so
 * each row target (a pipeline's chart, a detector's samples) gets an id, registered once and dropped with its
 * pipeline.
 */
export class RowCommands implements vscode.Disposable {
  private readonly byTarget = new Map<string, { id: string; pipeline: string; registration: vscode.Disposable }>();
  private next = 0;

  /** The click command of a row: `command` run with `target` (a pipeline name, or {pipeline, detector}). */
  command(title: string, command: string, pipeline: string, target: string | { pipeline: string; detector: string }): vscode.Command {
    const key = `${command}\u0000${pipeline}\u0000${typeof target === 'string' ? '' : target.detector}`;
    let entry = this.byTarget.get(key);
    if (!entry) {
      const id = `clean.row.${++this.next}`;
      entry = { id, pipeline, registration: vscode.commands.registerCommand(id, () => vscode.commands.executeCommand(command, target)) };
      this.byTarget.set(key, entry);
    }
    return { command: entry.id, title };
  }

  /** Drops the ids of pipelines no longer listed. */
  keep(pipelines: ReadonlySet<string>): void {
    for (const [key, entry] of this.byTarget) {
      if (pipelines.has(entry.pipeline)) continue;
      entry.registration.dispose();
      this.byTarget.delete(key);
    }
  }

  dispose(): void {
    for (const entry of this.byTarget.values()) entry.registration.dispose();
    this.byTarget.clear();
  }
}

export class TopicsTreeProvider implements vscode.TreeDataProvider<TopicNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TopicNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly refresh = new BatchedSignal(() => this.changed.fire(undefined), REFRESH_MS);
  private readonly subscriptions: Array<{ dispose(): void }>;
  readonly rowCommands = new RowCommands();

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
      item.command = this.rowCommands.command('Open Chart', 'clean.openChart', node.pipeline, node.pipeline);
      item.accessibilityInformation = { label: `${node.label}, ${node.state}, ${node.description}` };
    } else if (node.kind === 'detector' && node.contextValue.endsWith('.out')) {
      item.command = this.rowCommands.command('Show Samples', 'clean.showSamples', node.pipeline, { pipeline: node.pipeline, detector: node.detector });
    }
    return item;
  }

  /** The pipeline rows as drawn now (also read by the API the end-to-end tests use). */
  rows(): PipelineNode[] {
    return pipelineNodes(this.ctx.store.list(), (e) => this.context(e));
  }

  getChildren(node?: TopicNode): TopicNode[] {
    if (!node) {
      const rows = this.rows();
      this.rowCommands.keep(new Set(rows.map((r) => r.pipeline)));
      return rows;
    }
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
    this.rowCommands.dispose();
  }
}
