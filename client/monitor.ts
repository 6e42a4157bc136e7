/** Starting pipelines: the demo, "Monitor Topic…" (guided input) and "Monitor this topic" (from a config file). */
import * as vscode from 'vscode';
import { ResolveTopicRequest, type PipelineInfo, type ResolveTopicResult, type StartPipelineParams, type TopicCandidate } from '../shared/protocol';
import type { Ctx } from './ctx';
import { isMonitorableFile } from './model/commandArgs';
import {
  BACKEND_CHOICES,
  isBrokerBackend,
  sourceUrlFromConnection,
  sourceUrlFromParts,
  validateAddress,
  validateTopic,
  type BackendChoice,
  type BrokerBackend,
} from './model/sourceInput';

export const DEMO_URL = 'demo:orders';

/** Starts a pipeline, then shows it in the tree. */
export type StartAndReveal = (params: StartPipelineParams) => Promise<PipelineInfo>;

export async function startDemo(start: StartAndReveal): Promise<PipelineInfo> {
  return start({ url: DEMO_URL, name: 'demo-orders' });
}

/** The guided quick input: backend, address, topic (and optionally a secret's name). */
export async function monitorTopic(ctx: Ctx, start: StartAndReveal): Promise<PipelineInfo | undefined> {
  const items: Array<vscode.QuickPickItem & { choice?: BackendChoice; demo?: true }> = [
    ...BACKEND_CHOICES.map((choice) => ({ label: choice.label, description: choice.defaultAddress, choice })),
    { label: 'Demo stream', description: 'built in, no broker needed', demo: true as const },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: 'Monitor Topic (1/3): backend', placeHolder: 'Where does the topic live?', ignoreFocusOut: true });
  if (!picked) return undefined;
  if (picked.demo) return startDemo(start);
  const choice = picked.choice!;
  const remembered = ctx.extension.workspaceState.get<string>(`clean.lastAddress.${choice.backend}`);
  const address = await vscode.window.showInputBox({
    title: `Monitor Topic (2/3): ${choice.label} address`,
    prompt: choice.addressPrompt,
    value: remembered ?? choice.defaultAddress,
    ignoreFocusOut: true,
    validateInput: (v) => validateAddress(choice.backend, v),
  });
  if (address === undefined) return undefined;
  const topic = await askTopic(choice.backend, `Monitor Topic (3/3): ${choice.topicPrompt}`);
  if (topic === undefined) return undefined;
  await ctx.extension.workspaceState.update(`clean.lastAddress.${choice.backend}`, address.trim());
  const secret = await askSecretName(ctx, choice.backend);
  if (secret === null) return undefined;
  return start({ url: sourceUrlFromParts(choice.backend, address, topic, secret), name: topic.trim() });
}

/** "Monitor this topic" on a file: the topic under the cursor (or the file's), with any missing parts asked for. */
export async function monitorThisTopic(ctx: Ctx, start: StartAndReveal, target: vscode.Uri | undefined, fromExplorer: boolean): Promise<PipelineInfo | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Clean Streams connects to the brokers a file names only in a trusted workspace. Trust this workspace first, or use "Clean: Monitor Topic…".');
    return undefined;
  }
  const editor = vscode.window.activeTextEditor;
  const uri = target ?? editor?.document.uri;
  if (!uri) {
    void vscode.window.showWarningMessage('Open a clean.yaml, docker-compose, application.yml/.properties, .env or Kafka Connect JSON file, then run "Monitor This Topic" again.');
    return undefined;
  }
  if (!isMonitorableFile(uri.path)) {
    void vscode.window.showWarningMessage(`Clean Streams does not know topics in ${uri.path.split('/').pop()}. It reads clean.yaml, docker-compose, application.yml/.properties, .env and Kafka Connect JSON files.`);
    return undefined;
  }
  // From the editor the cursor decides; from the explorer the file as a whole.
  const position = !fromExplorer && editor && editor.document.uri.toString() === uri.toString() ? editor.selection.active : undefined;
  const client = await ctx.agent();
  const resolved: ResolveTopicResult = await client.sendRequest(ResolveTopicRequest.type, {
    uri: uri.toString(),
    position: position ? { line: position.line, character: position.character } : undefined,
  });
  ctx.output.info(`Resolved ${uri.path.split('/').pop()} (${resolved.fileKind}): topic ${resolved.topic ?? '–'}, ${resolved.candidates.length} candidate(s), ${resolved.connections.length} connection(s)`);

  if (resolved.pipelineName && resolved.fileKind === 'clean') return start({ configUri: uri.toString(), pipelineName: resolved.pipelineName });
  if (resolved.url && resolved.topic) return start({ url: resolved.url, name: resolved.topic });

  const candidate = await chooseTopic(resolved);
  if (candidate === undefined) return undefined;
  if (candidate.pipelineName) return start({ configUri: uri.toString(), pipelineName: candidate.pipelineName });
  if (candidate.url) return start({ url: candidate.url, name: candidate.topic });

  for (const conn of resolved.connections) {
    if (candidate.backend && conn.backend !== candidate.backend) continue;
    const url = sourceUrlFromConnection(conn, candidate.topic);
    if (url) return start({ url, name: candidate.topic });
  }
  // The file names the topic but not where the broker is: ask for what is missing.
  const backend = isBrokerBackend(candidate.backend) ? candidate.backend : await askBackend(candidate.topic);
  if (!backend) return undefined;
  const choice = BACKEND_CHOICES.find((c) => c.backend === backend)!;
  const remembered = ctx.extension.workspaceState.get<string>(`clean.lastAddress.${backend}`);
  const address = await vscode.window.showInputBox({
    title: `Monitor "${candidate.topic}": ${choice.label} address`,
    prompt: `${uri.path.split('/').pop()} names no ${choice.label} address. ${choice.addressPrompt}`,
    value: remembered ?? choice.defaultAddress,
    ignoreFocusOut: true,
    validateInput: (v) => validateAddress(backend, v),
  });
  if (address === undefined) return undefined;
  await ctx.extension.workspaceState.update(`clean.lastAddress.${backend}`, address.trim());
  return start({ url: sourceUrlFromParts(backend, address, candidate.topic), name: candidate.topic });
}

