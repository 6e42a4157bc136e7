/** The built agent over --node-ipc, and its exit when a stdio client goes away without a shutdown. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { IPCMessageReader, IPCMessageWriter, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { AGENT } from './agentClient';

const exitOf = (child: import('node:child_process').ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));

describe('agent transports', () => {
  it('serves the protocol over --node-ipc and exits 0 after shutdown + exit', { timeout: 20000 }, async () => {
    const child = fork(AGENT, ['lsp', '--node-ipc'], { silent: true });
    const exited = exitOf(child);
    const c = createMessageConnection(new IPCMessageReader(child), new IPCMessageWriter(child));
    c.listen();
    try {
      const init = (await c.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} })) as { serverInfo: { name: string } };
      assert.equal(init.serverInfo.name, 'clean-agent');
      assert.deepEqual(await c.sendRequest('clean/listPipelines', {}), { pipelines: [] });
      await c.sendRequest('shutdown');
      await c.sendNotification('exit');
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      c.dispose();
    }
  });

  it('leaves, pipelines and all, when a stdio client closes its end without a shutdown', { timeout: 20000 }, async () => {
    const child = spawn(process.execPath, [AGENT, 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = exitOf(child);
    const c = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    c.listen();
    try {
      await c.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
      await c.sendRequest('clean/startPipeline', { url: 'demo:orders?rate=100' });
      child.stdin!.end();
      // vscode-languageserver exits with 1 when the stream ends without a shutdown request.
      assert.equal(await exited, 1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      c.dispose();
    }
  });
});
