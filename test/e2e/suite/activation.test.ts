import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activatedExtension, cleanApi, eventually, EXTENSION_ID } from './api';

/** The commands the extension contributes (package.json) and registers on activation. */
export const CLEAN_COMMANDS = [
  'clean.startDemo', 'clean.monitorTopic', 'clean.monitorThisTopic', 'clean.openChart', 'clean.pausePipeline',
  'clean.resumePipeline', 'clean.stopPipeline', 'clean.showSamples', 'clean.copyCliCommand', 'clean.setSecret',
  'clean.clearSecret', 'clean.restartAgent', 'clean.startPipeline', 'clean.acceptNormal', 'clean.resetBaseline', 'clean.undoBaseline',
];

describe('activation', () => {
  it('runs inside a real VS Code 1.100', () => {
    assert.match(vscode.version, /^1\.100\./);
  });

  it('activates on a workspace with a clean.yaml, without being asked', async () => {
    const extension = await activatedExtension();
    await eventually(`${EXTENSION_ID} to activate`, () => (extension.isActive ? true : undefined), 30_000);
    assert.equal(extension.isActive, true);
  });

  it('registers every planned command', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(CLEAN_COMMANDS.filter((id) => !registered.has(id)), []);
  });

  it('starts the agent', async () => {
    const api = await cleanApi();
    await api.whenAgentReady();
    // A request answered by the agent proves it is up: the fixture's clean.yaml names exactly these topics.
    const resolved = await api.resolveTopic({ uri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders![0]!.uri, 'clean.yaml').toString() });
    assert.deepEqual(resolved.candidates.map((c) => c.topic), ['orders', 'payments.v1']);
  });
});
