/**
 * Which offsets of which partitions an agent of a group has read, and, across the group, which offsets nobody
 * read (a gap) or two agents read (an overlap). Kafka moves partitions between the agents of a group (a new agent,
 * one that died); the merged view must say when that left records unread, never drop them silently.
 *
 * An agent holds, per partition, ranges [from, next): `from` is where it started reading when the partition was
 * assigned to it (not the first offset it found: transaction markers and compaction leave offsets without
 * records), `next` the offset after the last record its engine has processed. A range can be empty: an agent
 * announces where it starts before it has read anything, so a partition that moves on before the first record
 * is still accounted for.
 */
import type { SourceMessage } from '../sources/types';

/** Offsets [from, next) of one partition read by one agent. */
export interface Range {
  from: number;
  next: number;
}

/** The ranges of each partition, by partition number (as text, the JSON key). */
export type Coverage = Record<string, Array<[from: number, next: number]>>;

/** A Kafka position as the source writes it, `<partition>@<offset>`; null for anything else. */
export function kafkaPosition(position: SourceMessage['position']): [partition: number, offset: number] | null {
  if (typeof position !== 'string') return null;
  const at = position.indexOf('@');
  if (at <= 0) return null;
  const partition = Number(position.slice(0, at));
  const offset = Number(position.slice(at + 1));
  return Number.isInteger(partition) && Number.isInteger(offset) && offset >= 0 ? [partition, offset] : null;
}

/**
 * One agent's coverage of one pipeline's topic. A batch is noted as the source hands it over and counts as read
 * once the engine has processed it: entirely when the pipeline asks for the next batch (`processed()`), or in part
 * when a check falls in the middle of it (`settle(engine.seen)`), so the ranges in a summary cover exactly the
 * records its counts cover. No per-record work, and no batch kept beyond the one in the engine: a batch is one
 * partition's records in offset order, so its last processed record says how far it got.
 */
export class CoverageTracker {
  private readonly ranges = new Map<number, Range[]>();
  /** The batch the engine is working on, and the records handed over up to its end. */
  private pending: readonly SourceMessage[] | null = null;
  private handed = 0;

  /** The partition was assigned to this agent, which reads it from `from` on. */
  assigned(partition: number, from: number): void {
    const list = this.ranges.get(partition);
    const last = list?.[list.length - 1];
    if (last && last.next === from) return; // a rebalance that kept the partition here: the same range goes on
    if (list) list.push({ from, next: from });
    else this.ranges.set(partition, [{ from, next: from }]);
  }

  /** The source handed over a batch (before the engine works on it). */
  handOver(messages: readonly SourceMessage[]): void {
    this.processed();
    if (messages.length === 0) return;
    this.handed += messages.length;
    this.pending = messages;
  }

  /** The engine is done with the batch it was given (the pipeline asks for the next one). */
  processed(): void {
    const b = this.pending;
    if (b === null) return;
    this.pending = null;
    const p = kafkaPosition(b[b.length - 1].position);
    if (p) this.note(p[0], p[1]);
  }

  /** The engine has processed `processed` records in all (QualityEngine.seen): advance the ranges that far. */
  settle(processed: number): void {
    const b = this.pending;
    if (b === null) return;
    const done = Math.min(b.length, processed - (this.handed - b.length));
    if (done <= 0) return;
    if (done === b.length) return this.processed();
    const p = kafkaPosition(b[done - 1].position);
    if (p) this.note(p[0], p[1]);
  }

  /** A new engine (the pipeline restarted) counts from `seen`: the batch in hand is dropped, the ranges stay. */
  rebase(seen: number): void {
    this.pending = null;
    this.handed = seen;
  }

  private note(partition: number, offset: number): void {
    let list = this.ranges.get(partition);
    if (!list) this.ranges.set(partition, (list = [{ from: offset, next: offset }]));
    const last = list[list.length - 1];
    if (offset + 1 > last.next) last.next = offset + 1;
  }

  /** Where this agent would go on reading a partition (the end of its latest range), if it ever held it. */
  next(partition: number): number | undefined {
    const list = this.ranges.get(partition);
    return list?.[list.length - 1].next;
  }

  toJSON(): Coverage {
    const out: Coverage = {};
    for (const [p, list] of [...this.ranges].sort((a, b) => a[0] - b[0])) out[p] = list.map((r) => [r.from, r.next]);
    return out;
  }
}

/** A range of one partition with the agent that read it. */
export interface HeldRange extends Range {
  partition: number;
  agent: string;
}

/** Offsets [from, to] (inclusive) of a partition that no agent read, or that two read. */
export interface CoverageIssue {
  kind: 'gap' | 'overlap';
  partition: number;
  from: number;
  to: number;
  /** gap: the agent that read up to `from` and the one that started after `to`; overlap: the two that both read it. */
  agents: [string, string];
  message: string;
}

/**
 * Gaps and overlaps across the group: per partition, the ranges in order of their start; an offset between the
 * furthest end so far and the next start is a gap, one before it an overlap. Offsets before the first range
 * and after the last are not issues (nobody watched the topic then, or nobody has read that far yet).
 */
export function coverageIssues(ranges: readonly HeldRange[]): CoverageIssue[] {
  const byPartition = new Map<number, HeldRange[]>();
  for (const r of ranges) {
    const list = byPartition.get(r.partition);
    if (list) list.push(r);
    else byPartition.set(r.partition, [r]);
  }
  const out: CoverageIssue[] = [];
  for (const [partition, list] of [...byPartition].sort((a, b) => a[0] - b[0])) {
    list.sort((a, b) => a.from - b.from || a.next - b.next);
    let end = list[0].next;
    let holder = list[0].agent;
    for (let i = 1; i < list.length; i++) {
      const r = list[i];
      if (r.from > end) {
        out.push({
          kind: 'gap',
          partition,
          from: end,
          to: r.from - 1,
          agents: [holder, r.agent],
          message: `partition ${partition}: offsets ${end}–${r.from - 1} were not read (agent ${holder} stopped at ${end}, agent ${r.agent} started at ${r.from})`,
        });
      } else if (r.from < end && r.next > r.from) {
        const to = Math.min(end, r.next) - 1;
        out.push({
          kind: 'overlap',
          partition,
          from: r.from,
          to,
          agents: [holder, r.agent],
          message: `partition ${partition}: offsets ${r.from}–${to} were read twice (${holder === r.agent ? `agent ${holder}` : `agents ${holder} and ${r.agent}`}); the merged counts hold them twice`,
        });
      }
      if (r.next >= end) {
        end = r.next;
        holder = r.agent;
      }
    }
  }
  return out;
}
