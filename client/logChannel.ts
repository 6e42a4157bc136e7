/** The one "Clean Streams" output channel, wrapped so no secret value the extension knows can reach it. */
import * as vscode from 'vscode';
import { redact, type KnownSecrets } from './model/redact';

export function createRedactingLogChannel(name: string, secrets: KnownSecrets): vscode.LogOutputChannel {
  const channel = vscode.window.createOutputChannel(name, { log: true });
  const clean = (value: string) => redact(value, secrets);
  const cleanArgs = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? clean(a) : a instanceof Error ? clean(a.message) : a));
  const wrapper: vscode.LogOutputChannel = {
    get name() {
      return channel.name;
    },
    get logLevel() {
      return channel.logLevel;
    },
    onDidChangeLogLevel: channel.onDidChangeLogLevel,
    append: (value) => channel.append(clean(value)),
    appendLine: (value) => channel.appendLine(clean(value)),
    replace: (value) => channel.replace(clean(value)),
    clear: () => channel.clear(),
    show: ((a?: vscode.ViewColumn | boolean, b?: boolean) => channel.show(a as never, b)) as vscode.LogOutputChannel['show'],
    hide: () => channel.hide(),
    dispose: () => channel.dispose(),
    trace: (message, ...args) => channel.trace(clean(message), ...cleanArgs(args)),
    debug: (message, ...args) => channel.debug(clean(message), ...cleanArgs(args)),
    info: (message, ...args) => channel.info(clean(message), ...cleanArgs(args)),
    warn: (message, ...args) => channel.warn(clean(message), ...cleanArgs(args)),
    error: (error, ...args) => channel.error(clean(typeof error === 'string' ? error : error.stack ?? error.message), ...cleanArgs(args)),
  };
  return wrapper;
}
