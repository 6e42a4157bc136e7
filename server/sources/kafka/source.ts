/**
 * Kafka as a passive observer, through kafkajs (kept inside this module so another client can replace it).
 *
 * The monitor joins a consumer group of its own, `clean-monitor-<random>`, never an application's, and runs
 * with autoCommit off: it commits no offsets at all, so no group it touches (its own included) ever gets
 * committed positions. It remembers how far it has read in memory (partition -> next offset) and seeks there
 * after a reconnect, so a broker outage loses no record (at least once: a batch being handed over when the
 * broker went away may come again, and the engine's duplicate detector counts it).
 *
 * Fetching and decoding (kafkajs) run in a worker thread when its script is available, so that decoding the
 * next batch overlaps the engine's work on this one; the worker hands over each batch as one transferred
 * buffer. Without the script (or with `fetchThread=false`) the same fetch loop runs on the main thread.
 */
import { InterruptibleSleep } from '../pause';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, SASLOptions } from 'kafkajs';
import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from '../types';
import { SourceError } from '../types';
import { parseBrokerList } from '../brokers';
import { redact } from '../../secrets/redact';
import { missingTopicMessage } from '../missingTopic';
import { BatchQueue } from './batchQueue';
import { kafkaTls, positiveOption, saslMechanism } from './config';
import { describeKafkaError, type KafkaFailure, type KafkaWhere } from './errors';
import { FetchThreadUnavailable, fetcherScript, startLocalFetcher, startThreadFetcher, type FetchEvents, type Fetcher } from './fetcher';
import { kafkajsLine, subscribe, type FetchPlan } from './fetchLoop';
import { groupConsumerId, groupMemberOf, type KafkaGroupMember } from './group';

const BACKOFF_START_MS = 500;
const BACKOFF_CAP_MS = 8000;
/** Records per slice of a fetched batch handed to the engine (FetchedBatch): about 200 KB of records at a time. */
const SLICE = 1024;
/** Polling the metadata for a topic that does not exist yet: soon at first, then every 5 s. */
const TOPIC_WAIT_START_MS = 500;
const TOPIC_WAIT_CAP_MS = 5000;
/** Fetch sizes: large enough that one batch amortises a round trip, small enough to keep memory modest. */
const DEFAULT_MAX_BYTES = 16 << 20;
const DEFAULT_MAX_BYTES_PER_PARTITION = 4 << 20;

export interface KafkaSourceOptions {
  /** Bytes per fetch request over all partitions (default `options.maxBytes` or 16 MiB). */
  maxBytes?: number;
  /** Bytes per partition in one fetch (default `options.maxBytesPerPartition` or 4 MiB). */
  maxBytesPerPartition?: number;
  /** How long the broker holds a fetch open waiting for data (default `options.maxWaitMs` or 500 ms). */
  maxWaitMs?: number;
  /** The consumer group session timeout (default `options.sessionTimeoutMs` or 30 s; brokers allow 6 s at least). */
  sessionTimeoutMs?: number;
  /** Fetch and decode in a worker thread (default `options.fetchThread`, else true when the worker script exists). */
  fetchThread?: boolean;
}

export class KafkaSource implements StreamSource {
  readonly description: string;
  /** The monitor's own consumer group; each (re)connection adds a suffix, so a dead member never delays a rejoin. */
  readonly groupId = `clean-monitor-${randomBytes(6).toString('hex')}`;
  private readonly brokers: string[];
  private readonly topic: string;
  private readonly where: KafkaWhere;
  private readonly maxBytes: number;
  private readonly maxBytesPerPartition: number;
  private readonly maxWaitMs: number;
  private readonly sessionTimeoutMs: number;
  /** Ask the broker to create a missing topic (`autoCreate=true`); off by default, the monitor is a passive observer. */
  private readonly autoCreate: boolean;
  /** The topic did not exist when the monitor started, so everything in it arrived since: read it from the beginning. */
  private appeared = false;
  private fetchThread: boolean;
  private client: FetchPlan['client'] | null = null;
  private admin: Admin | null = null;
  private fetcher: Fetcher | null = null;
  /** partition -> offset of the next record to hand to the engine. */
  private readonly nextOffsets = new Map<number, string>();
  /** Only these partitions (`options.partitions`, an engine thread's share), or null for all. */
  private readonly only: number[] | null;
  /** Group mode (group.ts, `clean-agent run --group`): the agent of a group this source reads for, else null. */
  private readonly member: KafkaGroupMember | null;
  /** Every partition of the topic when the source connected. */
  private allPartitions: number[] = [];
  private readonly queue = new BatchQueue();
  private generation = 0;
  private crash: unknown = null;
  private closed = false;
  /** Backoff waits between retries, cut short by close(). */
  private readonly retryWait = new InterruptibleSleep();
  private secretValue: string | undefined;

