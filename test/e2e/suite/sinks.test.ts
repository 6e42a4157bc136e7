/**
 * "Send test alert" in a real VS Code: the lens above a sink in a config file runs clean.testSink, which has the
 * agent deliver one test event to a real HTTP receiver (started here, in the extension host) and returns the
 * outcome the extension shows.
 */
import * as assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as vscode from 'vscode';
import type { TestSinkResult } from '../../../shared/protocol';
import { cleanApi, eventually, workspaceFile } from './api';

describe('alert sinks', () => {
  let server: http.Server;
  const bodies: Array<{ event: string | undefined; body: string }> = [];

  before(async () => {
    const api = await cleanApi();
    await api.whenAgentReady();
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push({ event: req.headers['x-clean-event'] as string | undefined, body });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });

  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('the "Send test alert" lens delivers a test event and returns the outcome', async () => {
    const port = (server.address() as AddressInfo).port;
    const uri = workspaceFile('sinks.clean.yml');
    const text = ['alerts:', '  - kind: webhook', '    name: ops', `    url: http://127.0.0.1:${port}/hook`, 'pipelines:', '  - name: sinks-demo', '    source: demo:orders', ''].join('\n');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(text));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const lens = await eventually('the Send test alert lens', async () => {
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
      return lenses.find((l) => l.command?.command === 'clean.testSink');
    });
    assert.equal(lens.command!.title, 'Send test alert (ops)');
    assert.equal(lens.range.start.line, 1);
    const result = await vscode.commands.executeCommand<TestSinkResult>(lens.command!.command, ...(lens.command!.arguments ?? []));
    assert.equal(result?.ok, true, result?.message);
    assert.match(result!.message, /^Test alert delivered to ops \(webhook\) in \d+ ms\.$/);
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0]!.event, 'test');
    assert.equal(JSON.parse(bodies[0]!.body).pipeline, 'sinks-demo');
  });
});
