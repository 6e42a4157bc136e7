import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AlertParams, PipelineInfo } from '../../../shared/protocol';
import { cleanApi, eventually, pipelineNamed, workspaceFile, type CleanStreamsApi } from './api';

const ZWSP = '\u200B';
const EVIL = '[Open](command:clean.stopPipeline)';
const RANK = { warning: 1, critical: 2 } as const;

type Notice = { alert: AlertParams; text: string; actions: string[]; others: AlertParams[] };

function start(name: string): Thenable<PipelineInfo | undefined> {
  return vscode.commands.executeCommand<PipelineInfo | undefined>('clean.startPipeline', { configUri: workspaceFile('alerts.clean.yml').toString(), pipelineName: name });
}

function row(api: CleanStreamsApi, pipeline: string) {
  return api.treeRows().find((r) => r.pipeline === pipeline);
}

describe('alerts and states (issues 16.5, 17.3, 17.4, 17.6, 17.8)', () => {
  let api: CleanStreamsApi;
  const notices: Notice[] = [];
  const skipped: Array<{ alert: AlertParams; why: string }> = [];
  const problems: Array<{ pipeline: string; text: string; actions: string[] }> = [];
  const subscriptions: vscode.Disposable[] = [];

  before(async () => {
    api = await cleanApi();
    await api.whenAgentReady();
    subscriptions.push(
      api.onDidShowAlertNotice((n) => notices.push(n)),
      api.onDidSkipAlert((s) => skipped.push(s)),
      api.onDidShowProblemNotice((p) => problems.push(p)),
    );
  });
  after(() => {
    for (const s of subscriptions) s.dispose();
  });

  it('alerts that fire together fold into one notice led by the most severe, naming each of the others', async function () {
    this.timeout(90_000);
    const started = await start('alerts-burst');
    assert.equal(started?.name, 'alerts-burst');
    const folded = await eventually('a folded notice for alerts-burst', () => notices.find((n) => n.alert.pipeline === started!.id && n.others.length > 0), 60_000);
    for (const n of notices.filter((x) => x.alert.pipeline === started!.id)) {
      assert.match(n.text, /^Clean Streams · alerts-burst: /);
      for (const o of n.others) assert.ok(RANK[o.severity] <= RANK[n.alert.severity], `a ${o.severity} alert was folded behind a ${n.alert.severity} one: ${n.text}`);
      if (n.others.length === 0) continue;
      const tail = ` — and ${n.others.length} more: `;
      const named = n.text.slice(n.text.indexOf(tail) + tail.length).split(', ');
      assert.ok(n.text.includes(tail), `"${n.text}" does not say how many more fired`);
      const expected: string[] = n.others.slice(0, 4).map((o) => o.detector ?? 'score');
      if (n.others.length > 4) expected.push('…');
      assert.deepEqual(named.map((x) => x.split(' ')[0]), expected);
      for (const x of named.filter((y) => y !== '…')) assert.match(x, /^(score \d\.\d\d|[a-z]+ (\d+(\.\d)?%|<0\.1%))$/);
    }
    assert.deepEqual(folded.actions.slice(0, 2), ['Open Chart', 'Show Samples']);
    await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: started!.id });
  });

  it('a pipeline named like a command link stays text in the tree, its notices and the status bar', async function () {
    this.timeout(90_000);
    const started = await start(EVIL);
    assert.equal(started?.name, EVIL);
    const id = started!.id;
    const shown = await eventually('its tree row', () => row(api, id));
    assert.equal(shown.label, 'orders');
    assert.ok(shown.description.includes(`[Open]${ZWSP}(command:clean.stopPipeline)`), `the row reads "${shown.description}"`);
    assert.ok(!shown.tooltip.includes('](command:'), `the tooltip reads "${shown.tooltip}"`);
    const notice = await eventually('a notice for it', () => notices.find((n) => n.alert.pipeline === id), 60_000);
    assert.ok(notice.text.startsWith(`Clean Streams · [Open]${ZWSP}(command:clean.stopPipeline): `), notice.text);
    assert.ok(!api.statusBar().tooltip.includes('](command:'), api.statusBar().tooltip);
    // Nothing ran the command in its name: the pipeline is still there.
    assert.ok(pipelineNamed(api, EVIL), 'the pipeline is gone');
    await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: id });
  });

  it('a mute is kept by topic: shown in the tree, it holds after stop and re-monitor, and Unmute ends it', async function () {
    this.timeout(120_000);
    let info = (await start('mute-me'))!;
    assert.equal(await vscode.commands.executeCommand('clean.mute', { pipeline: info.id }), true);
    const muted = await eventually('the muted, running row', () => {
      const r = row(api, info.id);
      return r?.contextValue === 'pipeline.running.muted' ? r : undefined;
    });
    assert.match(muted.description, / · muted until \d\d:\d\d$/);
    assert.equal(muted.icon, 'bell-slash');
    await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: info.id });
    await eventually('mute-me to leave the tree', () => (row(api, info.id) ? undefined : true));
    info = (await start('mute-me'))!;
    await eventually('the re-monitored row, still muted', () => (row(api, info.id)?.contextValue.endsWith('.muted') ? true : undefined));
    // Its next alert is decided at once as muted, and no notice of it is shown.
    const skip = await eventually('a muted alert of mute-me', () => skipped.find((s) => s.alert.pipeline === info.id && s.why === 'muted'), 60_000);
    assert.equal(skip.alert.type, 'alert');
    assert.deepEqual(notices.filter((n) => n.alert.pipeline === info.id).map((n) => n.text), []);
    assert.equal(await vscode.commands.executeCommand('clean.unmute', { pipeline: info.id }), true);
    await eventually('the row without mute', () => (row(api, info.id)?.contextValue.endsWith('.muted') === false ? true : undefined));
    assert.equal(await vscode.commands.executeCommand('clean.unmute', { pipeline: info.id }), false);
    await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: info.id });
  });

  it('a wrong address: the row says why, one notice says it once with Edit Address and Stop; Edit Address moves the pipeline', async function () {
    this.timeout(120_000);
    const env = workspaceFile('.env');
    const first = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.monitorThisTopic', env, [env]);
    assert.equal(first?.topic, 'shipments.v1', `Monitor This Topic returned ${JSON.stringify(first)}`);
    const id = first!.id;
    const reason = 'reconnecting · cannot reach localhost:9092 (connection refused)';
    const unreachable = await eventually('the row to carry the reason', () => (row(api, id)?.description === reason ? row(api, id) : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}; the row reads "${row(api, id)?.description}"`);
    });
    assert.ok(unreachable.tooltip.includes('Cannot reach Kafka at localhost:9092 (ECONNREFUSED)'), unreachable.tooltip);
    assert.match(api.statusBar().text, /^\$\(pulse\) \d+ down/);
    // Two more retries (each a new status message), still one notice.
    const messages = new Set<string>();
    await eventually('two more retries', () => {
      const m = api.pipelines().find((p) => p.info.id === id)?.info.message;
      if (m) messages.add(m);
      return messages.size >= 3 ? true : undefined;
    }, 30_000);
    assert.deepEqual(problems.filter((p) => p.pipeline === id).map((p) => [p.text, p.actions]), [
      ['Clean Streams · shipments.v1: cannot reach localhost:9092 (connection refused). It keeps retrying; edit the address or stop the pipeline.', ['Edit Address', 'Stop']],
    ]);
    // What "Edit Address" runs, with the address a person would type.
    const moved = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.editAddress', { pipeline: id, address: '127.0.0.1:9' });
    assert.ok(moved, 'clean.editAddress returned nothing');
    assert.equal(moved.topic, 'shipments.v1');
    assert.match(moved.cliCommand, /^clean-agent watch kafka:\/\/127\.0\.0\.1:9\/shipments\.v1\b/);
    await eventually('the old row to go', () => (id === moved.id || !row(api, id) ? true : undefined));
    await eventually('the moved row to carry its own reason', () => (row(api, moved.id)?.description === 'reconnecting · cannot reach 127.0.0.1:9 (connection refused)' ? true : undefined), 30_000);
    await eventually('one notice for the moved pipeline', () => (problems.filter((p) => p.text.includes('127.0.0.1:9 ')).length === 1 ? true : undefined), 30_000);
    await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: moved.id });
  });
});
