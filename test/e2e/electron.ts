/**
 * `npm run test:e2e:electron`: the same extension-host suite under @vscode/test-electron, for machines that can
 * download VS Code (or that name a local one with CLEAN_E2E_VSCODE_PATH). Machines that reach only package
 * registries cannot download VS Code; there `npm run test:e2e` runs this suite through code-server instead.
 * CLEAN_E2E_VSCODE_VERSION picks the version to download (default: the oldest supported, 1.100.3).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { bundleHostSuite } from './harness/extensionHost';
import { runCommand } from './harness/install';
import { e2eCacheDir, fixtureWorkspaceDir, repoRoot } from './harness/paths';
import type { TestOutcome } from './harness/outcomes';
import { say } from './harness/log';

async function main(): Promise<number> {
  const build = await runCommand('npm', ['run', 'build'], { cwd: repoRoot });
  if (build.code !== 0) throw new Error(`npm run build failed (exit ${build.code}):\n${build.output.slice(-2000)}`);
  const suiteIndex = await bundleHostSuite();
  const runDir = path.join(e2eCacheDir, 'runs', 'electron');
  rmSync(runDir, { recursive: true, force: true });
  const workspace = path.join(runDir, 'workspace');
  cpSync(fixtureWorkspaceDir, workspace, { recursive: true });
  mkdirSync(path.join(runDir, 'user-data'), { recursive: true });
  const resultsFile = path.join(runDir, 'host-results.json');
  const localVsCode = process.env.CLEAN_E2E_VSCODE_PATH;
  let exitCode = 0;
  try {
    exitCode = await runTests({
      ...(localVsCode ? { vscodeExecutablePath: localVsCode } : { version: process.env.CLEAN_E2E_VSCODE_VERSION ?? '1.100.3' }),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: suiteIndex,
      extensionTestsEnv: { CLEAN_E2E_RESULTS: resultsFile, CLEAN_E2E_WORKSPACE: workspace },
      launchArgs: [
        workspace,
        '--disable-workspace-trust',
        '--disable-extensions', // other installed extensions stay out; the one under development still loads
        '--skip-welcome',
        '--user-data-dir', path.join(runDir, 'user-data'),
        '--extensions-dir', path.join(runDir, 'extensions'),
      ],
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/ENOTFOUND|EAI_AGAIN|getaddrinfo/.test(message)) {
      process.stderr.write(`test:e2e:electron: cannot download VS Code here (${message}). Set CLEAN_E2E_VSCODE_PATH to a local VS Code, or run npm run test:e2e (code-server).\n`);
    } else {
      process.stderr.write(`test:e2e:electron: ${message}\n`);
    }
    exitCode = 1;
  }
  const outcomes: TestOutcome[] = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, 'utf8')) as TestOutcome[] : [];
  const passed = outcomes.filter((o) => o.passed).length;
  const failed = outcomes.length - passed + (exitCode !== 0 && outcomes.every((o) => o.passed) ? 1 : 0);
  say(`VS Code exited with ${exitCode}`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 || passed === 0 ? 1 : 0;
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`test:e2e:electron: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
});
