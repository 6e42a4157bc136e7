/**
 * Group mode (`clean-agent run --group <name>`, server/scale/group.ts): the source joins the consumer group
 * `clean-group-<name>` shared by the agents of the group (never an application's; nothing is ever committed), so
 * Kafka spreads the topic's partitions over them and moves them when an agent joins, leaves or dies.
 *
 * Outside group mode a rebalance of the monitor's private group is a fault (kafkajs would restart every
 * partition from the beginning: nothing is committed), and the source reconnects. In group mode it is the
 * point: at each assignment every partition is paused before kafkajs fetches, the ones this member keeps go on
 * from where it fetched them, and the new ones start where the group member (the agent) says, which is where
 * the group's merged view last recorded them, else at the topic's end; then they resume.
 */
import type { Consumer } from 'kafkajs';
import type { SourceSpec } from '../types';

/** What the agent of a group tells a Kafka source, and hears from it. Lives in `SourceSpec.options.group`. */
export interface KafkaGroupMember {
  /** The group's name: the source's consumer group is `clean-group-<name>`. */
  readonly name: string;
  /** Kafka's session timeout for the group: a member silent this long is taken as dead and its partitions move. */
  readonly sessionTimeoutMs: number;
  /** The source connected with these client settings (the group's summaries topic lives on the same cluster). */
  connected(client: object): Promise<void>;
  /** Where the group last read these partitions (offsets), where known; the source starts the others at its `from`. */
  knownPositions(topic: string, partitions: number[]): Promise<Map<number, number>>;
  /** The partitions newly assigned with the offset each starts at, and those taken away. */
  assigned(starts: Array<[partition: number, offset: number]>, revoked: number[]): void;
}

/** The heartbeat a session timeout allows: Kafka wants at least three per session. */
export function heartbeatFor(sessionTimeoutMs: number): number {
  return Math.max(500, Math.min(3000, Math.floor(sessionTimeoutMs / 3)));
}

/** The group member a spec names, or null outside group mode. */
export function groupMemberOf(spec: SourceSpec): KafkaGroupMember | null {
  const g = spec.options?.group as Partial<KafkaGroupMember> | undefined;
  return g && typeof g === 'object' && typeof g.name === 'string' && typeof g.knownPositions === 'function' ? (g as KafkaGroupMember) : null;
}

/** The consumer group of a group's agents. */
export function groupConsumerId(name: string): string {
  return `clean-group-${name}`;
}

/** How the fetch loop hears about assignments: the offsets each new partition starts at. */
export interface AssignmentSink {
  assigned(fresh: number[], revoked: number[]): Promise<Array<[partition: number, offset: string]>>;
  joined(): void;
  crashed(error: unknown): void;
}

/**
 * Follows the group's assignments on a kafkajs consumer (fetch loop side). Returns `fetched`, which the
 * loop calls with each batch's next offset, so that a partition kept through a rebalance goes on from there.
 */
export function followAssignments(consumer: Consumer, topic: string, sink: AssignmentSink, stopped: () => boolean): { fetched(partition: number, next: string): void } {
  const fetched = new Map<number, string>();
  let owned = new Set<number>();
  let round = 0;
  let joined = false;
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    if (stopped()) return;
    const now = event.payload.memberAssignment[topic] ?? [];
    // Synchronously, before kafkajs fetches anything from the positions it would pick (none committed: the beginning).
    if (now.length) consumer.pause([{ topic, partitions: now }]);
    const retained = now.filter((p) => owned.has(p) && fetched.has(p));
    const fresh = now.filter((p) => !retained.includes(p));
    const revoked = [...owned].filter((p) => !now.includes(p));
    for (const p of revoked) fetched.delete(p);
    owned = new Set(now);
    for (const p of retained) consumer.seek({ topic, partition: p, offset: fetched.get(p)! });
    if (retained.length) consumer.resume([{ topic, partitions: retained }]);
    const mine = ++round;
    sink.assigned(fresh, revoked).then(
      (starts) => {
        if (mine !== round || stopped()) return;
        for (const [p, offset] of starts) {
          consumer.seek({ topic, partition: p, offset });
          fetched.set(p, offset);
        }
        if (fresh.length) consumer.resume([{ topic, partitions: fresh }]);
        if (!joined) {
          joined = true;
          sink.joined();
        }
      },
      (err: unknown) => sink.crashed(err),
    );
  });
  return { fetched: (p, next) => void fetched.set(p, next) };
}
