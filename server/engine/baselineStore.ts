/**
 * Where a pipeline's learned baseline is kept between runs: one JSON file per pipeline in a folder
 * (`clean-agent … --state <dir>`, or the extension's storage for the agent). The previous version of a file
 * is kept beside it whenever a user changes the baseline ("This is normal", reset), so that can be undone.
 * Writes go to a temporary file first and are renamed into place: a crash never leaves half a baseline.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SavedEngine } from './quality';
import type { DetectorName } from './config';
import type { SavedBaseline } from './baseline';

export class BaselineStore {
  constructor(readonly dir: string) {}

  /** The file of a pipeline's baseline (its name made safe for a file name). */
  fileOf(pipeline: string): string {
    return path.join(this.dir, `${safeName(pipeline)}.baseline.json`);
  }

  private previousOf(pipeline: string): string {
    return path.join(this.dir, `${safeName(pipeline)}.baseline.prev.json`);
  }

  /** The saved baseline, or null when there is none. Throws with what is wrong when the file is not one. */
  load(pipeline: string): SavedEngine | null {
    return readState(this.fileOf(pipeline));
  }

  /** Saves; returns the file's modification time, to tell the agent's own writes from a user's edits. */
  save(pipeline: string, state: SavedEngine): number {
    mkdirSync(this.dir, { recursive: true });
    const file = this.fileOf(pipeline);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(state));
    renameSync(tmp, file);
    return statSync(file).mtimeMs;
  }

  /** The file's modification time, or 0 when it does not exist. */
  modified(pipeline: string): number {
    try {
      return statSync(this.fileOf(pipeline)).mtimeMs;
    } catch {
      return 0;
    }
  }

  /** Keeps the current file as the version an undo returns to. */
  keepPrevious(pipeline: string): void {
    const file = this.fileOf(pipeline);
    if (!existsSync(file)) return;
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(this.previousOf(pipeline), readFileSync(file));
  }

  /** The version before the last change, or null when there is nothing to undo. */
  previous(pipeline: string): SavedEngine | null {
    return readState(this.previousOf(pipeline));
  }

  hasPrevious(pipeline: string): boolean {
    return existsSync(this.previousOf(pipeline));
  }

  /** Puts the previous version back in place (undo); returns false when there is none. */
  restorePrevious(pipeline: string): boolean {
    const prev = this.previousOf(pipeline);
    if (!existsSync(prev)) return false;
    renameSync(prev, this.fileOf(pipeline));
    return true;
  }

  /** Forgets the baseline (the previous version stays, for undo); returns false when there was none. */
  remove(pipeline: string): boolean {
    const file = this.fileOf(pipeline);
    if (!existsSync(file)) return false;
    this.keepPrevious(pipeline);
    rmSync(file);
    return true;
  }
}

function readState(file: string): SavedEngine | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read the saved baseline ${file}: ${(err as Error).message}`);
  }
  let state: unknown;
  try {
    state = JSON.parse(text);
  } catch (err) {
    throw new Error(`the saved baseline ${file} is not valid JSON (${(err as Error).message}); delete it or reset the baseline to learn afresh`);
  }
  const s = state as SavedEngine;
  if (typeof s !== 'object' || s === null || s.version !== 1 || !Array.isArray(s.fields)) {
    throw new Error(`${file} is not a saved baseline of this version; delete it or reset the baseline to learn afresh`);
  }
  return s;
}

/** A pipeline name as a file name: letters, digits, `.`, `-` and `_` kept, everything else `_`. */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_');
  return s.length > 120 ? s.slice(0, 120) : s || '_';
}

/**
 * "This is normal" applied to a saved baseline rather than to a running pipeline (`clean-agent baseline
 * accept`): the levels the file recorded at its last save become the learned normal, as a running
 * pipeline's acceptNormal() would do with its window. Returns how many metrics changed.
 */
export function acceptInSaved(state: SavedEngine, detector: DetectorName | null, field: string | null): number {
  let changed = 0;
  const normal = (level: number): SavedBaseline => ({ m: level, v: 0, p: level, w: 1 });
  const fieldDetectors: DetectorName[] = ['outliers', 'missing', 'schema'];
  for (const f of state.fields) {
    if (field !== null && f.name !== field) continue;
    const now = f.now;
    if (!now) continue;
    if (detector === null || detector === 'outliers') {
      if (now.lo !== undefined && now.hi !== undefined) {
        const [lo, hi] = f.ext ?? [Infinity, -Infinity];
        f.ext = [Math.min(lo, now.lo), Math.max(hi, now.hi)];
      }
      f.outliers = normal(0);
      changed++;
    }
    if (detector === null || detector === 'missing') {
      f.missing = normal(now.missing);
      if (now.missing > 0.5) f.usual = false;
      changed++;
    }
    if (detector === null || detector === 'schema') {
      f.novel = false;
      if (now.type) f.type = now.type;
      f.schema = normal(0);
      if (!state.known.includes(f.name)) state.known.push(f.name);
      changed++;
    }
  }
  if (field === null) {
    for (const [d, level] of Object.entries(state.now ?? {}) as Array<[DetectorName, number]>) {
      if (detector !== null && d !== detector) continue;
      if (fieldDetectors.includes(d)) continue;
      state.detectors[d] = normal(level);
      changed++;
    }
  }
  return changed;
}
