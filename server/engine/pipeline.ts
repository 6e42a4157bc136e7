/**
 * RealtimePipeline: one source through the quality engine, checked on a timer or every N records,
 * with alerts, status and events for the CLI and the agent.
 */
import type { DetectorName, PipelineConfig } from './config';
import type { BaselineInfo, MetricsEvent, SampleRecord } from './events';
import type { ManagedPipeline } from './managedPipeline';
import { QualityEngine } from './quality';
import { BaselineKeeper } from './baselineKeeper';
import { AlertChecker } from './alerts';
import { PipelineEvents, type AlertHandler, type Listeners } from './pipelineEvents';
import type { BaselineStore } from './baselineStore';
import type { Logger, PipelineState, SourceContext, StreamSource } from '../sources/types';
import { silentLogger } from '../sources/types';
import { createDecodeStage, type DecodeInfo, type DecodeSettings, type DecodeStage } from '../decode';

export type SourceFactory = (ctx: SourceContext) => StreamSource | Promise<StreamSource>;
export type { AlertHandler } from './pipelineEvents';

export interface PipelineOptions {
  log?: Logger;
  /** Looks a secret up by name. Headless default: the environment variable CLEAN_SECRET_<NAME>. */
  secret?: (name: string) => Promise<string | undefined>;
  /** Stop after this many records, then emit the final metrics and `end`. */
  limit?: number;
  /** In record-count mode, a stream quiet this long still gets its pending check (0 turns it off). */
  idleFlushMs?: number;
  /**
   * Where the learned baseline is kept (`--state <dir>`, the extension's storage): restored at the start,
   * so a restarted monitor resumes without relearning or re-alerting, and saved as it learns and at the end.
   */
  baseline?: BaselineStore;
  /** Start from a fresh baseline: forget the saved one (kept for undo). */
  resetBaseline?: boolean;
  /**
   * What a pipeline over its checkBudgetMs does: `pause` (the agent: the user can resume it) or `fail`
   * (headless, where nobody can: it ends in `error` with the figures).
   */
  overBudget?: 'pause' | 'fail';
  /**
   * How records are decoded (server/decode): format, registry, schema files. Without it: the config's
   * `format` (auto by default) with no schema source.
   */
  decode?: DecodeSettings;
}

/** A busy pipeline lets the event loop run (other pipelines, editor requests, signals) at least this often. */
const YIELD_EVERY_MS = 2;
/** Records are timed in slices of about this many milliseconds (the slice length adapts to the record cost). */
const SLICE_MS = 2;
const MAX_STRIDE = 1024;
/** The budget is judged over at least this many records and this much work (one slow slice is not a verdict)… */
const JUDGE_RECORDS = 1000;
const JUDGE_MIN_MS = 20;
/** …or after this much work, however few records it covered. */
const JUDGE_MS = 250;
/** A message larger than this counts as one record per this many bytes against the budget (the scan is linear in bytes). */
const BUDGET_BYTES = 8192;

/** What a baseline change did, for the user. */
export interface BaselineChange {
  /** Metrics whose baseline changed. */
  changed: number;
  message: string;
}


/** The headless secret lookup: CLEAN_SECRET_<NAME>, the name upper-cased with other characters as `_`. */
export function secretFromEnv(name: string): Promise<string | undefined> {
  const key = 'CLEAN_SECRET_' + name.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  return Promise.resolve(process.env[key]);
}

export class RealtimePipeline implements ManagedPipeline {
  readonly engine: QualityEngine;
  private readonly checker: AlertChecker;
  private readonly events: PipelineEvents;
  private readonly log: Logger;
  private source: StreamSource | null = null;
  /** The decode stage of the current run (between the source's batches and the engine). */
  private stage: DecodeStage | null = null;
  /** The source already closed in this run: stop() and run() may both reach closeSource(). */
  private closedSource: StreamSource | null = null;
  private _state: PipelineState = 'stopped';
  private _message = 'not started';
  private stopping = false;
  private paused = false;
  private resumeWaiter: (() => void) | null = null;
  private lastCheckTime = 0;
  private lastCheckRecords = 0;
  private lastRecordTime = 0;
  private timer: NodeJS.Timeout | null = null;
  private last: MetricsEvent | null = null;
  /** The learned baseline kept in options.baseline (loads, saves, accept, reset, undo). */
  private readonly keeper: BaselineKeeper;
  /** Records per timed slice, and the work timed since the budget was last judged. */
  private stride = 64;
  private busyMs = 0;
  /** The process's CPU time when the current judging period began (see spend()). */
  private periodCpu = process.cpuUsage();
  private busyRecords = 0;
  private yieldedAt = 0;

