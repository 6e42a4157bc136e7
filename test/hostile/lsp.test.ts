/**
 * The language server stays responsive (issue 16.4), against the spawned agent over LSP: 200 quick edits of a
 * 10,000-pipeline clean.yaml while documentSymbol, hover, completion, clean/listPipelines and codeLens are asked,
 * each answered within 200 ms, while a running pipeline's metrics keep arriving; diagnostics published once for the
 * final version; an oversize file gets one diagnostic and nothing else.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CodeLens, CompletionItem, Diagnostic, DocumentSymbol, Hover } from 'vscode-languageserver-protocol';
import { AgentClient } from '../protocol/agentClient';

const PIPELINES = 10_000;
const EDITS = 200;
/** The response-time bound the issue sets for every request during the edits. */
const BOUND_MS = 200;
/** Lines before the first pipeline, and lines per pipeline, in the generated file. */
const HEAD = 5;
const PER = 5;

function bigConfig(n: number): string {
  const out = ['connections:', '  local:', '    backend: kafka', '    brokers: [127.0.0.1:9092]', 'pipelines:'];
  for (let i = 0; i < n; i++) out.push(`  - name: p${i}`, '    connection: local', `    topic: t${i}`, '    windowSize: 1000', '    detectors: [outliers, duplicates]');
  return out.join('\n') + '\n';
}

/** 0-based line of a pipeline's `key:` line in the generated file. */
const lineOf = (pipeline: number, key: 'name' | 'topic' | 'windowSize') => HEAD + pipeline * PER + (key === 'name' ? 0 : key === 'topic' ? 2 : 3);

/**
 * Edit i (1-based) of the burst: 198 retype a pipeline's window size (valid), one renames p5000 to p4999 (a
 * duplicate name), and the last sets p9999's window size to 0 (invalid).
 */
