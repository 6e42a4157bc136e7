/** clean/secret: the agent asks the client for a source's secret by name; the value never travels back out. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentClient } from './agentClient';
import type { StatusParams } from '../../shared/protocol';

describe('secrets through clean/secret (spawned agent)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ secrets: { 'redis-pass': 'TOPSECRET-VALUE-123' }, settings: { logLevel: 'debug' } });
  });
  after(async () => {
    await agent.stop();
  });

  it('asks the client for the named secret when a source needs it, and never echoes the value', async () => {
    // Nothing listens on port 1: the source fails to connect after it got its password.
    await agent.request('clean/startPipeline', { name: 'guarded', url: 'redis://127.0.0.1:1/orders?secret=redis-pass' });
    await agent.waitFor('the secret request', () => agent.secretRequests.includes('redis-pass'));
    await agent.waitFor('guarded leaves connecting', () => agent.statesOf('guarded').some((s) => s === 'reconnecting' || s === 'error'));
    await agent.request('clean/stopPipeline', { pipeline: 'guarded' });
    assert.deepEqual(agent.secretRequests, ['redis-pass']);
    const everything = JSON.stringify(agent.received) + agent.stderr.join('');
    assert.equal(everything.includes('TOPSECRET-VALUE-123'), false);
    const info = (agent.of('clean/status').filter((r) => r.params.pipeline === 'guarded').at(-1)!.params as StatusParams).info;
    assert.equal(info.cliCommand, "clean-agent watch 'redis://127.0.0.1:1/orders?secret=redis-pass'");
  });

  it('puts only that pipeline in error when the client has no such secret', async () => {
    await agent.request('clean/startPipeline', { name: 'nosecret', url: 'redis://127.0.0.1:1/orders?secret=not-stored' });
    await agent.waitFor('nosecret in error', () => agent.statesOf('nosecret').includes('error'));
    const status = agent.of('clean/status').find((r) => r.params.pipeline === 'nosecret' && r.params.state === 'error')!.params as StatusParams;
    assert.match(status.message, /^The secret "not-stored" for Redis at 127\.0\.0\.1:1 is not set\. Store it in VS Code \(Clean: Set Secret…\) or export CLEAN_SECRET_NOT_STORED for the CLI\./);
    assert.deepEqual(agent.secretRequests, ['redis-pass', 'not-stored']);
    assert.equal(agent.of('clean/agentError').length, 0);
  });
});
