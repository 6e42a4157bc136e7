/**
 * The names a group of agents goes by (`--group`, `--summaries-topic`, `--agent-id`) and their defaults, apart
 * from the group's machinery so that parsing the command line loads no Kafka client.
 */
import os from 'node:os';
import { describeKafkaError } from '../sources/kafka/errors';
import { SourceError } from '../sources/types';

export const DEFAULT_SUMMARIES_TOPIC = 'clean.summaries';
/** Kafka's default minimum is 6 s (group.min.session.timeout.ms); 10 s notices a dead agent soon without false alarms. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10_000;

/** Agent ids travel in record keys and messages: letters, digits and `._:-` only. */
export const AGENT_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** The default agent id: host name and process id (unique per running agent), in the characters ids allow. */
export function defaultAgentId(): string {
  return `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 100);
}

/** What makes a group, topic or agent name usable, or the message that says what to write instead. */
export function checkGroupNames(o: { name: string; summariesTopic: string; agentId: string }): string | null {
  if (!/^[A-Za-z0-9._-]{1,100}$/.test(o.name)) return `--group takes a name of letters, digits, ".", "_" and "-" (got "${o.name.slice(0, 40)}")`;
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(o.summariesTopic)) return `--summaries-topic takes a Kafka topic name of letters, digits, ".", "_" and "-" (got "${o.summariesTopic.slice(0, 40)}")`;
  if (!AGENT_ID.test(o.agentId)) return `--agent-id takes letters, digits, ".", "_", ":" and "-" (got "${o.agentId.slice(0, 40)}")`;
  return null;
}

/**
 * A Kafka failure on a group's summaries topic, said the way the group's agents and the editor's observer both say
 * it: which group, which topic, then what Kafka's failure means and what to do (describeKafkaError).
 */
export function summariesTopicFailure(group: string, topic: string, brokers: unknown, err: unknown): { error: SourceError; retriable: boolean } {
  const failure = describeKafkaError(err, { brokers: Array.isArray(brokers) ? brokers.join(',') : '', topic });
  return { error: new SourceError(`group "${group}", summaries topic "${topic}": ${failure.message}`, failure.code), retriable: failure.retriable };
}
