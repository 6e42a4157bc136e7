/**
 * "Edit Address" on a pipeline that cannot reach its broker: asks for a new address, prefilled with the current one,
 * then stops the pipeline and starts the same topic there. A pipeline from a config file is edited in its file instead.
 */
import * as vscode from 'vscode';
import type { PipelineInfo } from '../shared/protocol';
import type { Ctx } from './ctx';
import { inert } from './model/inertText';
import { validateAddress } from './model/sourceInput';
import { editableAddress, sourceAddressOf, sourceUrlFromCli, withAddress } from './model/sourceAddress';

export const EDIT_ADDRESS_ACTION = 'Edit Address';
export const STOP_ACTION = 'Stop';

/**
 * The started pipeline at the new address, or undefined when the user cancelled, kept the address, or the pipeline
 * comes from a config file (that file is opened instead).
 */
export async function editPipelineAddress(ctx: Ctx, pipeline: string, ask: (current: string, info: PipelineInfo) => Thenable<string | undefined> = askAddress): Promise<PipelineInfo | undefined> {
  const info = ctx.store.get(pipeline)?.info;
  if (!info) throw new Error(`no pipeline "${pipeline}" is running`);
  if (info.configUri) {
    // The file is the pipeline's truth: a typed address would be dropped at its next start from the file.
    await vscode.window.showTextDocument(vscode.Uri.parse(info.configUri));
    vscode.window.setStatusBarMessage(`$(edit) Edit the address of ${inert(info.name)} in its config file, then start it again from the code lens`, 8000);
    return undefined;
  }
  const url = sourceUrlFromCli(info.cliCommand);
  const address = url ? sourceAddressOf(url) : undefined;
  if (!address) throw new Error(`${info.name} reads ${info.description}, which has no broker address to edit`);
  const current = editableAddress(address);
  const typed = await ask(current, info);
  if (typed === undefined || typed.trim() === current) return undefined;
  const invalid = validateAddress(address.backend as 'kafka' | 'redis' | 'pulsar', typed);
  if (invalid) throw new Error(invalid);
  await ctx.stopPipeline(info.id);
  const started = await ctx.startPipeline({ url: withAddress(address, typed), name: info.name });
  ctx.output.info(`Moved ${info.id} from ${current} to ${typed.trim()}: now ${started.id}, ${started.description}`);
  return started;
}

function askAddress(current: string, info: PipelineInfo): Thenable<string | undefined> {
  const backend = info.backend as 'kafka' | 'redis' | 'pulsar';
  return vscode.window.showInputBox({
    title: `Edit Address: ${inert(info.topic)}`,
    prompt: `Where ${info.backend} serves "${inert(info.topic)}" (the pipeline is stopped and started there)`,
    value: current,
    ignoreFocusOut: true,
    validateInput: (v) => validateAddress(backend, v),
  });
}
