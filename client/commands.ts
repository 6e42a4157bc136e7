/** Every `clean.*` command, each wrapped in one handler that turns failures into a message a person can act on. */
import * as vscode from 'vscode';
import type { AcceptNormalParams, BaselineChangeResult, DetectorName, PipelineInfo, StartPipelineParams } from '../shared/protocol';
import { ChartPanel } from './chartPanel';
import type { Ctx } from './ctx';
import { acceptNormalParamsFor, outDetectors } from './model/alertNotices';
import { acceptChoices, baselineChangeNotice, RESET_ACTION, resetConfirmation, UNDO_ACTION } from './model/baseline';
import { alertTarget, configuredStart, lensTopicAt, pipelineTarget, testSinkTarget, type PipelineTarget } from './model/commandArgs';
import { describeCommandError } from './model/errors';
import { redact, validateSecretName } from './model/redact';
import type { TopicNode } from './model/topicTree';
import { monitorThisTopic, monitorTopic, monitorTopicArgs, startDemo } from './monitor';
import type { SamplesDocumentProvider } from './samplesDocument';
import type { TopicsTreeProvider } from './topicsView';

export interface CommandDeps {
  ctx: Ctx;
  tree: TopicsTreeProvider;
  treeView: vscode.TreeView<TopicNode>;
  samples: SamplesDocumentProvider;
}

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { ctx, tree, treeView, samples } = deps;

  const register = (id: string, action: string, fn: (...args: any[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        const message = describeCommandError(action, err, ctx.knownSecrets);
        ctx.output.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(message, 'Show Log').then((pick) => pick && ctx.output.show());
        return undefined;
      }
    });

  /** Starts, then selects the new row in the tree (the view opens if it was closed). */
  const startAndReveal = async (params: StartPipelineParams): Promise<PipelineInfo> => {
    const info = await ctx.startPipeline(params);
    ctx.output.info(`Started ${info.id}: ${info.description}`);
    // The tree redraws in batches: reveal after the next batch has drawn the row.
    for (const delay of [400, 1200]) {
      setTimeout(() => {
        const node = tree.nodeFor(info.id);
        if (node) void treeView.reveal(node, { select: true, focus: false, expand: false }).then(undefined, () => undefined);
      }, delay);
    }
    return info;
  };

  /** A pipeline from the argument, or picked by the user when there is none (command palette). */
  const target = async (
    arg: unknown, verb: string, filter: (p: PipelineInfo) => boolean = () => true, none = `No pipeline to ${verb}. Start the demo or monitor a topic first.`,
  ): Promise<PipelineTarget | undefined> => {
    const given = pipelineTarget(arg);
    if (given) return given;
    const candidates = ctx.store.list().map((e) => e.info).filter(filter);
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(none);
      return undefined;
    }
    if (candidates.length === 1) return { pipeline: candidates[0]!.id };
    const pick = await vscode.window.showQuickPick(
      candidates.map((p) => ({ label: p.topic, description: `${p.id} · ${p.state}`, detail: p.description, id: p.id })),
      { title: `Which pipeline to ${verb}?` },
    );
    return pick ? { pipeline: pick.id } : undefined;
  };

  const live = (p: PipelineInfo) => p.state === 'running' || p.state === 'paused' || p.state === 'connecting' || p.state === 'reconnecting';

  /** Says what the agent changed; Undo (when it can undo) runs clean.undoBaseline. */
  const confirmChange = (pipeline: string, result: BaselineChangeResult, offerUndo: boolean): BaselineChangeResult => {
    const notice = baselineChangeNotice(pipeline, result, offerUndo);
    void vscode.window.showInformationMessage(notice.text, ...notice.actions).then((pick) => {
      if (pick === UNDO_ACTION) void vscode.commands.executeCommand('clean.undoBaseline', { pipeline });
    });
    return result;
  };

  /** What "This is normal" accepts: an alert's detector and field, a detector row, or the user's pick. */
  const acceptParams = async (arg: unknown): Promise<AcceptNormalParams | undefined> => {
    const alert = alertTarget(arg);
    if (alert) return acceptNormalParamsFor(alert, outDetectors(ctx.store.get(alert.pipeline)?.metrics));
    const t = await target(arg, 'accept as normal', live);
    if (!t) return undefined;
    if (t.detector) return { pipeline: t.pipeline, detector: t.detector as DetectorName, ...(t.field ? { field: t.field } : {}) };
    const pick = await vscode.window.showQuickPick(acceptChoices(ctx.store.get(t.pipeline)?.metrics), {
      title: `This is normal: which detector of ${t.pipeline}?`,
      placeHolder: 'Its current level becomes the learned baseline, so it stops alerting',
    });
    if (!pick) return undefined;
    return pick.detector ? { pipeline: t.pipeline, detector: pick.detector } : { pipeline: t.pipeline };
  };

  return [
    register('clean.startDemo', 'start the demo', () => startDemo(startAndReveal)),
    register('clean.monitorTopic', 'monitor the topic', (arg?: unknown) => monitorTopic(ctx, startAndReveal, monitorTopicArgs(arg))),
    register('clean.monitorThisTopic', 'monitor this topic', (uri?: unknown, selection?: unknown) => {
      const lens = lensTopicAt(uri); // a code lens on a topic in source code
      if (lens) return monitorThisTopic(ctx, startAndReveal, vscode.Uri.parse(lens.uri), false, lens.position);
      return monitorThisTopic(ctx, startAndReveal, uri instanceof vscode.Uri ? uri : undefined, Array.isArray(selection));
    }),
    register('clean.startPipeline', 'start the pipeline', async (arg: unknown) => {
      const params = configuredStart(arg);
      if (!params) throw new Error('clean.startPipeline needs {configUri, pipelineName}; use the code lens above a pipeline in clean.yaml');
      if (!vscode.workspace.isTrusted) {
        void vscode.window.showWarningMessage('Clean Streams starts pipelines from workspace files only in a trusted workspace. Trust this workspace first.');
        return undefined;
      }
      return startAndReveal(params);
    }),
    register('clean.openChart', 'open the chart', (arg?: unknown) => {
      ChartPanel.show(ctx, pipelineTarget(arg)?.pipeline ?? null);
    }),
    register('clean.pausePipeline', 'pause the pipeline', async (arg?: unknown) => {
      const t = await target(arg, 'pause', (p) => p.state === 'running' || p.state === 'connecting' || p.state === 'reconnecting');
      if (t) await ctx.pausePipeline(t.pipeline);
    }),
    register('clean.resumePipeline', 'resume the pipeline', async (arg?: unknown) => {
      const t = await target(arg, 'resume', (p) => p.state === 'paused');
      if (t) await ctx.resumePipeline(t.pipeline);
    }),
    register('clean.stopPipeline', 'stop the pipeline', async (arg?: unknown) => {
      const t = await target(arg, 'stop');
      if (t) {
        await ctx.stopPipeline(t.pipeline);
        ctx.output.info(`Stopped ${t.pipeline}`);
      }
    }),
    register('clean.showSamples', 'show the samples', async (arg?: unknown) => {
      const t = await target(arg, 'show samples of');
      if (t) await samples.show(t.pipeline, t.detector, t.alert);
    }),
    register('clean.copyCliCommand', 'copy the CLI command', async (arg?: unknown) => {
      const t = await target(arg, 'copy as a CLI command');
      if (!t) return;
      const info = ctx.store.get(t.pipeline)?.info;
      if (!info) throw new Error(`no pipeline "${t.pipeline}" is running`);
      await vscode.env.clipboard.writeText(redact(info.cliCommand, ctx.knownSecrets));
      vscode.window.setStatusBarMessage(`$(copy) Copied: ${redact(info.cliCommand, ctx.knownSecrets)}`, 4000);
    }),
    register('clean.testSink', 'send the test alert', async (arg?: unknown) => {
      const params = testSinkTarget(arg);
      if (!params) throw new Error('clean.testSink needs {configUri, sink}; use the "Send test alert" lens above a sink in clean.yaml');
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `Clean: sending a test alert to ${params.sink}…` },
        () => ctx.testSink(params),
      );
      const message = redact(result.message, ctx.knownSecrets);
      ctx.output.info(message);
      if (result.ok) void vscode.window.showInformationMessage(message);
      else void vscode.window.showWarningMessage(message, 'Show Log').then((pick) => pick && ctx.output.show());
      return result;
    }),
    register('clean.acceptNormal', 'accept the current level as normal', async (arg?: unknown) => {
      const params = await acceptParams(arg);
      if (!params) return undefined;
      return confirmChange(params.pipeline, await ctx.acceptNormal(params), true);
    }),
    register('clean.resetBaseline', 'reset the baseline', async (arg?: unknown) => {
      const t = await target(arg, 'reset the baseline of', live);
      if (!t) return undefined;
      const info = ctx.store.get(t.pipeline)?.info;
      const ask = resetConfirmation(info ?? { id: t.pipeline });
      const pick = await vscode.window.showWarningMessage(ask.message, { modal: true, detail: ask.detail }, RESET_ACTION);
      if (pick !== RESET_ACTION) return undefined;
      return confirmChange(t.pipeline, await ctx.resetBaseline(t.pipeline), true);
    }),
    register('clean.undoBaseline', 'undo the baseline change', async (arg?: unknown) => {
      const t = await target(arg, 'undo a baseline change of', (p) => p.canUndoBaseline === true, 'No baseline change to undo.');
      if (!t) return undefined;
      return confirmChange(t.pipeline, await ctx.undoBaseline(t.pipeline), false);
    }),
    register('clean.setSecret', 'store the secret', async (name?: unknown) => {
      const chosen = typeof name === 'string' ? name : await vscode.window.showInputBox({
        title: 'Set Secret (1/2): name',
        prompt: 'The name a config file or URL uses for it (secret: kafka-prod-password, ?secret=kafka-prod-password)',
        ignoreFocusOut: true,
        validateInput: validateSecretName,
      });
      if (chosen === undefined) return;
      const secretName = chosen.trim();
      const invalid = validateSecretName(secretName);
      if (invalid) throw new Error(invalid);
      const value = await vscode.window.showInputBox({
        title: `Set Secret (2/2): value of "${secretName}"`,
        prompt: 'Stored in VS Code\'s secret storage; never written to settings, files or logs.',
        password: true,
        ignoreFocusOut: true,
        validateInput: (v) => (v.length === 0 ? 'Enter the secret value.' : undefined),
      });
      if (value === undefined) return;
      await ctx.secrets.set(secretName, value);
      ctx.output.info(`Stored the secret "${secretName}".`);
      void vscode.window.showInformationMessage(`Stored the secret "${secretName}". Pipelines that name it pick it up when they (re)connect.`);
    }),
    register('clean.clearSecret', 'clear the secret', async (name?: unknown) => {
      let chosen = typeof name === 'string' ? name : undefined;
      if (!chosen) {
        const names = ctx.secrets.names();
        if (names.length === 0) {
          void vscode.window.showInformationMessage('No Clean Streams secret is stored.');
          return;
        }
        chosen = await vscode.window.showQuickPick(names, { title: 'Clear which secret?' });
      }
      if (!chosen) return;
      await ctx.secrets.clear(chosen);
      ctx.output.info(`Cleared the secret "${chosen}".`);
      vscode.window.setStatusBarMessage(`$(key) Cleared the secret "${chosen}"`, 4000);
    }),
    register('clean.restartAgent', 'restart the agent', async () => {
      await ctx.restartAgent();
      vscode.window.setStatusBarMessage('$(refresh) Clean Streams agent restarted', 4000);
    }),
    register('clean.showLog', 'show the log', () => ctx.output.show()),
  ];
}
