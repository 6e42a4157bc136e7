/**
 * The extension's one owner of state: the agent's language client, the pipeline store, the output channel
 * and the views. Two cleanup lists: what lives as long as the extension, and what dies with an agent restart.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  TransportKind,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import {
  AcceptNormalRequest,
  AgentErrorNotification,
  AlertNotification,
  ListPipelinesRequest,
  MetricsNotification,
  PausePipelineRequest,
  ResetBaselineRequest,
  ResumePipelineRequest,
  SecretRequest,
  StartPipelineRequest,
  StatusNotification,
  StopPipelineRequest,
  UndoBaselineRequest,
  type AcceptNormalParams,
  type AlertParams,
  type BaselineChangeResult,
  type MetricsEvent,
  type PipelineInfo,
  type StartPipelineParams,
  SOURCE_CODE_EXTENSIONS,
  TestSinkRequest,
  type TestSinkParams,
  type TestSinkResult,
} from '../shared/protocol';
import { createRedactingLogChannel } from './logChannel';
import { PipelineStore, recordStart, restoreRequest } from './model/pipelineStore';
import { KnownSecrets } from './model/redact';
import { RestartBudget, restartLimitMessage } from './model/restartBudget';
import { logLevelFrom, maxRestartsFrom } from './model/settings';
import { SecretVault } from './secrets';

const RESTART_WINDOW_MS = 3 * 60_000;
/** workspaceState key of the pipelines to start again after a reload. */
const STARTED_KEY = 'clean.startedPipelines';

export class Ctx implements vscode.Disposable {
  readonly knownSecrets = new KnownSecrets();
  readonly output: vscode.LogOutputChannel;
  readonly store = new PipelineStore();
  readonly secrets: SecretVault;
  /** Lives as long as the extension. */
  readonly extensionDisposables: vscode.Disposable[] = [];
  /** Dies with the agent (stop or restart). */
  private agentDisposables: vscode.Disposable[] = [];

  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  private readonly restartBudget: RestartBudget;
  /** How each pipeline was started, to start it again in a restarted agent. */
  private readonly startRequests = new Map<string, StartPipelineParams>();

