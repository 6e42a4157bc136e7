/**
 * The agent's memory budget (`maxMemoryMB`): every pipeline reserves its estimated footprint when it starts,
 * and a start that would exceed the budget is refused with what is left and which pipelines hold it.
 *
 * The estimate follows the engine's own structures (server/engine/quality.ts, fields.ts, hash.ts and the
 * detectors), per window record:
 *   - the window ring: quality (4 bytes), flags (1), object bit (1) and the record's 64-bit hash (8);
 *   - `duplicates`: its hash counter, 12 bytes a slot in a power-of-two table of at least twice the window;
 *   - each tracked field: its type code (1) and, with `outliers`, its number (8);
 *   - `rules`: one byte per rule; `labels`: a class reference (8) and up to 8 features (8 each);
 * and per pipeline: the chart history ring (7,200 points of 4 columns plus one per detector, 8 bytes each, and
 * up to 500 alerts), the recent samples behind each detector (32 records each), and each field's fixed
 * state (its sketch, shift record and baselines).
 *
 * The constants were checked against the real thing with bench/window-memory.ts (a window of 1,000,000 records
 * filled with the demo's orders and with records of 1 and 33 numeric fields, RSS measured after a full GC): the
 * typed arrays come out at the estimate to the byte, each more numeric field costs 9.1 bytes a record, and the
 * RSS growth per window record stayed at or below the estimate (measured/estimate 0.63–0.68 for the demo's
 * orders, whose 8 text fields need no numbers, 0.72–0.81 for 1 field, 0.98–1.00 for 33, where the arrays are all
 * there is; the fixed part covers the rest). The per-pipeline constant was measured the same way from 1,000
 * running demo pipelines (see PIPELINE_BYTES).
 *
 * Fields are not known before records arrive: the estimate assumes ASSUMED_FIELDS numeric fields (or the number
 * of rules, if more), and a pipeline whose records carry more grows its reservation at its next check (track()).
 */
import type { PipelineConfig } from './config';
import { quoteName } from './names';

export const DEFAULT_MAX_MEMORY_MB = 1024;
/** The smallest budget accepted: one default pipeline and a little room. */
export const MIN_MAX_MEMORY_MB = 16;

const MB = 1024 * 1024;
/** Fields assumed before a pipeline's records show how many it carries. */
export const ASSUMED_FIELDS = 16;

/** quality Int32 + flags Uint8 + object bit Uint8 + hash hi/lo Uint32 pair. */
const RING_BYTES_PER_RECORD = 4 + 1 + 1 + 8;
/** A hash counter slot: hi, lo and count, 4 bytes each. */
const HASH_SLOT_BYTES = 12;
/** A field's type code (1) and, with outliers on, its number (8). */
const FIELD_CODE_BYTES = 1;
const FIELD_VALUE_BYTES = 8;
const RULE_BYTES_PER_RECORD = 1;
/** labels: a class reference per slot, and up to 8 numeric features per slot. */
const LABEL_BYTES_PER_RECORD = 8 + 8 * 8;
/** A field's fixed state: its sketch (up to 1,024 buckets of 8 bytes, two sides), shift record and baselines. */
const FIELD_FIXED_BYTES = 20 * 1024;
/** History: 7,200 points of time, score, throughput, records and one column per detector; 500 alerts of ~2 KB. */
const HISTORY_POINTS = 7200;
const HISTORY_ALERT_BYTES = 500 * 2048;
/** Samples: 32 records per detector, each kept whole up to maxMessageBytes; assumed 2 KB each. */
const SAMPLE_RECORDS = 32;
const SAMPLE_BYTES = 2048;
/**
 * What a running pipeline holds beyond the above (its objects, its source, its timers, the events in flight):
 * 1,000 running demo pipelines of windowSize 10 grew RSS by 606–614 KB each after a full GC, of which their
 * history columns (filled at once) are 518 KB; the remaining ~100 KB, rounded up with room to spare.
 */
const PIPELINE_BYTES = 256 * 1024;

/**
 * An engine thread (`workers: N`, server/scale/worker.ts): its own V8 isolate with the agent's code loaded, idle.
 * Measured on the bundled dist/scale-worker.js: 23.7 MB of RSS a thread for 4 threads (2026-12-02).
 */
const THREAD_BYTES = 24 * MB;

export interface Footprint {
  /** Bytes that grow with windowSize. */
  windowBytes: number;
  /** Bytes every pipeline holds whatever its window. */
  fixedBytes: number;
  total: number;
  /** The fields the estimate counted. */
  fields: number;
}