  constructor(private readonly spec: SourceSpec, private readonly ctx: SourceContext, opts: KafkaSourceOptions = {}) {
    this.topic = spec.topic;
    if (!spec.brokers?.length) throw new SourceError('Name the Kafka brokers, for example kafka://127.0.0.1:9092/orders.', 'config');
    // Every broker parses, or the source is refused: none is ever dropped, none carries a password.
    const list = parseBrokerList(spec.brokers, 'spec');
    if ('problem' in list) throw new SourceError(list.problem, 'config');
    this.brokers = list.brokers;
    if (!this.topic) throw new SourceError('Name the Kafka topic to watch, for example kafka://127.0.0.1:9092/orders.', 'config');
    const o = spec.options ?? {};
    this.maxBytes = opts.maxBytes ?? positiveOption(o.maxBytes, 'maxBytes', DEFAULT_MAX_BYTES);
    this.maxBytesPerPartition = opts.maxBytesPerPartition ?? positiveOption(o.maxBytesPerPartition, 'maxBytesPerPartition', DEFAULT_MAX_BYTES_PER_PARTITION);
    this.maxWaitMs = opts.maxWaitMs ?? positiveOption(o.maxWaitMs, 'maxWaitMs', 500);
    this.sessionTimeoutMs = opts.sessionTimeoutMs ?? positiveOption(o.sessionTimeoutMs, 'sessionTimeoutMs', 30_000);
    this.autoCreate = o.autoCreate === true || o.autoCreate === 'true';
    this.member = groupMemberOf(spec);
    // An engine thread's share of the partitions (server/scale); anything else: all of them.
    this.only = Array.isArray(o.partitions) && o.partitions.every((p) => Number.isInteger(p) && p >= 0) ? (o.partitions as number[]) : null;
    this.fetchThread = opts.fetchThread ?? o.fetchThread !== false;
    const auth = spec.auth;
    this.where = {
      brokers: this.brokers.join(','),
      topic: this.topic,
      username: auth?.username,
      mechanism: auth ? saslMechanism(auth.mechanism) : undefined,
      secretName: auth?.secret,
    };
    this.description = `kafka ${this.where.brokers}/${this.topic}`;
  }

  /** The topic's partition ids, once connected (server/scale deals them over engine threads). */
  partitionIds(): number[] {
    return [...this.allPartitions];
  }

  /** Whether batches are fetched and decoded on a worker thread (false once it proved unavailable). */
  get threaded(): boolean {
    return this.fetchThread;
  }

