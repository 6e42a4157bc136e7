/**
 * Issue 17 points 1, 5 and 9 in the real extension host: "Monitor Topic…" with another address of a monitored topic,
 * "Show Samples" on an alert, and an agent restart that brings back the same pipelines with their chart history.
 * Demo sources stand in for two addresses: a different seed is a different source, as a different host would be.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AlertParams, PipelineHistory, PipelineInfo } from '../../../shared/protocol';
import { cleanApi, eventually, type CleanStreamsApi } from './api';

const NAME = 'wiz-orders';
const URL_A = 'demo:orders?rate=2000&calm=3&episode=5';
const URL_B = 'demo:orders?rate=500&calm=3&episode=5&seed=7';
/** The archive's resolution (server/lsp/history.ts ARCHIVE_STEP_MS). */
const STEP_MS = 10_000;

const byId = (api: CleanStreamsApi, id: string): PipelineInfo | undefined => api.pipelines().find((p) => p.info.id === id)?.info;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
/** The source URL of a pipeline's `clean-agent watch '<url>' …` line. */
const watchedUrl = (cli: string | undefined) => /^clean-agent watch '([^']+)'/.exec(cli ?? '')?.[1];

describe('Monitor Topic…, Show Samples and history across a restart', () => {
  let api: CleanStreamsApi;
  const alerts: AlertParams[] = [];
  let subscription: vscode.Disposable | undefined;

  before(async () => {
    api = await cleanApi();
    await api.whenAgentReady();
    subscription = api.onDidShowAlertNotice((n) => {
      for (const a of [n.alert, ...(n.others ?? [])]) if (a.pipeline === NAME && a.type === 'alert') alerts.push(a);
    });
  });
  after(async () => {
    subscription?.dispose();
    for (const id of [NAME, `${NAME} (2)`]) if (byId(api, id)) await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: id });
  });

  it('another address for a monitored topic is a second pipeline; the same address is the running one, untouched', async () => {
    const a = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.monitorTopic', { url: URL_A, name: NAME });
    assert.equal(a?.id, NAME, `clean.monitorTopic returned ${JSON.stringify(a)}`);
    assert.equal(a.reused, undefined);
    const b = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.monitorTopic', { url: URL_B, name: NAME });
    assert.equal(b?.id, `${NAME} (2)`);
    assert.equal(b.reused, undefined);
    const again = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.monitorTopic', { url: URL_A, name: NAME });
    assert.equal(again?.id, NAME);
    assert.equal(again.reused, true);
    const both = await eventually('both pipelines running', () => {
      const pa = byId(api, NAME);
      const pb = byId(api, `${NAME} (2)`);
      return pa?.state === 'running' && pb?.state === 'running' ? [pa, pb] : undefined;
    });
    assert.deepEqual(both.map((p) => watchedUrl(p.cliCommand)), [URL_A, URL_B]);
  });

  it('Show Samples on an alert shows exactly the records behind that alert, also after newer ones were flagged', async function () {
    this.timeout(60_000);
    const alert = await eventually(`an alert of ${NAME} with samples`, () => alerts.find((a) => a.samples.length > 0), 45_000);
    // Newer records flow (and are flagged) before the click: the newest flagged records are others by then.
    await eventually('2000 more records after the alert', () => ((byId(api, NAME)?.records ?? 0) > alert.records + 2000 ? true : undefined));
    await vscode.commands.executeCommand('clean.showSamples', { pipeline: NAME, detector: alert.detector ?? undefined, alert: alert.time });
    const doc = await eventually('the samples document', () => {
      const d = vscode.window.activeTextEditor?.document;
      return d?.uri.scheme === 'clean-samples' && d.getText().length > 0 ? d : undefined;
    });
    const lines = doc.getText().split('\n');
    assert.equal(lines[0], `// Clean Streams samples of ${NAME} behind the ${alert.detector ?? 'score'} alert at ${new Date(alert.time).toISOString()}: ${alert.samples.length} record${alert.samples.length === 1 ? '' : 's'}, newest first, as kept when it fired.`);
    const records = lines.filter((l) => l.startsWith('{')).map((l) => (JSON.parse(l) as { record: number }).record);
    assert.deepEqual(records, alert.samples.map((s) => s.record));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('an agent restart brings back the same pipelines, ids and addresses, and the chart history from before', async function () {
    this.timeout(90_000);
    // Three archive steps before the restart, so at least two are complete.
    const before: PipelineHistory = await eventually('30 s of history', async () => {
      const h = await api.history(NAME);
      return h.time.length > 0 && h.time[h.time.length - 1]! - h.time[0]! >= 3 * STEP_MS ? h : undefined;
    }, 45_000);
    const pipelinesBefore = [NAME, `${NAME} (2)`].map((id) => ({ id, cliCommand: byId(api, id)?.cliCommand }));
    // The saved archive holds the latest check of every 10 s step; all but the last step are complete now.
    const expected = new Map<number, number>();
    const lastStep = Math.floor(before.time[before.time.length - 1]! / STEP_MS);
    before.time.forEach((t, i) => {
      if (Math.floor(t / STEP_MS) < lastStep) expected.set(Math.floor(t / STEP_MS), i);
    });
    assert.ok(expected.size >= 2, `only ${expected.size} complete steps before the restart`);

    const recordsBefore = [NAME, `${NAME} (2)`].map((id) => byId(api, id)?.records ?? 0);
    await vscode.commands.executeCommand('clean.restartAgent');
    // The demo starts from its first record again: fewer records than before means the new agent's pipeline.
    await eventually('both pipelines running again in the new agent', () => {
      const [pa, pb] = [byId(api, NAME), byId(api, `${NAME} (2)`)];
      return pa?.state === 'running' && pb?.state === 'running' && (pa.records ?? 0) > 0 && (pa.records ?? 0) < recordsBefore[0]! && (pb.records ?? 0) < recordsBefore[1]! ? true : undefined;
    }, 30_000);
    assert.deepEqual([NAME, `${NAME} (2)`].map((id) => ({ id, cliCommand: byId(api, id)?.cliCommand })), pipelinesBefore);

    const afterRestart = await api.history(NAME);
    const kept = [...expected.values()].map((i) => [before.time[i], r4(before.score[i]!)]);
    const found = kept.map(([t]) => {
      const j = afterRestart.time.indexOf(t!);
      return [t, j >= 0 ? afterRestart.score[j] : undefined];
    });
    assert.deepEqual(found, kept, 'the points before the restart, one per 10 s step');
  });
});

