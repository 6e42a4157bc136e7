/** clean/resolveTopic against the spawned agent: files on disk of each kind, and an open document's unsaved text. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { AgentClient, ROOT, fileUri } from './agentClient';
import type { PipelineInfo, ResolveTopicResult } from '../../shared/protocol';

const fixture = (name: string) => fileUri(path.join(ROOT, 'test', 'fixtures', 'resolve', name));

describe('clean/resolveTopic (spawned agent)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start();
  });
  after(async () => {
    await agent.stop();
  });

  const resolve = (uri: string, line?: number, character?: number) =>
    agent.request<ResolveTopicResult>('clean/resolveTopic', line === undefined ? { uri } : { uri, position: { line, character } });

  it('answers for each file kind from the file on disk', async () => {
    const cases: Array<[string, number, number, string, string, string | null]> = [
      ['docker-compose.yml', 19, 30, 'compose', 'orders', 'kafka://localhost:9092/orders'],
      ['redpanda/compose.yaml', 0, 0, 'compose', 'clicks', 'kafka://localhost:19092/clicks'],
      ['application.yml', 16, 22, 'spring', 'invoices', 'kafka://localhost:9092,localhost:9093/invoices'],
      ['application.properties', 4, 40, 'properties', 'payments', 'kafka://broker-1:9092/payments'],
      ['.env', 5, 18, 'env', 'sessions', 'redis://localhost:6379/sessions?db=0'],
      ['connect/jdbc-sink.json', 5, 16, 'connect', 'orders', null],
      ['connect/datagen-source.json', 4, 22, 'connect', 'pageviews', null],
      ['ingest.yaml', 4, 12, 'yaml', 'raw-events', null],
      ['events.json', 1, 26, 'json', 'telemetry', null],
      ['clean.yaml', 10, 12, 'clean', 'orders', 'kafka://localhost:9092/orders'],
    ];
    for (const [name, line, character, kind, topic, url] of cases) {
      const r = await resolve(fixture(name), line, character);
      assert.deepEqual([name, r.fileKind, r.topic, r.url ?? null], [name, kind, topic, url]);
    }
  });

  it('lists the candidates when the cursor is not on a topic, and says why', async () => {
    const r = await resolve(fixture('docker-compose.yml'), 2, 3);
    assert.equal(r.topic, undefined);
    assert.deepEqual(r.candidates.map((c) => c.topic), ['orders', 'payments', 'orders', 'orders-audit']);
    assert.equal(r.reason, 'The cursor is not on a topic; docker-compose.yml names 4 topics: pick one.');
  });

  it('reads an open document\'s current text rather than the disk', async () => {
    const uri = 'file:///tmp/clean-streams-unsaved/.env';
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'dotenv', version: 1, text: 'KAFKA_BROKERS=127.0.0.1:9092\nCLICKS_TOPIC=clicks\n' } });
    const r = await resolve(uri, 1, 15);
    assert.deepEqual([r.topic, r.backend, r.url], ['clicks', 'kafka', 'kafka://127.0.0.1:9092/clicks']);
  });

  it('says what to do when the file cannot be read', async () => {
    await assert.rejects(resolve('file:///nonexistent/clean-streams/docker-compose.yml', 0, 0), /Cannot read \/nonexistent\/clean-streams\/docker-compose\.yml \(ENOENT\)\. Is the file still there\?/);
  });

  it('hands back a URL and a pipeline name that clean/startPipeline accepts', async () => {
    const uri = 'file:///tmp/clean-streams-unsaved/clean.yaml';
    const text = 'connections:\n  sim:\n    backend: demo\n    options: { rate: 100 }\npipelines:\n  - name: shop\n    connection: sim\n    topic: orders\n';
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    const r = await resolve(uri, 7, 12);
    assert.deepEqual([r.topic, r.backend, r.url, r.pipelineName], ['orders', 'demo', 'demo:orders?rate=100', 'shop']);
    const byUrl = await agent.request<PipelineInfo>('clean/startPipeline', { url: r.url, name: 'from-resolve' });
    assert.deepEqual([byUrl.backend, byUrl.topic], ['demo', 'orders']);
    const byName = await agent.request<PipelineInfo>('clean/startPipeline', { configUri: uri, pipelineName: r.pipelineName });
    assert.deepEqual([byName.id, byName.configUri, byName.cliCommand], ['shop', uri, "clean-agent watch 'demo:orders?rate=100'"]);
    await agent.request('clean/stopPipeline', { pipeline: 'from-resolve', remove: true });
    await agent.request('clean/stopPipeline', { pipeline: 'shop', remove: true });
  });
});
