/**
 * ShardedPipeline: one topic read by N engine threads (`workers: N`, `--workers N`), each with its own
 * source for its share of the partitions, and one merge step per check on the main thread: the threads'
 * summaries are merged (merge.ts), judged by a MergedView against baselines learnt from merged windows,
 * and alerted on by the same AlertChecker a single-thread pipeline uses. It emits the same events as
 * RealtimePipeline (metrics, alert, recovered, status, end), so the CLI and the agent take it unchanged.
 *
 * The pipeline's window is shared out: each thread keeps windowSize / N records, so the merged window is
 * about the topic's last windowSize records (exactly that many once every thread's window is full).
 *
 * It is a ManagedPipeline, as RealtimePipeline is, so the editor's agent runs it too: pause and resume stop and
 * restart reading in every thread; the baseline that judges (the merged view's) is kept in the same
 * BaselineStore as a single-thread pipeline's (`--state`, the extension's storage), "This is normal", reset
 * and undo act on it, and each change (and a restored baseline) reaches the threads' engines too, so that
 * their per-record verdicts follow it as a single engine's would.
 */
import type { DetectorName, PipelineConfig } from '../engine/config';
import type { MetricsEvent, SampleRecord } from '../engine/events';
import { AlertChecker } from '../engine/alerts';
import type { BaselineChange, PipelineOptions } from '../engine/pipeline';
import type { BaselineInfo } from '../engine/events';
import type { SavedEngine } from '../engine/quality';
import type { ManagedPipeline } from '../engine/managedPipeline';
import { BaselineKeeper } from '../engine/baselineKeeper';
import type { DecodeInfo } from '../decode';
import { PipelineEvents, type AlertHandler, type Listeners } from '../engine/pipelineEvents';
import { secretFromEnv } from '../engine/pipeline';
import type { Logger, PipelineState, SourceContext, SourceSpec, StreamSource } from '../sources/types';
import { SourceError, silentLogger } from '../sources/types';
import { createSource } from '../sources/index';
import { MergedView, mergeSummaries, metricsFromMerged } from './merge';
import type { MergedSummary, ShardSummary } from './summary';
import { ShardThread, dealPartitions, shardSpecs } from './workers';
import type { PulsarSource } from '../sources/pulsar';
import { lookupPartitions } from '../sources/pulsar/admin';
import { SHARD_ROLE, type FromShard, type ToShard } from './threadMessages';


/** The window each of `n` threads keeps: the pipeline's window shared out (at least one record). */
export function shardWindow(windowSize: number, n: number): number {
  return Math.max(1, Math.ceil(windowSize / n));
}

/**
 * What each engine thread reads. Kafka: the topic's partitions, found by connecting a source on this thread
 * (which waits for a missing topic and reports as the pipeline would), dealt over the threads. Pulsar over
 * the WebSocket API: a partitioned topic's partitions, each read as a topic of its own. Anything else (a
 * Redis stream, a file, a topic that is not partitioned) is one unit.
 */
async function shareOut(spec: SourceSpec, workers: number, ctx: SourceContext, probing: (src: StreamSource) => void): Promise<SourceSpec[][]> {
  if (workers <= 1 || (spec.backend !== 'kafka' && !(spec.backend === 'pulsar' && /^pulsar\+ws/i.test(spec.url ?? 'pulsar+ws:')))) return [[spec]];
  const src = await createSource(spec, ctx);
  probing(src);
  try {
    if (spec.backend === 'kafka') {
      await src.connect();
      return shardSpecs(spec, workers, (src as { partitionIds?: () => number[] }).partitionIds?.() ?? null);
    }
    const target = (src as PulsarSource).target;
    const token = target.secretName ? await ctx.secret(target.secretName) : undefined;
    let count = 0;
    try {
      count = await lookupPartitions(target, token, ctx.log);
    } catch (err) {
      // A topic not there yet: one thread's source waits for it, as a single-thread pipeline's does.
      if (!(err instanceof SourceError && err.code === 'missing')) throw err;
    }
    if (count === 0) return [[spec]];
    const partitions = Array.from({ length: count }, (_, i) => ({ ...spec, topic: `${target.tenant}/${target.namespace}/${target.local}-partition-${i}` }));
    return dealPartitions(partitions, workers);
  } finally {
    await src.close().catch(() => undefined);
  }
}

