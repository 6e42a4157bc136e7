/**
 * The streaming quality engine: a ring window of the last `windowSize` records' issue flags and
 * qualities, incremental detectors, and the running score. Per record it does O(fields) work and no
 * whole-window pass; the window-sized work (references, baselines) runs once a window.
 *
 * Flagging is per record; judging is per check: each detector (server/engine/detectors/) compares its
 * rates with the baseline it learnt from earlier normal windows and names what stands out.
 */
import type { PipelineConfig, DetectorName } from './config';
import { DETECTORS } from './config';
import type { MetricsEvent, FieldMetrics, Sample, SampleRecord, DetectorMetrics, BaselineInfo } from './events';
import { round6 } from './events';
import type { SourceMessage } from '../sources/types';
import { isSharedView } from '../sources/types';
import { Code, FieldState, Flag, OUTLIER_BIT, TYPE_NAMES, codeOf, type SavedField } from './fields';
import { HashCounter, hashBytes, hashOut, hashString } from './hash';
import { Members, RecordScanner } from '../decode/json';
import { DecodeError, type RecordScan } from '../decode/types';
import type { Significance } from './baseline';
import type { Detector, EngineView, Finding, RecordAccess } from './detectors/types';
import { createOutliers } from './detectors/outliers';
import { createMissing } from './detectors/missing';
import { createSchema } from './detectors/schema';
import { createDuplicates } from './detectors/duplicates';
import { createParse } from './detectors/parse';
import { createRules, type RulesDetector } from './detectors/rules';
import { LabelsDetector } from './detectors/labels';
import { keepRecord, sampleBound, sureFindings, wilson } from './sampling';

/** The saved learned state of a pipeline (`--state`, the extension's storage). */
export interface SavedEngine {
  version: 1;
  windowSize: number;
  /** Epoch milliseconds of the save. */
  savedAt: number;
  /** Records learnt from. */
  learnedRecords: number;
  known: string[];
  fields: SavedField[];
  /** The learned state of the record detectors (duplicates, parse, labels). */
  detectors: Partial<Record<DetectorName, unknown>>;
  /** Their rates in the window when saved (what an accept applied to the file takes as normal). */
  now: Partial<Record<DetectorName, number>>;
}

/** Names of fields that were part of the schema, remembered beyond the window (bounded). */
const KNOWN_FIELDS_MAX = 4096;

/** Detector bit for each name, in DETECTORS order (outliers = 1 … labels = 64). */
export const DETECTOR_BIT: Record<DetectorName, number> = {
  outliers: Flag.Outliers,
  duplicates: Flag.Duplicates,
  missing: Flag.Missing,
  schema: Flag.Schema,
  parse: Flag.Parse,
  rules: Flag.Rules,
  labels: Flag.Labels,
};

const MICRO = 1_000_000;
const SAMPLE_RING = 32;
const SAMPLE_TEXT = 2048;

/** Why a record was flagged, kept as a code plus a field and a value so that nothing is formatted per record. */
const enum Why {
  Invalid,
  NotObject,
  TooLarge,
  Empty,
  Duplicate,
  Missing,
  TypeChange,
  NewField,
  Outlier,
  Rule,
  Label,
  /** Marked by the decode stage (server/decode): the why is the sample's value. */
  Decode,
}

/**
 * The detectors' learned state in the saved form (SavedEngine.detectors), and each one's flagged share now: one
 * shape for the single engine and the merged view of engine threads (server/scale/merge.ts).
 */
export function savedJudges(judges: readonly Detector[], rate: (d: DetectorName) => number): Pick<SavedEngine, 'detectors' | 'now'> {
  const detectors: Partial<Record<DetectorName, unknown>> = {};
  const now: Partial<Record<DetectorName, number>> = {};
  for (const d of judges) {
    if (!d.save) continue;
    detectors[d.name] = d.save();
    now[d.name] = round6(rate(d.name));
  }
  return { detectors, now };
}

/** Recent flagged records of one detector: references only, formatted when asked. */
class SampleRing {
  readonly records = new Float64Array(SAMPLE_RING);
  readonly messages: Array<SourceMessage | null> = new Array(SAMPLE_RING).fill(null);
  readonly why = new Uint8Array(SAMPLE_RING);
  readonly fields: Array<string | null> = new Array(SAMPLE_RING).fill(null);
  readonly values: unknown[] = new Array(SAMPLE_RING).fill(undefined);
  readonly times = new Float64Array(SAMPLE_RING);
  next = 0;
  size = 0;

  push(record: number, msg: SourceMessage, why: Why, field: string | null, value: unknown, time: number): void {
    const i = this.next;
    this.records[i] = record;
    this.messages[i] = retainable(msg);
    this.why[i] = why;
    this.fields[i] = field;
    this.values[i] = value;
    this.times[i] = time;
    this.next = (i + 1) % SAMPLE_RING;
    if (this.size < SAMPLE_RING) this.size++;
  }
}

