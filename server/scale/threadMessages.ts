/** Messages between the main thread (workers.ts) and an engine thread (worker.ts); plain data, structured-cloned. */
import type { DetectorName, PipelineConfig } from '../engine/config';
import type { SavedEngine } from '../engine/quality';
import type { DecodeInfo } from '../decode';
import type { SourceSpec } from '../sources/types';
import type { ShardSummary } from './summary';

/** workerData.role of an engine thread, so that worker.ts runs only where it was started for that. */
export const SHARD_ROLE = 'clean-shard';

export interface ShardData {
  role: typeof SHARD_ROLE;
  pipeline: string;
  shard: string;
  config: PipelineConfig;
  /**
   * What this thread reads, each with its own source: one Kafka spec restricted to some partitions
   * (options.partitions), or one spec per stream or partition topic. Empty: records come in `load` messages (the bench).
   */
  specs: SourceSpec[];
  /**
   * The pipeline's saved baseline (the merged view's, server/scale/merge.ts MergedView.save), taken in before
   * the first record, so that a restarted pipeline's threads flag as the merged view's baseline says.
   */
  saved?: SavedEngine;
}

export type ToShard =
  | { type: 'summary'; id: number }
  | { type: 'stop' }
  | { type: 'secret'; id: number; value: string | undefined }
  /**
   * The bench: records packed in one transferred buffer (`ends[i]` is where record i ends); the first `warm`
   * are processed at once (compiling the engine's hot path before the clock), the rest on `go`.
   */
  | { type: 'load'; data: ArrayBuffer; ends: Int32Array; warm?: number }
  | { type: 'go' }
  /** Stop taking records from the sources until `resume` (the pipeline paused). */
  | { type: 'pause' }
  | { type: 'resume' }
  /**
   * A baseline change of the pipeline, applied to the thread's engine so that its per-record verdicts follow
   * (a field accepted is no longer new, values accepted widen the fences): `accept` as QualityEngine.accept,
   * `reset` as resetBaseline, `restore` takes a saved state (an undo, a file changed outside the pipeline).
   */
  | { type: 'baseline'; op: 'accept'; detector: DetectorName | null; field: string | null }
  | { type: 'baseline'; op: 'reset' }
  | { type: 'baseline'; op: 'restore'; saved: SavedEngine };

export type FromShard =
  | { type: 'summary'; id: number; summary: ShardSummary }
  | { type: 'status'; state: 'connecting' | 'waiting' | 'running' | 'reconnecting'; message: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'secret'; id: number; name: string }
  /** Records processed so far, posted every PROGRESS_EVERY records (record-count checks, limits). */
  | { type: 'progress'; records: number; decode?: DecodeInfo }
  | { type: 'end'; records: number }
  | { type: 'error'; message: string; code: string }
  | { type: 'loaded'; records: number }
  | { type: 'done'; records: number; ms: number };

/** An engine thread reports its progress this often (in records). */
export const PROGRESS_EVERY = 1000;
/** …and, when records trickle in, at least this often (milliseconds) while any arrive. */
export const PROGRESS_MS = 250;
