/**
 * The merged view of a group (`clean-agent run --group <name>`): every agent reads the summaries topic and keeps
 * the latest summary of each agent, merges them at each check (server/scale/merge.ts) and judges the merge, so
 * every agent (and the extension, through that agent's metrics events) shows the same topic-wide metrics.
 *
 * Alerts, exactly once across the group: every agent runs the alert checker on the merged view, so its state
 * follows the group's whatever agent it runs in, but only the owner of partition 0 of the summaries topic
 * announces. It writes each announcement to an alert ledger on the topic; a new owner (the old one left or
 * died) first waits `graceMs` for the old owner's ledger to arrive, then announces what the ledger lacks (an
 * alert that crossed while nobody owned the topic) and never what it holds (an alert already raised).
 *
 * Coverage: every summary says which offsets it covers; the view reports offsets nobody read (a gap: an agent
 * died and its partitions moved on from a later position, or retention removed them first) and offsets read
 * twice (an overlap: a partition moved before the new owner saw the old one's last summary), once each, after
 * they have stood for `graceMs` (a summary on its way may still close them).
 *
 * No Kafka here: the agent side (server/scale/group.ts) feeds it records and ownership.
 */
import type { PipelineConfig } from '../engine/config';
import type { AlertEvent, MetricsEvent, RecoveredEvent, Severity } from '../engine/events';
import { AlertChecker } from '../engine/alerts';
import { MergedView, mergeSummaries, metricsFromMerged } from './merge';
import { coverageIssues, type CoverageIssue, type HeldRange } from './coverage';
import type { AgentSummaryRecord, AlertLedgerRecord, GroupRecord, LedgerEntry } from './groupRecords';
import { GROUP_RECORD_VERSION } from './groupRecords';

export interface GroupViewOptions {
  group: string;
  pipeline: string;
  config: PipelineConfig;
  /** This agent's id. */
  agent: string;
  /** An agent with no summary for this long has left: its window leaves the merge (its record count stays). */
  staleMs: number;
  /** How long a gap or overlap must stand, and a new owner waits for the ledger, before either is acted on. */
  graceMs: number;
  /** When this view started: agents gone before then (an earlier run of the group) lend positions, not counts. */
  startedAt?: number;
}

/** What one check of the merged view gives: the metrics (null before any summary), announcements and coverage news. */
export interface GroupCheck {
  metrics: MetricsEvent | null;
  /** Alerts and recoveries this agent announces (empty unless it owns partition 0 of the summaries topic). */
  announced: Array<AlertEvent | RecoveredEvent>;
  /** Gaps and overlaps found standing for graceMs, each reported once. */
  issues: CoverageIssue[];
  /** The alert ledger to write to the topic: when this check changed it, and now and then while it holds entries (to keep it fresh). */
  ledger: AlertLedgerRecord | null;
}

/** Per partition, who read which offsets: [from, next, agent]. */
export type GroupCoverage = Record<string, Array<[from: number, next: number, agent: string]>>;

const SEVERITY_RANK: Record<Severity, number> = { warning: 1, critical: 2 };

export class GroupMergedView {
  private readonly latest = new Map<string, AgentSummaryRecord>();
  private ledger: Record<string, LedgerEntry> = {};
  private readonly judge: MergedView;
  private readonly checker: AlertChecker;
  private owner = false;
  private ownerSince = 0;
  /** The latest alert or recovery per metric not yet announced (not the owner, or within the grace after becoming it). */
  private readonly unannounced = new Map<string, AlertEvent | RecoveredEvent>();
  private readonly issueSeen = new Map<string, number>();
  private readonly issueReported = new Set<string>();
  private lastTime = 0;
  /** When this agent, as the owner, last wrote the ledger: it rewrites it while it runs, so that it stays fresh. */
  private ledgerWritten = 0;
  private lastRecords = 0;
  private readonly startedAt: number;
  /** Records from the group's summaries that this view refused, with the last reason (counted, never fatal). */
  refused = 0;
  lastProblem = '';

  constructor(private readonly o: GroupViewOptions) {
    this.judge = new MergedView(o.config);
    this.checker = new AlertChecker(o.config);
    this.startedAt = o.startedAt ?? Date.now();
  }

  get isOwner(): boolean {
    return this.owner;
  }

  setOwner(owner: boolean, now = Date.now()): void {
    if (owner && !this.owner) this.ownerSince = now;
    this.owner = owner;
  }

  /**
   * Takes a record of the summaries topic in (others' pipelines and groups are ignored). An alert ledger older
   * than staleMs is from a group that has not run since (its owner rewrites it while it runs): a new episode
   * must alert again, so it is not taken in.
   */
  add(r: GroupRecord, now = Date.now()): void {
    if (r.group !== this.o.group || r.pipeline !== this.o.pipeline) return;
    if (r.kind === 'alerts') {
      if (now - r.time > this.o.staleMs) return;
      for (const [key, e] of Object.entries(r.alerts)) {
        const mine = this.ledger[key];
        if (!mine || e.time >= mine.time) this.ledger[key] = e;
      }
      return;
    }
    // One entry per run of an agent: a restart under the same --agent-id keeps what the earlier run read.
    const run = `${r.agent}@${r.started}`;
    const had = this.latest.get(run);
    if (had && r.seq <= had.seq) return;
    this.latest.set(run, r);
  }