export class QualityEngine implements EngineView {
  readonly windowSize: number;
  /** Records consumed so far (kept by sampling, when the pipeline samples). */
  records = 0;
  /** Records read, sampled out or not (`sample`). */
  seen = 0;
  /** The sampling rate (1: every record), and the hash bound it keeps below (server/engine/sampling.ts). */
  readonly sampleRate: number;
  private readonly sampled: boolean;
  private readonly keepBelow: number;
  /** Records currently in the window. */
  size = 0;

  private slot = 0;
  private readonly quality: Int32Array;
  private readonly flags: Uint8Array;
  private readonly isObject: Uint8Array;
  /** Each slot's payload hash, as HashCounter keeps it (int32 lanes). */
  private readonly hashHi: Int32Array;
  private readonly hashLo: Int32Array;
  private qualitySum = 0;
  /** Object records in the window. */
  objects = 0;
  private readonly detectorCount = new Int32Array(7);
  private readonly qualityByFlags = new Int32Array(128);
  private readonly enabled: number;
  private readonly z: number;
  private readonly minSamples: number;
  private readonly duplicates: HashCounter | null;
  private readonly fieldMap = new Map<string, FieldState>();
  private readonly fieldList: FieldState[] = [];
  /** The previous object record's fields in key order, and a spare array to build the next one in. */
  private shape: FieldState[] = [];
  private nextShape: Array<FieldState | null> = [];
  /** The current record's top-level members, and their fields (null: over maxFields, not tracked). */
  readonly members = new Members();
  private current: ReadonlyArray<FieldState | null> = [];
  private readonly scanner = new RecordScanner();
  private readonly keySeen = new Set<string>();
  private readonly refreshEvery: number;
  private nextRefresh: number;
  private lastRefresh = 0;
  /** Records at the last time baselines learnt from a window, and how many records they learnt from in all. */
  private lastLearn = 0;
  private learnedRecords = 0;
  private restored = false;
  /** Field names that belong to the learnt schema (a field new to it is flagged by `schema`). */
  private readonly known = new Set<string>();
  private readonly sig: Record<DetectorName, Significance>;
  private readonly judges: Detector[] = [];
  /** The rules detector, when `fields` declares rules. */
  private rules: RulesDetector | null = null;
  /** Detectors with per-record hooks (rules, labels), and the reused view of the current record they read. */
  private readonly inspectors: Detector[] = [];
  private readonly rec = new CurrentRecord(this);
  private readonly samples: SampleRing[] = DETECTORS.map(() => new SampleRing());
  /** The clock for sample times; the pipeline sets it once per batch rather than once per record. */
  now = Date.now();

  constructor(readonly config: PipelineConfig) {
    const W = config.windowSize;
    this.windowSize = W;
    this.quality = new Int32Array(W);
    this.flags = new Uint8Array(W);
    this.isObject = new Uint8Array(W);
    this.hashHi = new Int32Array(W);
    this.hashLo = new Int32Array(W);
    this.sampleRate = config.sample ?? 1;
    this.sampled = this.sampleRate < 1;
    this.keepBelow = sampleBound(this.sampleRate);
    let enabled = 0;
    for (const d of config.detectors) enabled |= DETECTOR_BIT[d];
    if (Object.keys(config.fields).length === 0) enabled &= ~Flag.Rules;
    if (!(enabled & Flag.Labels && config.labelField)) enabled &= ~Flag.Labels;
    this.enabled = enabled;
    this.z = enabled & Flag.Outliers ? config.outliers.z : 0;
    const b = config.baseline;
    this.sig = Object.fromEntries(DETECTORS.map((d) => [d, { z: b.z, dispersion: b.dispersion, ratio: b.ratio, minJump: b.minJump[d] }])) as Record<DetectorName, Significance>;
    this.minSamples = Math.min(config.outliers.minSamples, W);
    this.duplicates = enabled & Flag.Duplicates ? new HashCounter(W) : null;
    // References are refreshed as the first window fills (after minSamples values, then at doubling
    // counts), then once a window (at most every 8,192 records): upkeep stays at a few operations a record.
    this.refreshEvery = Math.max(16, Math.min(8192, W));
    this.nextRefresh = this.minSamples;
    for (let f = 0; f < 128; f++) {
      let q = MICRO;
      DETECTORS.forEach((d, i) => {
        if (f & (1 << i)) q -= Math.round(config.weights[d] * MICRO);
      });
      this.qualityByFlags[f] = Math.max(0, q);
    }
    const makers: Record<DetectorName, () => Detector> = {
      outliers: createOutliers,
      duplicates: createDuplicates,
      missing: createMissing,
      schema: createSchema,
      parse: createParse,
      rules: () => createRules(config.fields, W),
      labels: () => new LabelsDetector(config.labelField!, W, this.minSamples),
    };
    for (const d of DETECTORS) {
      if (!(enabled & DETECTOR_BIT[d])) continue;
      const det = makers[d]();
      this.judges.push(det);
      if (det.inspect) this.inspectors.push(det);
      if (d === 'rules') this.rules = det as RulesDetector;
    }
  }

