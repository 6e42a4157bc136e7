/**
 * The agent as a language server: one process, many pipelines, the clean/* protocol
 * (shared/protocol.ts), and standard LSP features on clean.yaml files.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CodeLensRefreshRequest,
  ErrorCodes,
  IPCMessageReader,
  IPCMessageWriter,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
} from 'vscode-languageserver/node';
import type { Connection, InitializeResult } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import {
  AcceptNormalRequest,
  ResetBaselineRequest,
  UndoBaselineRequest,
  TestSinkRequest,
  type TestSinkParams,
  type TestSinkResult,
  AgentErrorNotification,
  AlertNotification,
  CheckAddressRequest,
  ListTopicsRequest,
  HistoryRequest,
  ListPipelinesRequest,
  MetricsNotification,
  PausePipelineRequest,
  ResolveTopicRequest,
  ResumePipelineRequest,
  SETTINGS_SECTION,
  SamplesRequest,
  SecretRequest,
  StartPipelineRequest,
  StatusNotification,
  StopPipelineRequest,
  isCleanConfigFile,
  isSourceCodeFile,
} from '../../shared/protocol';
import type { PipelineInfo, StartPipelineParams } from '../../shared/protocol';
import type { PipelineSettings } from '../engine/config';
import { secretFromEnv } from '../engine/pipeline';
import { DEMO_RULES } from '../sources/demo';
import type { Logger, SourceSpec } from '../sources/types';
import { UsageError, parseSourceUrl, parseStartPosition } from '../sources/url';
import { resolveTopic } from '../resolve/index';
import { nearbyConnections } from '../resolve/nearby';
import { CodeTopicLenses, sinkLenses } from './codeLens';
import { codeLenses, completionsWithSchemas, hoverWithSchema } from './configFeatures';
import { SchemaLookup } from './schemaHover';
import { ConfigChecker } from './configChecker';
import { configOf, diagnosticsOf, oversizeMessage, symbolsOf } from './configOutline';
import type { ConfigOutline } from './configOutline';
import { MetricsBatcher } from './metricsBatcher';
import { checkAddress, listTopics } from './discover';
import { HistoryStore } from './history';
import { BaselineStore } from '../engine/baselineStore';
import { PipelineManager, PipelineRequestError, errorText } from './manager';
import type { PipelineRequest } from './manager';
import { LOG_LEVELS, coerceAgentSettings, coerceWireSettings } from './settings';
import type { LogLevel } from './settings';
import { nameTooLong } from '../engine/names';
import { KnownSecretValues, redact, redactDeep } from '../secrets/redact';
import { parseBrokerList } from '../sources/brokers';
import { checkResolvableText, readResolvable } from '../resolve/read';

/** Picks the transport from argv (`--stdio`, `--node-ipc`, `--socket=N`, `--pipe=NAME`). */
function connectionFor(argv: string[]): Connection {
  if (argv.includes('--stdio')) return createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  if (argv.includes('--node-ipc')) return createConnection(ProposedFeatures.all, new IPCMessageReader(process), new IPCMessageWriter(process));
  return createConnection(ProposedFeatures.all);
}

/** Runs the language server until the client says exit; resolves once it listens. */
export async function startLanguageServer(argv: string[]): Promise<CleanAgentServer> {
  const connection = connectionFor(argv);
  const server = new CleanAgentServer(connection);
  server.listen();
  return server;
}

export class CleanAgentServer {
  private readonly documents = new TextDocuments(TextDocument);
  /** clean.yaml checks: debounced per document, cancelled when obsolete, run off this thread. */
  private readonly checker: ConfigChecker;
  /** Lenses on topics named in source files (those documents get nothing else from the agent). */
  private readonly codeTopics = new CodeTopicLenses();
  /** Workspace folders (paths): how far up from a source file to look for the config files that name its brokers. */
  private roots: string[] = [];
  private readonly manager: PipelineManager;
  private readonly batcher: MetricsBatcher;
  private logLevel: LogLevel = 'info';
  private canAskConfiguration = false;
  private canRefreshCodeLens = false;
  private codeLensTimer: NodeJS.Timeout | null = null;
  private lastCodeLensRefresh = 0;
  private readonly log: Logger;
  /** Secret values handed to sources, masked in every text that leaves the agent should a library quote one. */
  private readonly knownSecrets = new KnownSecretValues();
  /** Hovering a topic in clean.yaml shows its schema, looked up through this (short timeout, cached). */
  private readonly schemaLookup = new SchemaLookup((name) => this.secret(name));