  constructor(
    readonly name: string,
    private readonly sourceOrFactory: StreamSource | SourceFactory,
    readonly config: PipelineConfig,
    private readonly options: PipelineOptions = {},
  ) {
    this.engine = new QualityEngine(config);
    this.checker = new AlertChecker(config);
    this.log = options.log ?? silentLogger;
    this.events = new PipelineEvents(name, this.log);
    this.keeper = new BaselineKeeper(name, this.engine, options.baseline, this.log);
  }

  get state(): PipelineState {
    return this._state;
  }

  get message(): string {
    return this._message;
  }

  /** What the records decode as (format, writer schema); null before that is known, and for plain JSON. */
  get decodeInfo(): DecodeInfo | null {
    return this.stage?.info ?? null;
  }

  get description(): string {
    return this.source?.description ?? this.name;
  }

  /** What the manager reads of any pipeline (ManagedPipeline): the baseline, the fields tracked, one thread. */
  get baselineInfo(): BaselineInfo {
    return this.engine.baselineInfo;
  }

  get fieldCount(): number {
    return this.engine.fieldStates.length;
  }

  get shardCount(): number {
    return 1;
  }

  on<K extends keyof Listeners>(type: K, listener: Listeners[K]): () => void {
    return this.events.on(type, listener);
  }

  /** Handlers see every alert and recovery; one that throws or rejects is logged and the others go on. */
  addAlertHandler(handler: AlertHandler): void {
    this.events.addAlertHandler(handler);
  }

