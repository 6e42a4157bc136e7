/**
 * Memory has a budget (issue 16): what a hostile user can make the agent hold. Each test drives the real agent
 * (dist/agent.js over LSP, or the clean-agent CLI), asserts the exact refusal or flag, and reads the agent's
 * RSS from /proc/<pid>/status.
 *
 * The rows "20 pipelines at windowSize 10000000" and "10,000 pipelines" are in memory-window.test.ts and
 * memory-many.test.ts: each takes a good part of a test file's time limit on a loaded machine.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient, ROOT, fileUri } from '../protocol/agentClient';
import { MB, bytesRead, procMB, refusal, until } from './probe';

const CLI = path.join(ROOT, 'bin', 'clean-agent.js');
const dir = mkdtempSync(path.join(tmpdir(), 'clean-hostile-memory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: dir, maxBuffer: 64 * MB }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, ms: Number(process.hrtime.bigint() - t0) / 1e6 });
    });
  });
}

/** A JSON Lines file: one record, one line holding a JSON string of `bytes` bytes, one record. */
function longLineFile(name: string, bytes: number): string {
  const file = path.join(dir, name);
  const fd = openSync(file, 'w');
  writeSync(fd, '{"a":1}\n{"x":"');
  const block = Buffer.alloc(MB, 'y');
  for (let left = bytes; left > 0; left -= MB) writeSync(fd, left >= MB ? block : block.subarray(0, left));
  writeSync(fd, '"}\n{"a":2}\n');
  closeSync(fd);
  return file;
}

test('a 50 MB pipeline name is refused at once, quoting only its start; nothing runs, nothing is echoed, RSS stays bounded', async (t) => {
  const client = await AgentClient.start();
  try {
    const pid = client.process.pid!;
    await client.request('clean/listPipelines');
    const before = procMB(pid, 'VmRSS');
    const name = 'n'.repeat(50 * MB);
    const expected = `Pipeline name "${'n'.repeat(40)}…" is 52428800 characters long; names are at most 256 characters. Use a shorter name.`;
    const t0 = Date.now();
    assert.equal(await refusal(client.request('clean/startPipeline', { name, url: 'demo:orders' })), expected);
    const took = Date.now() - t0;
    // The same through a config file entry's name (the file is never read: the name is refused first).
    assert.equal(await refusal(client.request('clean/startPipeline', { configUri: fileUri(path.join(dir, 'none.clean.yaml')), pipelineName: name })), expected);
    const t1 = Date.now();
    const listed = await client.request('clean/listPipelines');
    const next = Date.now() - t1;
    assert.deepEqual(listed.pipelines, []);
    assert.deepEqual(client.received.filter((r) => r.method.startsWith('clean/')), []);
    const rss = procMB(pid, 'VmRSS');
    // 50 MB travel over stdio and are parsed once per request; the bound leaves room for that, not for a pipeline.
    assert.ok(took < 5000, `refusal took ${took} ms`);
    assert.ok(next < 200, `the next request took ${next} ms`);
    assert.ok(rss - before < 400, `agent RSS grew ${(rss - before).toFixed(0)} MB`);
    t.diagnostic(`50 MB name: refused in ${took} ms, next request ${next} ms, RSS +${(rss - before).toFixed(0)} MB`);
  } finally {
    await client.stop();
  }
});

test('names over 256 characters in clean.yaml get a diagnostic at their line; clean-agent run refuses them (exit 2)', async () => {
  const long = (c: string) => c.repeat(300);
  const text = [
    'connections:',
    '  k:',
    '    backend: kafka',
    '    brokers: [127.0.0.1:9092]',
    `    auth: { mechanism: plain, username: u, secret: ${long('s')} }`,
    'pipelines:',
    `  - name: ${long('p')}`,
    '    source: demo:orders',
    '  - name: rules',
    '    source: demo:orders',
    '    fields:',
    `      ${long('f')}: { required: true }`,
    '    detectors: [outliers, ' + long('d') + ']',
    '',
  ].join('\n');
  const file = path.join(dir, 'names.clean.yaml');
  writeFileSync(file, text);
  const quoted = (c: string) => `"${c.repeat(40)}…" is 300 characters long; names are at most 256 characters. Use a shorter name.`;
  const expected = [
    { line: 4, message: `Secret name ${quoted('s')}` },
    { line: 6, message: `Pipeline name ${quoted('p')}` },
    { line: 11, message: `Field name ${quoted('f')}` },
    { line: 12, message: `Detector name ${quoted('d')}` },
  ];

  const client = await AgentClient.start();
  try {
    const uri = fileUri(file);
    await client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    const diagnostics = await client.diagnosticsFor(uri, 1);
    assert.deepEqual(
      diagnostics.filter((d) => String(d.message).includes('characters long')).map((d) => ({ line: d.range.start.line, message: d.message })),
      expected,
    );
  } finally {
    await client.stop();
  }

  const r = await runCli(['run', file]);
  assert.equal(r.code, 2);
  const columns = [52, 11, 7, 27];
  assert.equal(r.stderr, `clean-agent: ${file} has 4 problems:\n${expected.map((e, i) => `  ${file}:${e.line + 1}:${columns[i]}: ${e.message}\n`).join('')}`);

  // A secret name in a URL, on the command line.
  const w = await runCli(['watch', `redis://127.0.0.1:6379/s?secret=${long('s')}`]);
  assert.deepEqual([w.code, w.stderr], [2, `clean-agent: ${expected[0].message}\nRun clean-agent --help for the options.\n`]);
});

