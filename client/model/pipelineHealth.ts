/**
 * Whether a pipeline's numbers are live, and what is wrong when they are not: one reading shared by the tree, the status
 * bar, the chart header and the "cannot reach" notice, so that none of them shows old numbers as live.
 */
import type { PipelineInfo, PipelineState } from '../../shared/protocol';

/** A running pipeline whose last check is older than this shows its numbers as stale (checks come every second or so). */
export const STALE_AFTER_MS = 15_000;

/**
 * What a row, the status bar and the chart say about a pipeline, besides its numbers:
 * `live` (running, checks arriving), `waiting`/`connecting` (no numbers yet), `paused`, `down` (reconnecting or
 * failed), `stale` (running, but no check for STALE_AFTER_MS), `agent-stopped` (the agent gave up: nothing is live).
 */
export type PipelineCondition = 'live' | 'connecting' | 'waiting' | 'paused' | 'down' | 'stale' | 'agent-stopped' | 'stopped';

export function conditionOf(state: PipelineState, stale: boolean, agentStopped: boolean): PipelineCondition {
  if (agentStopped) return 'agent-stopped';
  switch (state) {
    case 'running':
      return stale ? 'stale' : 'live';
    case 'reconnecting':
    case 'error':
      return 'down';
    case 'paused':
      return 'paused';
    case 'stopped':
      return 'stopped';
    case 'connecting':
      return 'connecting';
    default:
      // `waiting` (the topic does not exist yet), and any state a newer agent adds: not live, not down.
      return 'waiting';
  }
}

/** Network error codes in agent messages, as a person says them. */
const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ETIMEDOUT: 'timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EPIPE: 'connection closed',
};

function reasonText(code: string): string {
  return REASONS[code] ?? code;
}

/** Longest problem text a row's description carries; the tooltip has the agent's whole message. */
export const PROBLEM_MAX_CHARS = 80;

/**
 * The short reason a pipeline is not live, from the agent's status message: "cannot reach 127.0.0.1:9092 (connection
 * refused)" for "Cannot reach Kafka at 127.0.0.1:9092 (ECONNREFUSED). Is the broker running? Retrying in 1 s.", else the
 * message's first sentence. Undefined for a live, paused or stopped pipeline, or one with no message.
 */
export function problemOf(info: Pick<PipelineInfo, 'state' | 'message'>): string | undefined {
  if (info.state !== 'reconnecting' && info.state !== 'error' && info.state !== 'connecting' && info.state !== 'waiting') return undefined;
  const message = info.message.trim();
  if (!message) return undefined;
  const reach = /\b(?:Cannot reach|Lost) (?:(?:Kafka|Redis|Pulsar) )?at (\S+?) \(([^)]+)\)/i.exec(message);
  if (reach) return `${/^Lost/i.test(reach[0]) ? 'lost' : 'cannot reach'} ${reach[1]} (${reasonText(reach[2]!)})`;
  const resolve = /Cannot resolve the (?:Kafka )?host in (\S+) \((\w+)\)/i.exec(message);
  if (resolve) return `cannot resolve ${resolve[1]} (${reasonText(resolve[2]!)})`;
  // A connecting pipeline's message is progress ("connecting to …"), not a problem.
  if (info.state === 'connecting') return undefined;
  const first = /^.*?[.!?](?=\s|$)/s.exec(message)?.[0] ?? message;
  const line = first.replace(/\s+/g, ' ').replace(/\.$/, '');
  return line.length > PROBLEM_MAX_CHARS ? `${line.slice(0, PROBLEM_MAX_CHARS - 1).replace(/\s+\S*$/, '')}…` : line;
}

/** True when the agent says it cannot reach (or resolve, or lost) the pipeline's broker: the "wrong address" case. */
export function isUnreachable(info: Pick<PipelineInfo, 'state' | 'message'>): boolean {
  if (info.state !== 'reconnecting' && info.state !== 'error') return false;
  return /\b(?:Cannot reach|Lost) (?:(?:Kafka|Redis|Pulsar) )?at \S+ \(|Cannot resolve the (?:Kafka )?host in /i.test(info.message);
}

/**
 * The one notice about a pipeline that cannot reach its broker: the reason, and what the user can do. A source
 * that retries is `reconnecting`; one that gave up (a Redis source that cannot connect at start) is `error`.
 */
export function unreachableNotice(name: string, problem: string, state: PipelineInfo['state']): string {
  const next = state === 'error' ? 'It has stopped; edit the address to start it again, or stop the pipeline.' : 'It keeps retrying; edit the address or stop the pipeline.';
  return `Clean Streams · ${name}: ${problem}. ${next}`;
}

/**
 * What the chart header says about a pipeline that is not live ("reconnecting: cannot reach 127.0.0.1:9092 (connection
 * refused)", "stale: no check since 12:03:04", "agent stopped at 12:03:04: last numbers, not live"); undefined when live.
 */
export function chartStatusOf(
  entry: { info: Pick<PipelineInfo, 'state' | 'message'>; stale?: boolean; metrics?: { time: number } },
  agentStoppedAt: number | undefined,
  clock: (time: number) => string,
): string | undefined {
  const condition = conditionOf(entry.info.state, entry.stale === true, agentStoppedAt !== undefined);
  switch (condition) {
    case 'live':
      return undefined;
    case 'agent-stopped':
      return `agent stopped at ${clock(agentStoppedAt!)}: last numbers, not live`;
    case 'stale':
      return entry.metrics ? `stale: no check since ${clock(entry.metrics.time)}` : 'stale';
    default: {
      const problem = problemOf(entry.info);
      return problem ? `${entry.info.state}: ${problem}` : entry.info.state;
    }
  }
}
