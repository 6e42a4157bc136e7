/** The tree row of a pipeline that watches a group of agents (`group:` in clean.yaml, PipelineInfo.group). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineStore } from '../../client/model/pipelineStore';
import { pipelineNode } from '../../client/model/topicTree';
import { pipelineInfo } from '../helpers/clientModel';

test('a group pipeline says its group and how many agents are merged, in the row and the tooltip', () => {
  const store = new PipelineStore();
  store.upsert(pipelineInfo('orders', { message: 'group orders-east · 2 agents live (a-1, a-2)', group: { name: 'orders-east', summariesTopic: 'clean.summaries', agents: ['a-1', 'a-2'] } }));
  const node = pipelineNode(store.get('orders')!);
  assert.equal(node.description, '– · group orders-east · 2 agents');
  assert.equal(
    node.tooltip,
    'orders — running\nkafka 127.0.0.1:9092/orders\ngroup orders-east · 2 agents live (a-1, a-2)\nWatches group "orders-east": agents a-1, a-2 merged (summaries in "clean.summaries"); the group\'s agents read the topic and announce its alerts to the sinks.',
  );
  store.upsert(pipelineInfo('orders', { state: 'waiting', message: 'group orders-east · no agent has written a summary yet', group: { name: 'orders-east', summariesTopic: 'team.s', agents: [] } }));
  const waiting = pipelineNode(store.get('orders')!);
  // A waiting pipeline's row carries its message, as any pipeline's does.
  assert.equal(waiting.description, 'waiting · group orders-east · no agent has written a summary yet · group orders-east · 0 agents');
  assert.match(waiting.tooltip, /\nWatches group "orders-east": no agent live \(summaries in "team\.s"\);/);
  // Without a group, nothing of the kind.
  store.upsert(pipelineInfo('plain'));
  assert.equal(pipelineNode(store.get('plain')!).description, '–');
});
