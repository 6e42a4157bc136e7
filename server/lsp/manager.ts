/**
 * PipelineManager: every pipeline the agent runs, each isolated (a failing source puts only its own
 * pipeline in `error`), with a bounded history per pipeline for charts opened late.
 */
import { resolvePipelineConfig } from '../engine/config';
import type { DetectorName, PipelineConfig, PipelineSettings } from '../engine/config';
import type { AlertEvent, MetricsEvent, RecoveredEvent, SampleRecord, StatusEvent } from '../engine/events';
import { RealtimePipeline, type BaselineChange } from '../engine/pipeline';
import type { ManagedPipeline } from '../engine/managedPipeline';
import { ShardedPipeline } from '../scale/shardedPipeline';
import { GroupObserver } from '../scale/groupObserver';
import { decodeSettingsOf } from '../decode';
import type { BaselineStore } from '../engine/baselineStore';
import { createSource } from '../sources/index';
import type { Logger, SourceContext, SourceSpec, StreamSource } from '../sources/types';
import type { AcceptNormalParams, BaselineChangeResult, HistoryParams, HistoryResult, PipelineInfo, SamplesParams, StatusParams } from '../../shared/protocol';
import { cliCommandOf, sourceUrlOf } from './cliCommand';
import { PipelineHistoryRing, type HistoryStore } from './history';
import { BudgetError, MemoryBudget, formatBytes } from '../engine/budget';
import { nameTooLong } from '../engine/names';
import { credentialProblem } from '../secrets/credentials';
import { SinkSet, testEvent, type SinkConfig } from '../alerts';

export interface PipelineRequest {
  name: string;
  /** The id to take when free: a pipeline restored after an agent restart keeps its id. */
  id?: string;
  spec: SourceSpec;
  settings: PipelineSettings;
  configUri?: string;
  /** `group:` in clean.yaml: the group's agents read the topic; this agent watches their merged view (GroupObserver). */
  group?: { name: string; summariesTopic: string };
}

export interface ManagerEvents {
  metrics(e: MetricsEvent): void;
  alert(e: AlertEvent | RecoveredEvent): void;
  status(p: StatusParams): void;
  /** Something unexpected, caught: the agent reports it and goes on. */
  error(message: string, origin: string, err?: unknown): void;
}

export interface ManagerOptions {
  log: Logger;
  secret(name: string): Promise<string | undefined>;
  /** Opens sources; tests may substitute. */
  createSource?: (spec: SourceSpec, ctx: SourceContext) => Promise<StreamSource>;
  /** Where each pipeline's learned baseline is kept (the extension's storage); none: learnt anew each start. */
  baselines?: BaselineStore;
  /** Where each pipeline's history archive is saved (the extension's storage); none: a restart starts the chart empty. */
  history?: HistoryStore;
  /** The agent's memory budget in MB (clean.maxMemoryMB); the default when absent. */
  maxMemoryMB?: number;
}

/** A request whose pipeline or parameters are wrong; the message says what to do. */
export class PipelineRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineRequestError';
  }
}

interface Managed {
  id: string;
  request: PipelineRequest;
  config: PipelineConfig;
  pipeline: ManagedPipeline;
  history: PipelineHistoryRing;
  last?: MetricsEvent;
  running: Promise<void>;
  removed: boolean;
  canUndo: boolean;
  /** When the history archive was last saved (0: not yet). */
  historySavedAt: number;
  /** What its sinks last showed (failing, errors, drops): a change is sent as a status, for the tree. */
  sinkSig?: string;
}

/** On a stop, queued alerts get this long to reach their sinks. */
const SINK_FLUSH_MS = 3000;

export class PipelineManager {
  private readonly pipelines = new Map<string, Managed>();
  /** Per config file: its alert sinks (`alerts:`), which take the alerts of that file's pipelines. */
  private readonly sinkSets = new Map<string, { key: string; set: SinkSet }>();
  private sinkTimer: NodeJS.Timeout | undefined;
  /** Every pipeline reserves its estimated footprint here when it starts; a start over the budget is refused. */
  readonly budget: MemoryBudget;

