/** The agent bundle's entry: `clean-agent` (bin/clean-agent.js) and the extension's language server. */
import { runCli } from './cli/run';

export async function main(argv: string[]): Promise<void> {
  const code = await runCli(argv);
  if (code >= 0) {
    process.exitCode = code;
    // Pending sockets or timers of a finished source must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  }
}

// Started directly (node dist/agent.js …, as vscode-languageclient does) rather than through bin/.
if (require.main === module) void main(process.argv.slice(2));
