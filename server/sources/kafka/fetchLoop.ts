/** The fetch loop: kafkajs consumer -> batches. Runs in the worker thread, or on the main thread as a fallback. */
import { AssignerProtocol, Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, KafkaMessage, LogEntry, PartitionAssigner } from 'kafkajs';
import { isUnknownTopic, type ErrorShape } from './errors';
import { followAssignments, heartbeatFor } from './group';

const TOPIC_CREATION_ATTEMPTS = 8;
const HEARTBEAT_WHILE_WAITING_MS = 3000;

/** Everything the fetch loop needs, as plain data so that it can cross into a worker thread. */
export interface FetchPlan {
  client: Omit<KafkaConfig, 'logCreator' | 'logLevel' | 'socketFactory'>;
  topic: string;
  groupId: string;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxWaitMs: number;
  sessionTimeoutMs: number;
  autoCreate: boolean;
  /** Where to start each known partition; others start at their earliest offset. */
  seeks: Array<[partition: number, offset: string]>;
  /** Only these partitions (an engine thread's share, server/scale); absent: all of them. */
  partitions?: number[];
  /** Group mode (group.ts): a rebalance moves partitions instead of being a fault; `FetchSink.assigned` places new ones. */
  group?: boolean;
}

/**
 * The assigner of an engine thread's consumer (server/scale/workers.ts): its group has this one member,
 * which takes exactly the thread's share of the partitions, so the threads of a pipeline split the topic.
 */
export function onlyPartitions(topic: string, partitions: number[]): PartitionAssigner {
  const name = 'CleanStreamsShare';
  return () => ({
    name,
    version: 1,
    async assign({ members }) {
      return members.map((m, i) => ({
        memberId: m.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? { [topic]: partitions } : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}

export interface FetchSink {
  /** Resolves when the batch was taken (or dropped because the loop is stopping). */
  batch(partition: number, messages: KafkaMessage[]): Promise<void>;
  joined(): void;
  crashed(error: unknown): void;
  log(line: string): void;
  /** Group mode: where newly assigned partitions start (offsets), once the source has asked the group. */
  assigned?(fresh: number[], revoked: number[]): Promise<Array<[partition: number, offset: string]>>;
}

export function kafkajsLine(entry: LogEntry): string {
  const log = entry.log as { message?: string; broker?: string; error?: string };
  return `kafkajs ${entry.namespace}: ${log.message ?? ''}${log.broker ? ` (${log.broker})` : ''}${log.error ? `: ${log.error}` : ''}`;
}

/** Subscribes; a broker that auto-creates topics answers "unknown topic" while it creates one, so ask again briefly. */
export async function subscribe(consumer: ReturnType<Kafka['consumer']>, plan: FetchPlan): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      // fromBeginning covers partitions the monitor has no position for yet (ones added after it started).
      await consumer.subscribe({ topics: [plan.topic], fromBeginning: true });
      return;
    } catch (err) {
      if (!plan.autoCreate || attempt >= TOPIC_CREATION_ATTEMPTS || !isUnknownTopic(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** True when the promise settles within ms; the timer never outlives the wait. */
function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** A consumer in the monitor's own group, autoCommit off, positioned by seeks; returns the function that stops it. */
export async function startFetchLoop(plan: FetchPlan, sink: FetchSink): Promise<() => Promise<void>> {
  const kafka = new Kafka({ ...plan.client, logLevel: logLevel.WARN, logCreator: () => (entry) => sink.log(kafkajsLine(entry)) });
  const consumer = kafka.consumer({
    groupId: plan.groupId,
    maxBytes: plan.maxBytes,
    maxBytesPerPartition: plan.maxBytesPerPartition,
    maxWaitTimeInMs: plan.maxWaitMs,
    sessionTimeout: plan.sessionTimeoutMs,
    ...(plan.group ? { heartbeatInterval: heartbeatFor(plan.sessionTimeoutMs) } : {}),
    allowAutoTopicCreation: plan.autoCreate,
    ...(plan.partitions ? { partitionAssigners: [onlyPartitions(plan.topic, plan.partitions)] } : {}),
    // The source reconnects itself (fresh group, seek to its own positions); kafkajs must not restart behind it.
    retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000, restartOnFailure: async () => false },
  });
  let stopped = false;
  consumer.on(consumer.events.CRASH, (event) => void (stopped || sink.crashed(event.payload.error)));
  let joins = 0;
  // Group mode (group.ts) follows the group's assignments; otherwise a rebalance of the monitor's own group is a fault.
  const group = plan.group
    ? followAssignments(consumer, plan.topic, { assigned: (fresh, revoked) => sink.assigned!(fresh, revoked), joined: () => sink.joined(), crashed: (e) => sink.crashed(e) }, () => stopped)
    : null;
  if (!group) consumer.on(consumer.events.GROUP_JOIN, () => {
    if (stopped) return;
    // A rejoin would start from kafkajs' idea of the position (nothing committed: the beginning); the source restarts at its own instead.
    if (++joins === 1) sink.joined();
    else sink.crashed({ name: 'KafkaJSRebalance', message: "the monitor's consumer group was rebalanced", retriable: true } satisfies ErrorShape);
  });
  const stop = async (): Promise<void> => {
    stopped = true;
    await consumer.disconnect().catch(() => undefined);
  };
  try {
    await consumer.connect();
    await subscribe(consumer, plan);
    const running = consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale, heartbeat }) => {
        if (stopped || batch.messages.length === 0 || isStale()) return;
        group?.fetched(batch.partition, String(Number(batch.messages[batch.messages.length - 1].offset) + 1));
        const taken = sink.batch(batch.partition, batch.messages);
        // While the engine is busy or paused, keep the group membership alive (else the group rebalances).
        while (!stopped && !(await settlesWithin(taken, HEARTBEAT_WHILE_WAITING_MS))) await heartbeat().catch(() => undefined);
      },
    });
    // seek() works once run() has set the group up (synchronously); kafkajs applies it before the first fetch.
    for (const [partition, offset] of plan.seeks) consumer.seek({ topic: plan.topic, partition, offset });
    await running;
  } catch (err) {
    await stop();
    throw err;
  }
  return stop;
}