  /** Takes one record through decode, the detectors and the score. */
  process(msg: SourceMessage): void {
    this.seen++;
    if (this.sampled && !keepRecord(msg, this.keepBelow)) return;
    const slot = this.slot;
    const record = ++this.records;
    if (this.size === this.windowSize) this.evict(slot);
    else this.size++;

    let flags = 0;
    let obj: Record<string, unknown> | null = null;
    /** Flags from the fields of a record the scanner read (no parsed object then); -1 when it did not. */
    let scanned = -1;
    let why: Why = Why.Invalid;
    const value = msg.value;
    let text: string | null = null;
    // Left by the decode stage to be scanned in place (Avro of flat fields): read straight into the members,
    // unless the scan cannot say; then decoded here. Rules and labels read every record's values: the scan
    // is declined, and the stage decodes the writer's next records itself (RecordScan.declined).
    const mark = msg.scan;
    let marked = false;
    if (mark !== undefined && msg.decoded === undefined && msg.issue === undefined) {
      if (this.inspectors.length !== 0) mark.declined = true;
      else if (value instanceof Uint8Array && mark.scanInto(value, this.members)) marked = true;
      if (!marked) decodeMarked(msg, mark);
    }
    // Decoded by the decode stage (Avro, Protobuf, JSON Schema), or marked by it as undecodable.
    const decoded = msg.decoded;
    const issue = msg.issue;

    if (decoded !== undefined) {
      obj = decoded;
    } else if (marked) {
      scanned = this.resolveMembers(this.members.count, record, msg);
    } else if (issue !== undefined) {
      why = Why.Decode;
      flags = issue.detector === 'schema' ? Flag.Schema : Flag.Parse;
    } else if (value === null || value === undefined) {
      why = Why.Empty;
      flags = Flag.Parse;
    } else if (typeof value === 'string' || value instanceof Uint8Array) {
      const size = msg.oversize ?? value.length;
      if (size === 0) {
        why = Why.Empty;
        flags = Flag.Parse;
      } else if (size > this.config.maxMessageBytes) {
        why = Why.TooLarge;
        flags = Flag.Parse;
      } else if (typeof value !== 'string' && this.scanner.scan(value, this.members)) {
        scanned = this.resolveScanned(value, record, msg);
      }
      if (flags === 0 && scanned < 0) {
        text = typeof value === 'string' ? value : utf8(value);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          flags = Flag.Parse;
        }
        if (flags === 0) {
          if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) obj = parsed as Record<string, unknown>;
          else {
            why = Why.NotObject;
            flags = Flag.Parse;
          }
        }
      }
    } else if (typeof value === 'object' && !Array.isArray(value)) {
      obj = value as Record<string, unknown>;
    } else {
      why = Why.NotObject;
      flags = Flag.Parse;
    }

    if (obj === null && scanned < 0) {
      this.isObject[slot] = 0;
      const list = this.fieldList;
      for (let i = 0; i < list.length; i++) list[i].evict(slot);
      if (flags === Flag.Schema) {
        if (this.enabled & Flag.Schema) this.samples[3].push(record, msg, why, null, issue!.why, this.now);
      } else if (this.enabled & Flag.Parse) this.samples[4].push(record, msg, why, null, issue?.why, this.now);
    } else {
      this.isObject[slot] = 1;
      this.objects++;
      flags = this.inspect(obj, scanned, slot, record, msg, text);
      // A decoded record of a writer schema new to the stream: flagged with what changed.
      if (issue !== undefined) {
        flags |= Flag.Schema;
        if (this.enabled & Flag.Schema) this.samples[3].push(record, msg, Why.Decode, null, issue.why, this.now);
      }
    }

    flags &= this.enabled;
    this.flags[slot] = flags;
    const q = this.qualityByFlags[flags];
    this.quality[slot] = q;
    this.qualitySum += q;
    if (flags !== 0) {
      const counts = this.detectorCount;
      for (let i = 0; i < 7; i++) if (flags & (1 << i)) counts[i]++;
    }
    this.slot = slot + 1 === this.windowSize ? 0 : slot + 1;
    if (record >= this.nextRefresh) this.refresh();
  }

  private evict(slot: number): void {
    this.qualitySum -= this.quality[slot];
    const f = this.flags[slot];
    if (f !== 0) {
      const counts = this.detectorCount;
      for (let i = 0; i < 7; i++) if (f & (1 << i)) counts[i]--;
    }
    if (this.isObject[slot]) {
      this.objects--;
      if (this.duplicates) this.duplicates.remove(this.hashHi[slot], this.hashLo[slot]);
    }
    const inspectors = this.inspectors;
    for (let i = 0; i < inspectors.length; i++) inspectors[i].evict?.(slot);
  }

  /** The object-record path: fields (missing, schema, outliers), duplicates, rules, labels. */
  private inspect(obj: Record<string, unknown> | null, scanned: number, slot: number, record: number, msg: SourceMessage, text: string | null): number {
    // Fields first: a record that cannot be taken (a scanned one with a repeated key) has changed nothing yet.
    let flags = obj !== null ? this.resolveParsed(obj, record, msg) : scanned;
    if (this.duplicates) {
      const v = msg.value;
      if (v instanceof Uint8Array) hashBytes(v);
      else hashString(text ?? JSON.stringify(v));
      const hi = hashOut[0] | 0;
      const lo = hashOut[1] | 0;
      this.hashHi[slot] = hi;
      this.hashLo[slot] = lo;
      if (this.duplicates.add(hi, lo) > 1) {
        flags |= Flag.Duplicates;
        this.samples[1].push(record, msg, Why.Duplicate, null, undefined, this.now);
      }
    }
    flags |= this.applyFields(slot, record, msg);
    const inspectors = this.inspectors;
    if (inspectors.length !== 0) {
      const rec = this.rec;
      rec.obj = obj;
      rec.msg = msg;
      rec.record = record;
      rec.slot = slot;
      for (let i = 0; i < inspectors.length; i++) {
        rec.detector = inspectors[i].name;
        if (inspectors[i].inspect!(rec)) flags |= DETECTOR_BIT[rec.detector];
      }
      rec.obj = null;
      rec.msg = null;
    }
    return flags;
  }

  /**
   * Finds the fields of a scanned record's keys: by their bytes when they follow the previous record's
   * keys (the usual case, nothing decoded), else by name. Returns the flags of new fields, or -1 for a
   * record with a repeated key, which then goes through JSON.parse (the last value wins there).
   */
  private resolveScanned(b: Uint8Array, record: number, msg: SourceMessage): number {
    const m = this.members;
    const n = m.count;
    const shape = this.shape;
    if (n === shape.length) {
      let k = 0;
      for (; k < n; k++) {
        const key = shape[k].keyBytes;
        const start = m.keyStart[k];
        const len = key.length;
        if (m.keyEnd[k] - start !== len) break;
        let j = 0;
        while (j < len && b[start + j] === key[j]) j++;
        if (j !== len) break;
      }
      if (k === n) {
        this.current = shape;
        return 0;
      }
    }
    const buf = asBuffer(b);
    const seen = this.keySeen;
    seen.clear();
    for (let k = 0; k < n; k++) {
      const key = buf.toString('utf8', m.keyStart[k], m.keyEnd[k]);
      if (seen.has(key)) return -1;
      seen.add(key);
      m.keys[k] = key;
    }
    return this.resolveKeys(n, record, msg);
  }

  /** Reads a parsed record's members (for-in order) and finds their fields; returns the flags of new fields. */
  private resolveParsed(obj: Record<string, unknown>, record: number, msg: SourceMessage): number {
    const m = this.members;
    let n = 0;
    for (const key in obj) {
      if (n === m.codes.length) m.reserve(n + 1);
      const v = obj[key];
      const code = codeOf(v);
      m.keys[n] = key;
      m.codes[n] = code;
      m.numbers[n] = code === Code.Number ? (v as number) : code === Code.Boolean ? Number(v) : 0;
      n++;
    }
    m.count = n;
    return this.resolveMembers(n, record, msg);
  }

  /**
   * Finds the fields of members[0..n) whose keys are text (a parsed record's, or a scanned Avro record's,
   * whose keys are its schema's field names): the previous record's fields when the keys follow them, else
   * by name. Returns the flags of new fields.
   */
  private resolveMembers(n: number, record: number, msg: SourceMessage): number {
    const m = this.members;
    const shape = this.shape;
    if (n === shape.length) {
      let k = 0;
      while (k < n && shape[k].name === m.keys[k]) k++;
      if (k === n) {
        this.current = shape;
        return 0;
      }
    }
    return this.resolveKeys(n, record, msg);
  }

  /** Fields by name for members[0..n) (creating new ones up to maxFields); the keys become the new shape. */
  private resolveKeys(n: number, record: number, msg: SourceMessage): number {
    const m = this.members;
    const map = this.fieldMap;
    const next = this.nextShape;
    next.length = 0;
    let flags = 0;
    let complete = true;
    for (let k = 0; k < n; k++) {
      const key = m.keys[k];
      let f = map.get(key) ?? null;
      if (f === null) {
        if (this.fieldList.length < this.config.maxFields) {
          f = this.addField(key);
        } else {
          complete = false;
          // Untracked (over maxFields): still a field outside the learnt schema.
          if (this.learnedRecords > 0 && !this.known.has(key)) flags |= this.flagSchema(record, msg, Why.NewField, key, undefined);
        }
      }
      next.push(f);
    }
    this.current = next;
    if (complete) {
      // Every key has its field: this key order is what the next record is compared with.
      this.nextShape = this.shape;
      this.shape = next as FieldState[];
    }
    return flags;
  }

  /** Puts the current members into their fields' windows, and marks the fields this record lacks. */
  private applyFields(slot: number, record: number, msg: SourceMessage): number {
    const m = this.members;
    const fields = this.current;
    const n = m.count;
    const codes = m.codes;
    const numbers = m.numbers;
    const z = this.z;
    let flags = 0;
    let tracked = 0;
    for (let k = 0; k < n; k++) {
      const f = fields[k];
      if (f === null) continue;
      tracked++;
      f.stamp = record;
      f.member = k;
      const code = codes[k];
      const got = f.put(slot, numbers, k, code, z, record);
      if (got !== 0) flags |= this.noteField(got, f, numbers[k], code, record, msg);
      if (f.shifted !== 0) this.clearShift(f);
    }
    const list = this.fieldList;
    if (tracked !== list.length) {
      for (let k = 0; k < list.length; k++) {
        const f = list[k];
        if (f.stamp === record) continue;
        const got = f.put(slot, numbers, 0, Code.Absent, 0, record);
        if (got !== 0) flags |= this.noteField(got, f, 0, Code.Absent, record, msg);
      }
    }
    return flags;
  }

  private noteField(got: number, f: FieldState, v: number, code: number, record: number, msg: SourceMessage): number {
    if (got & Flag.Missing) this.samples[2].push(record, msg, Why.Missing, f.name, undefined, this.now);
    if (got & Flag.Schema) this.samples[3].push(record, msg, f.novel ? Why.NewField : Why.TypeChange, f.name, code, this.now);
    if (got & Flag.Outliers) this.samples[0].push(record, msg, Why.Outlier, f.name, v, this.now);
    return got;
  }

  /** A field first seen now: new to the schema once the schema has been learnt (and it is not a known one back). */
  private addField(name: string, saved?: SavedField): FieldState {
    const f = saved ? FieldState.from(saved, this.windowSize) : new FieldState(name, this.windowSize);
    if (!saved && this.learnedRecords > 0 && !this.known.has(name)) {
      f.novel = true;
      // Its baseline is "never seen": any lasting share of records carrying it stands out.
      f.schemaBase.windows = 1;
    }
    this.fieldMap.set(name, f);
    this.fieldList.push(f);
    return f;
  }

  /**
   * A field's outlier flags turned out to be a level shift (FieldState.flagOutlier): clears them from the
   * records still in the window, and from the records' flags and quality when no other field made them outliers.
   */
  private clearShift(f: FieldState): void {
    const side = f.shifted;
    const oldest = this.records - this.size;
    const list = this.fieldList;
    for (let k = 0; k < f.flagAt.length; k++) {
      if (f.flagSide[k] !== side || f.flagAt[k] === 0 || f.flagRecord[k] <= oldest || f.flagRecord[k] >= this.records) continue;
      const slot = f.flagSlot[k];
      if (!(f.codes[slot] & OUTLIER_BIT)) continue;
      f.codes[slot] &= ~OUTLIER_BIT;
      f.outliers--;
      let other = false;
      for (let i = 0; i < list.length && !other; i++) other = list[i] !== f && (list[i].codes[slot] & OUTLIER_BIT) !== 0;
      const flags = this.flags[slot];
      if (!other && flags & Flag.Outliers) {
        const next = flags & ~Flag.Outliers;
        this.flags[slot] = next;
        this.detectorCount[0]--;
        const q = this.qualityByFlags[next];
        this.qualitySum += q - this.quality[slot];
        this.quality[slot] = q;
      }
    }
    f.clearShift();
  }

  /** Keeps a record flagged by a value-reading detector (rules, labels) as one of its samples. */
  keepSample(detector: DetectorName, record: number, msg: SourceMessage, field: string | null, value: unknown): void {
    this.samples[DETECTORS.indexOf(detector)].push(record, msg, detector === 'labels' ? Why.Label : Why.Rule, field, value, this.now);
  }

  private flagSchema(record: number, msg: SourceMessage, why: Why, field: string, value: unknown): number {
    if (this.enabled & Flag.Schema) this.samples[3].push(record, msg, why, field, value, this.now);
    return Flag.Schema;
  }

  /** The index of the current record's member `name`, or -1 when it has none (or it is not tracked). */
  memberOf(name: string, record: number): number {
    const f = this.fieldMap.get(name);
    return f !== undefined && f.stamp === record ? f.member : -1;
  }

  /**
   * Member k's value: from the parsed object, or read from the scanned record's bytes (`obj` null; only
   * strings and containers are decoded).
   */
  memberValue(k: number, obj: Record<string, unknown> | null, msg: SourceMessage): unknown {
    const m = this.members;
    if (obj !== null) return obj[m.keys[k]];
    switch (m.codes[k]) {
      case Code.Number:
        return m.numbers[k];
      case Code.Boolean:
        return m.numbers[k] === 1;
      case Code.Null:
        return null;
      default: {
        const b = msg.value as Uint8Array;
        // A string without escapes is its bytes between the quotes; anything else is parsed on its own.
        if (m.codes[k] === Code.String && m.numbers[k] === 0) return utf8(b.subarray(m.valueStart[k] + 1, m.valueEnd[k] - 1));
        return JSON.parse(utf8(b.subarray(m.valueStart[k], m.valueEnd[k]))) as unknown;
      }
    }
  }

  /**
   * Amortised upkeep: once a full window has passed, the baselines learn from it (after each detector has
   * judged it, so that what stands out is not learnt); then per-field references, vanished fields, label features.
   */
  private refresh(): void {
    const list = this.fieldList;
    const fresh = this.records - this.lastRefresh;
    if (this.size === this.windowSize && this.records - this.lastLearn >= Math.min(this.windowSize, 8192)) {
      this.judge();
      for (const d of this.judges) d.learn(this);
      this.learnedRecords += this.records - this.lastLearn;
      this.lastLearn = this.records;
      this.rememberSchema();
    }
    for (let i = list.length - 1; i >= 0; i--) {
      const f = list[i];
      // Gone from the whole window: forget it (memory stays bounded by the window), unless it is a usual
      // field, whose absence stays a fault until it is accepted.
      if (f.seen === 0 && !(f.usual && f.missingBase.windows > 0)) {
        for (let s = 0; s < this.windowSize; s++) f.evict(s);
        list[i] = list[list.length - 1];
        list.pop();
        this.fieldMap.delete(f.name);
        this.shape = [];
        this.nextShape = [];
        this.current = [];
        continue;
      }
      f.refresh(this.objects, this.minSamples, this.config.usualFieldShare, this.z, this.slot, fresh, f.outlierBase.outSince === 0);
    }
    this.lastRefresh = this.records;
    for (const d of this.inspectors) d.refresh?.(this);
    let next = this.records + Math.max(this.minSamples, Math.min(this.refreshEvery, this.size));
    // The first learning point is the first full window.
    if (this.records < this.windowSize) next = Math.min(next, this.windowSize);
    this.nextRefresh = next;
  }

  /** What stands out now, every detector's findings worst first (updates each metric's standing: once per check). */
  judge(): Finding[] {
    const out: Finding[] = [];
    for (const d of this.judges) d.judge(this, out);
    return sureFindings(out, this.sampled, this.size, this.objects);
  }

  /**
   * "This is normal": the current level of `detector` (every detector when null) on `field` (every field
   * when null) becomes the baseline. Returns how many metrics were reset.
   */
  accept(detector: DetectorName | null, field: string | null): number {
    let n = 0;
    for (const d of this.judges) if (detector === null || d.name === detector) n += d.accept(this, field);
    this.rememberSchema();
    return n;
  }

  /** The fields that belong to the schema now (not new to it) are known from now on, beyond the window. */
  private rememberSchema(): void {
    for (const f of this.fieldList) if (!f.novel && this.known.size < KNOWN_FIELDS_MAX) this.known.add(f.name);
  }

  /** Whether the first window has been learnt (or a saved baseline restored). */
  get learned(): boolean {
    return this.learnedRecords > 0;
  }

  get baselineInfo(): BaselineInfo {
    const info: BaselineInfo = this.learned
      ? { state: 'ready', records: this.learnedRecords, needed: this.windowSize }
      : { state: 'learning', records: Math.min(this.records - this.lastLearn, this.windowSize), needed: this.windowSize };
    if (this.restored) info.restored = true;
    return info;
  }

  significance(detector: DetectorName): Significance {
    return this.sig[detector];
  }

  get fieldStates(): readonly FieldState[] {
    return this.fieldList;
  }

  flagged(detector: DetectorName): number {
    return this.detectorCount[DETECTORS.indexOf(detector)];
  }

  examples(detector: DetectorName, field: string, limit: number): unknown[] {
    const ring = this.samples[DETECTORS.indexOf(detector)];
    const out: unknown[] = [];
    const oldest = this.records - this.size;
    for (let k = 0; k < ring.size && out.length < limit; k++) {
      const i = (ring.next - 1 - k + SAMPLE_RING) % SAMPLE_RING;
      if (ring.fields[i] !== field || ring.records[i] <= oldest) continue;
      if (detector === 'outliers' || detector === 'rules') out.push(ring.values[i]);
      else {
        const v = valueIn(ring.messages[i]!, field);
        if (v !== undefined) out.push(v);
      }
    }
    return out;
  }

  /** The learned state, to save (`--state`, the extension's storage); restoring it resumes without relearning. */
  save(time = Date.now()): SavedEngine {
    const { detectors, now } = savedJudges(this.judges, (d) => (this.size ? this.flagged(d) / this.size : 0));
    return {
      version: 1,
      windowSize: this.windowSize,
      savedAt: time,
      learnedRecords: this.learnedRecords,
      known: [...this.known],
      fields: this.fieldList.filter((f) => !f.novel || f.seen > 0).map((f) => f.toJSON(this.objects)),
      detectors,
      now,
    };
  }

  /**
   * Takes a saved learned state, before the first record or while running (the window stays as it is).
   * Throws on a state that is not one.
   */
  restore(saved: SavedEngine): void {
    if (!saved || saved.version !== 1 || !Array.isArray(saved.fields) || !Array.isArray(saved.known)) throw new Error('not a saved baseline of this version');
    this.known.clear();
    for (const name of saved.known.slice(0, KNOWN_FIELDS_MAX)) if (typeof name === 'string') this.known.add(name);
    for (const sf of saved.fields) {
      if (!sf || typeof sf.name !== 'string') continue;
      let f = this.fieldMap.get(sf.name);
      if (f !== undefined) f.applySaved(sf);
      else if (this.fieldList.length < this.config.maxFields) f = this.addField(sf.name, sf);
      f?.fencesFromReference(this.z, this.minSamples);
    }
    for (const d of this.judges) d.load?.(saved.detectors?.[d.name]);
    this.learnedRecords = Math.max(0, Number(saved.learnedRecords) || 0);
    this.restored = this.learnedRecords > 0;
    this.shape = [];
    this.nextShape = [];
    this.current = [];
  }

  /** Forgets everything learnt: the next full window is learnt afresh (the pipeline is `learning` until then). */
  resetBaseline(): void {
    for (const f of this.fieldList) f.forget();
    for (const d of this.judges) d.load?.(undefined);
    this.known.clear();
    this.learnedRecords = 0;
    this.restored = false;
    this.lastLearn = this.records;
  }

  /** Sum of the window's record qualities in millionths (an integer: shard summaries add it exactly). */
  get qualityTotal(): number {
    return this.qualitySum;
  }

  /** Per rule: its field and how many window records break it (empty without rules). */
  get ruleCounts(): ReadonlyArray<{ readonly name: string; readonly count: number }> {
    return this.rules?.counts ?? [];
  }

  /** Mean record quality over the window, 0..1; 1 for an empty window. */
  get score(): number {
    return this.size === 0 ? 1 : this.qualitySum / this.size / MICRO;
  }

  rate(detector: DetectorName): number {
    return this.size === 0 ? 0 : this.detectorCount[DETECTORS.indexOf(detector)] / this.size;
  }

  get activeDetectors(): DetectorName[] {
    return DETECTORS.filter((d) => this.enabled & DETECTOR_BIT[d]);
  }

  /** The metrics of the current window (allocates: called once per check, not per record). */
  metrics(pipeline: string, time: number, throughput: number, findings?: readonly Finding[]): MetricsEvent {
    const detectors: Partial<Record<DetectorName, DetectorMetrics>> = {};
    for (const d of this.activeDetectors) {
      const count = this.detectorCount[DETECTORS.indexOf(d)];
      const m: DetectorMetrics = { rate: round6(this.size ? count / this.size : 0), count, threshold: this.config.thresholds[d] };
      if (findings) m.out = findings.some((x) => x.detector === d);
      if (this.sampled) [m.low, m.high] = wilson(count, this.size).map(round6);
      detectors[d] = m;
    }
    const fields: Record<string, FieldMetrics> = Object.create(null);
    const sorted = [...this.fieldList].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const f of sorted) {
      const m: FieldMetrics = { missing: round6(this.objects ? 1 - f.nonNull / this.objects : 0) };
      if (this.z > 0 && f.counts[Code.Number] > 0) m.outliers = round6(this.size ? f.outliers / this.size : 0);
      if (f.established) m.type = TYPE_NAMES[f.established];
      fields[f.name] = m;
    }
    for (const r of this.rules?.counts ?? []) {
      const m = fields[r.name] ?? (fields[r.name] = { missing: this.objects ? 1 : 0 });
      m.rules = round6(this.size ? r.count / this.size : 0);
    }
    return {
      type: 'metrics',
      pipeline,
      time,
      records: this.records,
      window: this.size,
      score: round6(this.score),
      throughput: Math.round(throughput),
      detectors,
      fields: { ...fields },
      baseline: this.baselineInfo,
      ...(this.sampled ? { sample: { rate: this.sampleRate, seen: this.seen } } : {}),
    };
  }

  /** Up to `limit` most recent records flagged by a detector (any detector when omitted), newest first. */
  samplesOf(detector: DetectorName | null, limit: number): SampleRecord[] {
    const out: SampleRecord[] = [];
    const rings = detector === null ? this.activeDetectors.map((d) => [d, this.samples[DETECTORS.indexOf(d)]] as const) : [[detector, this.samples[DETECTORS.indexOf(detector)]] as const];
    for (const [name, ring] of rings) {
      for (let k = 0; k < ring.size; k++) {
        const i = (ring.next - 1 - k + SAMPLE_RING) % SAMPLE_RING;
        const msg = ring.messages[i]!;
        const rec: SampleRecord = {
          record: ring.records[i],
          detector: name,
          reason: describe(ring.why[i] as Why, ring.fields[i], ring.values[i], msg, this.config.maxMessageBytes),
          text: sampleText(msg),
          time: ring.times[i],
        };
        if (msg.position !== undefined) rec.position = msg.position;
        out.push(rec);
      }
    }
    out.sort((a, b) => b.record - a.record);
    // One entry per record, newest first.
    const seen = new Set<number>();
    return out.filter((s) => (seen.has(s.record) ? false : (seen.add(s.record), true))).slice(0, limit);
  }

  /** Record numbers and positions of the most recent flagged records, for alerts. */
  recentSamples(detector: DetectorName | null, limit = 5): Sample[] {
    return this.samplesOf(detector, limit).map((s) => (s.position === undefined ? { record: s.record } : { record: s.record, position: s.position }));
  }
}

