/**
 * The editor side of schemas (issue 13) against the spawned agent: hovering a topic in clean.yaml shows its schema
 * (from the file's `schemas:` folder; an unreachable registry says so quickly), completion offers the workspace
 * folders holding schema files for `schemas:` and the formats for `format:`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { CompletionItem, Hover } from 'vscode-languageserver-protocol';
import { AgentClient, fileUri } from './agentClient';

describe('schemas in clean.yaml: hover a topic, complete schemas: and format:', () => {
  let agent: AgentClient;
  let dir: string;
  let version = 0;
  before(async () => {
    agent = await AgentClient.start();
    dir = mkdtempSync(path.join(os.tmpdir(), 'clean-schemas-lsp-'));
    const order = { type: 'record', name: 'Order', namespace: 'shop', fields: [{ name: 'id', type: 'long' }, { name: 'amount', type: ['null', 'double'] }, { name: 'country', type: 'string' }] };
    mkdirSync(path.join(dir, 'schemas'));
    writeFileSync(path.join(dir, 'schemas', 'orders.avsc'), JSON.stringify(order));
    mkdirSync(path.join(dir, 'proto'));
    writeFileSync(path.join(dir, 'proto', 'reading.proto'), 'syntax = "proto3";\nmessage Reading { int64 id = 1; }\n');
    writeFileSync(path.join(dir, 'proto', 'event.schema.json'), '{"title":"Event","type":"object"}');
    mkdirSync(path.join(dir, 'src', 'main', 'avro'), { recursive: true });
    writeFileSync(path.join(dir, 'src', 'main', 'avro', 'a.avsc'), '"string"');
    writeFileSync(path.join(dir, 'src', 'main', 'avro', 'b.avsc'), '"long"');
    mkdirSync(path.join(dir, 'node_modules', 'dep'), { recursive: true });
    writeFileSync(path.join(dir, 'node_modules', 'dep', 'x.avsc'), '"string"');
    mkdirSync(path.join(dir, 'docs'));
    writeFileSync(path.join(dir, 'docs', 'readme.md'), 'no schemas here');
  });
  after(async () => {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens `text` as `<dir>/<name>` with `|` marking the cursor; returns its uri and the cursor position. */
  async function openAt(text: string, name = 'clean.yaml') {
    const offset = text.indexOf('|');
    const clean = text.replace('|', '');
    const lines = clean.slice(0, offset).split('\n');
    const uri = fileUri(path.join(dir, name));
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: ++version, text: clean } });
    return { uri, position: { line: lines.length - 1, character: lines[lines.length - 1].length } };
  }

  const hoverText = (h: Hover | null) => (h?.contents as { value: string } | undefined)?.value;

  it('offers the folders that hold schema files for schemas:, nearest first, with what each holds', async () => {
    const { uri, position } = await openAt('schemas: |\npipelines:\n  - name: a\n    source: demo:\n', 'a.clean.yaml');
    const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    assert.deepEqual(
      items.map((i) => [i.label, i.detail, (i.textEdit as { newText: string }).newText]),
      [
        ['./proto', '1 .proto, 1 .schema.json', './proto'],
        ['./schemas', '1 .avsc', './schemas'],
        ['./src/main/avro', '2 .avsc', './src/main/avro'],
      ],
    );
    // A new item of a block list gets its dash; folders already listed are not offered again.
    const list = await openAt('schemas:\n  - ./schemas\n  |\n', 'b.clean.yaml');
    const more = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri: list.uri }, position: list.position });
    assert.deepEqual(more.map((i) => (i.textEdit as { newText: string }).newText), ['- ./proto', '- ./src/main/avro']);
  });

  it('offers the formats for format:', async () => {
    const { uri, position } = await openAt('pipelines:\n  - name: a\n    source: demo:\n    format: |\n', 'c.clean.yaml');
    const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    assert.deepEqual(items.map((i) => i.label), ['auto', 'json', 'avro', 'protobuf', 'jsonschema']);
  });

  it("hovering a topic shows its schema from the file's schemas: folder", async () => {
    const text = 'schemas: ./schemas\nconnections:\n  local:\n    backend: kafka\n    brokers: [127.0.0.1:9092]\npipelines:\n  - name: orders\n    connection: local\n    topic: orders\n';
    const { uri } = await openAt(text, 'd.clean.yaml');
    await agent.diagnosticsFor(uri, version);
    const hover = await agent.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 8, character: 12 } });
    const file = path.join(dir, 'schemas', 'orders.avsc');
    const value = hoverText(hover)!;
    assert.equal(
      value.slice(value.indexOf('**Schema**')),
      `**Schema**: avro orders.avsc, record shop.Order, from ${file.replace(/[\\`*_[\]<>!$]/g, '\\$&')}\n\n\`\`\`\nid: long\namount: null|double\ncountry: string\n\`\`\``,
    );
    assert.deepEqual(hover!.range, { start: { line: 8, character: 11 }, end: { line: 8, character: 17 } });
  });

  it('a registry that cannot be reached: the hover says so, without waiting long', async () => {
    // A port nothing listens on: taken, then let go.
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const text = `connections:\n  local:\n    backend: kafka\n    brokers: [127.0.0.1:9092]\n    registry: { url: "http://127.0.0.1:${port}" }\npipelines:\n  - name: orders\n    connection: local\n    topic: orders\n`;
    const { uri } = await openAt(text, 'e.clean.yaml');
    await agent.diagnosticsFor(uri, version);
    const hover = await agent.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 8, character: 12 } });
    const value = hoverText(hover)!;
    assert.equal(value.slice(value.indexOf('Schema:')), `Schema: not available — Cannot reach the schema registry at http://127.0.0.1:${port} (ECONNREFUSED). Is it running?`);
  });

  it('a topic with no schema source: the hover is the key\'s own', async () => {
    const text = 'connections:\n  local:\n    backend: kafka\n    brokers: [127.0.0.1:9092]\npipelines:\n  - name: orders\n    connection: local\n    topic: orders\n';
    const { uri } = await openAt(text, 'f.clean.yaml');
    await agent.diagnosticsFor(uri, version);
    const hover = await agent.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line: 7, character: 12 } });
    assert.ok(!hoverText(hover)!.includes('Schema'), hoverText(hover));
  });
});
