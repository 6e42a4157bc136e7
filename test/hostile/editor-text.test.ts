/**
 * Issue 16, "editor text is inert": a pipeline named `[Open](command:…)` and a field name from the stream that
 * holds a command link and an icon reach the editor only as plain text. The real agent, over LSP, raises a real
 * alert naming that field for that pipeline; the extension's own functions turn the alert and the pipeline into
 * the notice, the tree row and its tooltip, and each is asserted exactly: every `](`, `$(` and `<command:` broken by
 * a zero-width space, nothing else changed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient } from '../protocol/agentClient';
import type { AlertEvent, AlertParams, PipelineInfo } from '../../shared/protocol';
import { noticeText } from '../../client/model/alertNotices';
import { pipelineNode } from '../../client/model/topicTree';

const Z = '\u200B';
const NAME = '[Open](command:clean.stopPipeline)';
const FIELD = '$(alert)[x](command:workbench.action.quit)<command:clean.resetBaseline>';

const dir = mkdtempSync(path.join(tmpdir(), 'clean-inert-'));
const file = path.join(dir, 'orders.jsonl');

before(() => {
  const lines: string[] = [];
  // 400 records carry the field; from record 401 on, every one lacks it.
  for (let i = 0; i < 700; i++) lines.push(JSON.stringify(i < 400 ? { id: `o-${i}`, amount: 10 + (i % 7), [FIELD]: `v${i % 5}` } : { id: `o-${i}`, amount: 10 + (i % 7) }));
  writeFileSync(file, lines.join('\n') + '\n');
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('editor text from names and streams is inert', () => {
  let agent: AgentClient;
  before(async () => {
    agent = await AgentClient.start({ settings: { windowSize: 100 } });
  });
  after(async () => {
    await agent.stop();
  });

  it('a command-link pipeline name and field name: the notice, the row and its tooltip hold no live link, icon or command', async () => {
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { name: NAME, url: `file:${file}`, settings: { checkInterval: 50, detectors: ['missing', 'schema'] } });
    assert.equal(info.name, NAME);
    await agent.waitFor('the end of the file', () => agent.of('clean/status').some((r) => r.params.message === 'end of source after 700 records'));
    const alert = agent.of('clean/alert').map((r) => r.params as AlertParams).find((a): a is AlertEvent => a.type === 'alert' && a.detector === 'missing');
    assert.ok(alert, 'a missing alert');
    // The agent keeps the names as they are (they are data); the editor makes them inert.
    // Long names are cut in messages ("…"): the part shown still holds the link, the icon and the autolink.
    assert.ok(alert.message.includes(`"${FIELD.slice(0, 60)}…"`), alert.message);
    assert.equal(alert.pipeline, NAME);

    const notice = noticeText(alert);
    assert.equal(notice.startsWith(`Clean Streams · [Open]${Z}(command:clean.stopPipeline): `), true, notice);
    assert.ok(notice.includes(`"$${Z}(alert)[x]${Z}(command:workbench.action.quit)<${Z}command:clean.res…"`), notice);
    assert.equal(notice.replaceAll(Z, ''), `Clean Streams · ${NAME}: ${alert.message.replace(/\s*Latest: record \d+.*$/s, '').trim()}`);
    for (const live of ['](', '$(', '<command:']) assert.equal(notice.includes(live), false, `${live} in ${notice}`);

    const row = pipelineNode({ info: { ...info, state: 'running', score: 0.5, topic: NAME }, activeAlerts: new Map([['missing', alert]]) });
    assert.equal(row.label, `[Open]${Z}(command:clean.stopPipeline)`);
    for (const text of [row.label, row.description, row.tooltip]) {
      for (const live of ['](', '$(', '<command:']) assert.equal(text.includes(live), false, `${live} in ${text}`);
    }
  });
});