  private readonly metricsEmitter = new vscode.EventEmitter<MetricsEvent[]>();
  private readonly alertEmitter = new vscode.EventEmitter<AlertParams>();
  private readonly agentReadyEmitter = new vscode.EventEmitter<void>();
  /** Checks as they arrive (already batched by the agent). */
  readonly onMetrics = this.metricsEmitter.event;
  readonly onAlert = this.alertEmitter.event;
  /** The agent (re)started and the store holds its pipelines. */
  readonly onAgentReady = this.agentReadyEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = createRedactingLogChannel('Clean Streams', this.knownSecrets);
    this.secrets = new SecretVault(extension, this.knownSecrets);
    this.restartBudget = new RestartBudget(maxRestartsFrom(this.config.get('maxAgentRestarts')), RESTART_WINDOW_MS);
    this.extensionDisposables.push(this.output, this.metricsEmitter, this.alertEmitter, this.agentReadyEmitter);
    // Pipelines the user started before a window reload run again, but never in an untrusted workspace.
    if (vscode.workspace.isTrusted) {
      for (const [id, params] of extension.workspaceState.get<Array<[string, StartPipelineParams]>>(STARTED_KEY) ?? []) this.startRequests.set(id, params);
    }
  }

  private rememberStarts(): void {
    void this.extension.workspaceState.update(STARTED_KEY, [...this.startRequests]);
  }

  get config(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration('clean');
  }

  get isAgentRunning(): boolean {
    return this.client?.state === State.Running;
  }

  /** The running agent, started on first use. */
  async agent(): Promise<LanguageClient> {
    if (this.client && this.client.state === State.Running) return this.client;
    const restarting = this.client;
    if (restarting && restarting.state === State.Starting && !this.starting) {
      // The client is restarting the agent after a crash: wait for it rather than replace it.
      return new Promise((resolve, reject) => {
        const sub = restarting.onDidChangeState(({ newState }) => {
          if (newState === State.Starting) return;
          sub.dispose();
          if (newState === State.Running) resolve(restarting);
          else reject(new Error('The Clean Streams agent stopped while restarting. Client is not running.'));
        });
      });
    }
    if (!this.starting) {
      this.starting = this.startAgent().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  private async startAgent(): Promise<LanguageClient> {
    if (this.client) {
      // A client that gave up (restart limit) or was stopped is replaced by a fresh one.
      await this.stopAgent();
    }
    const module = this.extension.asAbsolutePath('dist/agent.js');
    const storagePath = await this.storagePath();
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, args: ['lsp'] },
      debug: { module, transport: TransportKind.ipc, args: ['lsp'], options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'yaml', pattern: '**/clean.{yaml,yml}' },
        { scheme: 'file', language: 'yaml', pattern: '**/*.clean.{yaml,yml}' },
        { scheme: 'file', language: 'json', pattern: '**/clean.json' },
        { scheme: 'file', language: 'json', pattern: '**/*.clean.json' },
        // Source files get only code lenses on the topics they name (the agent answers nothing else for them).
        { scheme: 'file', pattern: `**/*.{${SOURCE_CODE_EXTENSIONS.join(',')}}` },
      ],
      outputChannel: this.output,
      initializationOptions: { logLevel: logLevelFrom(this.config.get('logLevel')), trusted: vscode.workspace.isTrusted, ...(storagePath ? { storagePath } : {}) },
      errorHandler: {
        error: (_error, _message, count) => ({ action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown, handled: true }),
        closed: () => {
          if (this.restartBudget.allowRestart(Date.now())) {
            this.output.warn(`The agent stopped unexpectedly; restarting it (${this.restartBudget.recent} of ${maxRestartsFrom(this.config.get('maxAgentRestarts'))} restarts allowed in 3 minutes).`);
            return { action: CloseAction.Restart, handled: true };
          }
          const message = restartLimitMessage(this.restartBudget.recent, RESTART_WINDOW_MS);
          this.output.error(message);
          // Nothing the views show is live any more: they say so until an agent runs again (store.reset clears it).
          this.store.markAgentStopped(Date.now());
          void vscode.window.showErrorMessage(message, 'Show Log', 'Restart Agent').then((pick) => {
            if (pick === 'Show Log') this.output.show();
            if (pick === 'Restart Agent') void vscode.commands.executeCommand('clean.restartAgent');
          });
          return { action: CloseAction.DoNotRestart, handled: true };
        },
      },
    };
    const client = new LanguageClient('cleanStreams', 'Clean Streams agent', serverOptions, clientOptions);
    this.client = client;
    const own = this.agentDisposables;
    own.push(
      client.onNotification(StatusNotification.type, (status) => this.store.applyStatus(status)),
      client.onNotification(MetricsNotification.type, ({ events }) => {
        this.store.applyMetrics(events);
        this.metricsEmitter.fire(events);
      }),
      client.onNotification(AlertNotification.type, (event) => {
        this.store.applyAlert(event);
        this.alertEmitter.fire(event);
      }),
      client.onNotification(AgentErrorNotification.type, ({ message, origin }) => this.output.error(`${origin}: ${message}`)),
      client.onRequest(SecretRequest.type, async ({ name }) => {
        const value = await this.secrets.get(name);
        if (value === undefined) this.output.warn(`The agent asked for the secret "${name}", which is not set. Run "Clean: Set Secret…" and store it under that name.`);
        return value === undefined ? {} : { value };
      }),
      // Each (re)start of the agent process, also the restarts the client does after a crash.
      client.onDidChangeState(({ newState }) => {
        if (newState === State.Running && this.client === client) void this.resync(client);
      }),
    );
    this.output.info(`Starting the agent: ${module} lsp --node-ipc`);
    await client.start();
    return client;
  }

  /**
   * The folder where the agent keeps learned baselines, so a restarted agent resumes them: this workspace's storage
   * (the global storage without a workspace), created if missing. None when it is not a local folder or cannot be made.
   */
  private async storagePath(): Promise<string | undefined> {
    const uri = this.extension.storageUri ?? this.extension.globalStorageUri;
    if (uri.scheme !== 'file') {
      this.output.warn(`Baselines are not kept across restarts: the extension's storage ${uri.toString()} is not a local folder.`);
      return undefined;
    }
    try {
      await vscode.workspace.fs.createDirectory(uri);
      return uri.fsPath;
    } catch (err) {
      this.output.warn(`Baselines are not kept across restarts: cannot create ${uri.fsPath} (${(err as Error).message}).`);
      return undefined;
    }
  }

  /** After a (re)start: pipelines the old process ran are started again, then the store mirrors the agent. */
  private async resync(client: LanguageClient): Promise<void> {
    try {
      const { pipelines } = await client.sendRequest(ListPipelinesRequest.type, {});
      const present = new Set(pipelines.map((p) => p.id));
      const lost = [...this.startRequests].filter(([id]) => !present.has(id));
      this.store.reset(pipelines);
      for (const [id, params] of lost) {
        try {
          const info = await client.sendRequest(StartPipelineRequest.type, restoreRequest(id, params));
          if (info.id !== id) this.startRequests.delete(id);
          recordStart(this.startRequests, params, info);
          this.applyStartAnswer(info);
          this.output.info(`Started ${info.id} again: ${info.description}`);
        } catch (err) {
          this.startRequests.delete(id);
          this.output.error(`Could not start ${id} again after the agent restarted: ${(err as Error).message}`);
        }
      }
      if (lost.length) this.rememberStarts();
      this.agentReadyEmitter.fire();
    } catch (err) {
      this.output.error(`Could not list the agent's pipelines: ${(err as Error).message}`);
    }
  }

  async stopAgent(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    for (const d of this.agentDisposables.splice(0)) d.dispose();
    if (!client) return;
    try {
      if (client.state !== State.Stopped) await client.stop(5000);
    } catch (err) {
      this.output.warn(`The agent did not stop cleanly: ${(err as Error).message}`);
    }
    await client.dispose(2000).catch(() => undefined);
  }

  /** The user asked: a fresh restart budget, a fresh process, the same pipelines. */
  async restartAgent(): Promise<void> {
    this.restartBudget.reset();
    this.restartBudget.setLimit(maxRestartsFrom(this.config.get('maxAgentRestarts')));
    await this.stopAgent();
    await this.agent();
  }

  // ----- pipeline requests, each keeping the store in step without waiting for clean/status

  async startPipeline(params: StartPipelineParams): Promise<PipelineInfo> {
    const client = await this.agent();
    const info = await client.sendRequest(StartPipelineRequest.type, params);
    if (recordStart(this.startRequests, params, info)) this.rememberStarts();
    this.applyStartAnswer(info);
    return info;
  }

  /** clean/status may already have moved a new pipeline past `connecting`; the answer must not roll that back. */
  private applyStartAnswer(info: PipelineInfo): void {
    const known = this.store.get(info.id);
    if (!known) this.store.upsert(info);
  }

  async stopPipeline(id: string): Promise<void> {
    const client = await this.agent();
    this.startRequests.delete(id);
    this.rememberStarts();
    await client.sendRequest(StopPipelineRequest.type, { pipeline: id, remove: true });
    this.store.remove(id);
  }

  async pausePipeline(id: string): Promise<void> {
    const client = await this.agent();
    const info = await client.sendRequest(PausePipelineRequest.type, { pipeline: id });
    this.output.info(`Pause ${id}: now ${info.state}`);
    this.store.upsert(info);
  }

  async resumePipeline(id: string): Promise<void> {
    const client = await this.agent();
    const info = await client.sendRequest(ResumePipelineRequest.type, { pipeline: id });
    this.output.info(`Resume ${id}: now ${info.state}`);
    this.store.upsert(info);
  }

  // ----- baseline changes: the answer carries the pipeline after the change, so the tree follows at once

  async acceptNormal(params: AcceptNormalParams): Promise<BaselineChangeResult> {
    const client = await this.agent();
    return this.applyBaselineChange(await client.sendRequest(AcceptNormalRequest.type, params));
  }

  async resetBaseline(id: string): Promise<BaselineChangeResult> {
    const client = await this.agent();
    return this.applyBaselineChange(await client.sendRequest(ResetBaselineRequest.type, { pipeline: id }));
  }

  async undoBaseline(id: string): Promise<BaselineChangeResult> {
    const client = await this.agent();
    return this.applyBaselineChange(await client.sendRequest(UndoBaselineRequest.type, { pipeline: id }));
  }

  /** "Send test alert" on a sink in clean.yaml: the agent sends one test event and says what the receiver answered. */
  async testSink(params: TestSinkParams): Promise<TestSinkResult> {
    const client = await this.agent();
    return client.sendRequest(TestSinkRequest.type, params);
  }

  private applyBaselineChange(result: BaselineChangeResult): BaselineChangeResult {
    this.output.info(`${result.info.id}: ${result.message}`);
    this.store.upsert(result.info);
    return result;
  }

  dispose(): void {
    void this.stopAgent();
    for (const d of this.extensionDisposables.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // One failing disposal must not keep the rest alive.
      }
    }
  }
}
