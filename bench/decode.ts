/**
 * `node --import tsx bench/decode.ts [--json] [--alt <dir>]`: decoding speed (records/s) of the libraries the
 * decode stage could use, on the same order records in the same run. Avro: avsc as the stage uses it (wire
 * header, unions unwrapped, values as server/decode/values.ts maps them) against bare avsc and, when
 * `--alt <dir>` holds an `npm install avro-js` (Apache Avro's own JavaScript library, not a dependency),
 * avro-js. Protobuf: protobufjs as the stage uses it (decode + toObject) against its bare decode.
 * JSON.parse of the same records is the yardstick. The README's Formats section quotes these figures.
 */
import path from 'node:path';
import * as avsc from 'avsc';
import * as protobuf from 'protobufjs';
import { parseAvro } from '../server/decode/avro';
import { parseProtobuf } from '../server/decode/protobuf';
import { wireMessage, WIRE_HEADER } from '../server/decode/wire';
import { orderPayload, seededRandom } from './records';
import { ORDER_SCHEMA } from './avro';

const ORDER_PROTO = `syntax = "proto3";
package shop;
message Order {
  string order_id = 1; string customer_id = 2; string created_at = 3; double amount = 4; string currency = 5;
  int32 items = 6; string status = 7; int64 delay_ms = 8; optional string coupon = 9;
}`;

let sink = 0;

function rate(n: number, fn: (i: number) => unknown): number {
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (fn(i) !== null) sink++;
  return n / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** Median of `rounds` short alternated measurements of each contender (one load spike cannot skew it). */
function measure(contenders: Record<string, (i: number) => unknown>, n: number, rounds: number): Record<string, number> {
  const runs: Record<string, number[]> = {};
  for (const [k, fn] of Object.entries(contenders)) {
    rate(Math.min(n, 50_000), fn);
    runs[k] = [];
  }
  for (let r = 0; r < rounds; r++) for (const [k, fn] of Object.entries(contenders)) runs[k].push(rate(n, fn));
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(runs)) out[k] = Math.round(v.sort((a, b) => a - b)[v.length >> 1]);
  return out;
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const altAt = argv.indexOf('--alt');
  const alt = altAt >= 0 ? argv[altAt + 1] : undefined;
  const N = 20_000;
  const rnd = seededRandom();
  const objects = Array.from({ length: N }, (_, i) => JSON.parse(orderPayload(i, rnd)) as Record<string, unknown>);
  const jsonBufs = objects.map((o) => Buffer.from(JSON.stringify(o)));
  const avroType = avsc.Type.forSchema(ORDER_SCHEMA as avsc.Schema);
  const avroBufs = objects.map((o) => wireMessage(1, avroType.toBuffer(o)));
  const stageAvro = parseAvro(JSON.stringify(ORDER_SCHEMA)).decoder();
  const root = protobuf.parse(ORDER_PROTO, { keepCase: true }).root;
  const Order = root.lookupType('shop.Order');
  const protoBufs = objects.map((o) => wireMessage(1, Order.encode(Order.fromObject(o)).finish(), [0]));
  const stageProto = parseProtobuf(ORDER_PROTO).decoder();
  const avroBytes = Math.round(avroBufs.reduce((s, b) => s + b.length, 0) / N);
  const protoBytes = Math.round(protoBufs.reduce((s, b) => s + b.length, 0) / N);
  const jsonBytes = Math.round(jsonBufs.reduce((s, b) => s + b.length, 0) / N);

  const contenders: Record<string, (i: number) => unknown> = {
    'JSON.parse (yardstick)': (i) => JSON.parse(jsonBufs[i % N].toString()),
    'avsc, as the stage decodes': (i) => stageAvro.decode(avroBufs[i % N], WIRE_HEADER),
    'avsc, bare': (i) => avroType.decode(avroBufs[i % N], WIRE_HEADER).value,
    'protobufjs, as the stage decodes': (i) => stageProto.decode(protoBufs[i % N], WIRE_HEADER + 1),
    'protobufjs, bare decode': (i) => Order.decode(protoBufs[i % N].subarray(WIRE_HEADER + 1)),
  };
  if (alt) {
    // avro-js is Apache Avro's JavaScript library (an avsc fork of 2015); loaded from outside the project.
    const avroJs = require(path.resolve(alt, 'node_modules', 'avro-js')) as { parse(s: unknown): { fromBuffer(b: Buffer): unknown } };
    const t = avroJs.parse(ORDER_SCHEMA);
    contenders['avro-js (Apache)'] = (i) => t.fromBuffer(avroBufs[i % N].subarray(WIRE_HEADER));
  }
  const got = measure(contenders, 50_000, 21);
  if (json) {
    console.log(JSON.stringify({ bytes: { json: jsonBytes, avro: avroBytes, protobuf: protoBytes }, recordsPerSecond: got, sink }));
    return;
  }
  console.log(`order records: JSON ${jsonBytes} B, Avro ${avroBytes} B, Protobuf ${protoBytes} B (wire format)`);
  for (const [k, v] of Object.entries(got)) console.log(`${k.padEnd(36)} ${v.toLocaleString('en-US').padStart(12)} records/s`);
}

if (require.main === module) void run(process.argv.slice(2));
