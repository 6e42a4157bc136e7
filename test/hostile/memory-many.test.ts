/**
 * Memory has a budget (issue 16), the row "10,000 pipelines" (1.6–2 GB before the budget): the agent over LSP and
 * `clean-agent run` on a file of 10,000 pipelines. A demo pipeline of windowSize 10 with its rules is estimated at
 * 2585044 bytes (2.5 MB, see server/engine/budget.ts), one without rules (as clean.yaml runs it) at 2.3 MB.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient, ROOT } from '../protocol/agentClient';
import { procMB } from './probe';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-hostile-many-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('10,000 pipelines: the starts beyond the budget are refused, the agent stays responsive and its RSS bounded; clean-agent run refuses such a file', async (t) => {
  const client = await AgentClient.start();
  try {
    const pid = client.process.pid!;
    const replies = await Promise.all(
      Array.from({ length: 10_000 }, (_, i) =>
        client.request('clean/startPipeline', { name: `p${i}`, url: 'demo:orders?rate=1', settings: { windowSize: 10 } }).then(
          (info: { id: string }) => ({ id: info.id, refused: undefined as string | undefined }),
          (err: Error) => ({ id: `p${i}`, refused: err.message }),
        ),
      ),
    );
    const started = replies.filter((r) => r.refused === undefined).map((r) => r.id);
    const refused = replies.filter((r) => r.refused !== undefined);
    // 1024 MB / 2585044 bytes: 415 pipelines fit.
    assert.equal(started.length, 415);
    assert.equal(refused.length, 10_000 - 415);
    const [a, b, c] = started;
    for (const r of refused) {
      assert.equal(
        r.refused,
        `Pipeline "${r.id}" needs about 2.5 MB for windowSize 10; the agent's budget is 1024 MB, 0.9 MB left (${a} 2.5 MB, ${b} 2.5 MB, ${c} 2.5 MB, and 412 more). Stop a pipeline you no longer need or raise clean.maxMemoryMB.`,
      );
    }
    await client.waitFor('a check of every pipeline', () => new Set(client.of('clean/metrics').flatMap((r) => r.params.events.map((e: { pipeline: string }) => e.pipeline))).size === 415, 60_000);
    const t0 = Date.now();
    const listed = await client.request('clean/listPipelines');
    const took = Date.now() - t0;
    assert.equal(listed.pipelines.length, 415);
    const rss = procMB(pid, 'VmRSS');
    // The bound: the budget and 256 MB for the agent itself.
    assert.ok(rss < 1024 + 256, `agent RSS ${rss.toFixed(0)} MB with 415 pipelines`);
    assert.ok(took < 1000, `listPipelines took ${took} ms`);
    t.diagnostic(`10,000 pipelines: 415 started, RSS ${rss.toFixed(0)} MB, listPipelines ${took} ms`);
  } finally {
    await client.stop();
  }

  const file = path.join(dir, 'many.clean.yaml');
  writeFileSync(file, 'defaults:\n  windowSize: 10\npipelines:\n' + Array.from({ length: 10_000 }, (_, i) => `  - name: p${i}\n    source: demo:orders\n`).join(''));
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    execFile(process.execPath, [path.join(ROOT, 'bin', 'clean-agent.js'), 'run', file, '--max-memory', '1024'], (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    ),
  );
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    'clean-agent: Pipeline "p436" needs about 2.3 MB for windowSize 10; the agent\'s budget is 1024 MB, 0.4 MB left (p0 2.3 MB, p1 2.3 MB, p2 2.3 MB, and 433 more). Stop a pipeline you no longer need or raise --max-memory.\n',
  );
  assert.equal(r.stdout, '');
});