export class ShardedPipeline implements ManagedPipeline {
  private readonly checker: AlertChecker;
  private readonly view: MergedView;
  private readonly events: PipelineEvents;
  private readonly log: Logger;
  private threads: ShardThread[] = [];
  private readonly keeper: BaselineKeeper;
  /** The baseline a thread starts from: the saved or last restored one (null after a reset, or none). */
  private threadBaseline: SavedEngine | null = null;
  private paused = false;
  /** Per thread: what its records decode as, as last reported. */
  private decodes: Array<DecodeInfo | undefined> = [];
  private _state: PipelineState = 'stopped';
  private _message = 'not started';
  private stopping = false;
  private last: MetricsEvent | null = null;
  private lastMerged: MergedSummary | null = null;
  private lastCheckTime = 0;
  private lastCheckRecords = 0;
  private checking: Promise<MetricsEvent | null> | null = null;
  /** Per thread: records processed (progress), its state, whether it ended. */
  private progress: number[] = [];
  private states: string[] = [];
  private ended: boolean[] = [];
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private described = '';
  /** The source that finds the topic's partitions, while it does. */
  private probe: StreamSource | null = null;

  constructor(
    readonly name: string,
    private readonly spec: SourceSpec,
    readonly config: PipelineConfig,
    private readonly options: PipelineOptions = {},
  ) {
    this.checker = new AlertChecker(config);
    this.view = new MergedView(config);
    this.log = options.log ?? silentLogger;
    this.events = new PipelineEvents(name, this.log);
    this.described = `${spec.backend} ${spec.topic}`;
    const view = this.view;
    // Every change to the merged baseline reaches the threads' engines (in order, before the next summary request).
    this.keeper = new BaselineKeeper(name, {
      get learned() {
        return view.learned;
      },
      get baselineInfo() {
        return view.baselineInfo;
      },
      windowSize: config.windowSize,
      save: (time) => view.save(time),
      restore: (saved) => {
        view.restore(saved);
        this.threadBaseline = saved;
        this.toThreads({ type: 'baseline', op: 'restore', saved });
      },
      resetBaseline: () => {
        view.resetBaseline();
        this.threadBaseline = null;
        this.toThreads({ type: 'baseline', op: 'reset' });
      },
      accept: (detector, field) => {
        const changed = view.accept(detector, field);
        this.threadBaseline = view.save();
        this.toThreads({ type: 'baseline', op: 'accept', detector, field });
        return changed;
      },
    }, options.baseline, this.log);
  }

  private toThreads(m: ToShard): void {
    for (const t of this.threads) t.send(m);
  }

  get state(): PipelineState {
    return this._state;
  }

  get message(): string {
    return this._message;
  }

  get description(): string {
    return this.described;
  }

  /** Engine threads running (fewer than asked when the source has fewer partitions). */
  get shardCount(): number {
    return this.threads.length;
  }

  /** Where the merged view's baseline stands (it judges the pipeline; the threads' own learning is theirs). */
  get baselineInfo(): BaselineInfo {
    return this.view.baselineInfo;
  }

  /** Fields of the merged view: each thread tracks at most these, over its share of the window. */
  get fieldCount(): number {
    return this.view.fieldStates.length;
  }

  /** What the records decode as: the first thread's that knows, with the records every thread holds. */
  get decodeInfo(): DecodeInfo | null {
    const known = this.decodes.filter((d): d is DecodeInfo => d !== undefined);
    if (known.length === 0) return null;
    const held = known.reduce((n, d) => n + (d.held ?? 0), 0);
    const first = known.find((d) => d.format !== 'unknown') ?? known[0];
    return held > 0 ? { ...first, held } : first;
  }

  on<K extends keyof Listeners>(type: K, listener: Listeners[K]): () => void {
    return this.events.on(type, listener);
  }

  addAlertHandler(handler: AlertHandler): void {
    this.events.addAlertHandler(handler);
  }

