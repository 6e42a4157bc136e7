/** Standard LSP on clean.yaml against the spawned agent: diagnostics, completion, hover, code lenses, symbols. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CodeLens, CompletionItem, DocumentSymbol, Hover } from 'vscode-languageserver-protocol';
import { AgentClient, ROOT, fileUri } from './agentClient';
import type { PipelineInfo } from '../../shared/protocol';

const fixture = (name: string) => path.join(ROOT, 'test', 'fixtures', 'config', name);

describe('clean.yaml editor features over standard LSP (spawned agent)', () => {
  let agent: AgentClient;
  let version = 0;
  before(async () => {
    agent = await AgentClient.start();
  });
  after(async () => {
    await agent.stop();
  });

  async function open(uri: string, text: string, languageId = 'yaml'): Promise<number> {
    version++;
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
    return version;
  }

  /** Opens `text` with `|` marking the cursor; returns the document uri and the cursor position. */
  async function openAt(text: string, name = 'clean.yaml') {
    const offset = text.indexOf('|');
    const clean = text.replace('|', '');
    const before = clean.slice(0, offset).split('\n');
    const uri = `file:///tmp/clean-streams-completion-${++version}/${name}`;
    await open(uri, clean);
    return { uri, position: { line: before.length - 1, character: before[before.length - 1].length } };
  }

  const labels = (items: CompletionItem[] | { items: CompletionItem[] }) => (Array.isArray(items) ? items : items.items).map((i) => i.label);

  it('publishes the diagnostics of an invalid file with exact ranges', async () => {
    const file = fixture('invalid.clean.yaml');
    const uri = fileUri(file);
    const v = await open(uri, readFileSync(file, 'utf8'));
    const diagnostics = await agent.diagnosticsFor(uri, v);
    assert.deepEqual(
      diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.severity, d.message]),
      [
        [2, 13, 2, 18, 1, 'Unknown backend "kafak". Did you mean "kafka"? Use kafka, redis, pulsar, file or demo.'],
        [7, 4, 7, 12, 1, 'Do not write a password in a config file. Store it with the command "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it here with secret: <name>.'],
        [10, 16, 10, 20, 1, 'Unknown connection "locl". Did you mean "local"? Connections in this file: local, cache.'],
        [12, 4, 12, 14, 1, 'Unknown key "windowsize" in a pipeline. Did you mean "windowSize"?'],
        [13, 22, 13, 25, 1, 'qualityThreshold must be a number between 0 and 1 (got 1.5)'],
        [14, 16, 14, 17, 1, 'windowSize must be a positive whole number of records (got 0)'],
        [15, 26, 15, 35, 1, 'Unknown detector "duplicate". Did you mean "duplicates"? Use outliers, duplicates, missing, schema, parse, rules or labels.'],
        [16, 30, 16, 31, 1, 'thresholds.duplicates must be a number between 0 and 1 (got 2)'],
        [17, 19, 17, 23, 1, 'checkInterval "soon" is not an interval. Use a duration such as 1s or 500ms, or a record count such as 1000.'],
        [18, 10, 18, 16, 1, 'Duplicate pipeline name "orders" (first used on line 10). Pipeline names must be unique.'],
        [21, 15, 21, 19, 1, 'maxFields must be a whole number (got "many")'],
      ],
    );
    assert.ok(diagnostics.every((d) => d.source === 'clean'));
  });

  it('clears diagnostics as the file is fixed, and publishes none for a valid file', async () => {
    const uri = 'file:///tmp/clean-streams-edit/clean.yaml';
    const v1 = await open(uri, 'pipelines:\n  - name: a\n    source: demo:orders\n    windowSize: -1\n');
    assert.deepEqual((await agent.diagnosticsFor(uri, v1)).map((d) => d.message), ['windowSize must be a positive whole number of records (got -1)']);
    const v2 = ++version;
    await agent.notify('textDocument/didChange', {
      textDocument: { uri, version: v2 },
      contentChanges: [{ range: { start: { line: 3, character: 16 }, end: { line: 3, character: 18 } }, text: '500' }],
    });
    assert.deepEqual(await agent.diagnosticsFor(uri, v2), []);
    const valid = fixture('valid.clean.yaml');
    const v3 = await open(fileUri(valid), readFileSync(valid, 'utf8'));
    assert.deepEqual(await agent.diagnosticsFor(fileUri(valid), v3), []);
  });

  it('does not touch YAML files that are not pipeline configs', async () => {
    const uri = 'file:///tmp/clean-streams-other/docker-compose.yml';
    await open(uri, 'services: [');
    // The agent handles documents in order: once a config file opened after it has its diagnostics, the compose file had its turn.
    const marker = 'file:///tmp/clean-streams-other/clean.yaml';
    await agent.diagnosticsFor(marker, await open(marker, 'pipelines: [\n'));
    assert.equal(agent.of('textDocument/publishDiagnostics').filter((r) => r.params.uri === uri).length, 0);
  });

  it('completes the keys of a pipeline, without the ones already there', async () => {
    const { uri, position } = await openAt('pipelines:\n  - name: a\n    connection: x\n    |\n');
    const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    assert.deepEqual(labels(items), [
      'source', 'topic', 'from', 'options', 'windowSize', 'qualityThreshold', 'checkInterval', 'detectors', 'thresholds', 'weights',
      'fields', 'labelField', 'outliers', 'baseline', 'usualFieldShare', 'hysteresis', 'cooldown', 'maxMessageBytes', 'maxFields', 'checkBudgetMs',
      'sample', 'workers', 'format', 'schema', 'group', 'summariesTopic', 'alerts',
    ]);
    const windowSize = items.find((i) => i.label === 'windowSize')!;
    assert.equal(windowSize.detail, 'integer · default 1000');
    assert.deepEqual(windowSize.textEdit, { range: { start: position, end: position }, newText: 'windowSize: ' });
  });

  it('completes the top-level keys and the keys of a connection', async () => {
    const top = await openAt('|');
    assert.deepEqual(labels(await agent.request('textDocument/completion', { textDocument: { uri: top.uri }, position: top.position })), ['connections', 'defaults', 'metrics', 'alerts', 'schemas', 'pipelines']);
    const conn = await openAt('connections:\n  local:\n    backend: kafka\n    |');
    assert.deepEqual(labels(await agent.request('textDocument/completion', { textDocument: { uri: conn.uri }, position: conn.position })), ['brokers', 'url', 'serviceUrl', 'path', 'auth', 'tls', 'options', 'registry']);
  });

  it('completes backends, replacing the word being typed', async () => {
    const { uri, position } = await openAt('connections:\n  local:\n    backend: ka|\n');
    const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    assert.deepEqual(labels(items), ['kafka', 'redis', 'pulsar', 'file', 'demo']);
    assert.deepEqual(items[0].textEdit, { range: { start: { line: 2, character: 13 }, end: { line: 2, character: 15 } }, newText: 'kafka' });
  });

  it('completes detector names inside a [ ] flow list, leaving out those present', async () => {
    const { uri, position } = await openAt('pipelines:\n  - name: a\n    detectors: [outliers, |]\n');
    assert.deepEqual(labels(await agent.request('textDocument/completion', { textDocument: { uri }, position })), ['duplicates', 'missing', 'schema', 'parse', 'rules', 'labels']);
    const block = await openAt('pipelines:\n  - name: a\n    detectors:\n      - parse\n      - |\n');
    assert.deepEqual(labels(await agent.request('textDocument/completion', { textDocument: { uri: block.uri }, position: block.position })), ['outliers', 'duplicates', 'missing', 'schema', 'rules', 'labels']);
  });

  it('completes a detectors value as a list, which the file\'s own check then accepts (issue 17.9)', async () => {
    const head = 'pipelines:\n  - name: a\n    source: demo:orders\n';
    /** The text with a completion item's edit applied. */
    const applied = (text: string, item: CompletionItem) => {
      const edit = item.textEdit as { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string };
      const lines = text.split('\n');
      const at = (p: { line: number; character: number }) => lines.slice(0, p.line).reduce((n, l) => n + l.length + 1, 0) + p.character;
      return text.slice(0, at(edit.range.start)) + edit.newText + text.slice(at(edit.range.end));
    };
    const cases: Array<[string, string, string]> = [
      // [text with the cursor, newText of "duplicates", the file after it]
      [`${head}    detectors: |\n`, '[duplicates]', `${head}    detectors: [duplicates]\n`],
      [`${head}    detectors:|\n`, ' [duplicates]', `${head}    detectors: [duplicates]\n`],
      [`${head}    detectors: dup|\n`, '[duplicates]', `${head}    detectors: [duplicates]\n`],
      [`${head}    detectors:\n      |\n`, '- duplicates', `${head}    detectors:\n      - duplicates\n`],
      [`${head}    detectors:\n      - parse\n      |\n`, '- duplicates', `${head}    detectors:\n      - parse\n      - duplicates\n`],
      [`${head}    detectors: [parse, |]\n`, 'duplicates', `${head}    detectors: [parse, duplicates]\n`],
      [`${head}    detectors:\n      - |\n`, 'duplicates', `${head}    detectors:\n      - duplicates\n`],
    ];
    for (const [withCursor, newText, after] of cases) {
      const { uri, position } = await openAt(withCursor);
      const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
      const duplicates = items.find((i) => i.label === 'duplicates')!;
      assert.equal((duplicates.textEdit as { newText: string }).newText, newText, withCursor);
      assert.equal(applied(withCursor.replace('|', ''), duplicates), after);
      const checked = `file:///tmp/clean-streams-completed-${++version}/clean.yaml`;
      assert.deepEqual(await agent.diagnosticsFor(checked, await open(checked, after)), [], after);
    }
    const listed = await openAt(`${head}    detectors:\n      - parse\n      |\n`);
    assert.deepEqual(labels(await agent.request('textDocument/completion', { textDocument: { uri: listed.uri }, position: listed.position })), ['outliers', 'duplicates', 'missing', 'schema', 'rules', 'labels']);
  });

  it('completes detector names as keys of thresholds in a { } flow map', async () => {
    const { uri, position } = await openAt('pipelines:\n  - name: a\n    thresholds: { duplicates: 0.1, | }\n');
    assert.deepEqual(labels(await agent.request('textDocument/completion', { textDocument: { uri }, position })), ['outliers', 'missing', 'schema', 'parse', 'rules', 'labels']);
  });

  it('puts the space a value needs right after a colon', async () => {
    const { uri, position } = await openAt('connections:\n  local:\n    backend:|\n');
    const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    assert.deepEqual(items[0].textEdit, { range: { start: position, end: position }, newText: ' kafka' });
  });

  it('completes connection names from the file', async () => {
    const { uri, position } = await openAt('connections:\n  local:\n    backend: kafka\n  cache:\n    backend: redis\npipelines:\n  - name: a\n    connection: |\n');
    const items = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position });
    assert.deepEqual(labels(items), ['local', 'cache']);
    assert.deepEqual(items.map((i) => i.detail), ['kafka connection', 'redis connection']);
  });

  it('explains every key on hover, with its default', async () => {
    const file = fixture('valid.clean.yaml');
    const uri = fileUri(file);
    const hoverAt = (line: number, character: number) => agent.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
    const windowSize = (await hoverAt(20, 6))!;
    assert.deepEqual(windowSize.range, { start: { line: 20, character: 4 }, end: { line: 20, character: 14 } });
    assert.equal(
      (windowSize.contents as { value: string }).value,
      "**windowSize** · integer · default 1000\n\nHow many of the latest records the rolling window holds; every metric and the score are over this window.",
    );
    const threshold = (await hoverAt(21, 6))!;
    assert.match((threshold.contents as { value: string }).value, /^\*\*qualityThreshold\*\* · number · default 0\.8\n\nAlert when the window's quality score/);
    const brokers = (await hoverAt(4, 5))!;
    assert.match((brokers.contents as { value: string }).value, /^\*\*brokers\*\* · array \| string\n\nKafka bootstrap servers/);
    const detector = (await hoverAt(23, 30))!;
    assert.equal((detector.contents as { value: string }).value, '**duplicates** detector\n\nThe same record (by a 64-bit hash of its canonical bytes) seen earlier in the window.');
    const connection = (await hoverAt(17, 17))!;
    assert.equal((connection.contents as { value: string }).value, 'Connection **local**: **kafka** · 127.0.0.1:9092');
    const secret = (await hoverAt(5, 55))!;
    assert.match((secret.contents as { value: string }).value, /^\*\*secret\*\* · string\n\nThe NAME of a stored secret/);
    const checkInterval = (await hoverAt(22, 6))!;
    assert.match((checkInterval.contents as { value: string }).value, /^\*\*checkInterval\*\* · string \| integer · default 1s\n\n/);
  });

  it('lists connections and pipelines as document symbols', async () => {
    const uri = fileUri(fixture('valid.clean.yaml'));
    const symbols = await agent.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    assert.deepEqual(symbols.map((s) => [s.name, s.range.start.line, s.range.end.line]), [
      ['connections', 1, 13],
      ['pipelines', 15, 37],
    ]);
    assert.deepEqual(symbols[0].children!.map((c) => [c.name, c.detail, c.selectionRange.start.line, c.selectionRange.start.character]), [
      ['local', 'kafka', 2, 2],
      ['cache', 'redis', 7, 2],
      ['sim', 'demo', 10, 2],
    ]);
    assert.deepEqual(symbols[1].children!.map((c) => [c.name, c.detail, c.range.start.line]), [
      ['orders', 'local · orders', 16],
      ['sessions', 'cache · sessions', 26],
      ['demo', 'sim · orders', 30],
      ['replay', 'file:./events.jsonl', 34],
    ]);
  });

  it('puts a Monitor lens above each pipeline, and Stop with the score once it runs', async () => {
    const dir = 'file:///tmp/clean-streams-lens';
    const uri = `${dir}/demo.clean.yaml`;
    await open(uri, 'pipelines:\n  - name: shop\n    source: demo:orders?rate=500&seed=2\n    checkInterval: 200ms\n  - name: broken\n    source: demo:orders\n    windowSize: 0\n');
    const lenses = await agent.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.deepEqual(lenses, [
      { range: { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, command: { title: '▶ Monitor', command: 'clean.startPipeline', arguments: [{ configUri: uri, pipelineName: 'shop' }] } },
      { range: { start: { line: 4, character: 0 }, end: { line: 4, character: 0 } }, command: { title: '▶ Monitor (fix the errors first)', command: 'clean.startPipeline', arguments: [{ configUri: uri, pipelineName: 'broken' }] } },
    ]);
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { configUri: uri, pipelineName: 'shop' });
    assert.equal(info.configUri, uri);
    assert.equal(info.cliCommand, "clean-agent watch 'demo:orders?rate=500&seed=2' --check-every 200ms");
    await agent.waitFor('a metrics batch of shop', () => agent.of('clean/metrics').some((r) => r.params.events.some((e: { pipeline: string }) => e.pipeline === 'shop')));
    await agent.waitFor('a code lens refresh request', () => agent.of('workspace/codeLens/refresh').length > 0);
    const running = await agent.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.match(running[0].command!.title, /^■ Stop · score (0|1)\.\d\d$/);
    assert.equal(running[0].command!.command, 'clean.stopPipeline');
    assert.deepEqual(running[0].command!.arguments, [{ pipeline: 'shop' }]);
    await assert.rejects(agent.request('clean/startPipeline', { configUri: uri, pipelineName: 'broken' }), /Pipeline "broken" in demo\.clean\.yaml \(line 5\) cannot start: windowSize must be a positive whole number of records \(got 0\)/);
    await assert.rejects(agent.request('clean/startPipeline', { configUri: uri, pipelineName: 'nope' }), /demo\.clean\.yaml has no pipeline named "nope"; it has shop, broken\./);
    await agent.request('clean/stopPipeline', { pipeline: 'shop' });
    const stopped = await agent.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(stopped[0].command!.title, '▶ Monitor');
  });
});
