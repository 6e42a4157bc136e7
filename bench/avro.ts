/**
 * The benchmarks' Avro side (`--format avro`): the schemas of the bench records, their Confluent wire-format
 * encoding with avsc, and the schema files the decode stage reads as its offline registry (`schemas:`), so that
 * no registry has to run. The records are the same objects the JSON benchmarks send, encoded instead of stringified.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as avsc from 'avsc';
import { wireMessage } from '../server/decode/wire';
import { parseAvro } from '../server/decode/avro';
import type { Decoder } from '../server/decode/types';

/** The `--format` a benchmark was asked for: json (the default) or avro; anything else is refused. */
export function benchFormat(argv: string[]): 'json' | 'avro' {
  const at = argv.indexOf('--format');
  const f = at >= 0 ? argv[at + 1] : 'json';
  if (f !== 'json' && f !== 'avro') throw new Error(`--format ${f ?? '(missing)'}: use json or avro`);
  return f;
}

/** The schema id the bench records carry in their wire-format header (the offline registry matches it by decoding). */
export const BENCH_SCHEMA_ID = 1;

/** orderPayload(i, rnd) of bench/records.ts, ~180 bytes as JSON. */
export const ORDER_SCHEMA = {
  type: 'record',
  name: 'Order',
  namespace: 'bench.shop',
  fields: [
    { name: 'order_id', type: 'string' },
    { name: 'customer_id', type: 'string' },
    { name: 'created_at', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'currency', type: 'string' },
    { name: 'items', type: 'int' },
    { name: 'status', type: 'string' },
    { name: 'delay_ms', type: 'long' },
    { name: 'coupon', type: ['null', 'string'] },
  ],
};

/** orderPayload(i, rnd, true): the order with a nested address, line items, notes and tags (~750 bytes as JSON). */
export const LARGE_ORDER_SCHEMA = {
  type: 'record',
  name: 'LargeOrder',
  namespace: 'bench.shop',
  fields: [
    ...ORDER_SCHEMA.fields,
    {
      name: 'shipping',
      type: {
        type: 'record',
        name: 'Address',
        fields: [
          { name: 'street', type: 'string' },
          { name: 'city', type: 'string' },
          { name: 'zip', type: 'string' },
          { name: 'country', type: 'string' },
        ],
      },
    },
    {
      name: 'lines',
      type: {
        type: 'array',
        items: { type: 'record', name: 'Line', fields: [{ name: 'sku', type: 'string' }, { name: 'qty', type: 'int' }, { name: 'price', type: 'double' }] },
      },
    },
    { name: 'notes', type: 'string' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
  ],
};

/** orderEvent(i, noteLength) of bench/records.ts, the Kafka benchmark's ~200-byte record. */
export const ORDER_EVENT_SCHEMA = {
  type: 'record',
  name: 'OrderEvent',
  namespace: 'bench.shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'ts', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'currency', type: 'string' },
    { name: 'country', type: 'string' },
    { name: 'status', type: 'string' },
    { name: 'items', type: 'int' },
    { name: 'channel', type: 'string' },
    { name: 'note', type: 'string' },
  ],
};

/** Encodes one record (a JSON text of the bench) as a Confluent wire-format Avro message: 0, schema id, body. */
export function avroEncoder(schema: object): (json: string) => Buffer {
  const type = avsc.Type.forSchema(schema as avsc.Schema);
  return (json) => wireMessage(BENCH_SCHEMA_ID, type.toBuffer(JSON.parse(json)));
}

/** The decoder the decode stage builds for this schema (server/decode/avro.ts): the baseline decodes with the same one. */
export function stageDecoder(schema: object): Decoder {
  return parseAvro(JSON.stringify(schema)).decoder();
}

/** Writes the schemas as .avsc files into a fresh folder (the decode stage's `schemas:`), removed at exit; returns the folder. */
export function schemaFolder(schemas: Record<string, object>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clean-bench-avro-'));
  for (const [name, schema] of Object.entries(schemas)) fs.writeFileSync(path.join(dir, `${name}.avsc`), JSON.stringify(schema, null, 2));
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
