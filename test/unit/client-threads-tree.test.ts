/** A `workers:` pipeline's row says how many engine threads read it (issue 15: the editor's agent runs them too). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipelineNode } from '../../client/model/topicTree';
import type { PipelineEntry } from '../../client/model/pipelineStore';
import type { PipelineInfo } from '../../shared/protocol';
import { pipelineInfo } from '../helpers/clientModel';

function entry(over: Partial<PipelineInfo>): PipelineEntry {
  return { info: pipelineInfo('orders', { score: 0.97, throughput: 120, ...over }), activeAlerts: new Map() };
}

test('a pipeline on 2 engine threads: "2 threads" after the score; one thread (a topic of 1 partition) in the singular', () => {
  assert.equal(pipelineNode(entry({ threads: 2 })).description, '0.97 · 120 rec/s · 2 threads');
  assert.equal(pipelineNode(entry({ threads: 1 })).description, '0.97 · 120 rec/s · 1 thread');
  assert.equal(pipelineNode(entry({ threads: 2, state: 'paused' })).description, '0.97 · paused · 2 threads');
});

test('a single-thread pipeline, and any row of a stopped agent, say nothing of threads', () => {
  assert.equal(pipelineNode(entry({})).description, '0.97 · 120 rec/s');
  assert.ok(!pipelineNode(entry({ threads: 2 }), { agentStoppedAt: 1 }).description.includes('thread'));
});
