/**
 * Alert sinks in the editor, against the spawned agent and real local HTTP receivers: a "Send test alert" lens
 * on each sink of clean.yaml, clean/testSink delivering a signed test event (the key from the editor's secret
 * store) or saying what failed, the file's pipelines' alerts delivered to its sinks exactly as notified, and a
 * failing sink in the pipeline's status (what the tree shows).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CodeLens } from 'vscode-languageserver-protocol';
import { AgentClient, ROOT, fileUri } from './agentClient';
import { Receiver, refusedUrl } from '../helpers/receiver';
import type { PipelineInfo, SinkStatus, TestSinkResult } from '../../shared/protocol';

describe('alert sinks over LSP (spawned agent, real receivers)', () => {
  let agent: AgentClient;
  let receiver: Receiver;
  let down: string;
  let dir: string;

  before(async () => {
    receiver = await new Receiver().start();
    down = await refusedUrl();
    dir = mkdtempSync(path.join(tmpdir(), 'clean-sinks-lsp-'));
    agent = await AgentClient.start({ secrets: { 'ops-hook': 'lsp-hmac-key' } });
  });
  after(async () => {
    await agent?.stop();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lenses, test alerts, the pipelines\' alerts delivered, and a failing sink in the status', async () => {
    const uri = fileUri(path.join(dir, 'clean.yaml'));
    const text = [
      'alerts:',
      '  - kind: webhook',
      '    name: ops',
      `    url: ${receiver.url}/ops`,
      '    secret: ops-hook',
      '  - kind: webhook',
      '    name: down',
      `    url: ${down}/x`,
      '    retries: 0',
      'pipelines:',
      '  - name: replay',
      `    source: file:${path.join(ROOT, 'test', 'fixtures', 'cli', 'dup-middle.jsonl')}`,
      '    from: earliest',
      '    windowSize: 200',
      '    checkInterval: 100',
      '',
    ].join('\n');
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    assert.deepEqual(await agent.diagnosticsFor(uri, 1), []);

    const lenses = await agent.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const sinkLenses = lenses.filter((l) => l.command?.command === 'clean.testSink');
    assert.deepEqual(sinkLenses, [
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, command: { title: 'Send test alert (ops)', command: 'clean.testSink', arguments: [{ configUri: uri, sink: 'ops' }] } },
      { range: { start: { line: 5, character: 0 }, end: { line: 5, character: 0 } }, command: { title: 'Send test alert (down)', command: 'clean.testSink', arguments: [{ configUri: uri, sink: 'down' }] } },
    ]);

    // The lens's arguments, as the extension sends them.
    const ok = await agent.request<TestSinkResult>('clean/testSink', sinkLenses[0].command!.arguments![0]);
    assert.equal(ok.ok, true, ok.message);
    assert.match(ok.message, /^Test alert delivered to ops \(webhook\) in \d+ ms\.$/);
    assert.equal(receiver.requests.length, 1);
    const test = receiver.requests[0];
    assert.equal(test.path, '/ops');
    assert.equal(test.headers['x-clean-event'], 'test');
    assert.equal(test.headers['x-clean-signature'], 'sha256=' + createHmac('sha256', 'lsp-hmac-key').update(test.body).digest('hex'));
    assert.equal((test.json as { test?: boolean }).test, true);
    // A sink of the whole file names the file's first pipeline in its test event.
    assert.equal((test.json as { pipeline?: string }).pipeline, 'replay');
    assert.deepEqual(agent.secretRequests, ['ops-hook']);

    const failed = await agent.request<TestSinkResult>('clean/testSink', sinkLenses[1].command!.arguments![0]);
    assert.deepEqual(failed, { ok: false, message: 'Test alert to down (webhook) failed: connection refused.' });
    await assert.rejects(agent.request('clean/testSink', { configUri: uri, sink: 'nope' }), /No alert sink "nope" in clean\.yaml/);

    const info = await agent.request<PipelineInfo>('clean/startPipeline', { configUri: uri, pipelineName: 'replay' });
    assert.equal(info.id, 'replay');
    // The file's alerts, as the agent notified them, reach the sink in order.
    await agent.waitFor('the pipeline to end', () => agent.statesOf('replay').includes('stopped'));
    const notified = agent.of('clean/alert').map((n) => n.params);
    assert.ok(notified.length >= 2, 'the fixture alerts and recovers');
    await receiver.received(1 + notified.length);
    assert.deepEqual(receiver.requests.slice(1).map((q) => q.json), notified);
    for (const q of receiver.requests.slice(1)) assert.equal(q.headers['x-clean-signature'], 'sha256=' + createHmac('sha256', 'lsp-hmac-key').update(q.body).digest('hex'));

    // The sink that cannot deliver shows in the pipeline's status (the tree's "alerts → down" row).
    const sinksOf = () => agent.of('clean/status').filter((s) => s.params.pipeline === 'replay').map((s) => s.params.info.sinks as SinkStatus[] | undefined).filter(Boolean).pop();
    await agent.waitFor('a status with the failing sink', () => sinksOf()?.find((s) => s.name === 'down')?.failed === notified.length);
    assert.deepEqual(sinksOf()!.find((s) => s.name === 'down'), { name: 'down', kind: 'webhook', queued: 0, delivered: 0, failed: notified.length, dropped: 0, retries: 0, lastError: 'connection refused', failing: true });
    // The pipeline's figures as listed once the last answer came back: every alert delivered to ops, none to down.
    const listedSinks = async () => (await agent.request<{ pipelines: PipelineInfo[] }>('clean/listPipelines', {})).pipelines.find((p) => p.id === 'replay')?.sinks;
    const deadline = Date.now() + 10_000;
    while ((await listedSinks())?.[0]?.delivered !== notified.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(await listedSinks(), [
      { name: 'ops', kind: 'webhook', queued: 0, delivered: notified.length, failed: 0, dropped: 0, retries: 0, failing: false },
      { name: 'down', kind: 'webhook', queued: 0, delivered: 0, failed: notified.length, dropped: 0, retries: 0, lastError: 'connection refused', failing: true },
    ]);
  });
});
