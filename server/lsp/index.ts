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
  AgentErrorNotification,
  AlertNotification,
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
} from '../../shared/protocol';
import type { PipelineInfo, StartPipelineParams } from '../../shared/protocol';
import { parseCleanConfig } from '../config/index';
import type { CleanConfigModel } from '../config/index';
import type { PipelineSettings } from '../engine/config';
import { secretFromEnv } from '../engine/pipeline';
import { DEMO_RULES } from '../sources/demo';
import type { Logger, SourceSpec } from '../sources/types';
import { UsageError, parseSourceUrl, parseStartPosition } from '../sources/url';
import { resolveTopic } from '../resolve/index';
import { codeLenses, completions, documentSymbols, hover, toDiagnostics } from './configFeatures';
import { MetricsBatcher } from './metricsBatcher';
import { BaselineStore } from '../engine/baselineStore';
import { PipelineManager, PipelineRequestError, errorText } from './manager';
import type { PipelineRequest } from './manager';
import { LOG_LEVELS, coerceAgentSettings, coerceWireSettings } from './settings';
import type { LogLevel } from './settings';

/** Picks the transport from argv (`--stdio`, `--node-ipc`, `--socket=N`, `--pipe=NAME`). */
function connectionFor(argv: string[]): Connection {
  if (argv.includes('--stdio')) return createConnection(ProposedFeatures.all, process.stdin, process.stdout);
  if (argv.includes('--node-ipc')) return createConnection(ProposedFeatures.all, new IPCMessageReader(process), new IPCMessageWriter(process));
  return createConnection(ProposedFeatures.all);
}

/** Runs the language server until the client says exit; resolves once it listens. */
export async function startLanguageServer(argv: string[]): Promise<void> {
  const connection = connectionFor(argv);
  new CleanAgentServer(connection).listen();
}

export class CleanAgentServer {
  private readonly documents = new TextDocuments(TextDocument);
  private readonly models = new Map<string, { version: number; model: CleanConfigModel }>();
  private readonly manager: PipelineManager;
  private readonly batcher: MetricsBatcher;
  private logLevel: LogLevel = 'info';
  private canAskConfiguration = false;
  private canRefreshCodeLens = false;
  private codeLensTimer: NodeJS.Timeout | null = null;
  private lastCodeLensRefresh = 0;
  private readonly log: Logger;

  /** Where baselines are kept: set from initializationOptions.storagePath (the extension's storage). */
  private readonly baselines: { store?: BaselineStore } = {};