function editAt(i: number): { line: number; start: number; end: number; text: string } {
  if (i === 100) return { line: lineOf(5000, 'name'), start: 10, end: 15, text: 'p4999' };
  if (i === EDITS) return { line: lineOf(9999, 'windowSize'), start: 16, end: 20, text: '0' };
  const pipeline = (i * 37) % PIPELINES;
  return { line: lineOf(pipeline, 'windowSize'), start: 16, end: 20, text: String(1000 + i).padStart(4, '0') };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('the language server stays responsive (spawned agent)', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ settings: { logLevel: 'debug' } });
  });
  after(async () => {
    await agent.stop();
  });

  const logLines = () => agent.of('window/logMessage').map((r) => String(r.params.message));
  /** The diagnostics published for one version (a check of 10,000 pipelines takes seconds on a busy machine). */
  const diagnosticsOf = async (uri: string, version: number): Promise<Diagnostic[]> => {
    const find = () => agent.of('textDocument/publishDiagnostics').find((r) => r.params.uri === uri && r.params.version === version);
    await agent.waitFor(`diagnostics of ${uri} v${version}`, () => !!find(), 180_000);
    return find()!.params.diagnostics;
  };

  it(`answers every request within ${BOUND_MS} ms while ${EDITS} edits land on a ${PIPELINES}-pipeline clean.yaml, and a running pipeline's metrics keep flowing`, async () => {
    const uri = 'file:///tmp/clean-streams-hostile-lsp/clean.yaml';
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text: bigConfig(PIPELINES) } });
    // The first check of the opened file (a user opens it, then types).
    assert.deepEqual(await diagnosticsOf(uri, 1), []);
    // A pipeline runs meanwhile: in the issue its metrics stalled along with the editor (checks every 100 ms, sent at
    // most 4 times a second).
    await agent.request('clean/startPipeline', { name: 'live', url: 'demo:orders?rate=500&seed=3', settings: { checkInterval: '100ms' } });
    const liveMetricsAt = () => agent.of('clean/metrics').filter((r) => (r.params.events as Array<{ pipeline: string }>).some((e) => e.pipeline === 'live')).map((r) => r.at);
    await agent.waitFor('metrics of the live pipeline', () => liveMetricsAt().length > 0);
    const editsFrom = Date.now();

    const latencies: Array<{ method: string; ms: number }> = [];
    const requests: Array<[string, () => unknown]> = [
      ['textDocument/documentSymbol', () => ({ textDocument: { uri } })],
      ['textDocument/hover', () => ({ textDocument: { uri }, position: { line: lineOf(42, 'windowSize'), character: 6 } })],
      ['textDocument/completion', () => ({ textDocument: { uri }, position: { line: lineOf(7, 'windowSize') + 1, character: 4 } })],
      ['clean/listPipelines', () => ({})],
      ['textDocument/codeLens', () => ({ textDocument: { uri } })],
    ];
    let asked = 0;
    const ask = async () => {
      const [method, params] = requests[asked++ % requests.length];
      const t0 = performance.now();
      await agent.request(method, params());
      latencies.push({ method, ms: performance.now() - t0 });
    };

    let version = 1;
    const edit = async (i: number) => {
      const e = editAt(i);
      await agent.notify('textDocument/didChange', {
        textDocument: { uri, version: ++version },
        contentChanges: [{ range: { start: { line: e.line, character: e.start }, end: { line: e.line, character: e.end } }, text: e.text }],
      });
    };
    const length = bigConfig(PIPELINES).length; // the edits before the last keep it
    const started = (v: number) => logLines().includes(`Checking clean.yaml v${v} (${length} characters).`);

    for (let i = 1; i <= EDITS; i++) {
      await edit(i);
      await ask();
      if (i === EDITS / 2) {
        // A pause in the typing: the debounced check of this version starts; keep asking while it runs, then type on,
        // which must cancel it.
        await waitWhileAsking(() => started(version), ask, `the check of v${version} to start`);
        await ask();
      }
    }
    const last = version;
    assert.equal(last, EDITS + 1);
    // Keep asking while the final version is checked: requests interleave with the check.
    await waitWhileAsking(() => agent.of('textDocument/publishDiagnostics').some((r) => r.params.uri === uri && r.params.version === last), ask, `diagnostics of v${last}`);
    const editsTo = Date.now();
    const arrivals = [editsFrom, ...liveMetricsAt().filter((t) => t > editsFrom && t < editsTo), editsTo];
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i]!);
    console.log(`live pipeline during the edits: ${arrivals.length - 2} metrics notifications in ${editsTo - editsFrom} ms, longest gap ${Math.max(...gaps)} ms`);
    assert.ok(Math.max(...gaps) < 1000, `the live pipeline's metrics paused ${Math.max(...gaps)} ms during the edits`);
    await agent.request('clean/stopPipeline', { pipeline: 'live', remove: true });

    const published = agent.of('textDocument/publishDiagnostics').filter((r) => r.params.uri === uri);
    assert.deepEqual(published.map((r) => r.params.version), [1, last], 'diagnostics once for the opened version and once for the final one');
    const diagnostics = published[1].params.diagnostics as Diagnostic[];
    assert.deepEqual(
      diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.message]),
      [
        [lineOf(5000, 'name'), 10, lineOf(5000, 'name'), 15, `Duplicate pipeline name "p4999" (first used on line ${lineOf(4999, 'name') + 1}). Pipeline names must be unique.`],
        [lineOf(9999, 'windowSize'), 16, lineOf(9999, 'windowSize'), 17, 'windowSize must be a positive whole number of records (got 0)'],
      ],
    );
    const mid = EDITS / 2 + 1;
    assert.ok(logLines().includes(`Check of clean.yaml v${mid} cancelled: a newer version replaced it.`), `the check of v${mid} was cancelled; log: ${logLines().slice(-8).join(' | ')}`);
    assert.ok(!logLines().some((l) => l.startsWith(`Checked clean.yaml v${mid} `)), `the check of v${mid} did not finish`);

    const sorted = latencies.map((l) => l.ms).sort((a, b) => a - b);
    const worst = latencies.reduce((a, b) => (b.ms > a.ms ? b : a));
    console.log(`${latencies.length} requests during ${EDITS} edits: max ${worst.ms.toFixed(1)} ms (${worst.method}), p99 ${percentile(sorted, 99).toFixed(1)} ms, median ${percentile(sorted, 50).toFixed(1)} ms`);
    for (const [method] of requests) {
      const own = latencies.filter((l) => l.method === method).map((l) => l.ms).sort((a, b) => a - b);
      console.log(`  ${method}: ${own.length} asked, max ${own[own.length - 1].toFixed(1)} ms, p99 ${percentile(own, 99).toFixed(1)} ms, median ${percentile(own, 50).toFixed(1)} ms`);
    }
    assert.ok(latencies.length >= EDITS + 1);
    assert.ok(worst.ms < BOUND_MS, `every request within ${BOUND_MS} ms; the slowest, ${worst.method}, took ${worst.ms.toFixed(1)} ms`);

    // Settled: every feature answers from the final version.
    const symbols = await agent.request<DocumentSymbol[]>('textDocument/documentSymbol', { textDocument: { uri } });
    const children = symbols[1].children!;
    assert.equal(children.length, PIPELINES);
    assert.deepEqual([children[5000].name, children[5000].detail, children[5000].range.start.line], ['p4999', 'local · t5000', lineOf(5000, 'name')]);
    const hover = await agent.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line: lineOf(9999, 'windowSize'), character: 6 } });
    assert.equal(
      (hover.contents as { value: string }).value,
      '**windowSize** · integer · default 1000\n\nHow many of the latest records the rolling window holds; every metric and the score are over this window.',
    );
    assert.deepEqual(hover.range, { start: { line: lineOf(9999, 'windowSize'), character: 4 }, end: { line: lineOf(9999, 'windowSize'), character: 14 } });
    const lenses = await agent.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(lenses.length, PIPELINES);
    assert.deepEqual(lenses.filter((l) => l.command!.title !== '▶ Monitor').map((l) => [l.range.start.line, l.command!.title]), [
      [lineOf(5000, 'name'), '▶ Monitor (fix the errors first)'],
      [lineOf(9999, 'name'), '▶ Monitor (fix the errors first)'],
    ]);
    const completion = await agent.request<CompletionItem[]>('textDocument/completion', { textDocument: { uri }, position: { line: lineOf(3, 'name') + 1, character: 16 } });
    assert.deepEqual(completion.map((c) => [c.label, c.detail]), [['local', 'kafka connection']]);
  });

  it('gives a file over 2 MB exactly one diagnostic, and no further work', async () => {
    const uri = 'file:///tmp/clean-streams-hostile-lsp/big.clean.yaml';
    const text = bigConfig(20_000); // 2.2 MB
    const mb = Math.round((Buffer.byteLength(text) / (1024 * 1024)) * 10) / 10;
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    const diagnostics = await diagnosticsOf(uri, 1);
    assert.deepEqual(diagnostics, [
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 'connections:'.length } },
        severity: 1,
        source: 'clean',
        message: `big.clean.yaml is ${mb} MB; Clean Streams checks files up to 2 MB. Split its pipelines across several *.clean.yaml files.`,
      },
    ]);
    assert.equal(mb, 2.2);
    assert.ok(!logLines().some((l) => l.startsWith('Checking big.clean.yaml')), 'the oversize file is never parsed');
    assert.deepEqual(await agent.request('textDocument/documentSymbol', { textDocument: { uri } }), []);
    assert.deepEqual(await agent.request('textDocument/codeLens', { textDocument: { uri } }), []);
    assert.deepEqual(await agent.request('textDocument/completion', { textDocument: { uri }, position: { line: 7, character: 4 } }), []);
    assert.equal(await agent.request('textDocument/hover', { textDocument: { uri }, position: { line: 8, character: 6 } }), null);
    await assert.rejects(
      agent.request('clean/startPipeline', { configUri: uri, pipelineName: 'p1' }),
      new RegExp(`big\\.clean\\.yaml is ${mb} MB; Clean Streams checks files up to 2 MB\\.`),
    );
    assert.equal(agent.of('textDocument/publishDiagnostics').filter((r) => r.params.uri === uri).length, 1);
  });
});

/** Asks request after request until `done` holds (each answer is awaited: no sleeps), or fails after the deadline. */
async function waitWhileAsking(done: () => boolean, ask: () => Promise<void>, what: string, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await ask();
  }
}
