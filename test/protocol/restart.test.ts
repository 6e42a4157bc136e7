/**
 * What a user relies on across stops and crashes, over LSP against the spawned, built agent: a start after a stop
 * is the same id with a fresh pipeline, and after `kill -9` the pipelines come back with the same ids and addresses
 * when the client starts them again the way the extension does (client/ctx.ts resync, with the client's own
 * recordStart and restoreRequest). The request-level identity rules are in identity.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient, fileUri } from './agentClient';
import { freePort } from '../helpers/sources';
import { recordStart, restoreRequest } from '../../client/model/pipelineStore';
import type { ListPipelinesResult, MetricsParams, PipelineInfo, StartPipelineParams } from '../../shared/protocol';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-restart-'));
const config = path.join(dir, 'clean.yaml');
const replayFile = path.join(dir, 'replay.jsonl');

const recordsOf = (agent: AgentClient, pipeline: string) =>
  agent.of('clean/metrics').flatMap((r) => (r.params as MetricsParams).events.filter((e) => e.pipeline === pipeline).map((e) => e.records));
const messagesOf = (agent: AgentClient, pipeline: string) => agent.of('clean/status').filter((r) => r.params.pipeline === pipeline).map((r) => r.params.message as string);
/** What must survive a restart: identity and address, not the moment's state. */
const identity = (p: PipelineInfo) => ({ id: p.id, name: p.name, topic: p.topic, backend: p.backend, description: p.description, configUri: p.configUri, cliCommand: p.cliCommand });

before(() => {
  writeFileSync(config, 'pipelines:\n  - name: orders\n    source: demo:orders?rate=50&seed=2\n    windowSize: 100\n');
  writeFileSync(replayFile, Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: i, amount: 10 + (i % 7) })).join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('a start after a stop (spawned agent)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ settings: { windowSize: 100 } });
  });
  after(async () => {
    await agent.stop();
  });

  it('the same id, a fresh pipeline that counts from zero', async () => {
    const request = { name: 'replay', url: `file:${replayFile}`, settings: { checkInterval: 100 } };
    const first = await agent.request<PipelineInfo>('clean/startPipeline', request);
    await agent.waitFor('the first run at the end of its file', () => messagesOf(agent, 'replay').includes('end of source after 300 records'));
    const stopped = await agent.request<PipelineInfo>('clean/stopPipeline', { pipeline: 'replay' });
    assert.equal(stopped.state, 'stopped');
    const second = await agent.request<PipelineInfo>('clean/startPipeline', request);
    assert.deepEqual([first.id, second.id, second.reused], ['replay', 'replay', undefined]);
    await agent.waitFor('the second run at the end of its file', () => messagesOf(agent, 'replay').filter((m) => m === 'end of source after 300 records').length === 2);
    // Metrics come in batches (up to 250 ms later than the status that the file ended).
    await agent.waitFor('the checks of both runs', () => recordsOf(agent, 'replay').length === 6);
    assert.deepEqual(recordsOf(agent, 'replay'), [100, 200, 300, 100, 200, 300]);
    assert.deepEqual(agent.statesOf('replay'), ['connecting', 'running', 'stopped', 'connecting', 'running', 'stopped']);
    const { pipelines } = await agent.request<ListPipelinesResult>('clean/listPipelines', {});
    assert.deepEqual(pipelines.map((p) => p.id), ['replay']);
  });
});

describe('kill -9: the same pipelines come back with the same ids and addresses', () => {
  const agents: AgentClient[] = [];
  after(async () => {
    for (const a of agents) if (a.process.exitCode === null && a.process.signalCode === null) await a.stop();
  });

  it('restarted the way the extension does, in any order, each pipeline gets its id back', async () => {
    // Nothing listens on this port: the Kafka pipeline keeps reconnecting, and its address must survive as typed.
    const port = await freePort();
    const first = await AgentClient.start({ settings: { windowSize: 100 } });
    agents.push(first);
    /** The extension's record of what started each pipeline (client/ctx.ts startRequests). */
    const started = new Map<string, StartPipelineParams>();
    const requests: StartPipelineParams[] = [
      { name: 'orders', url: 'demo:orders?rate=50&seed=1' },
      { configUri: fileUri(config), pipelineName: 'orders' },
      { name: 'orders', url: `kafka://127.0.0.1:${port}/orders` },
      { name: 'payments', url: 'demo:orders?rate=20&seed=9' },
    ];
    for (const params of requests) recordStart(started, params, await first.request<PipelineInfo>('clean/startPipeline', params));
    const before = (await first.request<ListPipelinesResult>('clean/listPipelines', {})).pipelines;
    assert.deepEqual(before.map((p) => p.id), ['orders', 'orders (2)', 'orders (3)', 'payments']);
    assert.deepEqual([...started.keys()], ['orders', 'orders (2)', 'orders (3)', 'payments']);
    assert.equal(before[2].description, `kafka 127.0.0.1:${port}/orders`);

    const exited = new Promise<NodeJS.Signals | null>((resolve) => first.process.once('exit', (_code, signal) => resolve(signal)));
    first.process.kill('SIGKILL');
    assert.equal(await exited, 'SIGKILL');

    const second = await AgentClient.start({ settings: { windowSize: 100 } });
    agents.push(second);
    // The agent keeps no pipelines of its own: all are lost, and the client starts each again under its id.
    assert.deepEqual((await second.request<ListPipelinesResult>('clean/listPipelines', {})).pipelines, []);
    // Last first: without the id, the Kafka one would take "orders" and the demo one "orders (2)".
    for (const [id, params] of [...started].reverse()) {
      const info = await second.request<PipelineInfo>('clean/startPipeline', restoreRequest(id, params));
      assert.equal(info.id, id);
      recordStart(started, params, info);
    }
    const after = (await second.request<ListPipelinesResult>('clean/listPipelines', {})).pipelines;
    assert.deepEqual(
      [...after].sort((a, b) => a.id.localeCompare(b.id)).map(identity),
      before.map(identity),
    );
    // What the client keeps to restore is still what started them, without the restore-only id.
    assert.deepEqual([...started.values()], requests);
    await second.stop();
  });
});