  constructor(
    private readonly events: ManagerEvents,
    private readonly options: ManagerOptions,
  ) {
    this.budget = new MemoryBudget(options.maxMemoryMB);
  }

  /**
   * Starts a pipeline, or returns the active one that is the same pipeline (marked `reused`): the same config file
   * entry, or for an inline start the same source (a different address or credentials is a different pipeline, under
   * `name (2)`). A stopped or failed one under the id is replaced. `req.id` (a restart restoring a pipeline) is
   * taken when free.
   */
  start(req: PipelineRequest): PipelineInfo {
    // Before anything quotes or builds on them: a 50 MB name is refused, not echoed.
    const tooLong = nameTooLong('Pipeline name', req.name) ?? nameTooLong('Secret name', req.spec.auth?.secret);
    if (tooLong) throw new PipelineRequestError(tooLong);
    // Every start passes the one credential check, whichever way its spec came (url, spec, clean.yaml).
    const credential = credentialProblem({ spec: req.spec }, 'spec');
    if (credential) throw new PipelineRequestError(credential);
    let config: PipelineConfig;
    try {
      config = resolvePipelineConfig(req.settings);
    } catch (err) {
      throw new PipelineRequestError(`Pipeline "${req.name}": ${(err as Error).message}`);
    }
    const base = req.id ?? req.name;
    let id = base;
    for (let n = 2; ; n++) {
      const existing = this.pipelines.get(id);
      if (!existing) break;
      const same = samePipeline(existing.request, req);
      if (same && isActive(existing)) return { ...this.info(existing), reused: true };
      if (same || !isActive(existing)) {
        this.forget(existing);
        // Another source under a freed id starts its chart afresh; the same pipeline keeps its past.
        if (!same) this.options.history?.remove(id);
        break;
      }
      id = `${base} (${n})`;
    }
    try {
      this.budget.reserve(id, req.name, config);
    } catch (err) {
      throw err instanceof BudgetError ? new PipelineRequestError(err.message) : err;
    }
    const makeSource = this.options.createSource ?? createSource;
    const pipelineOptions = { log: prefixed(this.options.log, id), secret: (name: string) => this.options.secret(name), baseline: this.options.baselines, decode: decodeSettingsOf(req.spec, config.format) };
    // `workers: N`: N engine threads over the topic's partitions, merged per check (server/scale), as `clean-agent run` does.
    // `group:` (server/scale/groupObserver.ts): the group's agents read the topic; the editor shows their merged view.
    const observer = req.group ? new GroupObserver(id, req.spec, config, { group: req.group.name, summariesTopic: req.group.summariesTopic, pipeline: req.name, log: pipelineOptions.log, secret: pipelineOptions.secret, createSource: makeSource }) : null;
    const pipeline: ManagedPipeline = observer ? observer : (config.workers ?? 1) > 1 ? new ShardedPipeline(id, req.spec, config, pipelineOptions) : new RealtimePipeline(id, (ctx) => makeSource(req.spec, ctx), config, pipelineOptions);
    const history = new PipelineHistoryRing(id, config.qualityThreshold, pickThresholds(config));
    const saved = this.options.history?.load(id);
    if (saved) history.restore(saved);
    const m: Managed = { id, request: req, config, pipeline, history, running: Promise.resolve(), removed: false, canUndo: this.options.baselines?.hasPrevious(id) ?? false, historySavedAt: Date.now() };
    this.pipelines.set(id, m);
    pipeline.on('metrics', (e) => {
      m.last = e;
      // Records wider than the estimate assumed: the reservation grows, so that later starts see it.
      const over = this.budget.track(id, pipeline.fieldCount);
      if (over) this.options.log.warn(`[${id}] its records carry ${over.fields} fields: it now needs about ${formatBytes(over.total)}, and the agent is over its ${this.budget.maxMemoryMB} MB budget. Lower windowSize or maxFields, or raise clean.maxMemoryMB.`);
      history.addMetrics(e);
      this.noteSinks(m);
      if (e.time - m.historySavedAt >= HISTORY_SAVE_MS) void this.saveHistory(m);
      this.events.metrics(e);
    });
    const onAlert = (e: AlertEvent | RecoveredEvent) => {
      history.addAlert(e);
      // The records behind the alert, as they were when it fired, for "Show Samples" on it later.
      if (e.type === 'alert') {
        const behind = new Set(e.samples.map((x) => x.record));
        history.keepAlertSamples(e, pipeline.samples(e.detector, SAMPLE_LOOKUP).filter((x) => behind.has(x.record)));
      }
      this.events.alert(e);
      // The file's sinks know its pipelines by the names written there (the id may be `name (2)`).
      // A group's alerts reach its sinks from the group's owner, never from a watching editor.
      if (req.configUri && !req.group) this.sinkSets.get(req.configUri)?.set.deliver(e.pipeline === req.name ? e : { ...e, pipeline: req.name });
    };
    pipeline.on('alert', onAlert);
    pipeline.on('recovered', onAlert);
    pipeline.on('status', (e) => {
      if (!m.removed) this.events.status({ ...e, info: this.info(m) });
    });
    m.running = pipeline.run().catch((err) => {
      // The pipeline already reports `error` with the reason; only the unexpected is an agent error.
      if (pipeline.state !== 'error') this.events.error(`Pipeline "${id}" failed: ${errorText(err)}`, id, err);
      else this.options.log.warn(`[${id}] ${errorText(err)}`);
    });
    return this.info(m);
  }

