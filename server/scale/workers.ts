/**
 * The main thread's side of the engine threads: starting one (worker.ts under tsx, dist/scale-worker.js
 * beside the bundled agent), asking it for its summary, and splitting a topic's partitions over N of them.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { SourceSpec } from '../sources/types';
import type { ShardSummary } from './summary';
import { validSummary } from './merge';
import type { FromShard, ShardData, ToShard } from './threadMessages';

/** How long a check waits for a thread's summary before it goes on without it (and says so). */
export const SUMMARY_TIMEOUT_MS = 5000;

/** The engine thread's script: worker.ts beside this module under tsx, or scale-worker.js beside the bundle. */
export function shardScript(): string {
  const file = typeof __filename === 'string' ? __filename : '';
  const script = path.join(path.dirname(file), file.endsWith('.ts') ? 'worker.ts' : 'scale-worker.js');
  if (!file || !existsSync(script)) throw new Error(`the engine thread script is missing (${script}); rebuild the agent (npm run build)`);
  return script;
}

/**
 * Under tsx (tests, benchmarks), a worker has none of the main thread's loader hooks: this ES module registers
 * tsx's, then imports worker.ts. (The hooks must be ESM ones: the sources are loaded with import(), and the
 * Kafka source is a folder, which only tsx's resolver takes.)
 */
function tsxBootstrap(script: string): URL {
  // Only ever reached under tsx (never in the bundle): a name the bundler leaves alone.
  const tsxApi = ['tsx', 'esm', 'api'].join('/');
  const api = pathToFileURL(path.join(path.dirname(require.resolve(tsxApi)), 'index.mjs')).href;
  const code = `const { register } = await import(${JSON.stringify(api)}); register(); await import(${JSON.stringify(pathToFileURL(script).href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** One engine thread: its messages dispatched to handlers, its summary asked for with a timeout. */
export class ShardThread {
  readonly worker: Worker;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (s: ShardSummary | null) => void; timer: NodeJS.Timeout }>();
  /** Called for every message that is not the answer to a summary request. */
  onMessage: (m: FromShard) => void = () => {};
  onExit: (code: number) => void = () => {};
  exited = false;

  constructor(readonly data: ShardData) {
    const script = shardScript();
    this.worker = script.endsWith('.ts') ? new Worker(tsxBootstrap(script), { workerData: data }) : new Worker(script, { workerData: data });
    this.worker.on('message', (m: FromShard) => {
      if (m.type === 'summary') {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        p.resolve(validSummary(m.summary) ? m.summary : null);
        return;
      }
      this.onMessage(m);
    });
    this.worker.on('error', (err) => this.onMessage({ type: 'error', message: `engine thread ${data.shard} failed: ${err.message}`, code: 'thread' }));
    this.worker.on('exit', (code) => {
      this.exited = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve(null);
      }
      this.pending.clear();
      this.onExit(code);
    });
  }

  send(m: ToShard, transfer?: ArrayBuffer[]): void {
    if (!this.exited) this.worker.postMessage(m, transfer);
  }

  /** The thread's summary now, or null when it does not answer within SUMMARY_TIMEOUT_MS (or has exited). */
  summary(timeoutMs = SUMMARY_TIMEOUT_MS): Promise<ShardSummary | null> {
    if (this.exited) return Promise.resolve(null);
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
      this.worker.postMessage({ type: 'summary', id } satisfies ToShard);
    });
  }

  /** Asks the thread to close its sources and end; terminates it if it has not within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.worker.once('exit', () => r()));
    this.send({ type: 'stop' });
    const timer = setTimeout(() => void this.worker.terminate(), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Partitions dealt round-robin over `n` shares: 8 partitions over 3 threads are [0,3,6] [1,4,7] [2,5]; no share is empty. */
export function dealPartitions<T>(units: readonly T[], n: number): T[][] {
  const k = Math.max(1, Math.min(n, units.length));
  const out: T[][] = Array.from({ length: k }, () => []);
  units.forEach((u, i) => out[i % k].push(u));
  return out;
}

/**
 * What each thread reads. Kafka: one spec per thread, restricted to its partitions (options.partitions);
 * `partitions` is the topic's partition ids. Anything else is one unit (a Redis stream, a file): one thread reads it.
 */
export function shardSpecs(spec: SourceSpec, workers: number, partitions: readonly number[] | null): SourceSpec[][] {
  if (spec.backend === 'kafka' && partitions !== null && partitions.length > 0) {
    return dealPartitions(partitions, workers).map((share) => [{ ...spec, options: { ...spec.options, partitions: share } }]);
  }
  return [[spec]];
}
