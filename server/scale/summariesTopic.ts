/**
 * The summaries topic of a group (`clean.summaries` by default), through kafkajs:
 * - SummaryPublisher writes each agent's records with acks=all, the newest per key replacing one not yet sent;
 * - SummaryFeed reads every partition from the beginning (the topic is compacted: each key's latest record is
 *   what matters), as a passive observer of its own (a random consumer group, nothing committed), and can wait
 *   until it has read all that was in the topic at a given moment;
 * - SummaryOwnership joins the consumer group `clean-summaries-<group>` on the same topic, reads nothing (its
 *   partitions stay paused), and says whether this agent owns partition 0: the one that raises the group's alerts.
 *   Kafka moves partition 0 to another agent when its owner dies, within the session timeout.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, KafkaConfig, Producer } from 'kafkajs';
import type { Logger } from '../sources/types';
import { parseGroupRecord, type GroupRecord } from './groupRecords';
import { heartbeatFor } from '../sources/kafka/group';

/** Creating the topic: one partition (one owner), compacted and kept a week (positions survive a restart of the group). */
export const SUMMARIES_TOPIC_CONFIG = [
  { name: 'cleanup.policy', value: 'compact,delete' },
  { name: 'retention.ms', value: String(7 * 24 * 3600 * 1000) },
];

export type KafkaClientConfig = Omit<KafkaConfig, 'logCreator' | 'logLevel'>;

function client(config: KafkaClientConfig, log: Logger, clientId: string): Kafka {
  return new Kafka({ ...config, clientId, logLevel: logLevel.WARN, logCreator: () => (entry) => log.debug(`kafkajs ${entry.namespace}: ${(entry.log as { message?: string }).message ?? ''}`) });
}

/** Creates the summaries topic when it is missing (several agents may race to: the loser finds it made). */
export async function ensureSummariesTopic(admin: Admin, topic: string, log: Logger): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  const made = await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: SUMMARIES_TOPIC_CONFIG }], waitForLeaders: true });
  if (made) log.info(`created the summaries topic "${topic}" (1 partition, compacted, kept 7 days)`);
}

export class SummaryPublisher {
  private readonly producer: Producer;
  private readonly pending = new Map<string, string>();
  private sending: Promise<void> | null = null;
  private failures = 0;

  constructor(config: KafkaClientConfig, private readonly topic: string, private readonly log: Logger) {
    this.producer = client(config, log, 'clean-streams-summaries').producer({ allowAutoTopicCreation: false });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  /** Queues a record; the newest per key wins over one not yet sent. Resolves when what was queued is written (or failed, logged). */
  publish(key: string, record: GroupRecord): Promise<void> {
    this.pending.set(key, JSON.stringify(record));
    return (this.sending ??= this.drain().finally(() => (this.sending = null)));
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0) {
      const messages = [...this.pending].map(([key, value]) => ({ key, value }));
      this.pending.clear();
      try {
        await this.producer.send({ topic: this.topic, acks: -1, messages });
        if (this.failures > 0) this.log.info(`writing to the summaries topic "${this.topic}" works again`);
        this.failures = 0;
      } catch (err) {
        // The next check writes a newer summary: one lost write costs freshness, never correctness (summaries are cumulative).
        if (this.failures++ === 0) this.log.warn(`cannot write to the summaries topic "${this.topic}" (${err instanceof Error ? err.message : String(err)}); trying again at the next check`);
      }
    }
  }

  async close(): Promise<void> {
    await this.sending;
    await this.producer.disconnect().catch(() => undefined);
  }
}

export class SummaryFeed {
  private readonly kafka: Kafka;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  /** partition -> offset after the last record read. */
  private readonly read = new Map<number, number>();
  private readonly waiters = new Set<() => void>();
  /** Records refused (not JSON, another version…), with the last reason: counted and logged once, never fatal. */
  refused = 0;

  constructor(config: KafkaClientConfig, private readonly topic: string, private readonly log: Logger, private readonly onRecord: (r: GroupRecord) => void) {
    this.kafka = client(config, log, 'clean-streams-summaries');
    this.consumer = this.kafka.consumer({ groupId: `clean-monitor-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 250 });
    this.admin = this.kafka.admin();
  }

  async start(): Promise<void> {
    await Promise.all([this.admin.connect(), this.consumer.connect()]);
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const r = parseGroupRecord(m.value);
          if ('problem' in r) {
            if (this.refused++ === 0 || this.refused % 1000 === 0) this.log.warn(`the summaries topic "${this.topic}" holds ${r.problem} (partition ${batch.partition}, offset ${m.offset}); skipped (${this.refused} so far)`);
          } else {
            try {
              this.onRecord(r);
            } catch (err) {
              this.log.error(`a summary record could not be taken in: ${err instanceof Error ? err.message : String(err)}`);
            }
          }
        }
        const next = Number(batch.lastOffset()) + 1;
        if (next > (this.read.get(batch.partition) ?? 0)) this.read.set(batch.partition, next);
        for (const w of this.waiters) w();
      },
    });
  }

  /**
   * Resolves true once everything in the topic now has been read, false after `timeoutMs` (the caller goes on
   * with what it has: a partition then starts where the view says, and a gap that follows is reported).
   */
  async caughtUp(timeoutMs: number): Promise<boolean> {
    let ends: Array<{ partition: number; high: string; low: string }>;
    try {
      ends = await this.admin.fetchTopicOffsets(this.topic);
    } catch (err) {
      this.log.warn(`cannot read the end of the summaries topic "${this.topic}" (${err instanceof Error ? err.message : String(err)})`);
      return false;
    }
    const done = () => ends.every((e) => Number(e.high) <= Number(e.low) || (this.read.get(e.partition) ?? 0) >= Number(e.high));
    if (done()) return true;
    return new Promise<boolean>((resolve) => {
      const check = () => {
        if (!done()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(ok);
      };
      this.waiters.add(check);
    });
  }

  /** The current low and high offsets of a topic's partitions (for the source topic's start positions). */
  topicOffsets(topic: string): Promise<Array<{ partition: number; low: string; high: string }>> {
    return this.admin.fetchTopicOffsets(topic);
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w();
    await Promise.all([this.consumer.disconnect().catch(() => undefined), this.admin.disconnect().catch(() => undefined)]);
  }
}

export class SummaryOwnership {
  private readonly consumer: Consumer;
  private owner = false;

  constructor(
    config: KafkaClientConfig,
    private readonly topic: string,
    readonly groupId: string,
    sessionTimeoutMs: number,
    private readonly log: Logger,
    private readonly onChange: (owner: boolean) => void,
  ) {
    this.consumer = client(config, log, 'clean-streams-owner').consumer({ groupId, sessionTimeout: sessionTimeoutMs, heartbeatInterval: heartbeatFor(sessionTimeoutMs), maxWaitTimeInMs: 250 });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      const mine = e.payload.memberAssignment[this.topic] ?? [];
      // Membership is all this consumer is for: it never fetches (nothing read, nothing committed).
      this.consumer.pause([{ topic: this.topic }]);
      const owner = mine.includes(0);
      if (owner !== this.owner) {
        this.owner = owner;
        this.log.info(owner ? `this agent now raises the group's alerts (it owns partition 0 of "${this.topic}")` : `another agent of the group now raises its alerts`);
        this.onChange(owner);
      }
    });
  }

  get isOwner(): boolean {
    return this.owner;
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: false });
    await this.consumer.run({ autoCommit: false, eachBatch: async () => undefined });
  }

  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
}
