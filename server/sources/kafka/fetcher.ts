/** The main thread's side of the fetch loop: in the fetch thread when its script is there, else right here. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SourceMessage } from '../types';
import { startFetchLoop, type FetchPlan } from './fetchLoop';
import { KafkaRecord, headerText } from './record';
import { FETCHER_ROLE, type FromFetcher, type ToFetcher } from './threadMessages';

/**
 * One fetched batch, unpacked into records a slice at a time as the engine takes them: records made at once for a
 * whole batch (thousands) would still be alive at the next young-generation collection, which then copies and
 * promotes them all; a slice made just before it is read dies young.
 */
export interface FetchedBatch {
  readonly length: number;
  /** Records [from, to) as SourceMessages; slices are asked for in order, from 0 (KafkaSource.consume). */
  records(from: number, to: number): SourceMessage[];
  /** The offset of record i, as text. */
  offsetAt(i: number): string;
}

/** What the source hears from a running fetch loop, whichever thread it runs on. */
export interface FetchEvents {
  batch(batch: FetchedBatch, partition: number, next: string): Promise<void>;
  joined(): void;
  crashed(error: unknown): void;
  log(line: string): void;
  /** Group mode (group.ts): where newly assigned partitions start. */
  assigned?(fresh: number[], revoked: number[]): Promise<Array<[partition: number, offset: string]>>;
}

export interface Fetcher {
  stop(): Promise<void>;
}

/** Thrown when the worker thread itself cannot run (not a Kafka problem): the source falls back to the main thread. */
export class FetchThreadUnavailable extends Error {}

export async function startLocalFetcher(plan: FetchPlan, events: FetchEvents): Promise<Fetcher> {
  const stop = await startFetchLoop(plan, {
    batch(partition, messages) {
      const batch: FetchedBatch = {
        length: messages.length,
        records(from, to) {
          const out = new Array<SourceMessage>(to - from);
          for (let i = from; i < to; i++) {
            const m = messages[i];
            const k = m.key ?? null;
            out[i - from] = new KafkaRecord(m.value, k && (k.buffer as ArrayBuffer), k ? k.byteOffset : 0, k ? k.length : 0, partition, Number(m.offset), Number(m.timestamp), headerText(m.headers));
          }
          return out;
        },
        offsetAt: (i) => messages[i].offset,
      };
      return events.batch(batch, partition, String(Number(messages[messages.length - 1].offset) + 1));
    },
    joined: events.joined,
    crashed: events.crashed,
    log: events.log,
    assigned: events.assigned,
  });
  return { stop };
}

/** A batch from the fetch thread: its bytes stay one transferred buffer until a slice of records is asked for. */
class PackedBatch implements FetchedBatch {
  /** Where the next record's bytes begin in `data` (slices come in order). */
  private at = 0;

  constructor(private readonly m: Extract<FromFetcher, { type: 'batch' }>) {}

  get length(): number {
    return this.m.offsets.length;
  }

  records(from: number, to: number): SourceMessage[] {
    const { data, lengths, offsets, timestamps, headers, partition } = this.m;
    const out = new Array<SourceMessage>(to - from);
    let at = this.at;
    for (let i = from; i < to; i++) {
      const vl = lengths[2 * i];
      const kl = lengths[2 * i + 1];
      let value: Buffer | null = null;
      if (vl >= 0) (value = Buffer.from(data, at, vl)), (at += vl);
      // The key stays a place in the batch's bytes until someone reads it.
      out[i - from] = new KafkaRecord(value, kl >= 0 ? data : null, at, kl, partition, offsets[i], timestamps[i], headers ? headers[i] : undefined);
      if (kl > 0) at += kl;
    }
    this.at = at;
    return out;
  }

  offsetAt(i: number): string {
    return String(this.m.offsets[i]);
  }
}

export function startThreadFetcher(script: string, plan: FetchPlan, events: FetchEvents): Promise<Fetcher> {
  return new Promise<Fetcher>((resolve, reject) => {
    let worker: Worker;
    try {
      // Under tsx (tests, benchmarks) the worker loads worker.ts through tsx's require hook.
      worker = script.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { eval: true, workerData: { role: FETCHER_ROLE, plan } })
        : new Worker(script, { workerData: { role: FETCHER_ROLE, plan } });
    } catch (err) {
      reject(new FetchThreadUnavailable((err as Error).message));
      return;
    }
    let started = false;
    let ended = false;
    const stop = (): Promise<void> =>
      new Promise<void>((done) => {
        if (ended) return done();
        ended = true;
        const timer = setTimeout(() => void worker.terminate().then(() => done(), () => done()), 3000);
        worker.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        worker.postMessage({ type: 'stop' } satisfies ToFetcher);
      });
    worker.on('message', (m: FromFetcher) => {
      switch (m.type) {
        case 'started':
          started = true;
          resolve({ stop });
          break;
        case 'failed':
          ended = true;
          void worker.terminate();
          reject(m.error);
          break;
        case 'batch':
          void events.batch(new PackedBatch(m), m.partition, m.next).then(() => {
            if (!ended) worker.postMessage({ type: 'taken', id: m.id } satisfies ToFetcher);
          });
          break;
        case 'joined':
          events.joined();
          break;
        case 'assigned':
          (events.assigned?.(m.fresh, m.revoked) ?? Promise.resolve([])).then(
            (starts) => void (ended || worker.postMessage({ type: 'starts', round: m.round, starts } satisfies ToFetcher)),
            (err: unknown) => events.crashed(err),
          );
          break;
        case 'crash':
          events.crashed(m.error);
          break;
        case 'log':
          events.log(m.line);
          break;
      }
    });
    worker.on('error', (err) => {
      if (started) events.crashed(err);
      else {
        ended = true;
        reject(new FetchThreadUnavailable(err.message));
      }
    });
    worker.on('exit', (code) => {
      if (ended) return;
      ended = true;
      if (started) events.crashed({ message: `the Kafka fetch thread exited with code ${code}` });
      else reject(new FetchThreadUnavailable(`exited with code ${code}`));
    });
  });
}

/** The worker script: worker.ts beside this module under tsx, or dist/kafka-fetcher.js (worker.ts bundled) beside the agent. */
export function fetcherScript(): string | null {
  const file = typeof __filename === 'string' ? __filename : '';
  const script = path.join(path.dirname(file), file.endsWith('.ts') ? 'worker.ts' : 'kafka-fetcher.js');
  return file && existsSync(script) ? script : null;
}
