/**
 * `npm run test:e2e`: end-to-end tests in a real VS Code (code-server 4.100.3 + Debian's Chromium).
 * Installs what it needs on first use, runs the smoke, extension-host and UI suites, each against a fresh
 * code-server, stops every process it started, and closes with "N passed, N failed".
 * `--suite smoke|host|ui` (repeatable) runs only those suites; CLEAN_E2E_VSIX=path tests another .vsix.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ensureE2eTools } from './harness/install';
import { installStopHandlers, stopAllTracked, stopStragglers } from './harness/processes';
import { createRunFolders, installExtensionVsix, startCodeServer, type RunFolders, type RunningCodeServer } from './harness/codeServer';
import { bundleHostSuite, installedExtensionFolder, runHostSuite } from './harness/extensionHost';
import { extensionId, extensionUnderTest } from './harness/extensionPackage';
import { launchBrowser, type RunningBrowser } from './harness/browser';
import { e2eCacheDir, fixtureWorkspaceDir, resultsDir } from './harness/paths';
import type { TestOutcome } from './harness/outcomes';
import { say } from './harness/log';
import { PeakMemory } from './harness/memory';
import { runSmokeSuite } from './smoke';
import { runUiSuite } from './ui';

const SUITES = ['smoke', 'host', 'ui'] as const;
type SuiteName = (typeof SUITES)[number];

function selectedSuites(argv: string[]): SuiteName[] {
  const chosen: SuiteName[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== '--suite') continue;
    const name = argv[++i];
    if (!(SUITES as readonly string[]).includes(name ?? '')) {
      process.stderr.write(`test:e2e: unknown suite "${name}". Use --suite ${SUITES.join('|')}.\n`);
      process.exit(2);
    }
    chosen.push(name as SuiteName);
  }
  return chosen.length > 0 ? chosen : [...SUITES];
}

/** One suite's own code-server and browser: a disconnected browser would leave an extension host running. */
async function withFreshVsCode<T>(
  runsDir: string, label: string, run: (folders: RunFolders, server: RunningCodeServer, browser: RunningBrowser) => Promise<T>,
  prepare?: (folders: RunFolders) => Promise<NodeJS.ProcessEnv | void>,
): Promise<T> {
  const folders = createRunFolders(runsDir, label, fixtureWorkspaceDir);
  const extraEnv = (await prepare?.(folders)) ?? {};
  const server = await startCodeServer(folders, extraEnv);
  let browser: RunningBrowser | undefined;
  try {
    browser = await launchBrowser();
    return await run(folders, server, browser);
  } finally {
    await browser?.stop();
    await server.stop();
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  installStopHandlers();
  const suites = selectedSuites(process.argv.slice(2));
  await ensureE2eTools();
  // One scratch folder per run (by process id), so two runs at once never share one; dead runs' folders go.
  const allRunsDir = path.join(e2eCacheDir, 'runs');
  mkdirSync(allRunsDir, { recursive: true });
  for (const name of readdirSync(allRunsDir)) {
    const pid = /^run-(\d+)$/.exec(name)?.[1];
    if (pid && !processAlive(Number(pid))) rmSync(path.join(allRunsDir, name), { recursive: true, force: true });
  }
  const runsDir = path.join(allRunsDir, `run-${process.pid}`);
  mkdirSync(runsDir, { recursive: true });
  rmSync(resultsDir, { recursive: true, force: true });
  // Chromium's profile and Playwright's artifacts land here, so a run leaves nothing in /tmp.
  process.env.TMPDIR = path.join(runsDir, 'tmp');
  mkdirSync(process.env.TMPDIR, { recursive: true });
  const memory = new PeakMemory();
  const outcomes: TestOutcome[] = [];
  /** A suite that cannot run at all (no .vsix, code-server did not start) still counts, as one failure. */
  const runSuite = async (suite: string, run: () => Promise<TestOutcome[]>) => {
    try {
      outcomes.push(...(await run()));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      say(`  ✗ ${suite}: the suite could not run\n      ${message.split('\n').slice(0, 12).join('\n      ')}`);
      outcomes.push({ suite, name: 'the suite runs', passed: false, error: message, durationMs: 0 });
    } finally {
      await stopAllTracked();
    }
  };
  try {
    if (suites.includes('smoke')) {
      say('suite: smoke (harness)');
      await runSuite('smoke', async () => (await withFreshVsCode(runsDir, 'smoke', (folders, server, browser) =>
        runSmokeSuite(browser.context, server, folders.workspace))).outcomes);
    }
    let vsix: Promise<string> | undefined;
    const packaged = () => (vsix ??= extensionUnderTest());
    if (suites.includes('host')) {
      say('suite: extension host (mocha inside code-server)');
      await runSuite('host', async () => {
        const extension = await packaged();
        const suiteIndex = await bundleHostSuite();
        let resultsFile = '';
        return withFreshVsCode(runsDir, 'host', async (folders, server, browser) =>
          runHostSuite({
            context: browser.context, server, workspace: folders.workspace, suiteIndex, resultsFile, timeoutMs: 240_000,
            extensionFolder: installedExtensionFolder(folders.extensions, extensionId()),
          }), async (folders) => {
          await installExtensionVsix(folders, extension);
          resultsFile = path.join(folders.root, 'host-results.json');
          return { CLEAN_E2E_RESULTS: resultsFile, CLEAN_E2E_WORKSPACE: folders.workspace };
        });
      });
    }
    if (suites.includes('ui')) {
      say('suite: UI (Playwright)');
      await runSuite('ui', async () => {
        const extension = await packaged();
        return (await withFreshVsCode(runsDir, 'ui', (folders, server, browser) =>
          runUiSuite(browser.context, server, folders.workspace), async (folders) => {
          await installExtensionVsix(folders, extension);
        })).outcomes;
      });
    }
  } finally {
    await stopAllTracked();
    // Give re-parented helpers a moment to exit on their own, then stop any that did not.
    await new Promise((r) => setTimeout(r, 500));
    const stragglers = stopStragglers(`TMPDIR=${process.env.TMPDIR}`);
    if (stragglers.length > 0) say(`stopped ${stragglers.length} process(es) left behind: ${stragglers.join(', ')}`);
  }
  const passed = outcomes.filter((o) => o.passed).length;
  const failed = outcomes.length - passed;
  for (const o of outcomes.filter((x) => !x.passed)) say(`FAILED ${o.suite}: ${o.name}: ${o.error?.split('\n')[0]}`);
  say(`finished in ${((Date.now() - started) / 1000).toFixed(1)} s; peak memory ${memory.stop()}`);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed > 0 || outcomes.length === 0 ? 1 : 0;
}

main().then((code) => process.exit(code), async (error) => {
  process.stderr.write(`test:e2e: ${error instanceof Error ? error.stack : String(error)}\n`);
  await stopAllTracked();
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
});
