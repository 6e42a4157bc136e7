/**
 * The `waiting` state of a missing topic as the extension receives it: clean/status over LSP from the spawned,
 * built agent, on the real Redis (test/integration/observer.test.ts covers Kafka, Pulsar and Redis in process).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { AgentClient } from './agentClient';
import { useBroker, type Broker } from '../helpers/broker';
import type { MetricsParams, PipelineInfo, StatusParams } from '../../shared/protocol';

describe('a missing stream over clean/status (spawned agent, real Redis)', () => {
  let broker: Broker;
  let redis: Redis;
  let agent: AgentClient;
  before(async () => {
    broker = await useBroker('redis');
    const { hostname, port } = new URL(broker.url);
    redis = new Redis({ host: hostname, port: Number(port), protocol: 2, lazyConnect: true });
    await redis.connect();
    agent = await AgentClient.start();
  });
  after(async () => {
    await agent?.stop();
    redis?.disconnect();
    await broker?.release();
  });

  it('waiting, with the "did you mean", in the status and the pipeline info; running once it exists, with no restart', async () => {
    const host = new URL(broker.url).host;
    const tag = randomBytes(6).toString('hex');
    const orders = `clean-obs:orders:${tag}`;
    const orderz = `clean-obs:orderz:${tag}`;
    try {
      await redis.xadd(orders, '*', 'data', '{"id":0}');
      const info = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'typo', url: `${broker.url}/${orderz}`, settings: { checkInterval: 10 } });
      assert.equal(info.id, 'typo');
      const statuses = () => agent.of('clean/status').map((r) => r.params as StatusParams).filter((s) => s.pipeline === 'typo');
      await agent.waitFor('the waiting status', () => statuses().some((s) => s.state === 'waiting'));
      const waiting = statuses().find((s) => s.state === 'waiting')!;
      const message = `stream ${orderz} does not exist on ${host}; did you mean ${orders}?`;
      assert.deepEqual([waiting.message, waiting.info.state, waiting.info.message, waiting.info.score], [message, 'waiting', message, undefined]);
      const listed = (await agent.request<{ pipelines: PipelineInfo[] }>('clean/listPipelines', {})).pipelines.find((p) => p.id === 'typo')!;
      assert.deepEqual([listed.state, listed.message], ['waiting', message]);
      assert.equal(await redis.exists(orderz), 0, 'the monitor created nothing');

      for (let i = 0; i < 10; i++) await redis.xadd(orderz, '*', 'data', JSON.stringify({ id: i }));
      await agent.waitFor('the check of the 10 records', () =>
        agent.of('clean/metrics').some((r) => (r.params as MetricsParams).events.some((e) => e.pipeline === 'typo' && e.records === 10)),
      );
      assert.deepEqual(statuses().map((s) => s.state), ['connecting', 'connecting', 'waiting', 'running']);
      assert.equal(statuses()[3].message, `Stream "${orderz}" appeared at ${host}; reading it`);
      await agent.request('clean/stopPipeline', { pipeline: 'typo', remove: true });
    } finally {
      await redis.del(orders, orderz);
    }
  });
});
