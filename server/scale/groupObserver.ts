/**
 * GroupObserver: the editor's view of a group of agents (`group: <name>` on a Kafka pipeline of clean.yaml). The
 * team's headless agents (`clean-agent run --group <name>`, server/scale/group.ts) read the topic and write their
 * summaries to the summaries topic; the editor's agent only reads that topic, merges the live agents' summaries
 * (GroupMergedView, the same merge and judgement every agent of the group runs) and shows the group's metrics and
 * alerts as if it were one pipeline: it emits the events of a RealtimePipeline (metrics, alert, recovered, status)
 * and has what the agent's PipelineManager uses of one.
 *
 * It is a passive observer of the group, never a member:
 * - it reads no record of the watched topic: its Kafka source is only connected (for the client settings and the
 *   topic's metadata, with the usual waiting, retries and credential messages) and closed, never consumed, so it
 *   joins neither the agents' consumer group `clean-group-<name>` nor `clean-summaries-<name>` (whose partition 0
 *   decides who announces): it never raises the group's alerts to sinks;
 * - it reads the summaries topic through SummaryFeed (a random consumer group of its own, nothing committed) and
 *   never creates it (it waits for an agent of the group to), nor writes a summary or an alert ledger to it.
 *
 * Alerts: its merged view runs the alert checker on the merged metrics as every agent's does, and shows each
 * episode once: it starts from the group's alert ledger as the topic holds it (an alert the group raised before the
 * editor watched is not shown again), then keeps a ledger of its own, never written. The owner and the observer judge
 * the same summaries, so they see the same episodes (within a check of each other). Alerts reach the editor only; the
 * group's owner announces them to the sinks.
 */
import type { DetectorName, PipelineConfig } from '../engine/config';
import type { BaselineInfo, MetricsEvent, SampleRecord } from '../engine/events';
import type { BaselineChange } from '../engine/pipeline';
import type { ManagedPipeline } from '../engine/managedPipeline';
import { secretFromEnv } from '../engine/pipeline';
import { PipelineEvents, type AlertHandler, type Listeners } from '../engine/pipelineEvents';
import type { DecodeInfo } from '../decode';
import { createSource } from '../sources/index';
import { SourceError, silentLogger, type Logger, type PipelineState, type SourceContext, type SourceSpec, type StreamSource } from '../sources/types';
import type { KafkaGroupMember } from '../sources/kafka/group';
import type { CoverageIssue } from './coverage';
import type { GroupRecord } from './groupRecords';
import { DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_SUMMARIES_TOPIC, summariesTopicFailure } from './groupNames';
import { GroupMergedView } from './mergedView';
import type { KafkaClientConfig, SummaryFeed } from './summariesTopic';

/** How long the first check waits for the summaries topic to be read up to its end (the ledger of alerts raised). */
const CATCH_UP_MS = 5000;
/** A missing summaries topic is looked for again after this long, doubling up to the cap. */
const TOPIC_WAIT_START_MS = 1000;
const TOPIC_WAIT_CAP_MS = 10_000;
/** Coverage issues named in the status message, newest last. */
const ISSUES_SHOWN = 3;

export interface GroupObserverOptions {
  /** The group's name (`group:`), and its summaries topic (`summariesTopic:`, default clean.summaries). */
  group: string;
  summariesTopic?: string;
  /** The pipeline's name in the file: the agents' summaries are keyed by it (the id may be `name (2)`). */
  pipeline?: string;
  log?: Logger;
  secret?: (name: string) => Promise<string | undefined>;
  /** Opens the Kafka source whose connection gives the client settings (tests may substitute). */
  createSource?: (spec: SourceSpec, ctx: SourceContext) => Promise<StreamSource>;
}

/** What the observer says of the group, for the pipeline's info (the tree's row). */
export interface GroupObserved {
  name: string;
  summariesTopic: string;
  /** Agents whose summaries are merged now. */
  agents: string[];
}

