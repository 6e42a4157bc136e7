/**
 * Reloading clean.yaml in a running `clean-agent run` (SIGHUP, or an edited file under --watch-config):
 * pipelines whose identity and settings are unchanged keep running with their windows and baselines, changed
 * ones restart, removed ones stop and added ones start. A config that now has errors is refused as a whole:
 * the problems are logged and the pipelines already running are kept.
 */
import { watch, watchFile, unwatchFile, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { PipelineSettings } from '../engine/config';
import type { SourceSpec } from '../sources/types';

/** One pipeline as a config (plus the command line) declares it. */
export interface PlannedPipeline {
  name: string;
  spec: SourceSpec;
  settings: PipelineSettings;
}

/** What a reload does to each pipeline. */
export interface ReloadPlan {
  /** Unchanged: they go on as they are. */
  keep: string[];
  /** Changed (source or settings): stopped, then started from the new declaration. */
  restart: PlannedPipeline[];
  /** No longer declared. */
  stop: string[];
  /** Newly declared. */
  start: PlannedPipeline[];
}

/** A pipeline's identity and settings as one comparable text (keys sorted at every level). */
export function identityOf(p: PlannedPipeline): string {
  return stableJson({ spec: p.spec, settings: p.settings });
}

/** Compares what runs (name → identityOf) with what the config now declares. */
export function planReload(running: ReadonlyMap<string, string>, next: readonly PlannedPipeline[]): ReloadPlan {
  const plan: ReloadPlan = { keep: [], restart: [], stop: [], start: [] };
  const declared = new Set<string>();
  for (const p of next) {
    declared.add(p.name);
    const was = running.get(p.name);
    if (was === undefined) plan.start.push(p);
    else if (was === identityOf(p)) plan.keep.push(p.name);
    else plan.restart.push(p);
  }
  for (const name of running.keys()) if (!declared.has(name)) plan.stop.push(name);
  return plan;
}

/** "2 kept, 1 restarted (orders), 1 stopped (old), 1 started (payments)": what a reload did, for the log. */
export function describeReload(plan: ReloadPlan): string {
  const part = (n: number, verb: string, names: string[]) => (n === 0 ? [] : [`${n} ${verb}${names.length ? ` (${names.join(', ')})` : ''}`]);
  const parts = [
    ...part(plan.keep.length, 'kept', []),
    ...part(plan.restart.length, 'restarted', plan.restart.map((p) => p.name)),
    ...part(plan.stop.length, 'stopped', plan.stop),
    ...part(plan.start.length, 'started', plan.start.map((p) => p.name)),
  ];
  return parts.length ? parts.join(', ') : 'no pipelines';
}

function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const keys = Object.keys(v as Record<string, unknown>)
    .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
}

/** Edits settle this long before a reload: an editor's save is often a write, a rename and a touch. */
export const WATCH_SETTLE_MS = 300;

/**
 * Calls `changed` after `file` is edited (--watch-config). The folder is watched, not the file: editors that
 * save by writing a new file and renaming it over the old one would leave a watch on the file blind. Where the
 * folder cannot be watched, the file's modification time is polled each second. Returns the function that stops.
 */
export function watchConfigFile(file: string, changed: () => void): () => void {
  const dir = path.dirname(path.resolve(file));
  const base = path.basename(file);
  let timer: NodeJS.Timeout | null = null;
  const poke = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      changed();
    }, WATCH_SETTLE_MS);
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dir, { persistent: false }, (_event, name) => {
      if (name === null || name.toString() === base) poke();
    });
    watcher.on('error', () => undefined); // the folder went away: nothing more to watch, the agent goes on
  } catch {
    watchFile(file, { interval: 1000, persistent: false }, (cur, prev) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size) poke();
    });
  }
  return () => {
    if (timer) clearTimeout(timer);
    if (watcher) watcher.close();
    else unwatchFile(file);
  };
}