  /** Where baselines are kept: set from initializationOptions.storagePath (the extension's storage). */
  private readonly baselines: { store?: BaselineStore } = {};
  /** Where each pipeline's chart history is saved, beside the baselines. */
  private readonly histories: { store?: HistoryStore } = {};

  constructor(private readonly connection: Connection) {
    const baselines = this.baselines;
    const histories = this.histories;
    const at = (level: LogLevel) => LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.logLevel);
    // Every line and message leaves through the one redaction (with the secret values looked up so far).
    const safe = (m: string) => redact(m, this.knownSecrets);
    this.log = {
      debug: (m) => at('debug') && connection.console.log(safe(m)),
      info: (m) => at('info') && connection.console.info(safe(m)),
      warn: (m) => at('warn') && connection.console.warn(safe(m)),
      error: (m) => connection.console.error(safe(m)),
    };
    this.batcher = new MetricsBatcher((events) => void connection.sendNotification(MetricsNotification.type, { events }));
    this.checker = new ConfigChecker(
      {
        checked: (uri, outline) => {
          this.publishDiagnostics(uri, outline);
          // The file's alert sinks take its pipelines' alerts as the file now declares them.
          if (!outline.oversize) this.manager.setConfigSinks(uri, outline.sinks);
        },
        failed: (message, err) => this.reportError(message, 'agent', err),
        progress: (line) => this.log.debug(line),
      },
      { fileName: pathOf, document: (uri) => this.documents.get(uri) },
    );
    this.manager = new PipelineManager(
      {
        metrics: (e) => {
          this.batcher.add(e);
          this.refreshCodeLenses(); // the Stop lens shows the score
        },
        alert: (e) => void connection.sendNotification(AlertNotification.type, redactDeep(e, this.knownSecrets)),
        status: (p) => {
          if (p.removed) this.batcher.forget(p.pipeline);
          void connection.sendNotification(StatusNotification.type, redactDeep(p, this.knownSecrets));
          this.refreshCodeLenses(); // config-file lenses, and lenses on topics in source code
        },
        error: (message, origin, err) => this.reportError(message, origin, err),
      },
      {
        log: this.log,
        secret: (name) => this.secret(name),
        get baselines() {
          return baselines.store;
        },
        get history() {
          return histories.store;
        },
      },
    );
  }

  listen(): void {
    const c = this.connection;
    process.on('uncaughtException', (err) => this.reportError(`Unexpected error in the agent: ${errorText(err)}`, 'agent', err));
    process.on('unhandledRejection', (err) => this.reportError(`Unexpected error in the agent: ${errorText(err)}`, 'agent', err));

    c.onInitialize((params): InitializeResult => {
      const storage = (params.initializationOptions as { storagePath?: unknown } | undefined)?.storagePath;
      if (typeof storage === 'string' && storage !== '') {
        this.baselines.store = new BaselineStore(path.join(storage, 'baselines'));
        this.histories.store = new HistoryStore(path.join(storage, 'history'));
      }
      this.canAskConfiguration = !!params.capabilities.workspace?.configuration;
      this.canRefreshCodeLens = !!params.capabilities.workspace?.codeLens?.refreshSupport;
      const folders = params.workspaceFolders?.map((f) => f.uri) ?? (params.rootUri ? [params.rootUri] : []);
      this.roots = folders.filter((u) => u.startsWith('file:')).map(pathOf);
      return {
        capabilities: {
          textDocumentSync: TextDocumentSyncKind.Incremental,
          completionProvider: { triggerCharacters: [':', '[', ',', '{'] },
          hoverProvider: true,
          codeLensProvider: { resolveProvider: false },
          documentSymbolProvider: true,
        },
        serverInfo: { name: 'clean-agent' },
      };
    });
    c.onInitialized(() => void this.readSettings());
    c.onDidChangeConfiguration(() => void this.readSettings());
    c.onShutdown(async () => {
      this.batcher.dispose();
      this.checker.dispose();
      await this.manager.dispose();
    });

    this.documents.onDidChangeContent((e) => {
      if (isCleanConfigFile(pathOf(e.document.uri))) this.checker.changed(e.document);
    });
    this.documents.onDidClose((e) => {
      this.checker.closed(e.document.uri);
      this.codeTopics.forget(e.document.uri);
      if (isCleanConfigFile(pathOf(e.document.uri))) void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });

    c.onCompletion(
      this.guard('completion', async (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return [];
        const outline = await this.checker.outlineForRequest(doc);
        if (!outline || outline.oversize) return [];
        const configDir = doc.uri.startsWith('file:') ? path.dirname(pathOf(doc.uri)) : undefined;
        return completionsWithSchemas(doc.getText(), doc.offsetAt(p.position), outline, configDir);
      }),
    );
    c.onHover(
      this.guard('hover', async (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return null;
        const outline = await this.checker.outlineForRequest(doc);
        // An outline of an older version has other offsets: no hover until the current one is checked.
        if (!outline || outline.version !== doc.version) return null;
        return redactDeep(await hoverWithSchema(outline, doc.offsetAt(p.position), (o) => doc.positionAt(o), this.schemaLookup), this.knownSecrets);
      }),
    );
    c.onCodeLens(
      this.guard('codeLens', async (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (doc && isSourceCodeFile(pathOf(doc.uri))) return this.codeTopics.lenses(doc.uri, pathOf(doc.uri), doc.version, doc.getText(), this.manager.list());
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return [];
        const outline = await this.checker.outlineForRequest(doc);
        return outline ? [...codeLenses(outline, doc.uri, (name) => this.manager.findConfigured(doc.uri, name)), ...sinkLenses(outline.sinks, doc.uri)] : [];
      }),
    );
    c.onDocumentSymbol(
      this.guard('documentSymbol', async (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return [];
        const outline = await this.checker.outlineForRequest(doc);
        return outline ? symbolsOf(outline) : [];
      }),
    );

    c.onRequest(StartPipelineRequest.type, this.guard('startPipeline', (p) => this.startPipeline(p)));
    c.onRequest(StopPipelineRequest.type, this.guard('stopPipeline', (p) => this.manager.stop(p.pipeline, p.remove === true)));
    c.onRequest(PausePipelineRequest.type, this.guard('pausePipeline', (p) => this.manager.pause(p.pipeline)));
    c.onRequest(ResumePipelineRequest.type, this.guard('resumePipeline', (p) => this.manager.resume(p.pipeline)));
    c.onRequest(ListPipelinesRequest.type, this.guard('listPipelines', () => ({ pipelines: this.manager.list() })));
    c.onRequest(HistoryRequest.type, this.guard('history', (p) => this.manager.history(p ?? {})));
    c.onRequest(SamplesRequest.type, this.guard('samples', (p) => this.manager.samples(p)));
    c.onRequest(AcceptNormalRequest.type, this.guard('acceptNormal', (p) => this.manager.acceptNormal(p)));
    c.onRequest(ResetBaselineRequest.type, this.guard('resetBaseline', (p) => this.manager.resetBaseline(p.pipeline)));
    c.onRequest(UndoBaselineRequest.type, this.guard('undoBaseline', (p) => this.manager.undoBaseline(p.pipeline)));
    c.onRequest(TestSinkRequest.type, this.guard('testSink', (p) => this.testSink(p)));
    c.onRequest(ListTopicsRequest.type, this.guard('listTopics', (p) => listTopics(p?.url, { secret: (name) => this.secret(name) })));
    c.onRequest(CheckAddressRequest.type, this.guard('checkAddress', (p) => checkAddress(p?.url, { secret: (name) => this.secret(name) })));
    c.onRequest(
      ResolveTopicRequest.type,
      this.guard('resolveTopic', async (p) => {
        const open = this.documents.get(p.uri);
        const file = pathOf(p.uri);
        const text = open ? checkResolvableText(file, open.getText()) : await readResolvable(file);
        // A source file names topics; the config files around it name the brokers.
        const nearby = isSourceCodeFile(file) && p.uri.startsWith('file:') ? await nearbyConnections(file, this.roots) : [];
        return redactDeep(resolveTopic(text, file, p.position, nearby), this.knownSecrets);
      }),
    );

    this.documents.listen(c);
    c.listen();
  }

  /** Stops every pipeline (each saves its baseline): the process is about to exit on a signal. */
  async stopAll(): Promise<void> {
    this.batcher.dispose();
    await this.manager.dispose();
  }

  /** Wraps a handler: user mistakes become RequestFailed with their message; the unexpected is reported, never fatal. */
  private guard<P, R>(name: string, fn: (params: P) => R | Promise<R>): (params: P) => Promise<R | ResponseError<void>> {
    return async (params: P) => {
      try {
        const result = await fn(params);
        // Pipeline infos carry source texts (state messages from libraries): one redaction, as notifications get.
        return TEXT_RESULTS.has(name) ? redactDeep(result, this.knownSecrets) : result;
      } catch (err) {
        const safe = (m: string) => redact(m, this.knownSecrets);
        if (err instanceof PipelineRequestError || err instanceof UsageError) return new ResponseError<void>(ErrorCodes.InvalidParams, safe(err.message));
        if (err instanceof ResponseError) return new ResponseError<void>(err.code, safe(err.message));
        this.reportError(`${name} failed: ${errorText(err)}`, 'agent', err);
        return new ResponseError<void>(ErrorCodes.InternalError, safe(`${name} failed inside the agent: ${errorText(err)}. The agent keeps running; see the Clean Streams output for details.`));
      }
    };
  }

  /** "Send test alert": the sinks as the file declares them now (open document or disk), then one test event. */
  private async testSink(params: TestSinkParams): Promise<TestSinkResult> {
    if (!params || typeof params.configUri !== 'string' || typeof params.sink !== 'string') throw new PipelineRequestError('clean/testSink needs {configUri, sink}.');
    const model = await this.checkedOutline(params.configUri, this.documents.get(params.configUri));
    this.manager.setConfigSinks(params.configUri, model.sinks);
    const r = await this.manager.testSink(params.configUri, params.sink, model.pipelines.find((p) => p.name !== undefined)?.name);
    return { ok: r.ok, message: redact(r.message, this.knownSecrets) };
  }

  private async startPipeline(params: StartPipelineParams): Promise<PipelineInfo> {
    const named = params as { name?: unknown; pipelineName?: unknown } | undefined;
    const tooLong = nameTooLong('Pipeline name', named?.pipelineName) ?? nameTooLong('Pipeline name', named?.name);
    if (tooLong) throw new PipelineRequestError(tooLong);
    const defaults = await this.readSettings();
    let req: PipelineRequest;
    if (params && 'configUri' in params && params.configUri) {
      const open = this.documents.get(params.configUri);
      const model = await this.checkedOutline(params.configUri, open);
      this.manager.setConfigSinks(params.configUri, model.sinks);
      const index = model.pipelines.findIndex((p) => p.name === params.pipelineName);
      const entry = model.pipelines[index];
      const file = pathOf(params.configUri).split(/[\\/]/).pop();
      if (!entry) {
        const names = model.pipelines.flatMap((p) => (p.name ? [p.name] : []));
        throw new PipelineRequestError(`${file} has no pipeline named "${params.pipelineName}"${names.length ? `; it has ${names.join(', ')}` : ''}.`);
      }
      const p = configOf(model, index);
      if (!p) {
        const line = entry.line + 1;
        throw new PipelineRequestError(`Pipeline "${params.pipelineName}" in ${file} (line ${line}) cannot start: ${entry.error ?? 'it has errors'}`);
      }
      req = { name: p.name, spec: p.spec, settings: { ...defaults, ...p.settings }, configUri: params.configUri };
      // `group:`: the editor watches the group's merged view (server/scale/groupObserver.ts).
      if (p.group) req.group = p.group;
    } else {
      const inline = (params ?? {}) as Extract<StartPipelineParams, { url?: string }>;
      let spec = inline.spec ? checkedSpec(inline.spec) : undefined;
      if (!spec) {
        if (!inline.url) throw new PipelineRequestError('clean/startPipeline needs {configUri, pipelineName}, a source {url} such as demo:orders, or a {spec}.');
        const from = inline.from ? parseStartPosition(inline.from) : undefined;
        spec = parseSourceUrl(inline.url, from ?? (inline.url.startsWith('file:') || inline.url.startsWith('demo:') ? { kind: 'earliest' } : { kind: 'latest' }));
      }
      let own: PipelineSettings;
      try {
        own = coerceWireSettings(inline.settings);
      } catch (err) {
        throw new PipelineRequestError(errorText(err));
      }
      const settings = { ...defaults, ...own };
      // As `clean-agent demo` does: the demo's orders come with the rules they are meant to follow.
      if (spec.backend === 'demo' && settings.fields === undefined) settings.fields = DEMO_RULES;
      const name = inline.name ?? (spec.backend === 'file' ? spec.topic.split(/[\\/]/).pop()! : spec.backend === 'demo' ? `demo-${spec.topic}` : spec.topic);
      req = { name, spec, settings };
    }
    if (typeof params?.id === 'string' && params.id !== '') req.id = params.id;
    return this.manager.start(req);
  }

  /** The `clean` settings as pipeline defaults (asked fresh; the agent keeps no settings globals beyond the log level). */
  private async readSettings() {
    if (!this.canAskConfiguration) return {};
    try {
      const raw = await this.connection.workspace.getConfiguration(SETTINGS_SECTION);
      const s = coerceAgentSettings(raw);
      this.logLevel = s.logLevel;
      this.manager.budget.maxMemoryMB = s.maxMemoryMB;
      for (const line of s.ignored) this.log.warn(line);
      return s.pipelineDefaults;
    } catch (err) {
      this.log.warn(`Could not read the clean settings (${errorText(err)}); using the defaults.`);
      return {};
    }
  }

  private async secret(name: string): Promise<string | undefined> {
    try {
      const r = await this.connection.sendRequest(SecretRequest.type, { name });
      if (r?.value !== undefined) {
        this.knownSecrets.remember(r.value);
        return r.value;
      }
    } catch (err) {
      this.log.debug(`The client did not give the secret "${name}" (${errorText(err)}); trying CLEAN_SECRET_ in the environment.`);
    }
    const value = await secretFromEnv(name);
    this.knownSecrets.remember(value);
    return value;
  }

  private async readDisk(uri: string): Promise<string> {
    const file = pathOf(uri);
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new PipelineRequestError(`Cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? errorText(err)}). Is the file still there?`);
    }
  }

  /**
   * The checked outline of a config file: exactly the open document's current version, or the file on disk (what
   * starting one of its pipelines needs). Checked off this thread either way, with the same size limit.
   */
  private async checkedOutline(uri: string, open: TextDocument | undefined): Promise<ConfigOutline> {
    const text = open ? undefined : await this.readDisk(uri);
    const outline = open ? await this.checker.outlineOf(open) : await this.checker.checkText(uri, text!);
    if (!outline) throw new PipelineRequestError(`${pathOf(uri)} could not be checked (it changed, closed, or the check failed); try again.`);
    if (outline.oversize) throw new PipelineRequestError(oversizeMessage(pathOf(uri), Buffer.byteLength(open ? open.getText() : text!, 'utf8')));
    return outline;
  }

  /** A version was checked: publish its diagnostics while it is still the current one, and refresh the lenses. */
  private publishDiagnostics(uri: string, outline: ConfigOutline): void {
    const doc = this.documents.get(uri);
    if (!doc || doc.version !== outline.version) return; // a newer version is on its way
    try {
      void this.connection.sendDiagnostics({ uri, version: outline.version, diagnostics: redactDeep(diagnosticsOf(outline), this.knownSecrets) });
    } catch (err) {
      this.reportError(`Publishing the diagnostics of ${pathOf(uri)} failed: ${errorText(err)}`, 'agent', err);
    }
    this.refreshCodeLenses();
  }

  /** Asks the client to re-query code lenses (score and state changed), at most once a second. */
  private refreshCodeLenses(): void {
    if (!this.canRefreshCodeLens || this.codeLensTimer) return;
    const wait = Math.max(0, this.lastCodeLensRefresh + 1000 - Date.now());
    this.codeLensTimer = setTimeout(() => {
      this.codeLensTimer = null;
      this.lastCodeLensRefresh = Date.now();
      this.connection.sendRequest(CodeLensRefreshRequest.type).catch(() => undefined);
    }, wait);
  }

  private reportError(message: string, origin: string, err?: unknown): void {
    try {
      const stack = err instanceof Error && err.stack ? redact(err.stack, this.knownSecrets) : undefined;
      const text = redact(message, this.knownSecrets);
      this.connection.console.error(stack ? `${text}\n${stack}` : text);
      void this.connection.sendNotification(AgentErrorNotification.type, { message: text, origin, stack });
    } catch {
      // The connection itself is gone; nothing left to tell.
    }
  }
}

