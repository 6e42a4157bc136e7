import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ResolveTopicResult } from '../../../shared/protocol';
import { cleanApi, workspaceFile, type CleanStreamsApi } from './api';

/** Asks the agent about the cursor placed inside the first occurrence of `token` in a fixture file. */
async function resolveAt(api: CleanStreamsApi, file: string, token: string): Promise<ResolveTopicResult> {
  const uri = workspaceFile(file);
  const document = await vscode.workspace.openTextDocument(uri);
  const offset = document.getText().indexOf(token);
  assert.ok(offset >= 0, `${file} does not contain ${token}`);
  const position = document.positionAt(offset + 2);
  return api.resolveTopic({ uri: uri.toString(), position: { line: position.line, character: position.character } });
}

describe('clean/resolveTopic on fixture files', () => {
  let api: CleanStreamsApi;
  before(async () => {
    api = await cleanApi();
    await api.whenAgentReady();
  });

  it('docker-compose.yml: the topic an app service names, with the compose broker', async () => {
    const result = await resolveAt(api, 'docker-compose.yml', 'orders.v1');
    assert.equal(result.fileKind, 'compose');
    assert.equal(result.topic, 'orders.v1');
    assert.equal(result.backend, 'kafka');
    assert.deepEqual(result.candidates.map((c) => c.topic), ['orders.v1']);
    // The advertised listener is what a monitor on the host reaches, not the in-network kafka:9092.
    assert.equal(result.url, 'kafka://localhost:9092/orders.v1');
  });

  it('application.properties: the Spring topic property, with spring.kafka.bootstrap-servers', async () => {
    const result = await resolveAt(api, 'application.properties', 'payments.v1');
    assert.equal(result.fileKind, 'properties');
    assert.equal(result.topic, 'payments.v1');
    assert.equal(result.backend, 'kafka');
    assert.equal(result.url, 'kafka://localhost:9092/payments.v1');
  });

  it('.env: the *_TOPIC variable, with KAFKA_BROKERS', async () => {
    const result = await resolveAt(api, '.env', 'shipments.v1');
    assert.equal(result.fileKind, 'env');
    assert.equal(result.topic, 'shipments.v1');
    assert.equal(result.backend, 'kafka');
    assert.equal(result.url, 'kafka://localhost:9092/shipments.v1');
  });

  it('clean.yaml: the pipeline under the cursor', async () => {
    const result = await resolveAt(api, 'clean.yaml', 'payments.v1');
    assert.equal(result.fileKind, 'clean');
    assert.equal(result.topic, 'payments.v1');
    assert.equal(result.pipelineName, 'payments');
    assert.equal(result.backend, 'kafka');
    assert.equal(result.url, 'kafka://localhost:9092/payments.v1');
  });

  it('a file that names no topic says why', async () => {
    const result = await resolveAt(api, 'README.md', 'Fixture');
    assert.equal(result.topic, undefined);
    assert.deepEqual(result.candidates, []);
    assert.equal(result.fileKind, 'unknown');
    assert.match(result.reason ?? '', /^README\.md is not a file kind Clean Streams reads/);
  });
});
