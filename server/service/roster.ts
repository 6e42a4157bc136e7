/**
 * The pipelines a headless `clean-agent run` keeps, by name: started together, swapped one by one by a
 * reload (reload.ts), stopped together by a signal. Each pipeline's memory is reserved in the budget before
 * it starts; a set that does not fit starts nothing (at start, exit 2; at a reload, the reload is refused).
 */
import { MemoryBudget } from '../engine/budget';
import { resolvePipelineConfig, type PipelineConfig } from '../engine/config';
import { nameTooLong } from '../engine/names';
import type { RealtimePipeline } from '../engine/pipeline';
import { UsageError } from '../sources/url';
import { identityOf, planReload, type PlannedPipeline, type ReloadPlan } from './reload';

export interface RosterHooks {
  /** Builds the pipeline with the CLI's options (log, secrets, state, limit). */
  create(planned: PlannedPipeline, config: PipelineConfig): RealtimePipeline;
  /** Just before it runs: wire its events (terminal view, NDJSON, sinks, metrics). */
  starting(pipeline: RealtimePipeline, planned: PlannedPipeline): void;
  /** A reload stopped it: `removed` from the config, or about to be replaced (`restarting`). */
  stopped?(name: string, removed: boolean): void;
  /** Its run ended in a failure (a fatal source error); it stays in the roster, in `error`. */
  failed?(pipeline: RealtimePipeline, error: unknown): void;
}

interface Entry {
  planned: PlannedPipeline;
  identity: string;
  pipeline: RealtimePipeline;
  /** Settles when the run ends (never rejects: a failure is kept in `failure`). */
  run: Promise<void>;
  failure?: { error: unknown };
}

export class PipelineRoster {
  private readonly entries = new Map<string, Entry>();
  /** Entries built by prepare() that have not run yet. */
  private prepared: Entry[] = [];

  constructor(
    private readonly budget: MemoryBudget,
    private readonly hooks: RosterHooks,
  ) {}

  get pipelines(): RealtimePipeline[] {
    return [...this.entries.values()].map((e) => e.pipeline);
  }

  get(name: string): RealtimePipeline | undefined {
    return this.entries.get(name)?.pipeline;
  }

  /** Each running pipeline's identity (reload.ts identityOf), by name. */
  identities(): Map<string, string> {
    return new Map([...this.entries].map(([name, e]) => [name, e.identity]));
  }

  /**
   * Checks and reserves every pipeline first, then builds them all; throws (UsageError, ConfigError,
   * BudgetError) before any is built. run() starts them.
   */
  prepare(planned: readonly PlannedPipeline[]): RealtimePipeline[] {
    const configs = planned.map((p) => {
      const config = configure(p);
      this.budget.reserve(p.name, p.name, config);
      return config;
    });
    this.prepared = planned.map((p, i) => this.build(p, configs[i]));
    return this.prepared.map((e) => e.pipeline);
  }

  /** Runs what prepare() built. */
  run(): void {
    for (const e of this.prepared) this.launch(e);
    this.prepared = [];
  }

  /**
   * Applies a newly read config: unchanged pipelines go on, changed ones restart, removed ones stop, added ones
   * start. Throws, changing nothing, when a new pipeline is not valid or the new set does not fit the budget.
   */
  async apply(next: readonly PlannedPipeline[]): Promise<ReloadPlan> {
    const plan = planReload(this.identities(), next);
    // Everything checked before anything stops: a bad reload leaves the running pipelines as they were.
    const configs = new Map<string, PipelineConfig>();
    for (const p of [...plan.restart, ...plan.start]) configs.set(p.name, configure(p));
    const trial = new MemoryBudget(this.budget.maxMemoryMB, '--max-memory');
    for (const p of next) trial.reserve(p.name, p.name, configs.get(p.name) ?? this.entries.get(p.name)!.pipeline.config);

    await Promise.all([...plan.stop.map((name) => this.remove(name, true)), ...plan.restart.map((p) => this.remove(p.name, false))]);
    for (const p of [...plan.restart, ...plan.start]) {
      const config = configs.get(p.name)!;
      this.budget.reserve(p.name, p.name, config);
      this.launch(this.build(p, config));
    }
    return plan;
  }

  /** Stops every pipeline and waits for their runs to end (each saves its baseline as it ends). */
  async stopAll(): Promise<void> {
    const entries = [...this.entries.values()];
    await Promise.all(entries.map((e) => e.pipeline.stop()));
    await Promise.all(entries.map((e) => e.run));
  }

  /** Resolves once no pipeline runs (those a reload starts meanwhile are waited for too). */
  async idle(): Promise<void> {
    for (;;) {
      const runs = [...this.entries.values()].map((e) => e.run);
      await Promise.all(runs);
      if ([...this.entries.values()].every((e) => runs.includes(e.run))) return;
    }
  }

  /** The pipelines whose run failed, with the error, in the config's order. */
  failures(): Array<{ name: string; error: unknown }> {
    return [...this.entries.values()].flatMap((e) => (e.failure ? [{ name: e.planned.name, error: e.failure.error }] : []));
  }

  private build(planned: PlannedPipeline, config: PipelineConfig): Entry {
    const pipeline = this.hooks.create(planned, config);
    return { planned, identity: identityOf(planned), pipeline, run: Promise.resolve() };
  }

  private launch(e: Entry): void {
    this.entries.set(e.planned.name, e);
    this.hooks.starting(e.pipeline, e.planned);
    e.run = e.pipeline.run().then(
      () => undefined,
      (error) => {
        e.failure = { error };
        this.hooks.failed?.(e.pipeline, error);
      },
    );
  }

  private async remove(name: string, removed: boolean): Promise<void> {
    const e = this.entries.get(name);
    if (!e) return;
    await e.pipeline.stop();
    await e.run;
    this.entries.delete(name);
    this.budget.release(name);
    this.hooks.stopped?.(name, removed);
  }
}

/** A pipeline's engine config, after the checks a config file's parse does not make (the secret name's length). */
function configure(p: PlannedPipeline): PipelineConfig {
  const tooLong = nameTooLong('Secret name', p.spec.auth?.secret);
  if (tooLong) throw new UsageError(tooLong);
  return resolvePipelineConfig(p.settings);
}
