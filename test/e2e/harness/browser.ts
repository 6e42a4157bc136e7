// Drives Debian's Chromium with playwright-core; the browser runs as its own tracked process group.
import { tmpdir } from 'node:os';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumPath } from './paths';
import { stopTracked, trackPid } from './processes';

const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];

export interface RunningBrowser {
  browser: Browser;
  context: BrowserContext;
  pid: number;
  stop(): Promise<void>;
}

export async function launchBrowser(): Promise<RunningBrowser> {
  // launchServer, not launch: it exposes the browser's process id, which the harness needs to stop it for sure.
  const server = await chromium.launchServer({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    // Chromium's crash database and caches go under the run's scratch folder, not ~/.config.
    env: { ...process.env, XDG_CONFIG_HOME: `${tmpdir()}/chromium-config`, XDG_CACHE_HOME: `${tmpdir()}/chromium-cache` },
  });
  const pid = server.process().pid;
  if (pid === undefined) throw new Error('Chromium started without a process id.');
  trackPid('chromium', pid);
  const browser = await chromium.connect(server.wsEndpoint());
  const context = await browser.newContext({ reducedMotion: 'reduce', viewport: { width: 1440, height: 900 } });
  return {
    browser,
    context,
    pid,
    async stop() {
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      await stopTracked(pid);
    },
  };
}

/** Opens the workbench on a folder and waits until VS Code has drawn its status bar. */
export async function openWorkbench(page: Page, origin: string, folder: string, payload?: [string, string][]): Promise<void> {
  let url = `${origin}/?folder=${encodeURIComponent(folder)}`;
  if (payload) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  await page.goto(url);
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.statusbar-item').first().waitFor({ timeout: 60_000 });
}