  /** Starts the threads and checks on the pipeline's interval until every source ends, `limit` is reached or stop() is called. */
  async run(): Promise<void> {
    this.stopping = false;
    this.failure = null;
    this.paused = false;
    // The saved baseline first: the first status already says whether the pipeline resumes ready or learns.
    this.threadBaseline = this.keeper.load(this.options.resetBaseline) ?? this.threadBaseline;
    this.setState('connecting', 'connecting');
    const secret = this.options.secret ?? secretFromEnv;
    const ctx: SourceContext = { log: this.log, status: (state, message) => !this.stopping && this.setState(state, message), secret, maxMessageBytes: this.config.maxMessageBytes };
    const asked = Math.max(1, this.config.workers ?? 1);
    let shares: SourceSpec[][];
    try {
      // A stop while the probe connects (or waits for a missing topic) closes it.
      shares = await shareOut(this.spec, asked, ctx, (src) => (this.probe = src));
      this.probe = null;
    } catch (err) {
      if (this.stopping) return this.setState('stopped', 'stopped');
      this.setState('error', err instanceof Error ? err.message : String(err));
      throw err;
    }
    if (this.stopping) return this.setState('stopped', 'stopped');
    const n = shares.length;
    if (n < asked) this.log.info(`[${this.name}] ${n} engine thread${n === 1 ? '' : 's'} for ${asked} asked: ${n > 1 || this.spec.backend === 'kafka' ? `the topic has ${n} partition${n === 1 ? '' : 's'}` : `a ${this.spec.backend} source that is not partitioned is read by one reader`}`);
    const shardConfig: PipelineConfig = { ...this.config, windowSize: shardWindow(this.config.windowSize, n), workers: 1 };
    this.progress = new Array(n).fill(0);
    this.states = new Array(n).fill('connecting');
    this.ended = new Array(n).fill(false);
    this.decodes = new Array(n).fill(undefined);
    this.threads = shares.map((specs, i) => {
      const t = new ShardThread({ role: SHARD_ROLE, pipeline: this.name, shard: `worker-${i}`, config: shardConfig, specs, ...(this.threadBaseline ? { saved: this.threadBaseline } : {}) });
      t.onMessage = (m) => this.onThread(i, t, m);
      t.onExit = (code) => {
        if (!this.stopping && !this.ended[i] && this.failure === null) this.fail(new Error(`engine thread worker-${i} ended unexpectedly (exit code ${code}); its error, if any, is in the log above. Restart the pipeline, or run it with workers: 1 if this repeats`));
      };
      return t;
    });
    this.described = `${this.spec.backend} ${this.spec.topic} (${n} engine thread${n === 1 ? '' : 's'})`;
    const ci = this.config.checkInterval;
    const everyMs = 'seconds' in ci ? ci.seconds * 1000 : 0;
    this.lastCheckTime = Date.now();
    const idleMs = this.options.idleFlushMs ?? 1000;
    const timer = setInterval(() => {
      // Paused: no records move, so no check is due (as in RealtimePipeline).
      if (this.paused) return;
      const now = Date.now();
      if (everyMs > 0) {
        if (now - this.lastCheckTime >= everyMs) void this.check();
      } else if (idleMs > 0 && this.total() !== this.lastCheckRecords && now - this.lastCheckTime >= idleMs) {
        // Record-count checks on a stream gone quiet: the pending check still comes, as in RealtimePipeline.
        void this.check();
      }
    }, everyMs > 0 ? Math.min(everyMs, 250) : 250);
    try {
      // Wait for the end of every source, the limit, a stop or a failure.
      while (!this.stopping && this.failure === null && !this.ended.every(Boolean) && !this.overLimit()) {
        await new Promise<void>((r) => (this.wake = r));
      }
    } finally {
      clearInterval(timer);
    }
    const failure = this.failure as Error | null;
    const ended = !this.stopping && failure === null;
    // The final merged view: at the end of the sources, at the limit, and at a stop (not after a failure).
    if (failure === null) await this.check();
    await Promise.all(this.threads.map((t) => t.stop()));
    if (failure === null) this.keeper.save(true);
    if (failure !== null) {
      this.setState('error', failure.message);
      throw failure;
    }
    if (ended) {
      const records = this.last?.records ?? 0;
      this.emit('end', { type: 'end', pipeline: this.name, records });
      this.setState('stopped', this.overLimit() ? `stopped after ${records} records (limit)` : `end of source after ${records} records`);
    } else {
      this.setState('stopped', 'stopped');
    }
  }

  /** Records the threads have processed, as last reported. */
  private total(): number {
    return this.progress.reduce((a, b) => a + b, 0);
  }

  private overLimit(): boolean {
    const limit = this.options.limit;
    return limit !== undefined && this.total() >= limit;
  }

  private onThread(i: number, t: ShardThread, m: FromShard): void {
    switch (m.type) {
      case 'status':
        this.states[i] = m.state;
        this.log.debug(`[${this.name}] worker-${i}: ${m.message}`);
        this.aggregateState(m.message);
        break;
      case 'log':
        this.log[m.level](`[${this.name}] worker-${i}: ${m.message}`);
        break;
      case 'secret':
        void (this.options.secret ?? secretFromEnv)(m.name).then((value) => t.send({ type: 'secret', id: m.id, value }));
        break;
      case 'progress': {
        this.progress[i] = m.records;
        if (m.decode) this.decodes[i] = m.decode;
        const ci = this.config.checkInterval;
        const total = this.total();
        // Record-count checks: at about every N records across the threads (each reports every PROGRESS_EVERY).
        if ('records' in ci && total - this.lastCheckRecords >= ci.records) void this.check();
        if (this.overLimit()) this.poke();
        break;
      }
      case 'end':
        this.progress[i] = m.records;
        this.ended[i] = true;
        this.poke();
        break;
      case 'error':
        this.fail(m.code === 'source' || m.code === 'thread' ? new Error(m.message) : new SourceError(m.message, m.code));
        break;
    }
  }

