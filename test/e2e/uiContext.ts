// What every Playwright check that ui.ts calls gets: the page, the workbench helpers, the recorder and the
// screenshot function, plus the workspace folder code-server has open.
import type { Locator, Page } from 'playwright-core';
import type { SuiteRecorder } from './harness/outcomes';
import type { Workbench } from './harness/workbench';

export interface UiCheckContext {
  page: Page;
  workbench: Workbench;
  recorder: SuiteRecorder;
  /** The workspace folder code-server has open. */
  workspace: string;
  screenshot(target: Page | Locator, name: string, maxHeight?: number): Promise<string>;
  /** The title of the Clean Streams view container. */
  viewContainerTitle: string;
}
