/**
 * Raw Avro entries on a real Redis stream (scripts/broker start redis), read with `?format=avro&schema=<file>`:
 * each entry's payload is the Avro binary of one record with no header, decoded with the .avsc file. Fault
 * episodes (nulls, gross numeric errors, entries another schema wrote) and the alerts and issues are asserted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as avsc from 'avsc';
import Redis from 'ioredis';
import { useBroker, type Broker } from '../helpers/broker';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { MetricsEvent, StatusEvent } from '../../server/engine/events';
import { createSource } from '../../server/sources';
import { parseSourceUrl } from '../../server/sources/url';
import { decodeSettingsOf } from '../../server/decode';

const tag = `${process.pid}-${Date.now().toString(36)}`;
let seq = 0;
const uniqueKey = (what: string) => `clean-avro-${what}-${tag}-${++seq}`;

let broker: Broker;
let redis: Redis;
let dir: string;

const reading = { type: 'record', name: 'Reading', namespace: 'plant', fields: [{ name: 'id', type: 'long' }, { name: 'sensor', type: 'string' }, { name: 'value', type: ['null', 'double'] }] };
const Reading = avsc.Type.forSchema(reading as avsc.Schema);
/** A calm sensor reading: cycles over 50.0 … 59.9. */
const calm = (i: number) => 50 + ((i * 37) % 100) / 10;

async function add(key: string, payloads: Buffer[]): Promise<void> {
  for (let i = 0; i < payloads.length; i += 500) {
    const p = redis.pipeline();
    for (const b of payloads.slice(i, i + 500)) p.xadd(key, '*', 'payload', b);
    await p.exec();
  }
}

function watch(key: string, query: string, limit: number): { done: Promise<void>; alerts: string[]; statuses: StatusEvent[]; last: () => MetricsEvent | null; pipeline: RealtimePipeline } {
  const spec = parseSourceUrl(`${broker.url}/${key}${query}`, { kind: 'earliest' });
  const config = resolvePipelineConfig({ windowSize: 1000, checkInterval: { records: 500 } });
  const pipeline = new RealtimePipeline(key, (ctx) => createSource(spec, ctx), config, { decode: decodeSettingsOf(spec, config.format), limit });
  const alerts: string[] = [];
  const statuses: StatusEvent[] = [];
  let last: MetricsEvent | null = null;
  pipeline.on('alert', (e) => alerts.push(`${e.records} ${e.detector ?? 'score'} ${e.fields.map((f) => f.name).join(',')}`));
  pipeline.on('status', (e) => statuses.push(e));
  pipeline.on('metrics', (e) => (last = e));
  return { done: pipeline.run(), alerts, statuses, last: () => last, pipeline };
}

before(async () => {
  broker = await useBroker('redis');
  const { hostname, port } = new URL(broker.url);
  redis = new Redis({ host: hostname, port: Number(port), protocol: 2 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'clean-redis-avro-'));
  writeFileSync(path.join(dir, 'reading.avsc'), JSON.stringify(reading, null, 2));
});

after(async () => {
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
  await broker?.release();
});

describe('Redis ?format=avro&schema=<file>', () => {
  test('raw Avro entries decode with the .avsc file; nulls and gross errors alert on the decoded field', async () => {
    const key = uniqueKey('readings');
    const payloads: Buffer[] = [];
    for (let i = 0; i < 4000; i++) {
      const value = i >= 2500 && i < 2600 ? null : i >= 3500 && i < 3560 ? calm(i) * 1000 : calm(i);
      payloads.push(Reading.toBuffer({ id: i, sensor: `s${i % 5}`, value }));
    }
    await add(key, payloads);
    const schema = path.join(dir, 'reading.avsc');
    const w = watch(key, `?format=avro&schema=${encodeURIComponent(schema)}`, 4000);
    await w.done;
    assert.deepEqual(w.alerts, ['3000 missing value', '4000 outliers value']);
    const last = w.last()!;
    assert.equal(last.records, 4000);
    assert.deepEqual(last.decode, { format: 'avro', subject: schema, origin: schema, record: 'plant.Reading' });
    assert.equal(last.detectors.parse?.count, 0);
    assert.deepEqual(last.fields.value, { missing: 0, outliers: 0.06, type: 'number' });
    assert.deepEqual(last.fields.sensor, { missing: 0, type: 'string' });
  });

  test('entries another schema wrote, and bytes that are no Avro, are parse issues saying why; the rest decode', async () => {
    const key = uniqueKey('mixed');
    const other = avsc.Type.forSchema({ type: 'record', name: 'Other', fields: [{ name: 'note', type: 'string' }] });
    await add(key, [
      Reading.toBuffer({ id: 1, sensor: 's1', value: 50.5 }),
      other.toBuffer({ note: 'written with another schema' }),
      Buffer.from([0xff]),
      Reading.toBuffer({ id: 4, sensor: 's4', value: null }),
    ]);
    const schema = path.join(dir, 'reading.avsc');
    const w = watch(key, `?format=avro&schema=${encodeURIComponent(schema)}`, 4);
    await w.done;
    const last = w.last()!;
    assert.equal(last.records, 4);
    assert.equal(last.detectors.parse?.count, 2);
    const reasons = w.pipeline.samples('parse', 5).map((s) => [s.record, s.reason.replace(/:.*$/, '')]);
    assert.deepEqual(reasons, [
      [3, 'not a valid plant.Reading record'],
      [2, 'not a valid plant.Reading record'],
    ]);
    assert.deepEqual(last.fields.id, { missing: 0, outliers: 0 });
  });

  test('a schema file that does not exist: every entry is a parse issue naming the file, nothing crashes', async () => {
    const key = uniqueKey('nofile');
    await add(key, [Reading.toBuffer({ id: 1, sensor: 's1', value: 1 })]);
    const schema = path.join(dir, 'missing.avsc');
    const w = watch(key, `?format=avro&schema=${encodeURIComponent(schema)}`, 1);
    await w.done;
    const last = w.last()!;
    assert.equal(last.records, 1);
    assert.equal(last.detectors.parse?.count, 1);
    assert.deepEqual(w.pipeline.samples('parse', 1).map((s) => s.reason), [`the schema "${schema}" is not in any schema source (none is configured)`]);
  });
});
