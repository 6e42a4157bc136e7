/**
 * What the suite needs from the installed extension, read from the API its activate() returns.
 * Each accessor fails with a message naming exactly what is missing, so a gap reads as a clear test failure.
 */
import * as vscode from 'vscode';
import type { AlertParams, MetricsEvent, PipelineInfo, ResolveTopicParams, ResolveTopicResult } from '../../../shared/protocol';

export const EXTENSION_ID = 'clean-streams.clean-streams';

/** The shape the suite expects activate() to return (see the e2e report for the lead). */
export interface CleanStreamsApi {
  /** Resolves once the agent (language server) answers requests. */
  whenAgentReady(): Promise<void>;
  /** The pipelines as the tree shows them, in start order. */
  pipelines(): Array<{ info: PipelineInfo; metrics?: MetricsEvent }>;
  /** Fires after every change of the tree's data. */
  onDidChangePipelines: vscode.Event<void>;
  /** Fires for every alert notice the extension shows to the user (after its notice policy). */
  onDidShowAlertNotice: vscode.Event<{ alert: AlertParams; text: string; actions: string[] }>;
  /** Asks the agent "which topic is this" (clean/resolveTopic). */
  resolveTopic(params: ResolveTopicParams): Promise<ResolveTopicResult>;
}

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
    throw new Error(`activate() of ${EXTENSION_ID} returns no ${missing.join(', ')}; the e2e suite needs them (see CleanStreamsApi in test/e2e/suite/api.ts).`);
  }
  return exports as CleanStreamsApi;
}

/** Polls until check() returns a value other than undefined. */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} did not happen within ${timeoutMs} ms${lastError instanceof Error ? `: ${lastError.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('No workspace folder is open; the harness opens test/e2e/workspace (a copy).');
  return vscode.Uri.joinPath(folder.uri, name);
}

export function pipelineNamed(api: CleanStreamsApi, name: string): PipelineInfo | undefined {
  return api.pipelines().find((p) => p.info.name === name)?.info;
}
