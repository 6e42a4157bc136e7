/**
 * The agent side of a group, `clean-agent run --group <name>`: several agents on several machines share a
 * topic's partitions through Kafka's consumer-group protocol, not through a coordinator of our own.
 *
 * - Each Kafka pipeline's source joins the consumer group `clean-group-<name>` (server/sources/kafka/group.ts;
 *   never the application's group; nothing is committed). Kafka assigns the partitions and moves them.
 * - A partition assigned to this agent starts where the group's merged view last recorded it (the furthest
 *   offset any agent's summary covers), else at the pipeline's start position (latest by default).
 * - At every check of a pipeline this agent writes its summary (server/scale/summary.ts, with the offsets it
 *   covers) to the summaries topic (`clean.summaries`) with acks=all, keyed by pipeline and agent; also right
 *   after an assignment (so the group knows where it started) and as it stops (marked final).
 * - Every agent reads the summaries topic and shows the merged view (server/scale/mergedView.ts); only the
 *   owner of partition 0 of the summaries topic (consumer group `clean-summaries-<name>`) raises alerts.
 * - An agent that dies is noticed within the session timeout (`--session-timeout`, default 10 s): Kafka moves
 *   its partitions to the others, which start where its last summary ended, and the merged view reports any
 *   offsets that no agent read.
 */
import type { PipelineConfig } from '../engine/config';
import type { AlertEvent, MetricsEvent, RecoveredEvent } from '../engine/events';
import { RealtimePipeline, type PipelineOptions } from '../engine/pipeline';
import { silentLogger, type Logger, type SourceMessage, type SourceSpec, type StreamSource } from '../sources/types';
import { createSource } from '../sources/index';
import { UsageError } from '../sources/url';
import type { KafkaGroupMember } from '../sources/kafka/group';
import { summariesTopicFailure } from './groupNames';
import { CoverageTracker, type Coverage, type CoverageIssue } from './coverage';
import { summarize, type PositionSpan } from './summary';
import { GROUP_RECORD_VERSION, ledgerKey, summaryKey, type AgentSummaryRecord } from './groupRecords';
import { GroupMergedView, type GroupCoverage } from './mergedView';
import { SummaryFeed, SummaryOwnership, SummaryPublisher, ensureSummariesTopic, type KafkaClientConfig } from './summariesTopic';

/** The final summary of a stopping agent gets this long before its source leaves the group anyway. */
const FINAL_SUMMARY_MS = 2000;
/** How long a new assignment waits for the summaries topic to be read up to date before it starts anyway. */
const CATCH_UP_MS = 5000;

export { DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_SUMMARIES_TOPIC, checkGroupNames, defaultAgentId } from './groupNames';

export interface GroupOptions {
  name: string;
  summariesTopic: string;
  agentId: string;
  sessionTimeoutMs: number;
  log: Logger;
}

/** Events of the group's merged view beyond the pipeline events: coverage issues and the state of the group. */
export interface CoverageEvent extends Omit<CoverageIssue, 'kind'> {
  type: 'gap' | 'overlap';
  pipeline: string;
  time: number;
}

export interface GroupStateEvent {
  type: 'group';
  pipeline: string;
  time: number;
  group: string;
  agent: string;
  /** Whether this agent raises the group's alerts (owns partition 0 of the summaries topic). */
  owner: boolean;
  /** Agents whose windows are merged now, and those gone since this agent started. */
  live: string[];
  gone: string[];
  /** Per partition, who read which offsets: [from, next, agent]. */
  coverage: GroupCoverage;
}

/** What the CLI listens to for a pipeline of the group: the merged view's events, as a pipeline offers its own. */
export interface MergedEvents {
  on(type: 'metrics', listener: (e: MetricsEvent) => void): unknown;
  on(type: 'alert', listener: (e: AlertEvent) => void): unknown;
  on(type: 'recovered', listener: (e: RecoveredEvent) => void): unknown;
  addAlertHandler(handler: (e: AlertEvent | RecoveredEvent) => void | Promise<void>): void;
}

type Listeners = {
  metrics: (e: MetricsEvent) => void;
  alert: (e: AlertEvent) => void;
  recovered: (e: RecoveredEvent) => void;
  coverage: (e: CoverageEvent) => void;
  group: (e: GroupStateEvent) => void;
};

const noListeners = (): { [K in keyof Listeners]: Array<Listeners[K]> } => ({ metrics: [], alert: [], recovered: [], coverage: [], group: [] });

/** One pipeline of this agent in the group. */
class GroupPipeline {
  readonly tracker = new CoverageTracker();
  /** Who listens to its merged view (the CLI's wiring). */
  listeners = noListeners();
  readonly view: GroupMergedView;
  pipeline: RealtimePipeline | null = null;
  seq = 0;

