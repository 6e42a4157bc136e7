// Runs the mocha suite inside code-server's real extension host through the workbench's test payload.
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { build, stop as stopEsbuild } from 'esbuild';
import type { BrowserContext } from 'playwright-core';
import { bundledSuiteDir, repoRoot } from './paths';
import type { RunningCodeServer } from './codeServer';
import type { TestOutcome } from './outcomes';
import { say } from './log';

/** Logged by test/e2e/suite/index.ts when mocha starts. */
export const hostSuiteStartMarker = 'clean-streams-e2e: mocha starts';

/** Bundles test/e2e/suite/index.ts (and the tests it requires) into one CommonJS file for the extension host. */
export async function bundleHostSuite(): Promise<string> {
  rmSync(bundledSuiteDir, { recursive: true, force: true });
  const outfile = path.join(bundledSuiteDir, 'index.js');
  await build({
    entryPoints: [path.join(repoRoot, 'test', 'e2e', 'suite', 'index.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    logLevel: 'warning',
    // vscode is the host's; mocha loads its reporters dynamically, so it resolves from the repo's node_modules.
    external: ['vscode', 'mocha'],
  });
  stopEsbuild(); // its service process would otherwise live as long as the harness
  return outfile;
}

/** The folder `code-server --install-extension` unpacked the .vsix into. */
export function installedExtensionFolder(extensionsDir: string, extensionId: string): string {
  const prefix = `${extensionId.toLowerCase()}-`;
  const match = readdirSync(extensionsDir).find((name) => name.toLowerCase().startsWith(prefix));
  if (!match) throw new Error(`Extension ${extensionId} is not in ${extensionsDir}; did --install-extension succeed?`);
  return path.join(extensionsDir, match);
}

export async function runHostSuite(options: {
  context: BrowserContext;
  server: RunningCodeServer;
  workspace: string;
  extensionFolder: string;
  suiteIndex: string;
  resultsFile: string;
  timeoutMs: number;
}): Promise<TestOutcome[]> {
  const { context, server, workspace, extensionFolder, suiteIndex, resultsFile, timeoutMs } = options;
  const page = await context.newPage();
  let settle: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => { settle = resolve; });
  // The workbench forwards every console line; show the suite's own from its start marker on (all with CLEAN_E2E_VERBOSE).
  let suiteStarted = process.env.CLEAN_E2E_VERBOSE === '1';
  await page.exposeFunction('codeAutomationLog', (_type: string, args: unknown) => {
    const text = Array.isArray(args) ? format(...(args as unknown[])) : String(args);
    if (text.includes(hostSuiteStartMarker)) suiteStarted = true;
    if (!suiteStarted) return;
    for (const line of text.split('\n')) if (line.trim()) process.stdout.write(`    ${line}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => settle(code));
  const remote = (file: string) => `vscode-remote://127.0.0.1:${server.port}${file}`;
  const payload = [
    ['extensionDevelopmentPath', remote(extensionFolder)],
    ['extensionTestsPath', remote(suiteIndex)],
  ];
  const url = `${server.origin}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  try {
    await page.goto(url);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      exited,
      new Promise<number>((resolve) => { timer = setTimeout(() => resolve(-1), timeoutMs); }),
    ]);
    clearTimeout(timer);
    const outcomes: TestOutcome[] = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) as TestOutcome[] : [];
    if (code === -1) {
      outcomes.push({ suite: 'host', name: 'the suite finishes', passed: false, error: `no exit within ${timeoutMs} ms`, durationMs: timeoutMs });
    } else if (code !== 0 && !outcomes.some((o) => !o.passed)) {
      outcomes.push({ suite: 'host', name: 'the suite runs', passed: false, error: `the extension host exited with ${code} before reporting results; see ${server.logFile}`, durationMs: 0 });
    } else if (code === 0 && outcomes.length === 0) {
      outcomes.push({ suite: 'host', name: 'the suite runs', passed: false, error: 'exit 0 but no test reported', durationMs: 0 });
    }
    say(`extension-host suite exited with ${code}`);
    return outcomes;
  } finally {
    await page.close().catch(() => undefined);
  }
}