test('file:/dev/zero: the endless line is flagged once as too large and read on in constant memory', async (t) => {
  const client = await AgentClient.start();
  try {
    const pid = client.process.pid!;
    await client.request('clean/listPipelines');
    const before = procMB(pid, 'VmRSS');
    const read0 = bytesRead(pid);
    await client.request('clean/startPipeline', { name: 'zero', url: 'file:/dev/zero' });
    await client.waitFor('a check with the flagged line', () =>
      client.of('clean/metrics').some((r) => r.params.events.some((e: any) => e.pipeline === 'zero' && e.records === 1 && e.detectors.parse.count === 1)),
    );
    // 4 GB read: what took 372 MB and growing before the fix.
    await until('4 GB read from /dev/zero', () => bytesRead(pid) - read0 > 4 * 1024 * MB, 120_000);
    const rss = procMB(pid, 'VmRSS');
    const samples = await client.request('clean/samples', { pipeline: 'zero', detector: 'parse' });
    assert.deepEqual(
      samples.map((s: any) => [s.position, s.reason]),
      [[1, 'message of more than 1048576 bytes (maxMessageBytes); not parsed']],
    );
    const last = client.of('clean/metrics').flatMap((r) => r.params.events).filter((e: any) => e.pipeline === 'zero').pop();
    assert.equal(last.records, 1);
    assert.ok(rss - before < 64, `agent RSS grew ${(rss - before).toFixed(0)} MB over 4 GB of /dev/zero`);
    t.diagnostic(`/dev/zero: 4 GB read, RSS +${(rss - before).toFixed(1)} MB`);
  } finally {
    await client.stop();
  }
});

test('a 200 MB single line: flagged as too large, skipped in linear time (50 MB vs 200 MB) and constant memory', async (t) => {
  const f50 = longLineFile('line-50.jsonl', 50 * MB);
  const f200 = longLineFile('line-200.jsonl', 200 * MB);
  const last = (stdout: string) => stdout.trim().split('\n').map((l) => JSON.parse(l));

  // The CLI: the line is line 2, flagged under parse; the records around it are read.
  const r50 = await runCli(['watch', `file:${f50}`, '--json']);
  const r200 = await runCli(['watch', `file:${f200}`, '--json']);
  for (const r of [r50, r200]) {
    assert.equal(r.code, 0, r.stderr);
    const events = last(r.stdout);
    const metrics = events.filter((e) => e.type === 'metrics').pop();
    assert.deepEqual([metrics.records, metrics.detectors.parse.count], [3, 1]);
    assert.deepEqual(events.filter((e) => e.type === 'end'), [{ type: 'end', pipeline: path.basename(r === r50 ? f50 : f200), records: 3 }]);
  }
  // Linear: four times the bytes take at most about four times as long (quadratic buffering took sixteen).
  const ratio = r200.ms / r50.ms;
  assert.ok(ratio < 6, `200 MB took ${ratio.toFixed(2)} times as long as 50 MB (${r200.ms.toFixed(0)} vs ${r50.ms.toFixed(0)} ms)`);

  // The agent: its peak RSS while it reads the 200 MB line.
  const client = await AgentClient.start();
  try {
    const pid = client.process.pid!;
    await client.request('clean/listPipelines');
    const before = procMB(pid, 'VmRSS');
    await client.request('clean/startPipeline', { name: 'long', url: `file:${f200}` });
    await client.waitFor('the end of the file', () => client.of('clean/status').some((r) => r.params.pipeline === 'long' && r.params.state === 'stopped'), 60_000);
    const peak = procMB(pid, 'VmHWM');
    const samples = await client.request('clean/samples', { pipeline: 'long', detector: 'parse' });
    assert.deepEqual(
      samples.map((s: any) => [s.position, s.reason, s.text.slice(0, 10)]),
      [[2, 'message of more than 1048576 bytes (maxMessageBytes); not parsed', '{"x":"yyyy']],
    );
    assert.ok(peak - before < 64, `agent peak RSS ${peak.toFixed(0)} MB, ${(peak - before).toFixed(0)} MB over its RSS before the 200 MB line`);
    t.diagnostic(`long line: 200 MB / 50 MB time ratio ${ratio.toFixed(2)} (${r200.ms.toFixed(0)} / ${r50.ms.toFixed(0)} ms); agent peak RSS +${(peak - before).toFixed(1)} MB`);
  } finally {
    await client.stop();
  }
});