  constructor(readonly name: string, readonly config: PipelineConfig, group: GroupAgent) {
    const checkMs = 'seconds' in config.checkInterval ? config.checkInterval.seconds * 1000 : 1000;
    this.view = new GroupMergedView({
      group: group.name,
      pipeline: name,
      config,
      agent: group.agentId,
      staleMs: group.sessionTimeoutMs + 2 * checkMs,
      graceMs: Math.max(1000, 2 * checkMs),
      startedAt: group.startedAt,
    });
  }
}

export class GroupAgent {
  readonly name: string;
  readonly agentId: string;
  readonly sessionTimeoutMs: number;
  readonly startedAt = Date.now();
  private readonly topic: string;
  private readonly log: Logger;
  private readonly pipelines = new Map<string, GroupPipeline>();
  private shared: Promise<void> | null = null;
  private publisher: SummaryPublisher | null = null;
  private feed: SummaryFeed | null = null;
  private ownership: SummaryOwnership | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(o: GroupOptions) {
    this.name = o.name;
    this.topic = o.summariesTopic;
    this.agentId = o.agentId;
    this.sessionTimeoutMs = o.sessionTimeoutMs;
    this.log = o.log;
  }

  /**
   * Takes a planned pipeline into the group: its source must be Kafka (a group shares Kafka partitions); the
   * returned spec carries the group member the source talks to. Throws a message for anything else.
   */
  prepare(name: string, spec: SourceSpec, config: PipelineConfig): SourceSpec {
    if (spec.backend !== 'kafka') throw new UsageError(`--group shares a Kafka topic's partitions between agents; pipeline "${name}" reads ${spec.backend}, not Kafka`);
    if ((config.workers ?? 1) > 1) throw new UsageError(`--group and workers go separately for now: pipeline "${name}" has workers: ${config.workers}; run one agent per core instead`);
    // A reload that restarts the pipeline keeps its coverage and view: the group's positions go on.
    const gp = this.pipelines.get(name) ?? new GroupPipeline(name, config, this);
    this.pipelines.set(name, gp);
    const member: KafkaGroupMember = {
      name: this.name,
      sessionTimeoutMs: this.sessionTimeoutMs,
      connected: (client) => this.startShared(client as KafkaClientConfig),
      knownPositions: (_topic, partitions) => this.knownPositions(gp, partitions),
      assigned: (starts, revoked) => this.assigned(gp, starts, revoked),
    };
    return { ...spec, options: { ...spec.options, group: member, sessionTimeoutMs: this.sessionTimeoutMs } };
  }

  /** The pipeline's source, wrapped so that the group knows which records its engine has processed. */
  source(name: string, inner: StreamSource): StreamSource {
    const gp = this.pipelines.get(name);
    if (!gp) return inner;
    return new GroupSource(inner, gp, this);
  }

  /**
   * A pipeline of this agent in the group: its source joins the group (Kafka only), its engine's alert lines stay
   * out of the output (the merged view's are what the group announces).
   */
  pipeline(p: { name: string; spec: SourceSpec }, config: PipelineConfig, options: PipelineOptions): RealtimePipeline {
    const spec = this.prepare(p.name, p.spec, config);
    const log = options.log ?? silentLogger;
    return new RealtimePipeline(p.name, async (ctx) => this.source(p.name, await createSource(spec, ctx)), config, { ...options, log: this.pipelineLog(log) });
  }

  /**
   * Follows a pipeline's checks (each writes this agent's summary to the summaries topic) and returns what to
   * show and alert on instead of the pipeline's own events: the group's merged view of it.
   */
  attach(pipeline: RealtimePipeline): MergedEvents {
    const gp = this.pipelines.get(pipeline.name);
    if (!gp) throw new Error(`pipeline "${pipeline.name}" was not made by the group`);
    // A pipeline restarted by a reload is wired afresh: the old wiring goes.
    gp.listeners = noListeners();
    const events = this.mergedEvents(gp);
    gp.pipeline = pipeline;
    gp.tracker.rebase(pipeline.engine.seen);
    pipeline.on('metrics', () => void this.publish(gp));
    if (this.timer === null) {
      const checkMs = Math.min(...[...this.pipelines.values()].map((p) => ('seconds' in p.config.checkInterval ? p.config.checkInterval.seconds * 1000 : 1000)));
      this.timer = setInterval(() => this.checkAll(), Math.max(100, checkMs));
    }
    return events;
  }