  async stop(id: string, remove = false): Promise<PipelineInfo> {
    const m = this.get(id);
    await m.pipeline.stop();
    await m.running;
    const info = this.info(m);
    if (remove) {
      this.forget(m);
      this.options.history?.remove(m.id);
      this.events.status({ type: 'status', pipeline: m.id, time: Date.now(), state: 'stopped', message: 'removed', info, removed: true });
    }
    return info;
  }

  pause(id: string): PipelineInfo {
    const m = this.get(id);
    m.pipeline.pause();
    return this.info(m);
  }

  resume(id: string): PipelineInfo {
    const m = this.get(id);
    m.pipeline.resume();
    return this.info(m);
  }

  /** "This is normal" for a detector (all when absent) on a field (all when absent). */
  acceptNormal(p: AcceptNormalParams): BaselineChangeResult {
    const m = this.get(p.pipeline);
    if (p.detector !== undefined && !m.config.detectors.includes(p.detector)) {
      throw new PipelineRequestError(`Pipeline "${m.id}" does not run the ${p.detector} detector; it runs ${m.config.detectors.join(', ')}.`);
    }
    return this.changed(m, m.pipeline.acceptNormal(p.detector ?? null, p.field ?? null), true);
  }

  resetBaseline(id: string): BaselineChangeResult {
    const m = this.get(id);
    return this.changed(m, m.pipeline.resetBaseline(), true);
  }

  undoBaseline(id: string): BaselineChangeResult {
    const m = this.get(id);
    return this.changed(m, m.pipeline.undoBaseline(), false);
  }

  private changed(m: Managed, c: BaselineChange, canUndo: boolean): BaselineChangeResult {
    if (c.changed > 0) m.canUndo = canUndo;
    const info = this.info(m);
    // The tree follows at once; the next check brings the metrics.
    this.events.status({ type: 'status', pipeline: m.id, time: Date.now(), state: m.pipeline.state, message: m.pipeline.message, info });
    return { changed: c.changed, message: c.message, info };
  }

  list(): PipelineInfo[] {
    return [...this.pipelines.values()].map((m) => this.info(m));
  }

  /** The pipeline a config file declares under that name, if the agent holds it. */
  findConfigured(configUri: string, name: string): PipelineInfo | undefined {
    for (const m of this.pipelines.values()) if (m.request.configUri === configUri && m.request.name === name) return this.info(m);
    return undefined;
  }

  history(params: HistoryParams = {}): HistoryResult {
    const since = typeof params.since === 'number' ? params.since : undefined;
    const chosen = params.pipeline !== undefined ? [this.get(params.pipeline)] : [...this.pipelines.values()];
    return { pipelines: chosen.map((m) => m.history.since(since)) };
  }

