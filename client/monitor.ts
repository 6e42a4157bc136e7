/** Starting pipelines: the demo, "Monitor Topic…" (guided input) and "Monitor this topic" (from a config file). */
import * as vscode from 'vscode';
import {
  CheckAddressRequest,
  ListTopicsRequest,
  ResolveTopicRequest,
  isSourceCodeFile,
  type PipelineInfo,
  type ResolvedConnection,
  type ResolveTopicResult,
  type StartPipelineParams,
  type TopicCandidate,
} from '../shared/protocol';
import type { Ctx } from './ctx';
import { isMonitorableFile } from './model/commandArgs';
import {
  BACKEND_CHOICES,
  addressChoices,
  addressOfBase,
  backendOfBase,
  baseUrlOf,
  isBrokerBackend,
  withTopic,
  type AddressChoice,
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

/** Config files whose connections the wizard offers (what "Monitor This Topic" reads). */
const CONNECTION_FILES = '**/{clean.yaml,clean.yml,*.clean.yaml,*.clean.yml,docker-compose*.yml,docker-compose*.yaml,compose*.yml,compose*.yaml,application*.yml,application*.yaml,application*.properties,.env,.env.*}';
const CONNECTION_FILES_MAX = 30;

/** What "Monitor Topic…" may be given instead of asking (a link, another extension, a test): the source, then it checks and starts. */
export interface MonitorTopicArgs {
  url: string;
  name?: string;
}

export function monitorTopicArgs(arg: unknown): MonitorTopicArgs | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { url?: unknown; name?: unknown };
  if (typeof o.url !== 'string' || !o.url) return undefined;
  return typeof o.name === 'string' && o.name ? { url: o.url, name: o.name } : { url: o.url };
}

type WhereItem = vscode.QuickPickItem & { known?: AddressChoice; choice?: BackendChoice; demo?: true };

/**
 * The guided quick input: where (the workspace's and running pipelines' brokers first, or a typed address), which
 * topic (the broker's list, filtered as you type, or a name typed), a check of the address, then the start.
 */
export async function monitorTopic(ctx: Ctx, start: StartAndReveal, given?: MonitorTopicArgs): Promise<PipelineInfo | undefined> {
  if (given) return checkThenStart(ctx, start, given.url, given.name);
  const known = await workspaceAddresses(ctx);
  const items: WhereItem[] = [];
  if (known.length) items.push({ label: 'In this workspace', kind: vscode.QuickPickItemKind.Separator });
  for (const k of known) items.push({ label: `$(server) ${k.address}`, description: BACKEND_CHOICES.find((c) => c.backend === k.backend)!.label, detail: k.origins.join(' · '), known: k });
  if (known.length) items.push({ label: 'Another address', kind: vscode.QuickPickItemKind.Separator });
  for (const choice of BACKEND_CHOICES) items.push({ label: choice.label, description: choice.defaultAddress, choice });
  items.push({ label: 'Demo stream', description: 'built in, no broker needed', demo: true as const });
  const picked = await vscode.window.showQuickPick(items, { title: 'Monitor Topic (1/3): where', placeHolder: 'A broker this workspace names, or another address', ignoreFocusOut: true, matchOnDetail: true });
  if (!picked) return undefined;
  if (picked.demo) return startDemo(start);

  let backend: BrokerBackend;
  let base: string;
  if (picked.known) {
    backend = picked.known.backend;
    base = picked.known.base;
  } else {
    const choice = picked.choice!;
    backend = choice.backend;
    const typed = await askBase(ctx, choice);
    if (typed === undefined) return undefined;
    base = typed;
  }
  for (;;) {
    const topic = await pickTopic(ctx, backend, base);
    if (topic === undefined) return undefined;
    if (topic === EDIT_ADDRESS) {
      const choice = BACKEND_CHOICES.find((c) => c.backend === backend)!;
      const typed = await askBase(ctx, choice, addressOfBase(base));
      if (typed === undefined) return undefined;
      base = typed;
      continue;
    }
    const info = await checkThenStart(ctx, start, withTopic(base, backend, topic), topic);
    // Remembered only once it started: a typed address that was not used is not kept.
    if (info && !picked.known) await ctx.extension.workspaceState.update(`clean.lastAddress.${backend}`, addressOfBase(base));
    return info;
  }
}

