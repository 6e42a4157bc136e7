/**
 * Issue 16, "editor text is inert": a pipeline named `[Open](command:…)` and a field name from the stream that
 * holds a command link and an icon reach the editor only as plain text. The real agent, over LSP, raises a real
 * alert naming that field for that pipeline; the extension's own functions turn the alert and the pipeline into
 * the notice, the tree row and its tooltip, and the status bar's tooltip, and each is asserted exactly: every `](`, `$(`
 * and `<command:` broken by a zero-width space, nothing else changed. The agent's own hovers on clean.yaml quote such
 * names markdown-escaped.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AgentClient } from '../protocol/agentClient';
import type { Hover } from 'vscode-languageserver-protocol';
import type { AlertEvent, AlertParams, PipelineInfo } from '../../shared/protocol';
import { noticeText } from '../../client/model/alertNotices';
import { computeStatusBar } from '../../client/model/statusBarState';
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

  it('a command-link pipeline name and field name: the notice, the row, its tooltip and the status bar hold no live link, icon or command', async () => {
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

    // The status bar item's tooltip (the client names pipelines by id there), live and down with the agent's reason.
    const inertName = `[Open]${Z}(command:clean.stopPipeline)`;
    assert.equal(info.id, NAME);
    const live = computeStatusBar([{ name: info.id, state: 'running', score: 0.5, threshold: 0.8, throughput: 1 }]);
    assert.deepEqual([live.text, live.tooltip], [
      '$(pulse) 0.50',
      `Clean Streams — worst quality score (${inertName})\n${inertName}: 0.50 (running, 1 rec/s)\nClick to open the chart`,
    ]);
    const down = computeStatusBar([{ name: info.id, state: 'error', score: undefined, threshold: 0.8, throughput: undefined, message: 'Stream "$(zap)[x](command:y)" is gone. Retrying.' }]);
    assert.deepEqual([down.text, down.tooltip], [
      '$(pulse) 1 down',
      `Clean Streams — worst quality score\n${inertName}: error — Stream "$${Z}(zap)[x]${Z}(command:y)" is gone\nClick to open the chart`,
    ]);
  });

  it('clean.yaml hovers quote connection and field names as text: no link, icon or command', async () => {
    const text = [
      'connections:',
      `  "${NAME}":`,
      '    backend: redis',
      '    url: redis://127.0.0.1:6379',
      '  other:',
      '    backend: redis',
      '    url: "redis://127.0.0.1:6379/[u](command:workbench.action.quit)"',
      'pipelines:',
      '  - name: p',
      `    connection: "${NAME}"`,
      '    topic: orders',
      '    fields:',
      `      "${FIELD}": { required: true }`,
      '',
    ].join('\n');
    const uri = 'file:///tmp/clean-inert-hover/clean.yaml';
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    await agent.diagnosticsFor(uri, 1);
    const hover = async (line: number, character: number) => ((await agent.request<Hover>('textDocument/hover', { textDocument: { uri }, position: { line, character } })).contents as { value: string }).value;
    const escaped = '\\[Open\\]\\(command:clean.stopPipeline\\)';
    assert.equal(await hover(1, 5), `Connection **${escaped}**: **redis** · redis://127.0.0.1:6379\n\nPipelines use it with **connection: ${escaped}**.`);
    // An address is file text too: a markdown link in it stays text.
    assert.equal(await hover(4, 3), 'Connection **other**: **redis** · redis://127.0.0.1:6379/\\[u\\]\\(command:workbench.action.quit\\)\n\nPipelines use it with **connection: other**.');
    assert.equal(await hover(9, 20), `Connection **${escaped}**: **redis** · redis://127.0.0.1:6379`);
    assert.equal(
      await hover(12, 10),
      'Rules for the field **\\$\\(alert\\)\\[x\\]\\(command:workbench.action.quit\\)\\<command:clean.resetBaseline\\>**: `required`, `type`, `min`, `max`, `regex`, `enum`.',
    );
  });
});