  samples(params: SamplesParams): SampleRecord[] {
    const m = this.get(params.pipeline);
    const limit = Math.max(1, Math.min(200, Math.floor(params.limit ?? 20)));
    if (params.detector !== undefined && !m.config.detectors.includes(params.detector)) {
      throw new PipelineRequestError(`Pipeline "${m.id}" does not run the ${params.detector} detector; it runs ${m.config.detectors.join(', ')}.`);
    }
    // An alert's own records, as kept when it fired; the newest flagged records would be other ones by now.
    if (typeof params.alert === 'number') return m.history.alertSamples(params.alert, params.detector ?? null).slice(0, limit);
    return m.pipeline.samples(params.detector ?? null, limit);
  }

  info(m: Managed | string): PipelineInfo {
    const x = typeof m === 'string' ? this.get(m) : m;
    const spec = x.request.spec;
    const info: PipelineInfo = {
      id: x.id,
      name: x.request.name,
      topic: spec.topic,
      backend: spec.backend,
      description: x.pipeline.description === x.id ? describeSpec(spec) : x.pipeline.description,
      state: x.pipeline.state,
      message: x.pipeline.message,
      threshold: x.config.qualityThreshold,
      detectors: [...x.config.detectors],
      cliCommand: cliCommandOf(spec, x.request.settings),
    };
    if (x.last) {
      info.score = x.last.score;
      info.throughput = x.last.throughput;
      info.records = x.last.records;
    }
    info.baseline = x.pipeline.baselineInfo;
    // A `workers:` pipeline: how many engine threads read it (once they run).
    if ((x.config.workers ?? 1) > 1 && x.pipeline.shardCount > 0) info.threads = x.pipeline.shardCount;
    const decode = x.pipeline.decodeInfo;
    if (decode) info.decode = decode;
    if (x.canUndo) info.canUndoBaseline = true;
    if (x.pipeline instanceof GroupObserver) {
      info.group = x.pipeline.observed;
      // What runs the group: the command for each of its agents.
      info.cliCommand += ` --group ${info.group.name}${info.group.summariesTopic !== 'clean.summaries' ? ` --summaries-topic ${info.group.summariesTopic}` : ''}`;
    }
    if (x.request.configUri) info.configUri = x.request.configUri;
    const sinks = x.request.configUri ? this.sinkSets.get(x.request.configUri)?.set.statsFor(x.request.name) : undefined;
    if (sinks?.length) info.sinks = sinks;
    return info;
  }

  /**
   * The alert sinks of a config file, from its latest check: rebuilt only when they changed (their lines aside),
   * the old set delivering what it holds before it closes.
   */
  setConfigSinks(configUri: string, configs: readonly SinkConfig[]): void {
    const key = JSON.stringify(configs.map(({ line, ...c }) => c));
    const had = this.sinkSets.get(configUri);
    if (had?.key === key) return;
    if (had) void had.set.flush(SINK_FLUSH_MS).then(() => had.set.close());
    if (configs.length === 0) {
      this.sinkSets.delete(configUri);
      return;
    }
    const set = SinkSet.fromConfig(configs, { log: this.options.log, secret: (name) => this.options.secret(name) });
    this.sinkSets.set(configUri, { key, set });
    // Deliveries go on after a pipeline's last check (a finished file, a quiet topic): their outcome is looked at
    // every second too, so a sink that starts failing shows in the tree without waiting for the next check.
    this.sinkTimer ??= setInterval(() => {
      for (const m of this.pipelines.values()) this.noteSinks(m);
    }, 1000).unref();
  }

  /**
   * "Send test alert": one test event to the named sink of the file, and the receiver's answer. The event names
   * the sink's own pipeline, else `pipeline` (the file's first), so that it reads like the alerts to come.
   */
  async testSink(configUri: string, name: string, pipeline?: string): Promise<{ ok: boolean; message: string }> {
    const set = this.sinkSets.get(configUri)?.set;
    const config = set?.configs().find((c) => c.name === name);
    if (!set || !config) throw new PipelineRequestError(`No alert sink "${name}" in ${configUri.split(/[\\/]/).pop()}; save the file and try again.`);
    return set.test(name, testEvent(config.pipelines?.[0] ?? pipeline ?? 'clean-streams-test'));
  }