async function chooseTopic(resolved: ResolveTopicResult): Promise<{ topic: string; backend?: TopicCandidate['backend']; url?: string; pipelineName?: string } | undefined> {
  if (resolved.topic) {
    const match = resolved.candidates.find((c) => c.topic === resolved.topic);
    return { topic: resolved.topic, backend: resolved.backend ?? match?.backend, url: resolved.url ?? match?.url, pipelineName: resolved.pipelineName ?? match?.pipelineName };
  }
  if (resolved.candidates.length === 1) return resolved.candidates[0];
  if (resolved.candidates.length > 1) {
    const pick = await vscode.window.showQuickPick(
      resolved.candidates.map((c) => ({ label: c.topic, description: c.backend, detail: c.origin, candidate: c })),
      { title: 'Monitor which topic?', placeHolder: 'This file names several topics', ignoreFocusOut: true },
    );
    return pick?.candidate;
  }
  const backend = isBrokerBackend(resolved.backend) ? resolved.backend : resolved.connections.find((c) => isBrokerBackend(c.backend))?.backend;
  const topic = await vscode.window.showInputBox({
    title: 'Monitor which topic?',
    prompt: resolved.reason ?? 'This file names no topic. Enter the topic (Kafka, Pulsar) or stream key (Redis) to monitor.',
    ignoreFocusOut: true,
    validateInput: (v) => (isBrokerBackend(backend) ? validateTopic(backend, v) : v.trim() ? undefined : 'Enter a topic.'),
  });
  return topic === undefined ? undefined : { topic: topic.trim(), backend: backend as TopicCandidate['backend'] };
}

async function askBackend(topic: string): Promise<BrokerBackend | undefined> {
  const pick = await vscode.window.showQuickPick(
    BACKEND_CHOICES.map((c) => ({ label: c.label, description: c.defaultAddress, backend: c.backend })),
    { title: `Where does "${topic}" live?`, ignoreFocusOut: true },
  );
  return pick?.backend;
}

async function askTopic(backend: BrokerBackend, title: string): Promise<string | undefined> {
  const topic = await vscode.window.showInputBox({ title, ignoreFocusOut: true, validateInput: (v) => validateTopic(backend, v) });
  return topic?.trim();
}

/** An optional secret name for brokers with authentication; null means the user cancelled. */
async function askSecretName(ctx: Ctx, backend: BrokerBackend): Promise<string | undefined | null> {
  const names = ctx.secrets.names();
  const none = { label: 'No authentication', name: undefined as string | undefined };
  const items = [none, ...names.map((n) => ({ label: n, description: 'stored secret', name: n as string | undefined }))];
  if (names.length === 0) return undefined;
  const pick = await vscode.window.showQuickPick(items, {
    title: `Credentials for ${backend}`,
    placeHolder: 'Use a stored secret (SASL password, Redis password, Pulsar token)?',
    ignoreFocusOut: true,
  });
  return pick ? pick.name : null;
}
