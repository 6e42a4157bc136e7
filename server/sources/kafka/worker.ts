/**
 * The Kafka fetch thread: fetches and decodes with kafkajs and hands each batch to the main thread as one
 * transferred buffer. Loaded as a worker (this module under tsx, or dist/kafka-fetcher.js, its bundle).
 */
import './fastRecords';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { errorShape } from './errors';
import { startFetchLoop, type FetchPlan, type FetchSink } from './fetchLoop';
import { headerText } from './record';
import { FETCHER_ROLE, type FromFetcher, type ToFetcher } from './threadMessages';

/** Batches the fetch thread may post before the engine has taken them: bounded memory, yet decoding never stalls on one batch. */
const FETCH_THREAD_AHEAD = 4;

/** The worker thread's side: runs the fetch loop and posts each batch as one transferred buffer. */
function runFetcherThread(): void {
  const port = parentPort!;
  const plan = (workerData as { plan: FetchPlan }).plan;
  const acks = new Map<number, () => void>();
  let lastId = 0;
  let lastTaken = 0;
  let stopping = false;
  let stopLoop: (() => Promise<void>) | null = null;
  /** Group mode: assignments waiting for the main thread to say where their partitions start. */
  const starts = new Map<number, (s: Array<[number, string]>) => void>();
  let round = 0;
  port.on('message', (m: ToFetcher) => {
    if (m.type === 'starts') {
      starts.get(m.round)?.(m.starts);
      starts.delete(m.round);
      return;
    }
    if (m.type === 'taken') {
      lastTaken = Math.max(lastTaken, m.id);
      const ack = acks.get(m.id);
      acks.delete(m.id);
      ack?.();
    } else if (m.type === 'stop') {
      stopping = true;
      for (const ack of acks.values()) ack();
      acks.clear();
      void (stopLoop ? stopLoop() : Promise.resolve()).finally(() => process.exit(0));
    }
  });
  const sink: FetchSink = {
    batch(partition, messages) {
      if (stopping) return Promise.resolve();
      const n = messages.length;
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes += (messages[i].value?.length ?? 0) + (messages[i].key?.length ?? 0);
      const data = Buffer.allocUnsafeSlow(bytes);
      const lengths = new Int32Array(2 * n);
      const offsets = new Float64Array(n);
      const timestamps = new Float64Array(n);
      let headers: Array<Record<string, string> | undefined> | null = null;
      let at = 0;
      for (let i = 0; i < n; i++) {
        const m = messages[i];
        const v = m.value;
        if (v === null) lengths[2 * i] = -1;
        else at += v.copy(data, at), (lengths[2 * i] = v.length);
        const k = m.key;
        if (k === null || k === undefined) lengths[2 * i + 1] = -1;
        else at += k.copy(data, at), (lengths[2 * i + 1] = k.length);
        offsets[i] = Number(m.offset);
        timestamps[i] = Number(m.timestamp);
        const h = headerText(m.headers);
        if (h) (headers ??= new Array(n))[i] = h;
      }
      const id = ++lastId;
      const next = String(offsets[n - 1] + 1);
      const transfer = [data.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer, offsets.buffer as ArrayBuffer, timestamps.buffer as ArrayBuffer];
      port.postMessage({ type: 'batch', id, partition, next, data: data.buffer as ArrayBuffer, lengths, offsets, timestamps, headers } satisfies FromFetcher, transfer);
      // Run ahead of the engine by a few batches (decoding overlaps its work), then wait for it to take the oldest.
      if (id - lastTaken <= FETCH_THREAD_AHEAD) return Promise.resolve();
      return new Promise<void>((resolve) => acks.set(id - FETCH_THREAD_AHEAD, resolve));
    },
    joined: () => port.postMessage({ type: 'joined' } satisfies FromFetcher),
    crashed: (error) => port.postMessage({ type: 'crash', error: errorShape(error) } satisfies FromFetcher),
    log: (line) => port.postMessage({ type: 'log', line } satisfies FromFetcher),
    assigned: (fresh, revoked) =>
      new Promise((resolve) => {
        const r = ++round;
        starts.set(r, resolve);
        port.postMessage({ type: 'assigned', round: r, fresh, revoked } satisfies FromFetcher);
      }),
  };
  startFetchLoop(plan, sink).then(
    (stop) => {
      stopLoop = stop;
      if (stopping) void stop().finally(() => process.exit(0));
      else port.postMessage({ type: 'started' } satisfies FromFetcher);
    },
    (err: unknown) => port.postMessage({ type: 'failed', error: errorShape(err) } satisfies FromFetcher),
  );
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === FETCHER_ROLE) runFetcherThread();