  constructor(private readonly connection: Connection) {
    const baselines = this.baselines;
    const at = (level: LogLevel) => LOG_LEVELS.indexOf(level) <= LOG_LEVELS.indexOf(this.logLevel);
    this.log = {
      debug: (m) => at('debug') && connection.console.log(m),
      info: (m) => at('info') && connection.console.info(m),
      warn: (m) => at('warn') && connection.console.warn(m),
      error: (m) => connection.console.error(m),
    };
    this.batcher = new MetricsBatcher((events) => void connection.sendNotification(MetricsNotification.type, { events }));
    this.manager = new PipelineManager(
      {
        metrics: (e) => {
          this.batcher.add(e);
          this.refreshCodeLenses(); // the Stop lens shows the score
        },
        alert: (e) => void connection.sendNotification(AlertNotification.type, e),
        status: (p) => {
          if (p.removed) this.batcher.forget(p.pipeline);
          void connection.sendNotification(StatusNotification.type, p);
          if (p.info.configUri) this.refreshCodeLenses();
        },
        error: (message, origin, err) => this.reportError(message, origin, err),
      },
      {
        log: this.log,
        secret: (name) => this.secret(name),
        get baselines() {
          return baselines.store;
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
      if (typeof storage === 'string' && storage !== '') this.baselines.store = new BaselineStore(path.join(storage, 'baselines'));
      this.canAskConfiguration = !!params.capabilities.workspace?.configuration;
      this.canRefreshCodeLens = !!params.capabilities.workspace?.codeLens?.refreshSupport;
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
      await this.manager.dispose();
    });

    this.documents.onDidChangeContent((e) => this.publishDiagnostics(e.document));
    this.documents.onDidClose((e) => {
      this.models.delete(e.document.uri);
      if (isCleanConfigFile(pathOf(e.document.uri))) void c.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    });

    c.onCompletion(
      this.guard('completion', (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return [];
        return completions(doc.getText(), doc.offsetAt(p.position), this.model(doc));
      }),
    );
    c.onHover(
      this.guard('hover', (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return null;
        return hover(this.model(doc), doc.offsetAt(p.position));
      }),
    );
    c.onCodeLens(
      this.guard('codeLens', (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return [];
        return codeLenses(this.model(doc), doc.uri, (name) => this.manager.findConfigured(doc.uri, name));
      }),
    );
    c.onDocumentSymbol(
      this.guard('documentSymbol', (p) => {
        const doc = this.documents.get(p.textDocument.uri);
        if (!doc || !isCleanConfigFile(pathOf(doc.uri))) return [];
        return documentSymbols(this.model(doc));
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
    c.onRequest(
      ResolveTopicRequest.type,
      this.guard('resolveTopic', async (p) => {
        const open = this.documents.get(p.uri);
        const text = open ? open.getText() : await this.readDisk(p.uri);
        return resolveTopic(text, pathOf(p.uri), p.position);
      }),
    );

    this.documents.listen(c);
    c.listen();
  }

  /** Wraps a handler: user mistakes become RequestFailed with their message; the unexpected is reported, never fatal. */
  private guard<P, R>(name: string, fn: (params: P) => R | Promise<R>): (params: P) => Promise<R | ResponseError<void>> {
    return async (params: P) => {
      try {
        return await fn(params);
      } catch (err) {
        if (err instanceof PipelineRequestError || err instanceof UsageError) return new ResponseError<void>(ErrorCodes.InvalidParams, err.message);
        if (err instanceof ResponseError) return err as ResponseError<void>;
        this.reportError(`${name} failed: ${errorText(err)}`, 'agent', err);
        return new ResponseError<void>(ErrorCodes.InternalError, `${name} failed inside the agent: ${errorText(err)}. The agent keeps running; see the Clean Streams output for details.`);
      }
    };
  }

  private async startPipeline(params: StartPipelineParams): Promise<PipelineInfo> {
    const defaults = await this.readSettings();
    let req: PipelineRequest;
    if (params && 'configUri' in params && params.configUri) {
      const open = this.documents.get(params.configUri);
      const text = open ? open.getText() : await this.readDisk(params.configUri);
      const model = open ? this.model(open) : parseCleanConfig(text, pathOf(params.configUri));
      const entry = model.pipelines.find((p) => p.name === params.pipelineName);
      const file = pathOf(params.configUri).split(/[\\/]/).pop();
      if (!entry) {
        const names = model.pipelines.flatMap((p) => (p.name ? [p.name] : []));
        throw new PipelineRequestError(`${file} has no pipeline named "${params.pipelineName}"${names.length ? `; it has ${names.join(', ')}` : ''}.`);
      }
      if (!entry.pipeline) {
        const line = model.lines.position(entry.range.start).line + 1;
        throw new PipelineRequestError(`Pipeline "${params.pipelineName}" in ${file} (line ${line}) cannot start: ${entry.error ?? 'it has errors'}`);
      }
      const p = entry.pipeline;
      req = { name: p.name, spec: p.spec, settings: { ...defaults, ...p.settings }, configUri: params.configUri };
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
    return this.manager.start(req);
  }

  /** The `clean` settings as pipeline defaults (asked fresh; the agent keeps no settings globals beyond the log level). */
  private async readSettings() {
    if (!this.canAskConfiguration) return {};
    try {
      const raw = await this.connection.workspace.getConfiguration(SETTINGS_SECTION);
      const s = coerceAgentSettings(raw);
      this.logLevel = s.logLevel;
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
      if (r?.value !== undefined) return r.value;
    } catch (err) {
      this.log.debug(`The client did not give the secret "${name}" (${errorText(err)}); trying CLEAN_SECRET_ in the environment.`);
    }
    return secretFromEnv(name);
  }

  private async readDisk(uri: string): Promise<string> {
    const file = pathOf(uri);
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new PipelineRequestError(`Cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? errorText(err)}). Is the file still there?`);
    }
  }

  private model(doc: TextDocument): CleanConfigModel {
    const cached = this.models.get(doc.uri);
    if (cached && cached.version === doc.version) return cached.model;
    const model = parseCleanConfig(doc.getText(), pathOf(doc.uri));
    this.models.set(doc.uri, { version: doc.version, model });
    return model;
  }

  private publishDiagnostics(doc: TextDocument): void {
    if (!isCleanConfigFile(pathOf(doc.uri))) return;
    try {
      void this.connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: toDiagnostics(this.model(doc)) });
    } catch (err) {
      this.reportError(`Checking ${pathOf(doc.uri)} failed: ${errorText(err)}`, 'agent', err);
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
      this.connection.console.error(err instanceof Error && err.stack ? `${message}\n${err.stack}` : message);
      void this.connection.sendNotification(AgentErrorNotification.type, { message, origin, stack: err instanceof Error ? err.stack : undefined });
    } catch {
      // The connection itself is gone; nothing left to tell.
    }
  }
}

const SPEC_BACKENDS = ['kafka', 'redis', 'pulsar', 'file', 'demo'];

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