export class GroupObserver implements ManagedPipeline {
  readonly group: string;
  readonly summariesTopic: string;
  private readonly view: GroupMergedView;
  private readonly events: PipelineEvents;
  private readonly log: Logger;
  private readonly pipelineName: string;
  private readonly checkMs: number;
  private _state: PipelineState = 'stopped';
  private _message = 'not started';
  private readonly described: string;
  /** Fields of the latest merged metrics (the manager sizes the memory budget by it). */
  private fields = 0;
  private stopping = false;
  private paused = false;
  private wake: (() => void) | null = null;
  private source: StreamSource | null = null;
  private feed: SummaryFeed | null = null;
  private timer: NodeJS.Timeout | null = null;
  private last: MetricsEvent | null = null;
  private live: string[] = [];
  private gone: string[] = [];
  private readonly issues: CoverageIssue[] = [];
  /** Set once the topic was read to its end (or CATCH_UP_MS passed): from then on the group's ledger is not taken in. */
  private watching = false;

  constructor(
    readonly name: string,
    private readonly spec: SourceSpec,
    readonly config: PipelineConfig,
    private readonly o: GroupObserverOptions,
  ) {
    this.group = o.group;
    this.summariesTopic = o.summariesTopic ?? DEFAULT_SUMMARIES_TOPIC;
    this.pipelineName = o.pipeline ?? name;
    this.log = o.log ?? silentLogger;
    this.events = new PipelineEvents(name, this.log);
    this.checkMs = 'seconds' in config.checkInterval ? Math.max(100, config.checkInterval.seconds * 1000) : 1000;
    // The agents' session timeout is theirs to set: the default is assumed, so a dead agent may leave this view a little later than theirs.
    this.view = new GroupMergedView({
      group: this.group,
      pipeline: this.pipelineName,
      config,
      agent: `editor-${process.pid}`,
      staleMs: DEFAULT_SESSION_TIMEOUT_MS + 2 * this.checkMs,
      graceMs: Math.max(1000, 2 * this.checkMs),
    });
    this.described = `group "${this.group}" on kafka ${(spec.brokers ?? []).join(',')}/${spec.topic} (summaries in "${this.summariesTopic}")`;
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

  /** Where the merged view's baseline stands (learnt from merged windows, as the group's agents learn theirs). */
  get baselineInfo(): BaselineInfo {
    return this.last?.baseline ?? { state: 'learning', records: 0, needed: this.config.windowSize };
  }

  get fieldCount(): number {
    return this.fields;
  }

  /** No engine thread: the group's agents read the topic. */
  get shardCount(): number {
    return 0;
  }

  /** Summaries carry no payloads, so nothing is decoded here. */
  get decodeInfo(): DecodeInfo | null {
    return null;
  }

  /** The group as observed now: its name, topic and live agents. */
  get observed(): GroupObserved {
    return { name: this.group, summariesTopic: this.summariesTopic, agents: [...this.live] };
  }

  on<K extends keyof Listeners>(type: K, listener: Listeners[K]): () => void {
    return this.events.on(type, listener);
  }

  /** Handlers see every alert and recovery the observer shows (the manager's history; no sink is driven from here). */
  addAlertHandler(handler: AlertHandler): void {
    this.events.addAlertHandler(handler);
  }

  /** Connects, reads the summaries topic and checks the merged view on the pipeline's interval until stop(). */
  async run(): Promise<void> {
    this.stopping = false;
    this.setState('connecting', 'connecting');
    try {
      const client = await this.connect();
      if (this.stopping) return this.ended();
      await this.waitForTopic(client);
      if (this.stopping) return this.ended();
      await this.startFeed(client);
      if (this.stopping) return this.ended();
      // The ledger of alerts the group raised is read first: those are not shown again.
      const caught = await this.feed!.caughtUp(CATCH_UP_MS);
      if (!caught) this.log.warn(`[${this.name}] the summaries topic "${this.summariesTopic}" was not read up to date within ${CATCH_UP_MS / 1000} s; going on with what it has`);
      if (this.stopping) return this.ended();
      this.watching = true;
      this.view.setOwner(true);
      this.check();
      this.timer = setInterval(() => this.check(), this.checkMs);
      await new Promise<void>((resolve) => (this.wake = resolve));
    } catch (err) {
      if (!this.stopping) {
        this.clear();
        await this.closeAll();
        const message = err instanceof Error ? err.message : String(err);
        this.setState('error', message);
        throw err;
      }
    }
    return this.ended();
  }

  private async ended(): Promise<void> {
    this.clear();
    await this.closeAll();
    this.setState('stopped', 'stopped');
  }

  /**
   * The Kafka client settings, from the pipeline's source: connected only (brokers reached, credentials looked up, the
   * topic waited for as any pipeline waits for it), never consumed, then closed. Its `connected` hook hands the settings.
   */
  private async connect(): Promise<KafkaClientConfig> {
    if (this.spec.backend !== 'kafka') throw new SourceError(`group: watches a group of agents reading a Kafka topic; pipeline "${this.pipelineName}" reads ${this.spec.backend}, not Kafka`, 'usage');
    let client: KafkaClientConfig | null = null;
    const member: KafkaGroupMember = {
      name: this.group,
      sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS,
      connected: async (c) => void (client = c as KafkaClientConfig),
      // Never asked: the source is not consumed, so it never joins the group's consumer group.
      knownPositions: async () => new Map(),
      assigned: () => undefined,
    };
    const ctx: SourceContext = {
      log: this.log,
      status: (state, message) => !this.stopping && state !== 'running' && this.setState(state, message),
      secret: this.o.secret ?? secretFromEnv,
      maxMessageBytes: this.config.maxMessageBytes,
    };
    const make = this.o.createSource ?? createSource;
    const src = (this.source = await make({ ...this.spec, options: { ...this.spec.options, group: member } }, ctx));
    try {
      await src.connect();
    } finally {
      this.source = null;
      await src.close().catch(() => undefined);
    }
    if (!client) throw new SourceError(`the Kafka source of pipeline "${this.pipelineName}" did not hand its client settings over`);
    return client;
  }

  /** Waits (state `waiting`) until an agent of the group has made the summaries topic: the observer never creates it. */
  private async waitForTopic(client: KafkaClientConfig): Promise<void> {
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({ ...client, logLevel: logLevel.NOTHING }).admin();
    const brokers = Array.isArray(client.brokers) ? client.brokers.join(',') : '';
    try {
      await admin.connect();
      let backoff = TOPIC_WAIT_START_MS;
      while (!this.stopping && !(await admin.listTopics()).includes(this.summariesTopic)) {
        this.setState('waiting', `group ${this.group} · no summaries topic "${this.summariesTopic}" on Kafka at ${brokers} yet: no agent of the group has started (clean-agent run --group ${this.group})`);
        await this.sleep(backoff);
        backoff = Math.min(backoff * 2, TOPIC_WAIT_CAP_MS);
      }
    } catch (err) {
      throw summariesTopicFailure(this.group, this.summariesTopic, client.brokers, err).error;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async startFeed(client: KafkaClientConfig): Promise<void> {
    const { SummaryFeed } = await import('./summariesTopic');
    const feed = (this.feed = new SummaryFeed(client, this.summariesTopic, this.log, (r) => this.take(r)));
    try {
      await feed.start();
    } catch (err) {
      throw summariesTopicFailure(this.group, this.summariesTopic, client.brokers, err).error;
    }
  }

  /**
   * A record of the summaries topic, into the merged view. The group's alert ledger is taken in until the topic was
   * first read to its end, so that an alert the group raised before the editor watched is not shown again; after
   * that the observer's view keeps its own ledger, so that each episode the merged view goes through while the
   * editor watches is shown once (the owner's ledger, arriving first, would otherwise hide it).
   */
  private take(r: GroupRecord): void {
    if (r.kind === 'alerts' && this.watching) return;
    this.view.add(r);
  }

  /** One check of the merged view: its metrics and alerts under this pipeline's id, and the group's state as the status. */
  check(now = Date.now()): void {
    if (this.stopping || this.paused) return;
    const r = this.view.check(now);
    if (r.metrics) {
      const m: MetricsEvent = { ...r.metrics, pipeline: this.name };
      this.last = m;
      this.fields = Object.keys(m.fields).length;
      this.events.emit('metrics', m);
    }
    // The ledger it would write stays here: only the group's owner writes to the topic.
    for (const e of r.announced) this.events.raise({ ...e, pipeline: this.name });
    for (const issue of r.issues) {
      this.log.warn(`[${this.name}] group "${this.group}": ${issue.message}`);
      this.issues.push(issue);
      if (this.issues.length > ISSUES_SHOWN) this.issues.shift();
    }
    const members = this.view.members(now);
    this.live = members.live;
    this.gone = members.gone;
    this.setState(...this.statusNow());
  }

  /** The status the group's state gives: waiting for a first summary, no agent live, or who is merged and what is missing. */
  private statusNow(): [PipelineState, string] {
    const gaps = this.issues.length ? ` · ${this.issues.map((i) => `${i.kind}: ${i.message}`).join('; ')}` : '';
    if (this.live.length === 0) {
      if (this.last === null && this.gone.length === 0) return ['waiting', `group ${this.group} · no agent has written a summary yet (summaries in "${this.summariesTopic}")`];
      return ['waiting', `group ${this.group} · no agent live${this.gone.length ? ` (gone: ${this.gone.join(', ')})` : ''}${gaps}`];
    }
    const n = this.live.length;
    const gone = this.gone.length ? `; gone: ${this.gone.join(', ')}` : '';
    return ['running', `group ${this.group} · ${n} agent${n === 1 ? '' : 's'} live (${this.live.join(', ')})${gone}${gaps}`];
  }

  /** The latest merged metrics (null before the first check with a live agent). */
  snapshot(): MetricsEvent | null {
    return this.last;
  }

  /**
   * The live agents' latest flagged records, newest first. Summaries carry no payloads (they travel on a shared
   * topic): each names its agent, position and the engine's reason; the record stays with the agent that read it.
   */
  samples(detector?: DetectorName | null, limit = 20): SampleRecord[] {
    const out: SampleRecord[] = [];
    for (const r of this.view.live()) {
      for (const s of r.summary.samples) {
        if (detector && s.detector !== detector) continue;
        const x: SampleRecord = { detector: s.detector, reason: s.reason, record: s.record, time: s.time, text: `(read by agent ${r.agent}: the group's summaries carry no payloads)` };
        if (s.position !== undefined) x.position = s.position;
        out.push(x);
      }
    }
    return out.sort((a, b) => b.time - a.time).slice(0, limit);
  }

  pause(): void {
    if (this.paused || (this._state !== 'running' && this._state !== 'waiting')) return;
    this.paused = true;
    this.setState('paused', 'paused');
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.setState(...this.statusNow());
    this.check();
  }

  /** The merged view's baselines are the group's agents' to learn: the editor does not change them. */
  acceptNormal(): BaselineChange {
    return this.refused();
  }

  resetBaseline(): BaselineChange {
    return this.refused();
  }

  undoBaseline(): BaselineChange {
    return this.refused();
  }

  private refused(): BaselineChange {
    return {
      changed: 0,
      message: `Pipeline "${this.name}" watches group "${this.group}": the group's agents learn its baselines, not the editor. Change them where the agents run (clean-agent baseline accept|reset|undo --state <dir> on each agent, or --reset-baseline).`,
    };
  }

  /** Stops reading the summaries topic; run() then resolves. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.clear();
    await this.source?.close().catch(() => undefined);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async closeAll(): Promise<void> {
    const feed = this.feed;
    this.feed = null;
    await feed?.close().catch(() => undefined);
  }

  /** Sleeps, cut short by stop(). */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    }).then(() => void (this.wake = null));
  }

  private setState(state: PipelineState, message: string): void {
    if (state === this._state && message === this._message) return;
    this._state = state;
    this._message = message;
    this.events.emit('status', { type: 'status', pipeline: this.name, time: Date.now(), state, message });
  }
}
