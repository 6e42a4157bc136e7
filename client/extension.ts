/** Entry point of the Clean Streams extension: builds the Ctx, its views and commands, and starts the agent. */
import * as vscode from 'vscode';
import { AlertNotifier } from './alertNotifier';
import { createApi, type CleanStreamsApi } from './api';
import { ChartPanel } from './chartPanel';
import { registerCommands } from './commands';
import { Ctx } from './ctx';
import { restartPrompt, settingsNeedingRestart } from './model/settings';
import type { TopicNode } from './model/topicTree';
import { SAMPLES_SCHEME, SamplesDocumentProvider } from './samplesDocument';
import { QualityStatusBar } from './statusBar';
import { TOPICS_VIEW_ID, TopicsTreeProvider } from './topicsView';

let ctx: Ctx | undefined;

export async function activate(extension: vscode.ExtensionContext): Promise<CleanStreamsApi> {
  const c = new Ctx(extension);
  ctx = c;
  const tree = new TopicsTreeProvider(c);
  const treeView = vscode.window.createTreeView<TopicNode>(TOPICS_VIEW_ID, { treeDataProvider: tree, showCollapseAll: true });
  const samples = new SamplesDocumentProvider(c);
  const notifier = new AlertNotifier(c);
  c.extensionDisposables.push(
    tree,
    treeView,
    samples,
    vscode.workspace.registerTextDocumentContentProvider(SAMPLES_SCHEME, samples),
    new QualityStatusBar(c),
    notifier,
    ChartPanel.registerSerializer(c),
    ...registerCommands({ ctx: c, tree, treeView, samples }),
    vscode.workspace.onDidChangeConfiguration(async (e) => {
      const changed = settingsNeedingRestart((s) => e.affectsConfiguration(s));
      if (changed.length === 0 || !c.isAgentRunning) return;
      const pick = await vscode.window.showInformationMessage(restartPrompt(changed), 'Restart now', 'Later');
      if (pick === 'Restart now') await vscode.commands.executeCommand('clean.restartAgent');
    }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      c.output.info('Workspace trusted: starting the agent.');
      void c.agent().catch((err: Error) => c.output.error(`Could not start the agent: ${err.message}`));
    }),
  );
  extension.subscriptions.push({ dispose: () => c.dispose() });

  // In an untrusted workspace nothing starts on its own: the agent starts with the user's first command.
  if (vscode.workspace.isTrusted) {
    try {
      await c.agent();
    } catch (err) {
      const message = `The Clean Streams agent did not start: ${(err as Error).message}. See the "Clean Streams" output, then run "Clean: Restart Agent".`;
      c.output.error(message);
      void vscode.window.showErrorMessage(message, 'Show Log').then((pick) => pick && c.output.show());
    }
  } else {
    c.output.info('Restricted mode: the agent starts when you run a Clean Streams command; no pipeline starts from workspace files.');
  }
  return createApi(c, notifier, tree);
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  if (!c) return;
  await c.stopAgent();
  c.dispose();
}