/** The address (and optionally a stored secret's name) typed for a backend, as a base URL; undefined: cancelled. */
async function askBase(ctx: Ctx, choice: BackendChoice, value?: string): Promise<string | undefined> {
  const remembered = ctx.extension.workspaceState.get<string>(`clean.lastAddress.${choice.backend}`);
  const address = await vscode.window.showInputBox({
    title: `Monitor Topic (2/3): ${choice.label} address`,
    prompt: choice.addressPrompt,
    value: value ?? remembered ?? choice.defaultAddress,
    ignoreFocusOut: true,
    validateInput: (v) => validateAddress(choice.backend, v),
  });
  if (address === undefined) return undefined;
  const secret = await askSecretName(ctx, choice.backend);
  if (secret === null) return undefined;
  return baseUrlOf(sourceUrlFromParts(choice.backend, address, 'x', secret));
}

const EDIT_ADDRESS = Symbol('edit address');

/** The broker's topics in a filtered list (or the name typed when it is not listed); EDIT_ADDRESS to go back. */
async function pickTopic(ctx: Ctx, backend: BrokerBackend, base: string): Promise<string | typeof EDIT_ADDRESS | undefined> {
  const client = await ctx.agent();
  const address = addressOfBase(base);
  const listed = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Asking ${address} for its ${backend === 'redis' ? 'streams' : 'topics'}…` },
    () => client.sendRequest(ListTopicsRequest.type, { url: base }),
  );
  const choice = BACKEND_CHOICES.find((c) => c.backend === backend)!;
  if (!listed.ok) {
    ctx.output.warn(`Listing topics at ${address}: ${listed.message}`);
    const pick = await vscode.window.showErrorMessage(listed.message ?? `Cannot list the topics at ${address}.`, EDIT_ADDRESS_ACTION, TYPE_TOPIC_ACTION);
    if (pick === EDIT_ADDRESS_ACTION) return EDIT_ADDRESS;
    if (pick !== TYPE_TOPIC_ACTION) return undefined;
    return askTopic(backend, `Monitor Topic (3/3): ${choice.topicPrompt}`);
  }
  const picker = vscode.window.createQuickPick<vscode.QuickPickItem & { topic?: string; edit?: true }>();
  picker.title = `Monitor Topic (3/3): ${choice.topicPrompt} at ${address}`;
  picker.placeholder = listed.topics.length ? `${listed.topics.length}${listed.truncated ? '+' : ''} on the broker; type to filter, or type a name` : 'The broker has none yet; type the name';
  picker.ignoreFocusOut = true;
  const listedItems = topicItems(listed.topics);
  const editItem = { label: '$(arrow-left) Another address…', alwaysShow: true, edit: true as const };
  const refresh = () => {
    const typed = picker.value.trim();
    const exact = listed.topics.includes(typed);
    // Worded so that the broker's own names, which the filter matches from their start, sort above it.
    const typedItem = typed && !exact && !validateTopic(backend, typed) ? [{ label: `$(add) Monitor "${typed}"`, description: 'not on the broker: it waits for the topic to appear', alwaysShow: true, topic: typed }] : [];
    picker.items = [...listedItems, ...typedItem, editItem];
  };
  refresh();
  try {
    return await new Promise<string | typeof EDIT_ADDRESS | undefined>((resolve) => {
      picker.onDidChangeValue(refresh);
      picker.onDidAccept(() => {
        const item = picker.selectedItems[0];
        if (item?.edit) resolve(EDIT_ADDRESS);
        else if (item?.topic) resolve(item.topic);
      });
      picker.onDidHide(() => resolve(undefined));
      picker.show();
    });
  } finally {
    picker.dispose();
  }
}

const EDIT_ADDRESS_ACTION = 'Edit Address';
const TYPE_TOPIC_ACTION = 'Type the Topic';

/** Checks the source with the agent, says what is wrong (the user may go on), then starts. */
async function checkThenStart(ctx: Ctx, start: StartAndReveal, url: string, name: string | undefined): Promise<PipelineInfo | undefined> {
  const client = await ctx.agent();
  const checked = baseUrlOf(url)
    ? await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Checking ${addressOfBase(url)}…` }, () => client.sendRequest(CheckAddressRequest.type, { url }))
    : { ok: true, message: '' };
  if (!checked.ok) {
    ctx.output.warn(`Checking ${url}: ${checked.message}`);
    const suggested = checked.suggestion !== undefined ? `Monitor ${checked.suggestion}` : undefined;
    const actions = [...(suggested ? [suggested] : []), MONITOR_ANYWAY];
    const pick = await vscode.window.showWarningMessage(checked.message, ...actions);
    if (pick === undefined) return undefined;
    if (pick === suggested) return startReporting(start, { url: withTopic(baseUrlOf(url)!, backendOfBase(url)!, checked.suggestion!), name: shortName(checked.suggestion!) });
  }
  return startReporting(start, { url, name });
}

