/** The tree shows each topic's format and writer schema (issue 13): row descriptions and tooltips from DecodeInfo. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeShort, pipelineNode } from '../../client/model/topicTree';
import type { PipelineEntry } from '../../client/model/pipelineStore';
import type { DecodeInfo, MetricsEvent } from '../../shared/protocol';
import { pipelineInfo } from '../helpers/clientModel';

function entry(id: string, decode: DecodeInfo | undefined, over: Partial<PipelineEntry['info']> = {}): PipelineEntry {
  return { info: { ...pipelineInfo(id, { score: 0.97, throughput: 120, ...over }), ...(decode ? { decode } : {}) }, activeAlerts: new Map() };
}

test('a registry topic: "avro orders-value v3" after the score, and the schema in the tooltip', () => {
  const e = entry('orders', { format: 'avro', subject: 'orders-value', version: 3, schemaId: 7, record: 'shop.Order', origin: 'http://127.0.0.1:8081' });
  const node = pipelineNode(e);
  assert.equal(node.description, '0.97 · 120 rec/s · avro orders-value v3');
  assert.ok(node.tooltip.includes('\nDecoded as avro: orders-value v3 (schema id 7), record shop.Order, from http://127.0.0.1:8081'), node.tooltip);
});

test("a Pulsar topic: the subject is the topic, so only the format and version show", () => {
  const topic = 'public/default/orders';
  const e = entry('p', { format: 'avro', subject: topic, version: 1, record: 'plant.Reading', origin: "Pulsar's schema registry at 127.0.0.1:8080" }, { topic, backend: 'pulsar' });
  assert.equal(decodeShort(e), 'avro v1');
  assert.equal(pipelineNode(e).description, '0.97 · 120 rec/s · avro v1 · p');
});

test('a schema file shows by its file name; plain JSON and undetermined streams show nothing', () => {
  const file = '/work/schemas/reading.avsc';
  assert.equal(decodeShort(entry('r', { format: 'avro', subject: file, origin: file, record: 'plant.Reading' })), 'avro reading.avsc');
  assert.equal(decodeShort(entry('j', undefined)), undefined);
  const held = entry('h', { format: 'unknown', held: 12 } as unknown as DecodeInfo);
  assert.equal(decodeShort(held), undefined);
  assert.ok(pipelineNode(held).tooltip.includes('\nNot decoded yet · 12 records held out of the score'));
});

test("the latest check's decode info comes before the status's: a new writer version shows at the next check", () => {
  const e = entry('orders', { format: 'protobuf', subject: 'orders-value', version: 1 });
  e.metrics = { type: 'metrics', pipeline: 'orders', time: 0, records: 1, window: 1, score: 1, throughput: 1, detectors: {}, fields: {}, decode: { format: 'protobuf', subject: 'orders-value', version: 2 } } as MetricsEvent;
  assert.equal(decodeShort(e), 'protobuf orders-value v2');
});
