/**
 * The monitor's decoder for one Kafka record (message format v2, Kafka 0.11 and later), put in place of kafkajs's
 * own (`src/protocol/recordBatch/record/v0/decoder.js` in kafkajs 2.2).
 *
 * kafkajs builds each record's offset and timestamp through its Long class: it parses the batch's first offset
 * and first timestamp from their strings, adds the deltas and prints the sums, for every record, and reads the
 * timestamp delta as a Long too. On busy topics that was a third of the fetch thread's work (bench/kafka.ts). This
 * decoder returns the very same message objects, field for field, but computes offsets and timestamps with plain
 * numbers while every value involved is a safe integer (offsets and epoch milliseconds always are in practice),
 * with BigInt beyond that.
 *
 * Installed two ways, before kafkajs loads its record-batch decoder: bundles (dist/, the benches) through the
 * esbuild plugin in scripts/kafkajs-records.mjs; unbundled runs (tsx) by `installRecordDecoder()`, which
 * kafka/worker.ts and kafka/fetchLoop.ts call first thing. Where neither applies, kafkajs's own decoder runs:
 * slower, the same records.
 *
 * Record =>
 *   Attributes => Int8
 *   TimestampDelta => Varlong (zigzag)
 *   OffsetDelta => Varint (zigzag)
 *   Key => Varint length (-1: null), bytes
 *   Value => Varint length (-1: null), bytes
 *   Headers => Varint count, then [Varint key length, UTF-8 key, Varint value length (-1: null), bytes]
 */
import { createRequire } from 'node:module';
import { VARINT, varint, zigzagBig } from '../../decode/varint';

/** What kafkajs's record-batch decoder passes: the batch header, offsets and timestamps as decimal strings. */
export interface RecordBatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  maxTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
}

/** kafkajs's Decoder as far as a record needs it: the record's bytes and a read position. */
export interface RecordBytes {
  buffer: Buffer;
  offset: number;
}

export type RecordHeaders = Record<string, Buffer | null | Array<Buffer | null>>;

export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  isControlRecord: boolean;
  batchContext: RecordBatchContext;
}

/** kafkajs's TimestampTypes.LOG_APPEND_TIME: the broker's time, one for the whole batch. */
const LOG_APPEND_TIME = 1;
/** Below this a sum of two numbers stays exact (both terms and the result are safe integers). */
const SAFE = 2 ** 52;

/** The batch the cached numbers belong to: kafkajs passes one context object for all records of a batch. */
let batch: RecordBatchContext | null = null;
let firstOffset = 0;
let firstTimestamp = 0;
let numbersExact = false;
/** The read position in the record's bytes. */
let at = 0;

function enterBatch(context: RecordBatchContext): void {
  batch = context;
  firstOffset = Number(context.firstOffset);
  firstTimestamp = Number(context.firstTimestamp);
  numbersExact = Math.abs(firstOffset) < SAFE && Math.abs(firstTimestamp) < SAFE;
}

/** A record that does not parse: brokers check batches by CRC, so the batch was corrupt on its way or on disk. */
function corrupt(what: string): RangeError {
  return new RangeError(`Kafka record: ${what}. The broker sent a corrupt record batch; kafka-dump-log.sh --files <segment> --print-data-log shows that partition's log.`);
}

/** The zigzag varint at `at` (moving `at` past it), as a number; the exact value of a long past 2^53 as a BigInt. */
function next(b: Buffer): number;
function next(b: Buffer, long: true): number | bigint;
function next(b: Buffer, long = false): number | bigint {
  const start = at;
  at = varint(b, start);
  if (at < 0) throw corrupt('a varint runs past the end of the record');
  return long && VARINT[1] === 1 ? zigzagBig(b, start, at) : VARINT[0];
}

/** `first + delta` as a decimal string, in BigInt when the numbers would not be exact. */
function plus(first: number, firstText: string | undefined, delta: number | bigint): string {
  if (numbersExact && typeof delta === 'number' && Math.abs(delta) < SAFE) return String(first + delta);
  return (BigInt(firstText ?? '0') + BigInt(delta)).toString();
}

/** Length-prefixed bytes from b at `at` (null for length -1); moves `at` past them. */
function bytesAt(b: Buffer): Buffer | null {
  const length = next(b);
  if (length < 0) return null;
  const start = at;
  at = start + length;
  if (at > b.length) throw corrupt('bytes past the end of the record');
  return b.subarray(start, at);
}

function readHeaders(b: Buffer, count: number): RecordHeaders {
  const headers: RecordHeaders = {};
  for (let i = 0; i < count; i++) {
    const name = bytesAt(b);
    const key = name === null ? 'null' : name.toString('utf8');
    const value = bytesAt(b);
    const had = headers[key];
    headers[key] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return headers;
}

/** Decodes the record at `decoder.offset` (kafkajs's record decoder contract). */
export function decodeRecord(decoder: RecordBytes, context: RecordBatchContext = {}): DecodedRecord {
  if (context !== batch) enterBatch(context);
  const b = decoder.buffer;
  const attributes = (b[decoder.offset] << 24) >> 24;
  at = decoder.offset + 1;
  const timestampDelta = next(b, true);
  const timestamp = context.timestampType === LOG_APPEND_TIME && context.maxTimestamp
    ? context.maxTimestamp
    : plus(firstTimestamp, context.firstTimestamp, timestampDelta);
  const offsetDelta = next(b);
  const offset = plus(firstOffset, context.firstOffset, offsetDelta);
  const key = bytesAt(b);
  const value = bytesAt(b);
  const count = next(b);
  const headers = count > 0 ? readHeaders(b, count) : {};
  decoder.offset = at;
  return {
    magicByte: context.magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: context.isControlBatch === true,
    batchContext: context,
  };
}

/** kafkajs's record decoder module, as its record-batch decoder requires it. */
export const KAFKAJS_RECORD_DECODER = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
const KAFKAJS_BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';

/**
 * Unbundled runs: puts decodeRecord in Node's module cache where kafkajs's record decoder would load from, so
 * that kafkajs's record-batch decoder picks it up when it loads. True when in place (now or before); false in a
 * bundle (the build's plugin took care of it), or when kafkajs's batch decoder had loaded already (it keeps its own).
 */
export function installRecordDecoder(): boolean {
  // A bundle holds its own kafkajs, whose record decoder the build already replaced (scripts/kafkajs-records.mjs).
  if (typeof __filename !== 'string' || !__filename.endsWith('.ts')) return false;
  const resolve = createRequire(__filename);
  let recordFile: string;
  let batchFile: string;
  try {
    recordFile = resolve.resolve(KAFKAJS_RECORD_DECODER);
    batchFile = resolve.resolve(KAFKAJS_BATCH_DECODER);
  } catch {
    return false;
  }
  const cached = resolve.cache[recordFile];
  if (cached?.exports === decodeRecord) return true;
  if (resolve.cache[batchFile]) return false;
  // Load kafkajs's module (so that Node's cache entry is a real module), then swap what it exports.
  resolve(recordFile);
  resolve.cache[recordFile]!.exports = decodeRecord;
  return true;
}