/**
 * A sample must not pin a large shared buffer (a file chunk, a socket read) that its bytes are a view of:
 * such a payload is copied on its own. Only flagged records get here.
 */
function retainable(msg: SourceMessage): SourceMessage {
  // A record the engine scanned in place is kept decoded: samples and alert examples show its values.
  if (msg.scan !== undefined && msg.decoded === undefined && msg.issue === undefined) decodeMarked(msg, msg.scan);
  if (msg.retain !== undefined) {
    const r = msg.retain();
    if (msg.decoded !== undefined) r.decoded = msg.decoded;
    if (msg.issue !== undefined) r.issue = msg.issue;
    return r;
  }
  const v = msg.value;
  if (!(v instanceof Uint8Array) || !isSharedView(v.buffer.byteLength, v.length)) return msg;
  const copy: SourceMessage = { value: Buffer.from(v) };
  // Read through the message (its fields may be getters, which a spread would drop).
  if (msg.position !== undefined) copy.position = msg.position;
  if (msg.key !== undefined) copy.key = msg.key;
  if (msg.headers !== undefined) copy.headers = msg.headers;
  if (msg.timestamp !== undefined) copy.timestamp = msg.timestamp;
  if (msg.oversize !== undefined) copy.oversize = msg.oversize;
  if (msg.decoded !== undefined) copy.decoded = msg.decoded;
  if (msg.issue !== undefined) copy.issue = msg.issue;
  return copy;
}