const SPEC_BACKENDS = ['kafka', 'redis', 'pulsar', 'file', 'demo'];

/** Requests whose results hold pipeline infos or messages (not metrics history or stream samples). */
const TEXT_RESULTS = new Set(['startPipeline', 'stopPipeline', 'pausePipeline', 'resumePipeline', 'listPipelines', 'acceptNormal', 'resetBaseline', 'undoBaseline', 'checkAddress', 'listTopics']);

/** A SourceSpec from the wire, checked enough that a malformed one is refused rather than crashing later. */
function checkedSpec(raw: unknown): SourceSpec {
  const s = (raw ?? {}) as Partial<SourceSpec>;
  if (typeof s.backend !== 'string' || !SPEC_BACKENDS.includes(s.backend)) {
    throw new PipelineRequestError(`spec.backend must be one of ${SPEC_BACKENDS.join(', ')} (got ${JSON.stringify(s.backend)}).`);
  }
  if (typeof s.topic !== 'string' || s.topic === '') throw new PipelineRequestError('spec.topic must name the topic, stream, file or demo scenario.');
  if (s.brokers !== undefined && !(Array.isArray(s.brokers) && s.brokers.every((b) => typeof b === 'string'))) {
    throw new PipelineRequestError('spec.brokers must be a list of host:port strings.');
  }
  if (s.brokers !== undefined) {
    const list = parseBrokerList(s.brokers, 'spec');
    if ('problem' in list) throw new PipelineRequestError(`spec.brokers: ${list.problem}`);
  }
  const from = s.from && typeof s.from === 'object' && typeof (s.from as { kind?: unknown }).kind === 'string' ? s.from : { kind: 'latest' as const };
  return { ...s, backend: s.backend, topic: s.topic, from } as SourceSpec;
}

/** A file system path for a `file:` URI (other URIs keep their path part). */
export function pathOf(uri: string): string {
  if (uri.startsWith('file:')) {
    try {
      return fileURLToPath(uri);
    } catch {
      return uri;
    }
  }
  const m = /^[a-z][\w+.-]*:(?:\/\/[^/]*)?(.*)$/i.exec(uri);
  return m ? decodeURIComponent(m[1]) : uri;
}