  async connect(): Promise<void> {
    this.closed = false;
    this.client = await this.clientConfig();
    const kafka = new Kafka({ ...this.client, logLevel: logLevel.WARN, logCreator: () => (entry) => this.logLine(kafkajsLine(entry)) });
    this.admin = kafka.admin({ retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 } });
    let backoff = BACKOFF_START_MS;
    for (;;) {
      this.ctx.status('connecting', `Connecting to Kafka at ${this.where.brokers}`);
      try {
        await this.admin.connect();
        await this.ensureTopic(kafka);
        await this.resolveStart();
        if (this.member) {
          // Group mode: the group assigns the partitions and says where each starts (placeAssigned).
          this.nextOffsets.clear();
          await this.member.connected(this.client);
        }
        return;
      } catch (err) {
        if (err instanceof SourceError) throw err;
        const failure = describeKafkaError(err, this.where);
        if (!failure.retriable || this.closed) throw new SourceError(failure.message, failure.code);
        backoff = await this.waitBeforeRetry(failure, backoff);
        if (this.closed) throw new SourceError(`Stopped while connecting to Kafka at ${this.where.brokers}.`, 'closed');
      }
    }
  }

  async *consume(): AsyncGenerator<SourceMessage[]> {
    if (!this.client) throw new SourceError('KafkaSource.consume() called before connect()');
    let backoff = BACKOFF_START_MS;
    while (!this.closed) {
      try {
        await this.startFetcher();
      } catch (err) {
        await this.stopFetcher();
        if (this.closed) return;
        const failure = describeKafkaError(err, this.where);
        if (!failure.retriable) throw new SourceError(failure.message, failure.code);
        backoff = await this.waitBeforeRetry(failure, backoff);
        continue;
      }
      for (;;) {
        const item = await this.queue.take();
        if (item === null) break;
        backoff = BACKOFF_START_MS;
        // A slice at a time (see FetchedBatch); the position after a slice is that of the next record, after
        // the last the batch's own (past any offsets the batch skipped).
        const { batch, partition } = item;
        const n = batch.length;
        if (n === 0) this.nextOffsets.set(partition, item.next);
        for (let from = 0; from < n; from += SLICE) {
          const to = Math.min(n, from + SLICE);
          const records = batch.records(from, to);
          this.nextOffsets.set(partition, to === n ? item.next : batch.offsetAt(to));
          yield records;
          if (this.closed) return;
        }
      }
      if (this.closed) return;
      const err = this.crash;
      await this.stopFetcher();
      const failure = describeKafkaError(err, this.where);
      if (!failure.retriable) throw new SourceError(failure.message, failure.code);
      backoff = await this.waitBeforeRetry(failure, backoff);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retryWait.interrupt();
    await this.stopFetcher();
    const admin = this.admin;
    this.admin = null;
    if (admin) await admin.disconnect().catch(() => undefined);
  }

  /** Offsets the monitor would resume from, by partition. */
  positions(): Map<number, string> {
    return new Map(this.nextOffsets);
  }

  private async clientConfig(): Promise<FetchPlan['client']> {
    const config: FetchPlan['client'] = {
      clientId: 'clean-streams-monitor',
      brokers: this.brokers,
      connectionTimeout: 3000,
      requestTimeout: 30000,
      retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 2000 },
    };
    const tls = kafkaTls(this.spec.tls);
    if (tls !== undefined) config.ssl = tls;
    const auth = this.spec.auth;
    if (auth) {
      const mechanism = saslMechanism(auth.mechanism);
      if (!auth.username) {
        throw new SourceError(`Kafka SASL needs a user name: kafka://<user>@${this.where.brokers}/${this.topic}?secret=<name>&mechanism=${mechanism}.`, 'config');
      }
      if (!auth.secret) {
        throw new SourceError(`Kafka SASL for user "${auth.username}" needs a password: name a stored secret with ?secret=<name> (headless: export CLEAN_SECRET_<NAME>=...).`, 'config');
      }
      const password = await this.ctx.secret(auth.secret);
      if (password === undefined) {
        throw new SourceError(
          `The secret "${auth.secret}" for Kafka user "${auth.username}" at ${this.where.brokers} is not set. ` +
            `Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_${auth.secret.toUpperCase().replace(/[^A-Z0-9]/g, '_')} for the CLI.`,
          'auth',
        );
      }
      this.secretValue = password;
      config.sasl = { mechanism, username: auth.username, password } as SASLOptions;
    }
    return config;
  }

  /** kafkajs' own lines go to debug (the source reports outages itself), with the password masked should one ever appear. */
  private logLine(line: string): void {
    this.ctx.log.debug(redact(line, this.secretValue ? [this.secretValue] : []));
  }

  /**
   * The topic must exist: a missing one is waited for (status `waiting`, the metadata polled with backoff; the
   * admin client's metadata requests never auto-create), unless `autoCreate=true` asks the broker to create it.
   */
  private async ensureTopic(kafka: Kafka): Promise<void> {
    let topics = await this.admin!.listTopics();
    if (topics.includes(this.topic)) return;
    if (!this.autoCreate) {
      let backoff = TOPIC_WAIT_START_MS;
      while (!topics.includes(this.topic)) {
        const existing = topics.filter((t) => !t.startsWith('__'));
        this.ctx.status('waiting', missingTopicMessage('topic', this.topic, this.where.brokers, existing));
        this.ctx.log.debug(`${this.description}: no topic "${this.topic}" in the metadata; looking again in ${backoff / 1000} s`);
        if (!this.closed) await this.retryWait.sleep(backoff);
        if (this.closed) throw new SourceError(`Stopped while waiting for topic "${this.topic}" on Kafka at ${this.where.brokers}.`, 'closed');
        backoff = Math.min(backoff * 2, TOPIC_WAIT_CAP_MS);
        topics = await this.admin!.listTopics();
      }
      this.appeared = true;
      const message = `Topic "${this.topic}" appeared on Kafka at ${this.where.brokers}; reading it from the beginning`;
      this.ctx.log.info(message);
      this.ctx.status('connecting', message);
      return;
    }
    const consumer = kafka.consumer({ groupId: `${this.groupId}-0`, allowAutoTopicCreation: true });
    try {
      await consumer.connect();
      await subscribe(consumer, this.plan());
    } finally {
      await consumer.disconnect().catch(() => undefined);
    }
  }

  /** Start offsets per partition: earliest, latest (now), or the first record at or after a time. */
  private async resolveStart(): Promise<void> {
    const admin = this.admin!;
    const from = this.spec.from;
    if (from.kind === 'id') throw new SourceError(`Kafka starts from earliest, latest or a time; "${from.id}" is none of these.`, 'config');
    if (from.kind === 'time') {
      for (const p of await admin.fetchTopicOffsetsByTimestamp(this.topic, from.time)) this.nextOffsets.set(p.partition, p.offset);
    } else {
      const earliest = from.kind === 'earliest' || this.appeared;
      for (const p of await admin.fetchTopicOffsets(this.topic)) this.nextOffsets.set(p.partition, earliest ? p.low : p.high);
    }
    this.allPartitions = [...this.nextOffsets.keys()].sort((a, b) => a - b);
    if (this.only !== null) {
      const only = new Set(this.only);
      for (const p of this.allPartitions) if (!only.has(p)) this.nextOffsets.delete(p);
    }
  }

  private plan(): FetchPlan {
    return {
      client: this.client!,
      topic: this.topic,
      groupId: this.member ? groupConsumerId(this.member.name) : `${this.groupId}-${this.generation}`,
      maxBytes: this.maxBytes,
      maxBytesPerPartition: this.maxBytesPerPartition,
      maxWaitMs: this.maxWaitMs,
      sessionTimeoutMs: this.sessionTimeoutMs,
      autoCreate: this.autoCreate,
      seeks: this.member ? [] : [...this.nextOffsets],
      ...(this.only !== null ? { partitions: this.only } : {}),
      ...(this.member ? { group: true } : {}),
    };
  }

  /**
   * Group mode: where newly assigned partitions start: where the group last read them (the member asks the
   * group's merged view), else at the source's start position (latest by default), within the partition's
   * current offsets (retention may have removed what the group last read: the merged view reports that gap).
   */
  private async placeAssigned(fresh: number[], revoked: number[]): Promise<Array<[number, string]>> {
    const member = this.member!;
    for (const p of revoked) this.nextOffsets.delete(p);
    const known = fresh.length ? await member.knownPositions(this.topic, fresh) : new Map<number, number>();
    const ends = new Map((await this.admin!.fetchTopicOffsets(this.topic)).map((e) => [e.partition, e]));
    const from = this.spec.from;
    const atTime =
      from.kind === 'time' && fresh.some((p) => !known.has(p))
        ? new Map((await this.admin!.fetchTopicOffsetsByTimestamp(this.topic, from.time)).map((e) => [e.partition, Number(e.offset)]))
        : null;
    const starts: Array<[number, number]> = [];
    for (const p of fresh) {
      const low = Number(ends.get(p)?.low ?? 0);
      const high = Number(ends.get(p)?.high ?? 0);
      const t = atTime?.get(p);
      const at = known.get(p) ?? (t !== undefined && t >= 0 ? t : from.kind === 'earliest' || this.appeared ? low : high);
      starts.push([p, Math.min(high, Math.max(low, at))]);
    }
    for (const [p, offset] of starts) this.nextOffsets.set(p, String(offset));
    member.assigned(starts, revoked);
    return starts.map(([p, offset]) => [p, String(offset)]);
  }

  private async startFetcher(): Promise<void> {
    const generation = ++this.generation;
    this.crash = null;
    this.queue.reset();
    const events: FetchEvents = {
      batch: (messages, partition, next) => (generation === this.generation ? this.queue.put(messages, partition, next) : Promise.resolve()),
      joined: () => {
        if (generation !== this.generation || this.closed) return;
        const n = this.nextOffsets.size;
        if (this.member) this.ctx.status('running', `Reading ${n} of the partitions of topic "${this.topic}" at Kafka ${this.where.brokers}, in group "${this.member.name}"`);
        else this.ctx.status('running', `Reading topic "${this.topic}" (${n} partition${n === 1 ? '' : 's'}) at Kafka ${this.where.brokers}`);
      },
      crashed: (error) => {
        if (generation !== this.generation) return;
        this.crash = error;
        this.queue.interrupt();
      },
      log: (line) => this.logLine(line),
      ...(this.member ? { assigned: (fresh: number[], revoked: number[]) => this.placeAssigned(fresh, revoked) } : {}),
    };
    const plan = this.plan();
    const script = this.fetchThread ? fetcherScript() : null;
    if (script) {
      try {
        this.fetcher = await startThreadFetcher(script, plan, events);
        return;
      } catch (err) {
        if (!(err instanceof FetchThreadUnavailable)) throw err;
        this.fetchThread = false;
        this.ctx.log.debug(`${this.description}: fetching on the main thread (the fetch thread could not start: ${err.message})`);
      }
    }
    this.fetchThread = false;
    this.fetcher = await startLocalFetcher(plan, events);
  }

  private async stopFetcher(): Promise<void> {
    const fetcher = this.fetcher;
    this.fetcher = null;
    this.generation++;
    this.queue.interrupt();
    if (fetcher) await fetcher.stop();
  }

  private async waitBeforeRetry(failure: KafkaFailure, backoff: number): Promise<number> {
    this.ctx.status('reconnecting', `${failure.message} Retrying in ${Math.round(backoff / 100) / 10} s.`);
    this.ctx.log.warn(`${this.description}: ${failure.message}`);
    await this.retryWait.sleep(backoff);
    return Math.min(backoff * 2, BACKOFF_CAP_MS);
  }
}