/**
 * Decodes a record the decode stage left to be scanned (SourceMessage.scan) onto `decoded`, or, when its
 * bytes do not decode, onto `issue` as the stage itself would have marked it: the engine then takes it as
 * it takes a record the stage decoded.
 */
function decodeMarked(msg: SourceMessage, mark: RecordScan): void {
  try {
    msg.decoded = mark.decode(msg.value as Uint8Array);
  } catch (err) {
    msg.issue = { detector: 'parse', why: err instanceof DecodeError ? err.why : String(err) };
  }
}

/** The engine's current object record as the value-reading detectors see it (one instance, reused). */
class CurrentRecord implements RecordAccess {
  obj: Record<string, unknown> | null = null;
  msg: SourceMessage | null = null;
  record = 0;
  slot = 0;
  detector: DetectorName = 'rules';

  constructor(private readonly engine: QualityEngine) {}

  memberOf(name: string): number {
    return this.engine.memberOf(name, this.record);
  }

  codeOf(k: number): number {
    return this.engine.members.codes[k];
  }

  numberOf(k: number): number {
    return this.engine.members.numbers[k];
  }

  valueOf(k: number): unknown {
    return this.engine.memberValue(k, this.obj, this.msg!);
  }

  sample(field: string | null, value: unknown): void {
    this.engine.keepSample(this.detector, this.record, this.msg!, field, value);
  }
}

