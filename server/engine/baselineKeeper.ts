/**
 * A pipeline's learned baseline kept in a BaselineStore (`--state <dir>`, the extension's storage), for either
 * judge: one QualityEngine (RealtimePipeline, pipeline.ts) or the merged view of engine threads
 * (server/scale/shardedPipeline.ts). The saved baseline is taken in at the
 * start (or forgotten, kept for undo, on --reset-baseline); saves come at most every SAVE_EVERY_MS and at the
 * end, and only once something was learnt; a file changed by someone else since our last write
 * (`clean-agent baseline accept|undo|reset`) is taken in first, never overwritten; "This is normal" and reset
 * keep the previous version for undo, with the same messages.
 */
import type { DetectorName } from './config';
import type { BaselineInfo } from './events';
import type { SavedEngine } from './quality';
import type { BaselineStore } from './baselineStore';
import type { BaselineChange } from './pipeline';
import type { Logger } from '../sources/types';

/** What a baseline keeper works on: the judge's learned state, in the engine's saved form. */
export interface Learner {
  readonly learned: boolean;
  readonly baselineInfo: BaselineInfo;
  /** The records a window holds (the reset message says how many are learnt afresh). */
  readonly windowSize: number;
  save(time?: number): SavedEngine;
  restore(saved: SavedEngine): void;
  resetBaseline(): void;
  accept(detector: DetectorName | null, field: string | null): number;
}

/** A saved baseline is written at most this often while the pipeline runs (and always at its end). */
export const SAVE_EVERY_MS = 10_000;

export class BaselineKeeper {
  private savedAt = 0;
  /** The saved file's modification time after our own last write: any other means a user changed it. */
  private savedMtime = 0;
  private savedLearned = -1;
  /** The state before the last accept or reset, for undo (the store's previous file after a restart). */
  private undo: SavedEngine | null = null;

  constructor(
    private readonly name: string,
    private readonly learner: Learner,
    private readonly store: BaselineStore | undefined,
    private readonly log: Logger,
  ) {}

  /** Takes the saved baseline in (after forgetting it when `reset`); returns it, or null when there is none. */
  load(reset = false): SavedEngine | null {
    const store = this.store;
    if (!store) return null;
    try {
      if (reset && store.remove(this.name)) this.log.info(`[${this.name}] baseline reset: learning afresh (the old one is kept for undo)`);
      const saved = store.load(this.name);
      if (!saved) return null;
      this.learner.restore(saved);
      this.savedMtime = store.modified(this.name);
      this.savedLearned = saved.learnedRecords;
      this.log.info(`[${this.name}] resumed the baseline learnt from ${saved.learnedRecords} records (saved ${new Date(saved.savedAt).toISOString()})`);
      return saved;
    } catch (err) {
      this.log.warn(`[${this.name}] ${err instanceof Error ? err.message : String(err)}; learning afresh`);
      return null;
    }
  }

  /** Saves the learned baseline (at most every SAVE_EVERY_MS unless `now`), taking a file changed outside in first. */
  save(now = false): void {
    const store = this.store;
    if (!store) return;
    const t = Date.now();
    if (!now && t - this.savedAt < SAVE_EVERY_MS) return;
    this.savedAt = t;
    try {
      const mtime = store.modified(this.name);
      if (this.savedMtime !== 0 && mtime !== this.savedMtime) {
        const saved = mtime === 0 ? null : store.load(this.name);
        if (saved) this.learner.restore(saved);
        else this.learner.resetBaseline();
        this.log.info(`[${this.name}] the saved baseline was changed outside the monitor: ${saved ? 'taken in' : 'reset, learning afresh'}`);
      }
      if (!this.learner.learned && this.savedLearned <= 0) return;
      this.savedMtime = store.save(this.name, this.learner.save(t));
      this.savedLearned = this.learner.baselineInfo.records;
    } catch (err) {
      this.log.warn(`[${this.name}] cannot save the baseline in ${store.dir}: ${err instanceof Error ? err.message : String(err)}. Check that the folder can be written; the monitor goes on and tries again in 10 s.`);
    }
  }

  /** "This is normal" for `detector` (all when null) on `field` (all when null). */
  accept(detector: DetectorName | null, field: string | null): BaselineChange {
    this.save(true);
    this.store?.keepPrevious(this.name);
    this.undo = this.learner.save();
    const changed = this.learner.accept(detector, field);
    this.save(true);
    const what = `${detector ?? 'every detector'}${field !== null ? ` on "${field}"` : ''}`;
    const message = changed ? `Accepted the current level of ${what} as normal.` : `Nothing to accept for ${what}.`;
    this.log.info(`[${this.name}] ${message}`);
    return { changed, message };
  }

  /** Forgets the learned baseline: the next window is learnt afresh. */
  reset(): BaselineChange {
    this.undo = this.learner.save();
    this.store?.remove(this.name);
    this.learner.resetBaseline();
    this.savedMtime = 0;
    this.savedLearned = 0;
    const message = `Baseline reset: learning the next ${this.learner.windowSize} records afresh.`;
    this.log.info(`[${this.name}] ${message}`);
    return { changed: 1, message };
  }

  /** Undoes the last accept() or reset(). */
  undoLast(): BaselineChange {
    const store = this.store;
    const prev = this.undo ?? (store ? store.previous(this.name) : null);
    if (!prev) return { changed: 0, message: 'Nothing to undo.' };
    this.undo = null;
    this.learner.restore(prev);
    if (store) {
      store.restorePrevious(this.name);
      this.savedMtime = store.modified(this.name);
      this.save(true);
    }
    const message = 'Restored the baseline as it was before the last change.';
    this.log.info(`[${this.name}] ${message}`);
    return { changed: 1, message };
  }
}
