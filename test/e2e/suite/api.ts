/**
 * What the suite needs from the installed extension, read from the API its activate() returns.
 * Each accessor fails with a message naming exactly what is missing, so a gap reads as a clear test failure.
 */
import * as vscode from 'vscode';
import type { CleanStreamsApi } from '../../../client/api';
import type { PipelineInfo } from '../../../shared/protocol';
import { eventually as pollUntil } from '../eventually';

export const EXTENSION_ID = 'clean-streams.clean-streams';

/** The API activate() returns, declared once by the extension (a type-only import: nothing of client/ is bundled). */
export type { CleanStreamsApi };

const REQUIRED: Array<keyof CleanStreamsApi> = ['whenAgentReady', 'pipelines', 'onDidChangePipelines', 'onDidShowAlertNotice', 'resolveTopic'];

export async function activatedExtension(): Promise<vscode.Extension<unknown>> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  if (!extension) throw new Error(`Extension ${EXTENSION_ID} is not installed in this VS Code.`);
  return extension;
}

export async function cleanApi(): Promise<CleanStreamsApi> {
  const extension = await activatedExtension();
  const exports = (extension.isActive ? extension.exports : await extension.activate()) as Partial<CleanStreamsApi> | undefined;
  const missing = REQUIRED.filter((key) => exports?.[key] === undefined);
  if (missing.length > 0) {
    throw new Error(`activate() of ${EXTENSION_ID} returns no ${missing.join(', ')}; the e2e suite needs them (see CleanStreamsApi in client/api.ts).`);
  }
  return exports as CleanStreamsApi;
}

/** The suite polls a little faster and gives up sooner than the UI harness. */
export function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  return pollUntil(what, check, timeoutMs, 200);
}

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('No workspace folder is open; the harness opens test/e2e/workspace (a copy).');
  return vscode.Uri.joinPath(folder.uri, name);
}

export function pipelineNamed(api: CleanStreamsApi, name: string): PipelineInfo | undefined {
  return api.pipelines().find((p) => p.info.name === name)?.info;
}
