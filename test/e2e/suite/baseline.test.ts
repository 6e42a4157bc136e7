import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AlertParams, BaselineChangeResult, BaselineInfo, PipelineInfo } from '../../../shared/protocol';
import { cleanApi, eventually, pipelineNamed, workspaceFile, type CleanStreamsApi } from './api';

/** baseline.clean.yml: 400 records/s, a 4,000-record window (about 10 s of learning), duplicates from 14 s. */
const NAME = 'orders-learning';
const NEEDED = 4000;

describe('learned baseline', () => {
  let api: CleanStreamsApi;
  const notices: Array<{ alert: AlertParams; text: string; actions: string[] }> = [];
  let subscription: vscode.Disposable | undefined;

  before(async () => {
    api = await cleanApi();
    await api.whenAgentReady();
    subscription = api.onDidShowAlertNotice((n) => {
      if (n.alert.pipeline === NAME) notices.push(n);
    });
  });
  after(() => subscription?.dispose());

  it('a new pipeline learns its first window before it is ready', async function () {
    this.timeout(60_000);
    const started = await vscode.commands.executeCommand<PipelineInfo | undefined>('clean.startPipeline', {
      configUri: workspaceFile('baseline.clean.yml').toString(), pipelineName: NAME,
    });
    assert.equal(started?.name, NAME, `clean.startPipeline returned ${JSON.stringify(started)}`);
    const learning = await eventually(`${NAME} learning, with records`, () => {
      const b = pipelineNamed(api, NAME)?.baseline;
      return b?.state === 'learning' && b.records > 0 ? b : undefined;
    });
    assert.equal(learning.needed, NEEDED);
    assert.ok(learning.records < NEEDED, `already ${learning.records} of ${NEEDED} records learnt`);
    assert.equal(learning.restored, undefined);
    // Held: no alert of this pipeline while it learns.
    assert.deepEqual(notices.map((n) => n.text), []);
    const ready = await eventually(`${NAME} ready`, () => {
      const b = pipelineNamed(api, NAME)?.baseline;
      return b?.state === 'ready' ? b : undefined;
    }, 30_000);
    assert.ok(ready.records >= NEEDED, `ready after ${ready.records} records`);
  });

  it('its first fault alerts with "This is normal"; accepting is confirmed by the agent, and Undo puts the baseline back', async function () {
    this.timeout(90_000);
    const notice = await eventually(`an alert notice for ${NAME}`, () => notices[0], 45_000);
    assert.equal(notice.alert.type, 'alert');
    assert.equal(notice.alert.detector, 'duplicates');
    // The notice is the agent's message without its pointer to the latest record (which Show Samples has).
    assert.match(notice.alert.message, /^duplicates in the last 4000 records: \d+(\.\d)?% of records repeat one earlier in the window \(.+\)\. Latest: record \d+\.$/);
    assert.equal(notice.text, `Clean Streams · orders-learning: ${notice.alert.message.replace(/ Latest: record \d+\.$/, '')}`);
    assert.deepEqual(notice.actions, ['Open Chart', 'Show Samples', 'This is normal', 'Mute for 1 hour']);

    // What the notification's "This is normal" runs.
    const accepted = await vscode.commands.executeCommand<BaselineChangeResult | undefined>('clean.acceptNormal', notice.alert);
    assert.ok(accepted, 'clean.acceptNormal returned nothing');
    assert.equal(accepted.message, 'Accepted the current level of duplicates as normal.');
    assert.equal(accepted.changed, 1);
    assert.equal(accepted.info.canUndoBaseline, true);
    await eventually('the tree data to offer Undo', () => (pipelineNamed(api, NAME)?.canUndoBaseline === true ? true : undefined));

    const undone = await vscode.commands.executeCommand<BaselineChangeResult | undefined>('clean.undoBaseline', { pipeline: accepted.info.id });
    assert.ok(undone, 'clean.undoBaseline returned nothing');
    assert.equal(undone.message, 'Restored the baseline as it was before the last change.');
    assert.equal(undone.changed, 1);
    assert.equal(undone.info.canUndoBaseline, undefined);
    await eventually('the tree data to drop Undo', () => (pipelineNamed(api, NAME)?.canUndoBaseline === undefined ? true : undefined));
  });

  it('a restarted agent resumes the learnt baseline from the extension storage, without learning again', async function () {
    this.timeout(60_000);
    const seen: Array<BaselineInfo | undefined> = [];
    const watch = api.onDidChangePipelines(() => {
      const p = pipelineNamed(api, NAME);
      if (p) seen.push(p.baseline);
    });
    try {
      await vscode.commands.executeCommand('clean.restartAgent');
      const resumed = await eventually(`${NAME} running again with a restored baseline`, () => {
        const p = pipelineNamed(api, NAME);
        return p?.state === 'running' && p.baseline?.restored === true && (p.records ?? 0) > 0 ? p : undefined;
      }, 30_000);
      assert.equal(resumed.baseline?.state, 'ready');
      assert.ok((resumed.baseline?.records ?? 0) >= NEEDED, `resumed a baseline of ${resumed.baseline?.records} records`);
      assert.deepEqual(seen.filter((b) => b?.state === 'learning'), [], 'the restarted pipeline went through learning again');
    } finally {
      watch.dispose();
    }
  });
});