  /** The merged view's events of one pipeline, with the listener API of a pipeline (for the CLI's wiring). */
  private mergedEvents(gp: GroupPipeline): MergedEvents {
    const l = gp.listeners;
    return {
      on: (type: 'metrics' | 'alert' | 'recovered', listener: (e: never) => void) => void (l[type] as Array<(e: never) => void>).push(listener),
      addAlertHandler: (handler) => {
        const safe = (e: AlertEvent | RecoveredEvent) => void Promise.resolve(handler(e)).catch((err: unknown) => this.log.error(`an alert handler failed (the group goes on): ${err instanceof Error ? err.message : String(err)}`));
        l.alert.push(safe);
        l.recovered.push(safe);
      },
    };
  }

  /** The group's coverage news and state for one pipeline (NDJSON output); after attach(). */
  onState(name: string, listener: (e: CoverageEvent | GroupStateEvent) => void): void {
    const l = this.pipelines.get(name)?.listeners;
    l?.coverage.push(listener);
    l?.group.push(listener);
  }

  /**
   * The logger for a pipeline's own engine: in a group its alerts are not announced (the merged view's are),
   * so its lines about them stay out of the output.
   */
  pipelineLog(log: Logger): Logger {
    const local = /^\[[^\]]*\] ((warning|critical) alert|recovered): /;
    return { ...log, info: (m) => (local.test(m) ? log.debug(m) : log.info(m)) };
  }

  private startShared(client: KafkaClientConfig): Promise<void> {
    return (this.shared ??= (async () => {
      const { Kafka, logLevel } = await import('kafkajs');
      const admin = new Kafka({ ...client, logLevel: logLevel.NOTHING }).admin();
      await admin.connect();
      try {
        await ensureSummariesTopic(admin, this.topic, this.log);
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
      this.publisher = new SummaryPublisher(client, this.topic, this.log);
      this.feed = new SummaryFeed(client, this.topic, this.log, (r) => {
        for (const gp of this.pipelines.values()) gp.view.add(r);
      });
      this.ownership = new SummaryOwnership(client, this.topic, `clean-summaries-${this.name}`, this.sessionTimeoutMs, this.log, (owner) => {
        for (const gp of this.pipelines.values()) gp.view.setOwner(owner);
      });
      await Promise.all([this.publisher.connect(), this.feed.start(), this.ownership.start()]);
      this.log.info(`agent ${this.agentId} joined group "${this.name}" (summaries in "${this.topic}", session timeout ${this.sessionTimeoutMs / 1000} s)`);
    })().catch((err: unknown) => {
      this.shared = null;
      // What did start is closed: the next connection of the source starts the group's clients afresh.
      const started = [this.publisher, this.feed, this.ownership];
      this.publisher = this.feed = null;
      this.ownership = null;
      for (const c of started) void c?.close().catch(() => undefined);
      // A broker away is retried by the source; anything else (rights on the summaries topic…) says what to fix.
      const failure = summariesTopicFailure(this.name, this.topic, client.brokers, err);
      if (failure.retriable) throw err;
      throw failure.error;
    }));
  }

  /** Where the group read these partitions up to: this agent's own ranges, or the merged view's, the furthest. */
  private async knownPositions(gp: GroupPipeline, partitions: number[]): Promise<Map<number, number>> {
    await this.shared;
    const caught = (await this.feed?.caughtUp(Math.min(CATCH_UP_MS, this.sessionTimeoutMs / 2))) ?? false;
    if (!caught) this.log.warn(`[${gp.name}] the summaries topic "${this.topic}" was not read up to date within ${Math.min(CATCH_UP_MS, this.sessionTimeoutMs / 2) / 1000} s; new partitions start where the group's summaries read so far say (a gap or overlap that follows is reported)`);
    gp.tracker.settle(gp.pipeline?.engine.seen ?? 0);
    const group = gp.view.positions();
    const out = new Map<number, number>();
    for (const p of partitions) {
      const own = gp.tracker.next(p);
      const theirs = group.get(p);
      const at = Math.max(own ?? -1, theirs ?? -1);
      if (at >= 0) out.set(p, at);
    }
    return out;
  }

  private assigned(gp: GroupPipeline, starts: Array<[number, number]>, revoked: number[]): void {
    for (const [p, from] of starts) gp.tracker.assigned(p, from);
    const list = (xs: number[]) => xs.sort((a, b) => a - b).join(', ');
    const fresh = starts.map(([p, from]) => `${p}@${from}`);
    if (fresh.length || revoked.length) {
      this.log.info(`[${gp.name}] group "${this.name}": ${fresh.length ? `now reading partition${fresh.length > 1 ? 's' : ''} ${fresh.join(', ')} (partition@offset it starts at)` : ''}${fresh.length && revoked.length ? '; ' : ''}${revoked.length ? `partition${revoked.length > 1 ? 's' : ''} ${list(revoked)} moved to another agent` : ''}`);
    }
    // The group learns at once where this agent starts, so a partition that moves on again is still accounted for.
    void this.publish(gp);
  }

  /** Writes this agent's summary of a pipeline (and takes it into its own view at once). */
  publish(gp: GroupPipeline, final = false): Promise<void> {
    try {
      return this.write(gp, final);
    } catch (err) {
      this.log.error(`[${gp.name}] the summary could not be made (the group goes on without it): ${err instanceof Error ? err.message : String(err)}`);
      return Promise.resolve();
    }
  }

  private write(gp: GroupPipeline, final: boolean): Promise<void> {
    const p = gp.pipeline;
    if (!p || !this.publisher) return Promise.resolve();
    const now = Date.now();
    gp.tracker.settle(p.engine.seen);
    const coverage = gp.tracker.toJSON();
    const record: AgentSummaryRecord = {
      kind: 'summary',
      version: GROUP_RECORD_VERSION,
      group: this.name,
      agent: this.agentId,
      pipeline: gp.name,
      seq: ++gp.seq,
      time: now,
      started: this.startedAt,
      coverage,
      summary: summarize(p.engine, this.agentId, spans(coverage), gp.name, now),
    };
    if (final) record.final = true;
    gp.view.add(record);
    return this.publisher.publish(summaryKey(gp.name, this.agentId), record);
  }

  private checkAll(): void {
    if (this.closed) return;
    const now = Date.now();
    for (const gp of this.pipelines.values()) {
      if (!gp.pipeline) continue;
      gp.view.setOwner(this.ownership?.isOwner ?? false, now);
      const r = gp.view.check(now);
      if (r.metrics) this.emit(gp, 'metrics', r.metrics);
      for (const e of r.announced) {
        this.log.info(`[${gp.name}] group "${this.name}": ${e.type === 'alert' ? `${e.severity} alert` : 'recovered'}: ${e.message}`);
        if (e.type === 'alert') this.emit(gp, 'alert', e);
        else this.emit(gp, 'recovered', e);
      }
      for (const issue of r.issues) {
        this.log.warn(`[${gp.name}] group "${this.name}": ${issue.message}`);
        const { kind, ...rest } = issue;
        this.emit(gp, 'coverage', { type: kind, pipeline: gp.name, time: now, ...rest });
      }
      if (r.ledger && this.publisher) void this.publisher.publish(ledgerKey(gp.name), r.ledger);
      const members = gp.view.members(now);
      this.emit(gp, 'group', { type: 'group', pipeline: gp.name, time: now, group: this.name, agent: this.agentId, owner: gp.view.isOwner, live: members.live, gone: members.gone, coverage: gp.view.coverage() });
    }
  }

  /** The final summary of a pipeline whose source is about to leave the group (bounded: a stop never hangs on it). */
  async finalSummary(gp: GroupPipeline): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.publish(gp, true), new Promise<void>((r) => (timer = setTimeout(r, FINAL_SUMMARY_MS)))]);
    clearTimeout(timer);
  }

  /** Stops the merged view and closes the group's Kafka clients (after the pipelines have stopped). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.checkAll();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([this.publisher?.close(), this.feed?.close(), this.ownership?.close()]);
  }

  private emit<K extends keyof Listeners>(gp: GroupPipeline, type: K, event: Parameters<Listeners[K]>[0]): void {
    for (const l of gp.listeners[type] as Array<(e: typeof event) => void>) {
      try {
        l(event);
      } catch (err) {
        this.log.error(`a group ${type} listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** Position spans for the summary from the coverage (offsets; the count is of offsets, records absent compaction). */
function spans(coverage: Coverage): Record<string, PositionSpan> {
  const out: Record<string, PositionSpan> = {};
  for (const [p, list] of Object.entries(coverage)) {
    if (list.length === 0) continue;
    let count = 0;
    for (const [from, next] of list) count += next - from;
    out[p] = { first: String(list[0][0]), last: String(Math.max(list[0][0], list[list.length - 1][1] - 1)), count };
  }
  return out;
}

/** The pipeline's source as the group sees it: batches noted as handed to the engine, a final summary before it leaves. */
class GroupSource implements StreamSource {
  readonly description: string;

  constructor(private readonly inner: StreamSource, private readonly gp: GroupPipeline, private readonly agent: GroupAgent) {
    this.description = `${inner.description} (group "${agent.name}", agent ${agent.agentId})`;
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  async *consume(): AsyncGenerator<SourceMessage[]> {
    for await (const batch of this.inner.consume()) {
      this.gp.tracker.handOver(batch);
      yield batch;
      // The pipeline asks for the next batch once it has processed this one.
      this.gp.tracker.processed();
    }
  }

  async close(): Promise<void> {
    await this.agent.finalSummary(this.gp).catch(() => undefined);
    await this.inner.close();
  }
}