  /** Connects, consumes until the source ends, `limit` is reached or stop() is called. Rejects on a fatal source error. */
  async run(): Promise<void> {
    this.stopping = false;
    this.closedSource = null;
    // The saved baseline first: the first status already says whether the pipeline resumes ready or learns.
    this.keeper.load(this.options.resetBaseline);
    this.setState('connecting', 'connecting');
    const ctx: SourceContext = {
      log: this.log,
      status: (state, message) => {
        if (!this.stopping && !(this.paused && state === 'running')) this.setState(state, message);
      },
      secret: this.options.secret ?? secretFromEnv,
      maxMessageBytes: this.config.maxMessageBytes,
    };
    const limit = this.options.limit ?? Infinity;
    const ci = this.config.checkInterval;
    const everyRecords = 'records' in ci ? ci.records : 0;
    const everyMs = 'seconds' in ci ? ci.seconds * 1000 : 0;
    const idleMs = this.options.idleFlushMs ?? 1000;
    const engine = this.engine;
    let ended = false;
    try {
      const src = (this.source = typeof this.sourceOrFactory === 'function' ? await this.sourceOrFactory(ctx) : this.sourceOrFactory);
      const stage = (this.stage = createDecodeStage(this.options.decode ?? { format: this.config.format ?? 'auto' }, ctx));
      await src.connect();
      if (this.stopping) {
        // Stopped while connecting: it ends as stopped, like any other stop (not left "connecting").
        await this.closeSource();
        this.setState('stopped', 'stopped');
        return;
      }
      // A source connected to a missing topic (Redis: a stream not yet created) says `waiting`; it reports running itself.
      if (this._state !== 'waiting') this.setState('running', `reading ${src.description}`);
      this.lastCheckTime = this.lastRecordTime = Date.now();
      this.yieldedAt = performance.now();
      this.lastCheckRecords = engine.records;
      this.timer = setInterval(() => this.onTimer(everyMs, idleMs), everyMs > 0 ? Math.min(everyMs, 250) : Math.max(50, Math.min(idleMs, 250)));
      outer: for await (const raw of src.consume()) {
        if (this.stopping) break;
        if (this.paused) await new Promise<void>((r) => (this.resumeWaiter = r));
        if (this.stopping) break;
        // Synchronous unless a schema must be fetched first.
        const decoded = stage.decodeBatch(raw);
        const batch = Array.isArray(decoded) ? decoded : await decoded;
        if (this.stopping) break;
        const now = Date.now();
        engine.now = now;
        this.lastRecordTime = now;
        // A batch is worked in timed slices: between them the pipeline yields to the event loop (other
        // pipelines, editor requests, signals), and their cost is held against checkBudgetMs.
        for (let i = 0; i < batch.length; ) {
          const from = i;
          const end = Math.min(batch.length, i + this.stride);
          let large = 0;
          const t0 = performance.now();
          for (; i < end; i++) {
            const v = batch[i].value as { length?: number } | null;
            if (v !== null && (v.length as number) > BUDGET_BYTES) large += (v.length as number) / BUDGET_BYTES - 1;
            engine.process(batch[i]);
            if (everyRecords !== 0 && engine.records - this.lastCheckRecords >= everyRecords) this.check();
            if (engine.records >= limit) break outer;
          }
          const t1 = performance.now();
          this.spend(t1 - t0, end - from + large);
          if (this.paused) await new Promise<void>((r) => (this.resumeWaiter = r));
          else if (t1 - this.yieldedAt >= YIELD_EVERY_MS) await this.yieldToOthers();
          if (this.stopping) break outer;
        }
        if (everyMs !== 0 && now - this.lastCheckTime >= everyMs) this.check();
      }
      if (!this.stopping) {
        // Records a finite source ended on while the stage was still telling what they are.
        for (const m of stage.flush()) {
          engine.process(m);
          if (engine.records >= limit) break;
        }
      }
      ended = !this.stopping;
    } catch (err) {
      if (!this.stopping) {
        const message = err instanceof Error ? err.message : String(err);
        this.setState('error', message);
        this.clearTimer();
        await this.closeSource();
        throw err;
      }
    } finally {
      this.clearTimer();
      this.stage?.close();
    }
    await this.closeSource();
    if (ended && (engine.records !== this.lastCheckRecords || this.last === null)) this.check();
    this.keeper.save(true);
    if (ended) {
      this.emit('end', { type: 'end', pipeline: this.name, records: engine.records });
      this.setState('stopped', engine.records >= limit ? `stopped after ${engine.records} records (limit)` : `end of source after ${engine.records} records`);
    } else {
      this.setState('stopped', 'stopped');
    }
  }

  /**
   * Counts a timed slice of `records` (large messages weighing more, see BUDGET_BYTES) against
   * checkBudgetMs; a pipeline over it is paused with the figures (or fails, headless).
   */
  private spend(ms: number, records: number): void {
    if (ms > SLICE_MS && this.stride > 1) this.stride >>= 1;
    else if (ms < SLICE_MS / 4 && this.stride < MAX_STRIDE) this.stride <<= 1;
    this.busyMs += ms;
    this.busyRecords += records;
    if (!(this.busyMs >= JUDGE_MS || (this.busyRecords >= JUDGE_RECORDS && this.busyMs >= JUDGE_MIN_MS))) return;
    // The slices' wall time, but never more than the CPU the whole process used meanwhile: a process the machine
    // did not run for a while (a loaded host, a stopped VM) spent no work on its records, and is not paused for it.
    // Either measure is at least the slices' real cost, so a pipeline truly over its budget is still caught.
    const cpu = process.cpuUsage(this.periodCpu);
    this.periodCpu = process.cpuUsage();
    const spent = Math.min(this.busyMs, (cpu.user + cpu.system) / 1000);
    const per100 = (spent * 100) / this.busyRecords;
    this.busyMs = this.busyRecords = 0;
    const budget = this.config.checkBudgetMs;
    if (per100 <= budget || this.paused || this.stopping) return;
    const figures = `its checks took ${roundMs(per100)} ms for 100 records (budget ${budget} ms per 100)`;
    if (this.options.overBudget === 'fail') throw new Error(`${figures}; check its rules or its window, or raise checkBudgetMs`);
    const message = `paused: ${figures}; check its rules or its window, then resume it`;
    this.log.warn(`[${this.name}] ${message}`);
    this.paused = true;
    this.setState('paused', message);
  }