const MONITOR_ANYWAY = 'Monitor Anyway';

async function startReporting(start: StartAndReveal, params: { url: string; name?: string }): Promise<PipelineInfo> {
  const info = await start(params.name === undefined ? { url: params.url } : { url: params.url, name: params.name });
  if (info.reused) void vscode.window.showInformationMessage(`${info.topic} at ${addressOfBase(params.url)} is already monitored as "${info.id}".`);
  return info;
}

/** A pipeline's name for a topic: the topic itself (a Pulsar topic's last part). */
function shortName(topic: string): string {
  return topic.split('/').pop() ?? topic;
}

function topicItems(topics: readonly string[]): Array<vscode.QuickPickItem & { topic: string }> {
  return topics.map((t) => ({ label: t, topic: t }));
}

/** The brokers the workspace names (clean.yaml, docker-compose, Spring, .env) and those of running pipelines. */
async function workspaceAddresses(ctx: Ctx): Promise<AddressChoice[]> {
  const found: Array<{ file: string; connection: ResolvedConnection }> = [];
  if (vscode.workspace.isTrusted) {
    try {
      const files = await vscode.workspace.findFiles(CONNECTION_FILES, '**/node_modules/**', CONNECTION_FILES_MAX);
      const client = await ctx.agent();
      const resolved = await Promise.all(
        files.map((uri) => client.sendRequest(ResolveTopicRequest.type, { uri: uri.toString() }).then((r) => ({ uri, r }), () => undefined)),
      );
      for (const x of resolved) {
        if (!x) continue;
        const file = vscode.workspace.asRelativePath(x.uri, false);
        for (const connection of x.r.connections) found.push({ file, connection });
      }
    } catch (err) {
      ctx.output.warn(`Looking for the workspace's brokers: ${(err as Error).message}`);
    }
  }
  return addressChoices(found, ctx.store.list().map((e) => e.info));
}

/** "Monitor this topic" on a file: the topic under the cursor (or the file's), with any missing parts asked for. */
export async function monitorThisTopic(
  ctx: Ctx, start: StartAndReveal, target: vscode.Uri | undefined, fromExplorer: boolean, at?: { line: number; character: number },
): Promise<PipelineInfo | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Clean Streams connects to the brokers a file names only in a trusted workspace. Trust this workspace first, or use "Clean: Monitor Topic…".');
    return undefined;
  }
  const editor = vscode.window.activeTextEditor;
  const uri = target ?? editor?.document.uri;
  if (!uri) {
    void vscode.window.showWarningMessage('Open a clean.yaml, docker-compose, application.yml/.properties, .env or Kafka Connect JSON file, or a source file that sends to a topic, then run "Monitor This Topic" again.');
    return undefined;
  }
  if (!isMonitorableFile(uri.path) && !isSourceCodeFile(uri.path)) {
    void vscode.window.showWarningMessage(`Clean Streams does not know topics in ${uri.path.split('/').pop()}. It reads clean.yaml, docker-compose, application.yml/.properties, .env and Kafka Connect JSON files, and JavaScript/TypeScript, Java, Kotlin and Python sources.`);
    return undefined;
  }
  // A code lens gives the topic's place; from the editor the cursor decides; from the explorer the file as a whole.
  const position = at ?? (!fromExplorer && editor && editor.document.uri.toString() === uri.toString() ? editor.selection.active : undefined);
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
    prompt: resolved.fileKind === 'code'
      ? `Neither ${uri.path.split('/').pop()} nor the config files around it (clean.yaml, .env, application.yml, docker-compose) name a ${choice.label} address. ${choice.addressPrompt}`
      : `${uri.path.split('/').pop()} names no ${choice.label} address. ${choice.addressPrompt}`,
    value: remembered ?? choice.defaultAddress,
    ignoreFocusOut: true,
    validateInput: (v) => validateAddress(backend, v),
  });
  if (address === undefined) return undefined;
  const info = await start({ url: sourceUrlFromParts(backend, address, candidate.topic), name: candidate.topic });
  // Remembered only once it started.
  await ctx.extension.workspaceState.update(`clean.lastAddress.${backend}`, address.trim());
  return info;
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