  /** Where the group has read each partition up to (the furthest end of any agent's range). */
  positions(): Map<number, number> {
    const out = new Map<number, number>();
    for (const r of this.latest.values()) {
      for (const [p, list] of Object.entries(r.coverage)) {
        const partition = Number(p);
        for (const [, next] of list) if (next > (out.get(partition) ?? -1)) out.set(partition, next);
      }
    }
    return out;
  }

  /** Who read what, across every agent the topic remembers. */
  coverage(): GroupCoverage {
    const out: GroupCoverage = {};
    for (const r of this.heldRanges().sort((a, b) => a.partition - b.partition || a.from - b.from || a.next - b.next)) {
      (out[r.partition] ??= []).push([r.from, r.next, r.agent]);
    }
    return out;
  }

  /** Agents whose window is in the merge now, and those gone since this view started. */
  members(now = Date.now()): { live: string[]; gone: string[] } {
    const live: string[] = [];
    const gone: string[] = [];
    for (const r of this.latest.values()) {
      if (this.isLive(r, now)) live.push(r.agent);
      else if (r.time >= this.startedAt - this.o.staleMs) gone.push(r.agent);
    }
    const uniq = (xs: string[]) => [...new Set(xs)].sort();
    return { live: uniq(live), gone: uniq(gone).filter((a) => !live.includes(a)) };
  }

  /** The latest summary of each agent run whose window is in the merge now (for samples: the merge keeps none). */
  live(now = Date.now()): AgentSummaryRecord[] {
    return [...this.latest.values()].filter((r) => this.isLive(r, now));
  }

  private isLive(r: AgentSummaryRecord, now: number): boolean {
    return !r.final && now - r.time <= this.o.staleMs;
  }

  private heldRanges(): HeldRange[] {
    const out: HeldRange[] = [];
    for (const r of this.latest.values()) {
      for (const [p, list] of Object.entries(r.coverage)) for (const [from, next] of list) out.push({ partition: Number(p), from, next, agent: r.agent });
    }
    return out;
  }

  /** One check: merge the live agents' summaries, judge, decide what to announce, look for gaps. */
  check(now = Date.now()): GroupCheck {
    const live: AgentSummaryRecord[] = [];
    let retiredRecords = 0;
    let retiredSeen = 0;
    for (const r of this.latest.values()) {
      if (this.isLive(r, now)) live.push(r);
      else if (r.time >= this.startedAt - this.o.staleMs) {
        // An agent gone during this run: its window leaves the merge, the records it read still count.
        retiredRecords += r.summary.records;
        retiredSeen += r.summary.seen;
      }
    }
    const out: GroupCheck = { metrics: null, announced: [], issues: this.issues(now), ledger: null };
    if (live.length === 0) return out;
    live.sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
    const merged = mergeSummaries(live.map((r) => r.summary));
    merged.pipeline = this.o.pipeline;
    merged.records += retiredRecords;
    merged.seen += retiredSeen;
    const elapsed = (now - this.lastTime) / 1000;
    const throughput = this.lastTime > 0 && elapsed > 0 ? Math.max(0, merged.records - this.lastRecords) / elapsed : 0;
    this.lastTime = now;
    this.lastRecords = merged.records;
    this.judge.update(merged);
    const findings = this.judge.judge();
    const m = metricsFromMerged(merged, this.o.config, findings, throughput, now);
    m.baseline = this.judge.baselineInfo;
    out.metrics = m;
    for (const e of this.checker.evaluate(m, findings, (d) => this.judge.samples(d, 5))) this.unannounced.set(e.detector ?? 'score', e);
    if (this.owner && now - this.ownerSince >= this.o.graceMs) {
      let changed = false;
      for (const [key, e] of this.unannounced) {
        const had = this.ledger[key];
        if (e.type === 'alert') {
          if (had && had.state === 'alert' && SEVERITY_RANK[had.severity] >= SEVERITY_RANK[e.severity]) continue; // raised already
        } else if (!had || had.state !== 'alert') continue; // nothing was announced, so nothing recovers
        this.ledger[key] = { state: e.type, severity: e.severity, time: now, agent: this.o.agent };
        out.announced.push(e);
        changed = true;
      }
      this.unannounced.clear();
      if (changed || (Object.keys(this.ledger).length > 0 && now - this.ledgerWritten >= this.o.staleMs / 3)) {
        this.ledgerWritten = now;
        out.ledger = { kind: 'alerts', version: GROUP_RECORD_VERSION, group: this.o.group, agent: this.o.agent, pipeline: this.o.pipeline, time: now, alerts: { ...this.ledger } };
      }
    }
    return out;
  }

  /** Gaps and overlaps standing for graceMs and not reported before. */
  private issues(now: number): CoverageIssue[] {
    const found = coverageIssues(this.heldRanges());
    const out: CoverageIssue[] = [];
    const current = new Set<string>();
    for (const issue of found) {
      const key = `${issue.kind}:${issue.partition}:${issue.from}:${issue.to}`;
      current.add(key);
      if (this.issueReported.has(key)) continue;
      const since = this.issueSeen.get(key);
      if (since === undefined) this.issueSeen.set(key, now);
      else if (now - since >= this.o.graceMs) {
        this.issueReported.add(key);
        out.push(issue);
      }
    }
    for (const key of this.issueSeen.keys()) if (!current.has(key)) this.issueSeen.delete(key);
    return out;
  }
}