/** The estimated memory of a pipeline with this config, assuming its records carry `fields` fields. */
export function estimateFootprint(config: PipelineConfig, fields?: number): Footprint {
  const W = config.windowSize;
  const on = (d: string) => (config.detectors as string[]).includes(d);
  const rules = on('rules') ? Object.keys(config.fields).length : 0;
  const counted = Math.min(config.maxFields, Math.max(fields ?? ASSUMED_FIELDS, rules + (config.labelField ? 1 : 0)));
  let perRecord = RING_BYTES_PER_RECORD + counted * (FIELD_CODE_BYTES + (on('outliers') ? FIELD_VALUE_BYTES : 0)) + rules * RULE_BYTES_PER_RECORD;
  if (on('labels') && config.labelField) perRecord += LABEL_BYTES_PER_RECORD;
  // With N engine threads each keeps W/N records and a duplicates table of its own, samples and field state of
  // its own, in an isolate of its own; the main thread keeps the history and the merged view's field state.
  const threads = Math.max(1, config.workers ?? 1);
  const share = Math.ceil(W / threads);
  let windowBytes = perRecord * W;
  if (on('duplicates')) {
    let cap = 16;
    while (cap < share * 2) cap *= 2;
    windowBytes += threads * cap * HASH_SLOT_BYTES;
  }
  const engineFixed = config.detectors.length * SAMPLE_RECORDS * Math.min(SAMPLE_BYTES, config.maxMessageBytes) + counted * FIELD_FIXED_BYTES;
  const fixedBytes = PIPELINE_BYTES + HISTORY_POINTS * 8 * (4 + config.detectors.length) + HISTORY_ALERT_BYTES + engineFixed + (threads > 1 ? threads * (THREAD_BYTES + engineFixed) : 0);
  return { windowBytes, fixedBytes, total: windowBytes + fixedBytes, fields: counted };
}

/** A start the budget cannot take; the message says how much is left, who holds it and what to do. */
export class BudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetError';
  }
}

interface Reservation {
  name: string;
  config: PipelineConfig;
  footprint: Footprint;
}

/**
 * The ledger of reservations against `maxMemoryMB`. `setting` names the knob a refusal tells the user to
 * raise: `clean.maxMemoryMB` in the editor, `--max-memory` on the command line.
 */
export class MemoryBudget {
  private readonly held = new Map<string, Reservation>();
  private used = 0;

  constructor(
    private limitMB: number = DEFAULT_MAX_MEMORY_MB,
    private readonly setting = 'clean.maxMemoryMB',
  ) {}

  get maxMemoryMB(): number {
    return this.limitMB;
  }

  /** A new limit applies to the next start; pipelines already running keep their reservations. */
  set maxMemoryMB(mb: number) {
    this.limitMB = mb;
  }

  /** Bytes reserved by running pipelines. */
  get usedBytes(): number {
    return this.used;
  }

  /** Reserves `id`'s footprint, or throws BudgetError when the budget cannot take it. */
  reserve(id: string, name: string, config: PipelineConfig): Footprint {
    const footprint = estimateFootprint(config);
    this.release(id);
    const left = this.limitMB * MB - this.used;
    if (footprint.total > left) throw new BudgetError(this.refusal(name, config, footprint, left));
    this.held.set(id, { name, config, footprint });
    this.used += footprint.total;
    return footprint;
  }

  /**
   * Called at each check with the fields the pipeline's records actually carry: a pipeline wider than its
   * estimate grows its reservation (so that later starts see it). Returns the new footprint when it grew
   * past the budget, for a warning; undefined otherwise.
   */
  track(id: string, fields: number): Footprint | undefined {
    const r = this.held.get(id);
    if (!r || fields <= r.footprint.fields) return undefined;
    const grown = estimateFootprint(r.config, fields);
    this.used += grown.total - r.footprint.total;
    r.footprint = grown;
    return this.used > this.limitMB * MB ? grown : undefined;
  }

  release(id: string): void {
    const r = this.held.get(id);
    if (!r) return;
    this.used -= r.footprint.total;
    this.held.delete(id);
  }

  private refusal(name: string, config: PipelineConfig, f: Footprint, left: number): string {
    const holders = [...this.held.values()].sort((a, b) => b.footprint.total - a.footprint.total);
    const shown = holders.slice(0, 3).map((h) => `${h.name} ${formatBytes(h.footprint.total)}`);
    if (holders.length > 3) shown.push(`and ${holders.length - 3} more`);
    const who = shown.length ? ` (${shown.join(', ')})` : '';
    const fix = f.windowBytes >= f.fixedBytes ? 'Lower windowSize' : 'Stop a pipeline you no longer need';
    return (
      `Pipeline ${quoteName(name)} needs about ${formatBytes(f.total)} for windowSize ${config.windowSize}; ` +
      `the agent's budget is ${this.limitMB} MB, ${formatBytes(Math.max(0, left))} left${who}. ${fix} or raise ${this.setting}.`
    );
  }
}

/** 2.1 GB, 420 MB, 1.3 MB: two significant figures at least, binary units as the budget is in MB. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MB) return `${(bytes / (1024 * MB)).toFixed(1)} GB`;
  if (bytes >= 10 * MB) return `${Math.round(bytes / MB)} MB`;
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** A `maxMemoryMB` value from a setting or an option, or why it cannot be one. */
export function checkMaxMemoryMB(v: unknown): { mb: number } | { problem: string } {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_MAX_MEMORY_MB) {
    return { problem: `must be a whole number of megabytes, at least ${MIN_MAX_MEMORY_MB} (got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : String(v)})` };
  }
  return { mb: n };
}
