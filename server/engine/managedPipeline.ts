/**
 * What the editor's agent (server/lsp/manager.ts) uses of a pipeline, met by the single-thread RealtimePipeline
 * (pipeline.ts) and the threaded ShardedPipeline (server/scale/shardedPipeline.ts), so that the manager runs
 * `workers: N` pipelines without telling the two apart.
 */
import type { DetectorName } from './config';
import type { BaselineInfo, SampleRecord } from './events';
import type { AlertHandler, Listeners } from './pipelineEvents';
import type { BaselineChange } from './pipeline';
import type { PipelineState } from '../sources/types';
import type { DecodeInfo } from '../decode';

export interface ManagedPipeline {
  readonly name: string;
  readonly state: PipelineState;
  readonly message: string;
  readonly description: string;
  /** What the records decode as, once known; null for plain JSON and before. */
  readonly decodeInfo: DecodeInfo | null;
  /** Where the baseline that judges the pipeline stands (the merged view's, with threads). */
  readonly baselineInfo: BaselineInfo;
  /** Fields tracked across the pipeline (what the memory budget grows a reservation by). */
  readonly fieldCount: number;
  /** Engine threads reading it: 1 for a single-thread pipeline; 0 for a threaded one before they start. */
  readonly shardCount: number;
  on<K extends keyof Listeners>(type: K, listener: Listeners[K]): () => void;
  addAlertHandler(handler: AlertHandler): void;
  run(): Promise<void>;
  stop(): Promise<void>;
  pause(): void;
  resume(): void;
  acceptNormal(detector: DetectorName | null, field: string | null): BaselineChange;
  resetBaseline(): BaselineChange;
  undoBaseline(): BaselineChange;
  samples(detector?: DetectorName | null, limit?: number): SampleRecord[];
}
