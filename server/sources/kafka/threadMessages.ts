/** The messages between the Kafka source (main thread) and its fetch thread. */
import type { ErrorShape } from './errors';

/** workerData.role of the fetch thread, so that the worker module runs only where it was started for that. */
export const FETCHER_ROLE = 'clean-streams-kafka-fetcher';

export type ToFetcher =
  | { type: 'taken'; id: number }
  | { type: 'stop' }
  /** Group mode (group.ts): where the partitions of assignment `round` start. */
  | { type: 'starts'; round: number; starts: Array<[partition: number, offset: string]> };
export type FromFetcher =
  | { type: 'started' }
  | { type: 'failed'; error: ErrorShape }
  | { type: 'crash'; error: ErrorShape }
  | { type: 'joined' }
  /** Group mode: the group assigned `fresh` partitions (their starts are asked for) and took `revoked` away. */
  | { type: 'assigned'; round: number; fresh: number[]; revoked: number[] }
  | { type: 'log'; line: string }
  | {
      type: 'batch';
      id: number;
      partition: number;
      next: string;
      /** Values and keys back to back, as bytes (the engine reads JSON in place, without decoding it to text). */
      data: ArrayBuffer;
      /** Per message: value length, key length (-1 for null), in the order they lie in `data`. */
      lengths: Int32Array;
      offsets: Float64Array;
      timestamps: Float64Array;
      headers: Array<Record<string, string> | undefined> | null;
    };
