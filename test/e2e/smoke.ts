// Proves the harness itself: a real VS Code workbench loads in the browser and draws its status bar.
import type { BrowserContext } from 'playwright-core';
import { openWorkbench } from './harness/browser';
import type { RunningCodeServer } from './harness/codeServer';
import { SuiteRecorder } from './harness/outcomes';
import { Workbench } from './harness/workbench';

export async function runSmokeSuite(context: BrowserContext, server: RunningCodeServer, workspace: string): Promise<SuiteRecorder> {
  const recorder = new SuiteRecorder('smoke');
  const page = await context.newPage();
  try {
    await recorder.test('the workbench loads and draws a status bar', async () => {
      await openWorkbench(page, server.origin, workspace);
      const items = await page.locator('.statusbar-item').count();
      if (items < 1) throw new Error(`expected status bar items, found ${items}`);
    });
    await recorder.test('the explorer lists the fixture workspace', async () => {
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'clean.yaml' }).first().waitFor({ timeout: 30_000 });
    });
    await recorder.test('Quick Open opens a file and a right-click on its text opens the editor context menu', async () => {
      const workbench = new Workbench(page);
      await workbench.openFile('docker-compose.yml');
      await workbench.editorToken('orders.v1').click({ button: 'right' });
      await workbench.contextMenuEntry(/^Copy$/).waitFor({ timeout: 10_000 });
      await page.keyboard.press('Escape');
    });
  } finally {
    await page.close();
  }
  return recorder;
}