  private async yieldToOthers(): Promise<void> {
    await new Promise<void>((r) => setImmediate(r));
    this.yieldedAt = performance.now();
  }

  private onTimer(everyMs: number, idleMs: number): void {
    if (this.paused || this._state !== 'running' && this._state !== 'reconnecting') return;
    const now = Date.now();
    if (everyMs > 0) {
      // Also when the stream is quiet: a check is due on time, whether or not records arrive.
      if (now - this.lastCheckTime >= everyMs) this.check();
    } else if (idleMs > 0 && this.engine.records !== this.lastCheckRecords && now - this.lastRecordTime >= idleMs) {
      this.check();
    }
  }

  /**
   * "This is normal": the current level of `detector` (all when null) on `field` (all when null) becomes
   * the baseline; the metric stops alerting. Undo with undoBaseline().
   */
  acceptNormal(detector: DetectorName | null, field: string | null): BaselineChange {
    return this.keeper.accept(detector, field);
  }

  /** Forgets the learned baseline: the next window is learnt afresh. Undo with undoBaseline(). */
  resetBaseline(): BaselineChange {
    return this.keeper.reset();
  }

  /** Undoes the last acceptNormal() or resetBaseline(). */
  undoBaseline(): BaselineChange {
    return this.keeper.undoLast();
  }

  /** Runs the checker now: emits metrics, then any alerts or recoveries. */
  check(): MetricsEvent {
    const now = Date.now();
    const engine = this.engine;
    const elapsed = (now - this.lastCheckTime) / 1000;
    const throughput = elapsed > 0 ? (engine.records - this.lastCheckRecords) / elapsed : 0;
    this.lastCheckTime = now;
    this.lastCheckRecords = engine.records;
    const findings = engine.judge();
    const m = engine.metrics(this.name, now, throughput, findings);
    const decode = this.stage?.info;
    if (decode) m.decode = decode;
    this.last = m;
    this.keeper.save();
    this.emit('metrics', m);
    for (const e of this.checker.evaluate(m, findings, (d) => engine.recentSamples(d, 5))) this.events.raise(e);
    return m;
  }

  /** The latest metrics (a fresh snapshot when no check ran yet). */
  snapshot(): MetricsEvent {
    return this.last ?? this.engine.metrics(this.name, Date.now(), 0);
  }

  samples(detector?: DetectorName | null, limit = 20): SampleRecord[] {
    return this.engine.samplesOf(detector ?? null, limit);
  }

  pause(): void {
    if (this.paused || (this._state !== 'running' && this._state !== 'reconnecting')) return;
    this.paused = true;
    this.setState('paused', 'paused');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.busyMs = this.busyRecords = 0;
    this.periodCpu = process.cpuUsage();
    this.setState('running', `reading ${this.description}`);
    const w = this.resumeWaiter;
    this.resumeWaiter = null;
    w?.();
  }

  /** Stops consuming and closes the source; run() then resolves. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const w = this.resumeWaiter;
    this.resumeWaiter = null;
    this.paused = false;
    w?.();
    this.clearTimer();
    await this.closeSource();
  }

  private async closeSource(): Promise<void> {
    const src = this.source;
    if (!src || src === this.closedSource) return;
    this.closedSource = src;
    try {
      await src.close();
    } catch (err) {
      this.log.warn(`[${this.name}] closing ${src.description}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }


  private setState(state: PipelineState, message: string): void {
    if (state === this._state && message === this._message) return;
    this._state = state;
    this._message = message;
    const decode = this.stage?.info;
    this.emit('status', { type: 'status', pipeline: this.name, time: Date.now(), state, message, ...(decode ? { decode } : {}) });
  }

  private emit<K extends keyof Listeners>(type: K, event: Parameters<Listeners[K]>[0]): void {
    this.events.emit(type, event);
  }
}

/** A measured duration for a message: whole milliseconds from 10 up, two significant digits below. */
function roundMs(ms: number): string {
  return ms >= 10 ? String(Math.round(ms)) : String(Number(ms.toPrecision(2)));
}