  /** The pipeline's state from its threads': reconnecting or waiting if any is, running once all run. */
  private aggregateState(message: string): void {
    if (this.stopping) return;
    const s = this.states;
    const state = s.includes('reconnecting') ? 'reconnecting' : s.includes('waiting') ? 'waiting' : s.every((x) => x === 'running') ? 'running' : 'connecting';
    // A paused pipeline stays paused while its threads' sources report running.
    if (this.paused && state === 'running') return;
    this.setState(state, state === 'running' ? `reading ${this.described}` : message);
  }

  private fail(err: Error): void {
    if (this.failure === null) this.failure = err;
    this.poke();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Merges the threads' summaries, judges the merge, emits metrics and any alerts. One check at a time. */
  check(): Promise<MetricsEvent | null> {
    if (this.checking) return this.checking;
    this.checking = this.runCheck().finally(() => (this.checking = null));
    return this.checking;
  }

  private async runCheck(): Promise<MetricsEvent | null> {
    const summaries = await Promise.all(this.threads.map((t) => t.summary()));
    const got = summaries.filter((s): s is ShardSummary => s !== null);
    const missing = summaries.length - got.length;
    if (missing > 0) this.log.warn(`[${this.name}] ${missing} of ${summaries.length} engine threads did not answer this check; the merged view leaves their records out`);
    if (got.length === 0) return null;
    const now = Date.now();
    const merged = mergeSummaries(got);
    merged.pipeline = this.name;
    this.lastMerged = merged;
    const elapsed = (now - this.lastCheckTime) / 1000;
    const throughput = elapsed > 0 ? (merged.records - this.lastCheckRecords) / elapsed : 0;
    this.lastCheckTime = now;
    this.lastCheckRecords = merged.records;
    this.view.update(merged);
    const findings = this.view.judge();
    const m = metricsFromMerged(merged, this.config, findings, throughput, now);
    m.baseline = this.view.baselineInfo;
    const decode = this.decodeInfo;
    if (decode) m.decode = decode;
    this.last = m;
    this.keeper.save();
    this.emit('metrics', m);
    for (const e of this.checker.evaluate(m, findings, (d) => this.view.samples(d, 5))) this.events.raise(e);
    return m;
  }

  /** The last merged summary (for the group mode and tests). */
  get merged(): MergedSummary | null {
    return this.lastMerged;
  }

  /** The latest metrics (empty ones before the first check). */
  snapshot(): MetricsEvent {
    return this.last ?? metricsFromMerged({ ...mergeSummaries([]), pipeline: this.name }, this.config, undefined, 0, Date.now());
  }

  /** Recent flagged records across the threads, newest first (positions name their partitions). */
  samples(detector?: DetectorName | null, limit = 20): SampleRecord[] {
    return (this.lastMerged?.samples ?? [])
      .filter((s) => !detector || s.detector === detector)
      .slice(0, limit)
      .map((s) => ({ record: s.record, detector: s.detector, reason: s.reason, text: '', time: s.time, ...(s.position !== undefined ? { position: s.position } : {}) }));
  }

  /** Stops reading in every thread (what a thread has read waits); no checks until resume(). */
  pause(): void {
    if (this.paused || (this._state !== 'running' && this._state !== 'reconnecting')) return;
    this.paused = true;
    this.toThreads({ type: 'pause' });
    this.setState('paused', 'paused');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.toThreads({ type: 'resume' });
    this.setState('running', `reading ${this.described}`);
  }

  /** "This is normal" on the merged view (server/engine/baselineKeeper.ts); the threads' engines follow. */
  acceptNormal(detector: DetectorName | null, field: string | null): BaselineChange {
    return this.keeper.accept(detector, field);
  }

  /** Forgets the merged baseline and the threads' own: the next merged window is learnt afresh. */
  resetBaseline(): BaselineChange {
    return this.keeper.reset();
  }

  /** Undoes the last acceptNormal() or resetBaseline(). */
  undoBaseline(): BaselineChange {
    return this.keeper.undoLast();
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.paused = false;
    await this.probe?.close().catch(() => undefined);
    this.poke();
  }


  private setState(state: PipelineState, message: string): void {
    if (state === this._state && message === this._message) return;
    this._state = state;
    this._message = message;
    this.emit('status', { type: 'status', pipeline: this.name, time: Date.now(), state, message });
  }

  private emit<K extends keyof Listeners>(type: K, event: Parameters<Listeners[K]>[0]): void {
    this.events.emit(type, event);
  }
}
