/**
 * Topics in source code over LSP, against the spawned agent and a real Redis: the lens says "Monitor this topic"
 * with the topic's place, clean/resolveTopic at that place finds the broker in the .env beside the code, the
 * pipeline started from it turns the lens into its live score; config-file features stay off source files.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { AgentClient, ROOT, fileUri } from './agentClient';
import { useBroker, type Broker } from '../helpers/broker';
import type { PipelineInfo, ResolveTopicResult } from '../../shared/protocol';

describe('code lenses on topics in source code (spawned agent, real Redis)', () => {
  let agent: AgentClient;
  let broker: Broker;
  let redis: Redis;
  let dir: string;
  const stream = `clicks-code-${process.pid}-${Date.now()}`;

  before(async () => {
    broker = await useBroker('redis');
    const u = new URL(broker.url);
    redis = new Redis({ host: u.hostname, port: Number(u.port), protocol: 2 });
    dir = mkdtempSync(path.join(tmpdir(), 'clean-code-topics-'));
    agent = await AgentClient.start({ codeLensRefresh: true });
  });
  after(async () => {
    await agent?.stop();
    await redis?.del(stream);
    redis?.disconnect();
    await broker?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const lensesOf = (uri: string) => agent.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });

  it('"Monitor this topic" → resolveTopic at its place → the pipeline → the live score on the lens', async () => {
    writeFileSync(path.join(dir, '.env'), `# the app's broker\nREDIS_URL=${broker.url}\n`);
    const file = path.join(dir, 'track.py');
    const text = `import redis\n\nr = redis.Redis()\n\n\ndef track(click):\n    r.xadd("${stream}", {"data": click})\n`;
    writeFileSync(file, text);
    const uri = fileUri(file);
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: 1, text } });

    const [idle, ...more] = await lensesOf(uri);
    assert.equal(more.length, 0);
    const at = { line: 6, character: 12 };
    assert.deepEqual(idle, {
      range: { start: at, end: { line: 6, character: 12 + stream.length } },
      command: { title: 'Monitor this topic', command: 'clean.monitorThisTopic', arguments: [{ uri, position: at }] },
    });

    // What the extension does with the lens's arguments.
    const resolved = await agent.request<ResolveTopicResult>('clean/resolveTopic', idle!.command!.arguments![0]);
    const url = `${broker.url}/${stream}`;
    assert.deepEqual([resolved.fileKind, resolved.topic, resolved.backend, resolved.url], ['code', stream, 'redis', url]);
    assert.deepEqual(resolved.connections, [{ backend: 'redis', url: broker.url, origin: '.env: REDIS_URL' }]);

    for (let i = 0; i < 20; i++) await redis.xadd(stream, '*', 'data', JSON.stringify({ click: i, page: `/p/${i}` }));
    const refreshesBefore = agent.of('workspace/codeLens/refresh').length;
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { url: resolved.url, name: resolved.topic, from: 'earliest', settings: { checkInterval: '200ms' } });
    assert.deepEqual([info.id, info.backend, info.topic], [stream, 'redis', stream]);

    // All 20 records read and a check since with none new: the score and the rate hold still.
    const settled = () => agent.of('clean/metrics').flatMap((m) => m.params.events).some((e: any) => e.pipeline === info.id && e.records === 20 && e.throughput === 0);
    await agent.waitFor('a check of all 20 records with none arriving', settled);
    await agent.waitFor('a code lens refresh after the start', () => agent.of('workspace/codeLens/refresh').length > refreshesBefore);
    const [live] = await lensesOf(uri);
    assert.deepEqual(live!.command, { title: `${stream} · 1.00 · 0 rec/s`, command: 'clean.openChart', arguments: [{ pipeline: info.id }] });

    await agent.request('clean/stopPipeline', { pipeline: info.id, remove: true });
    const [after] = await lensesOf(uri);
    assert.equal(after!.command!.title, 'Monitor this topic');
  });

  it('source files get lenses only: no diagnostics, symbols, hover or completion from the agent', async () => {
    const uri = fileUri(path.join(dir, 'producer.ts'));
    const text = "await producer.send({ topic: 'orders', messages: [{ value: '{}' }] });\nconst detectors = [duplicates];\n";
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text } });
    assert.deepEqual(await agent.request('textDocument/documentSymbol', { textDocument: { uri } }), []);
    assert.equal(await agent.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 24 } }), null);
    assert.deepEqual(await agent.request('textDocument/completion', { textDocument: { uri }, position: { line: 1, character: 19 } }), []);
    assert.deepEqual((await lensesOf(uri)).map((l) => [l.range.start.line, l.range.start.character, l.command!.title]), [[0, 30, 'Monitor this topic']]);
    // A config file opened after it gets its diagnostics; by then any for the source file would have come first.
    const configUri = fileUri(path.join(dir, 'clean.yaml'));
    await agent.notify('textDocument/didOpen', { textDocument: { uri: configUri, languageId: 'yaml', version: 1, text: 'pipelines:\n  - name: x\n    topic: 5\n' } });
    await agent.diagnosticsFor(configUri, 1);
    assert.deepEqual(agent.of('textDocument/publishDiagnostics').filter((r) => r.params.uri === uri), []);
  });

  it('a topic in Spring code resolves with the brokers of src/main/resources/application.yml up the tree', async () => {
    const billing = fileUri(path.join(ROOT, 'test', 'fixtures', 'code', 'shop', 'src', 'main', 'java', 'shop', 'Billing.java'));
    const r = await agent.request<ResolveTopicResult>('clean/resolveTopic', { uri: billing, position: { line: 5, character: 30 } });
    assert.deepEqual([r.fileKind, r.topic, r.url], ['code', 'invoices', 'kafka://localhost:9092/invoices']);
  });
});
