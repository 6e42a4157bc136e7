/**
 * The registry client's edges that the real registry (test/integration/registry.test.ts, Apicurio without
 * authentication) cannot produce: a registry that refuses credentials, and one that never answers. The
 * servers here are real HTTP servers that only refuse or stall (`fake…`), never a registry that serves schemas.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, registryUrlProblem } from '../../server/decode/registry';
import { SchemaSourceError } from '../../server/decode/types';

async function fakeServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/apis/ccompat/v7`,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

test('registry auth: Basic from the user name and the named secret; a refusal names the secret, never its value', async () => {
  const seen: Array<string | undefined> = [];
  const fakeRefusingRegistry = await fakeServer((req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"error_code":401,"message":"Unauthorized"}');
  });
  try {
    const client = new RegistryClient({ url: fakeRefusingRegistry.url, auth: { username: 'reader', secret: 'registry-pw' } }, async (name) => (name === 'registry-pw' ? 's3cret-value' : undefined));
    await assert.rejects(Promise.resolve(client.resolve({ id: 7 })), (e: unknown) => {
      assert.ok(e instanceof SchemaSourceError);
      assert.equal(e.message, `the schema registry at ${fakeRefusingRegistry.url} refused the request (401): check the secret "registry-pw".`);
      return true;
    });
    assert.deepEqual(seen, ['Basic ' + Buffer.from('reader:s3cret-value').toString('base64')]);
    const unset = new RegistryClient({ url: fakeRefusingRegistry.url, auth: { username: 'reader', secret: 'missing' } }, async () => undefined);
    await assert.rejects(Promise.resolve(unset.resolve({ id: 7 })), { message: `the secret "missing" for the schema registry at ${fakeRefusingRegistry.url} is not set (headless: CLEAN_SECRET_MISSING).` });
    assert.equal(seen.length, 1);
  } finally {
    await fakeRefusingRegistry.close();
  }
});

test('registry timeout: a registry that never answers is reported after timeoutMs', async () => {
  const fakeStalledRegistry = await fakeServer(() => {});
  try {
    const client = new RegistryClient({ url: fakeStalledRegistry.url, timeoutMs: 200 }, async () => undefined);
    await assert.rejects(Promise.resolve(client.resolve({ id: 1 })), { message: `Cannot reach the schema registry at ${fakeStalledRegistry.url} (no answer in 0.2 s). Is it running?` });
  } finally {
    await fakeStalledRegistry.close();
  }
});

test('registry URLs: http(s) only, never with credentials (refused without quoting them)', () => {
  assert.equal(registryUrlProblem('http://127.0.0.1:8081'), undefined);
  assert.equal(registryUrlProblem('ftp://h/x'), 'the schema registry URL must start with http:// or https:// (got ftp://)');
  const p = registryUrlProblem('https://bob:hunter2@reg.example.com');
  assert.ok(p !== undefined && !p.includes('hunter2'));
  assert.equal(registryUrlProblem('not a url'), 'the schema registry URL "not a url" does not parse; write it as http://host:port[/path]');
});