  /** A status for each pipeline whose sinks' state changed (failing or not, the error, drops), checked once per check. */
  private noteSinks(m: Managed): void {
    if (!m.request.configUri) return;
    const stats = this.sinkSets.get(m.request.configUri)?.set.statsFor(m.request.name) ?? [];
    const sig = stats.map((s) => `${s.name}:${s.failing}:${s.lastError ?? ''}:${s.dropped}:${s.failed}`).join('|');
    if (sig === (m.sinkSig ?? '')) return;
    m.sinkSig = sig;
    if (!m.removed) this.events.status({ type: 'status', pipeline: m.id, time: Date.now(), state: m.pipeline.state, message: m.pipeline.message, info: this.info(m) });
  }

  /** Stops every pipeline (agent shutdown). */
  async dispose(): Promise<void> {
    await Promise.all([...this.pipelines.values()].map(async (m) => {
      try {
        await m.pipeline.stop();
        await m.running;
      } catch (err) {
        this.options.log.warn(`[${m.id}] stopping: ${errorText(err)}`);
      }
      await this.saveHistory(m);
    }));
    // What the pipelines alerted last still reaches the sinks, within a deadline.
    await Promise.all([...this.sinkSets.values()].map(async ({ set }) => {
      await set.flush(SINK_FLUSH_MS);
      await set.close();
    }));
    this.sinkSets.clear();
    if (this.sinkTimer) clearInterval(this.sinkTimer);
  }

  /** Saves a pipeline's history archive; a failure is logged (the chart only loses its past after a restart). */
  private async saveHistory(m: Managed): Promise<void> {
    const store = this.options.history;
    if (!store || m.removed) return;
    m.historySavedAt = Date.now();
    try {
      await store.save(m.history.toSaved(m.historySavedAt));
    } catch (err) {
      this.options.log.warn(`[${m.id}] could not save its chart history to ${store.dir}: ${errorText(err)}`);
    }
  }

  private get(id: string): Managed {
    const m = this.pipelines.get(id);
    if (!m) {
      const ids = [...this.pipelines.keys()];
      throw new PipelineRequestError(`No pipeline "${id}" in the agent. ${ids.length ? `Running: ${ids.join(', ')}.` : 'Start one first with clean/startPipeline.'}`);
    }
    return m;
  }

  private forget(m: Managed): void {
    m.removed = true;
    this.pipelines.delete(m.id);
    this.budget.release(m.id);
    void m.pipeline.stop();
  }
}

/** The same pipeline: one config file entry (whatever the file says now), or one inline source, wherever from. */
export function samePipeline(a: PipelineRequest, b: PipelineRequest): boolean {
  if (a.configUri !== b.configUri) return false;
  if (a.configUri !== undefined) return a.name === b.name;
  return a.name === b.name && sourceUrlOf({ ...a.spec, from: { kind: 'latest' } }) === sourceUrlOf({ ...b.spec, from: { kind: 'latest' } });
}

/** A running pipeline saves its history archive this often (and when the agent shuts down): a crash loses at most this much. */
const HISTORY_SAVE_MS = 30_000;
/** How far back the alert's own samples are looked for among the latest flagged records. */
const SAMPLE_LOOKUP = 20;

function isActive(m: Managed): boolean {
  const s = m.pipeline.state;
  return s === 'connecting' || s === 'waiting' || s === 'running' || s === 'reconnecting' || s === 'paused';
}

function pickThresholds(c: PipelineConfig): Partial<Record<DetectorName, number>> {
  const out: Partial<Record<DetectorName, number>> = {};
  for (const d of c.detectors) out[d] = c.thresholds[d];
  return out;
}

function describeSpec(spec: SourceSpec): string {
  return sourceUrlOf({ ...spec, auth: undefined, options: {} });
}

function prefixed(log: Logger, id: string): Logger {
  const tag = `[${id}]`;
  const p = (m: string) => (m.startsWith(tag) ? m : `${tag} ${m}`);
  return {
    debug: (m) => log.debug(p(m)),
    info: (m) => log.info(p(m)),
    warn: (m) => log.warn(p(m)),
    error: (m) => log.error(p(m)),
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export type { StatusEvent };
