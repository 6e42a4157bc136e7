/**
 * Memory has a budget (issue 16), the row "20 pipelines at the allowed windowSize: 10000000" (8 GB RSS within
 * 60 s before the budget). In a file of its own: filling two such windows takes most of a file's time limit.
 *
 * A 10,000,000-record window with the default detectors is estimated at 1985113088 bytes (1.8 GB, see
 * server/engine/budget.ts): two fit a 4096 MB budget, with 324741120 bytes (310 MB) left.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient } from '../protocol/agentClient';
import { procMB, refusal } from './probe';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-hostile-window-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('20 pipelines at windowSize 10000000: two fit a 4096 MB budget, the 3rd and later are refused saying what is left and who holds it; RSS stays under the two reservations', async (t) => {
  // Ten million distinct one-field records: enough to fill each window.
  const file = path.join(dir, 'ten-million.jsonl');
  const fd = openSync(file, 'w');
  for (let i = 0; i < 10_000_000; i += 100_000) {
    let chunk = '';
    for (let k = i; k < i + 100_000; k++) chunk += `{"n":${k}}\n`;
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const client = await AgentClient.start({ settings: { maxMemoryMB: 4096 } });
  try {
    const pid = client.process.pid!;
    const start = (i: number) => client.request('clean/startPipeline', { name: `big-${i}`, url: `file:${file}`, settings: { windowSize: 10_000_000 } });
    await start(1);
    await start(2);
    const refused = (i: number) => `Pipeline "big-${i}" needs about 1.8 GB for windowSize 10000000; the agent's budget is 4096 MB, 310 MB left (big-1 1.8 GB, big-2 1.8 GB). Lower windowSize or raise clean.maxMemoryMB.`;
    for (let i = 3; i <= 20; i++) assert.equal(await refusal(start(i)), refused(i));
    const listed = await client.request('clean/listPipelines');
    assert.deepEqual(listed.pipelines.map((p: { id: string }) => p.id), ['big-1', 'big-2']);
    // Both windows full: the most the two can hold.
    const ended = (id: string) => client.of('clean/status').some((r) => r.params.pipeline === id && r.params.message === 'end of source after 10000000 records');
    await client.waitFor('both pipelines at the end of the file', () => ended('big-1') && ended('big-2'), 150_000);
    const rss = procMB(pid, 'VmRSS');
    // The bound: the two reservations (2 × 1985113088 bytes = 3786 MB) and 256 MB for the agent itself.
    assert.ok(rss < 3786 + 256, `agent RSS ${rss.toFixed(0)} MB with two full 10M windows`);
    // A stopped pipeline still holds its window; removing one gives its share back.
    assert.equal(await refusal(start(21)), refused(21));
    await client.request('clean/stopPipeline', { pipeline: 'big-1', remove: true });
    const info = await client.request('clean/startPipeline', { name: 'big-21', url: 'demo:orders?rate=1', settings: { windowSize: 10_000_000 } });
    assert.equal(info.id, 'big-21');
    t.diagnostic(`20 pipelines at windowSize 10000000: agent RSS ${rss.toFixed(0)} MB with two full windows (bound 4042 MB)`);
  } finally {
    await client.stop();
  }
});