/** A field's value in a kept message (parsed again: only when an alert asks for examples). */
function valueIn(msg: SourceMessage, field: string): unknown {
  if (msg.decoded !== undefined) return msg.decoded[field];
  let v: unknown = msg.value;
  try {
    if (typeof v === 'string') v = JSON.parse(v);
    else if (v instanceof Uint8Array) v = JSON.parse(utf8(v));
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[field] : undefined;
}

/** The bytes as a Buffer (a view, not a copy), so that a plain Uint8Array decodes as text, not as "1,2,3". */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
}

function utf8(b: Uint8Array): string {
  return asBuffer(b).toString('utf8');
}


function sampleText(msg: SourceMessage): string {
  // A decoded record shows as its JSON (its bytes are Avro or Protobuf).
  const v = msg.decoded ?? msg.value;
  let text: string;
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') text = v.length > SAMPLE_TEXT ? v.slice(0, SAMPLE_TEXT) : v;
  else if (v instanceof Uint8Array) text = Buffer.from(v.buffer, v.byteOffset, Math.min(v.length, SAMPLE_TEXT)).toString('utf8');
  else text = JSON.stringify(v).slice(0, SAMPLE_TEXT);
  return text.length >= SAMPLE_TEXT ? text + '…' : text;
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

function describe(why: Why, field: string | null, value: unknown, msg: SourceMessage, maxBytes: number): string {
  const name = field !== null && field.length > 80 ? field.slice(0, 80) + '…' : field;
  switch (why) {
    case Why.Invalid:
      return 'not valid JSON';
    case Why.NotObject: {
      const v = msg.value;
      if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) return 'a JSON array where an object is expected';
      const t = (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.subarray(0, 64).toString() : '').trimStart();
      return t.startsWith('[') ? 'a JSON array where an object is expected' : 'a JSON scalar where an object is expected';
    }
    case Why.TooLarge: {
      const v = msg.value as Buffer | string;
      // A source that let the rest go knows only that it ran past the limit.
      if (msg.oversize !== undefined) return `message of more than ${maxBytes} bytes (maxMessageBytes); not parsed`;
      return `message of ${v.length} bytes is over the ${maxBytes}-byte limit (maxMessageBytes); not parsed`;
    }
    case Why.Empty:
      return 'empty message (no payload)';
    case Why.Duplicate:
      return 'the same payload appeared earlier in the window';
    case Why.Missing:
      return `field "${name}" is null or absent, though the window normally carries it`;
    case Why.TypeChange:
      return `field "${name}" is ${TYPE_NAMES[value as number]}, not its usual type`;
    case Why.NewField:
      return `field "${name}" is not part of the learnt schema`;
    case Why.Outlier:
      return `field "${name}" = ${show(value)} is far outside its usual range`;
    case Why.Rule:
      return `field "${name}" = ${value === undefined ? 'absent' : show(value)} breaks its rule`;
    case Why.Label:
      return `record labelled ${show(value)} lies far from that class's centroid`;
    case Why.Decode:
      return String(value);
  }
}
