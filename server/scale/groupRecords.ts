/**
 * What the agents of a group (`clean-agent run --group <name>`) write to the summaries topic (`clean.summaries`):
 * one summary record per agent and pipeline at each check, keyed by pipeline and agent, and the alert ledger,
 * written by the agent that raises the group's alerts, keyed by pipeline. Records are JSON: a person can read the
 * topic with kafka-console-consumer, and a record from another version or another program is refused by
 * `parseGroupRecord` with the reason, never trusted blindly.
 *
 * Summaries are cumulative (an agent's latest record holds all it knows), so the topic can be compacted: the
 * latest record of each key is all a newcomer needs.
 */
import type { Severity } from '../engine/events';
import type { ShardSummary } from './summary';
import { validSummary } from './merge';
import type { Coverage } from './coverage';

export const GROUP_RECORD_VERSION = 1;

/** One agent's summary of one pipeline, at one check. */
export interface AgentSummaryRecord {
  kind: 'summary';
  version: typeof GROUP_RECORD_VERSION;
  group: string;
  agent: string;
  pipeline: string;
  /** Counts up with each record of this agent run: a late duplicate never replaces a newer record. */
  seq: number;
  /** Epoch milliseconds of the check, and of the agent's start. */
  time: number;
  started: number;
  /** Written as the agent stopped cleanly: its window leaves the merged view at once. */
  final?: boolean;
  /** The offsets behind `summary`'s counts, per partition (server/scale/coverage.ts). */
  coverage: Coverage;
  summary: ShardSummary;
}

/** The last alert or recovery the group announced for one watched metric. */
export interface LedgerEntry {
  state: 'alert' | 'recovered';
  severity: Severity;
  time: number;
  agent: string;
}

/** The alerts the group has announced for a pipeline, by metric ("score" or a detector's name). */
export interface AlertLedgerRecord {
  kind: 'alerts';
  version: typeof GROUP_RECORD_VERSION;
  group: string;
  agent: string;
  pipeline: string;
  time: number;
  alerts: Record<string, LedgerEntry>;
}

export type GroupRecord = AgentSummaryRecord | AlertLedgerRecord;

export { AGENT_ID } from './groupNames';
import { AGENT_ID } from './groupNames';

/** The summary record's key: the pipeline and the agent, so that compaction keeps each agent's latest. */
export function summaryKey(pipeline: string, agent: string): string {
  return `${pipeline}|${agent}`;
}

/** The alert ledger's key (`#` never occurs in an agent id). */
export function ledgerKey(pipeline: string): string {
  return `${pipeline}|#alerts`;
}

function isCoverage(x: unknown): x is Coverage {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  for (const [p, list] of Object.entries(x)) {
    if (!/^\d+$/.test(p) || !Array.isArray(list)) return false;
    for (const r of list) {
      if (!Array.isArray(r) || r.length !== 2 || !Number.isSafeInteger(r[0]) || !Number.isSafeInteger(r[1]) || r[0] < 0 || r[1] < r[0]) return false;
    }
  }
  return true;
}

function isLedger(x: unknown): x is Record<string, LedgerEntry> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  for (const e of Object.values(x)) {
    if (typeof e !== 'object' || e === null) return false;
    const v = e as Partial<LedgerEntry>;
    if ((v.state !== 'alert' && v.state !== 'recovered') || (v.severity !== 'warning' && v.severity !== 'critical')) return false;
    if (typeof v.time !== 'number' || typeof v.agent !== 'string') return false;
  }
  return true;
}

/** A record read from the summaries topic, or why it is not one this agent can use. */
export function parseGroupRecord(value: Buffer | null | undefined): GroupRecord | { problem: string } {
  if (value === null || value === undefined || value.length === 0) return { problem: 'an empty record' };
  let x: unknown;
  try {
    x = JSON.parse(value.toString('utf8'));
  } catch {
    return { problem: 'a record that is not JSON' };
  }
  if (typeof x !== 'object' || x === null) return { problem: 'a record that is not a JSON object' };
  const r = x as Partial<AgentSummaryRecord> & Partial<AlertLedgerRecord>;
  if (r.version !== GROUP_RECORD_VERSION) return { problem: `a record of version ${JSON.stringify(r.version ?? null)} (this agent reads version ${GROUP_RECORD_VERSION})` };
  if (typeof r.group !== 'string' || typeof r.pipeline !== 'string' || typeof r.agent !== 'string' || !AGENT_ID.test(r.agent) || typeof r.time !== 'number') {
    return { problem: 'a record without a valid group, pipeline, agent and time' };
  }
  if (r.kind === 'summary') {
    if (typeof r.seq !== 'number' || typeof r.started !== 'number') return { problem: `a summary from agent ${r.agent} without seq or start time` };
    if (!isCoverage(r.coverage)) return { problem: `a summary from agent ${r.agent} with malformed coverage` };
    if (!validSummary(r.summary)) return { problem: `a summary from agent ${r.agent} whose counts do not validate` };
    return r as AgentSummaryRecord;
  }
  if (r.kind === 'alerts') {
    if (!isLedger(r.alerts)) return { problem: `an alert ledger from agent ${r.agent} that does not validate` };
    return r as AlertLedgerRecord;
  }
  return { problem: `a record of unknown kind ${JSON.stringify(r.kind ?? null)}` };
}
