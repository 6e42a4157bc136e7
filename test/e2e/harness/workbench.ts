// What a person does in VS Code, as Playwright steps against VS Code 1.100's DOM (selectors from the notes).
import type { FrameLocator, Locator, Page } from 'playwright-core';

export class Workbench {
  constructor(readonly page: Page) {}

  /** F1, type the command's title, pick the entry whose label matches it exactly. */
  async runCommand(title: string): Promise<void> {
    await this.typeInQuickInput('F1', `>${title}`);
    const entry = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    await entry.waitFor({ timeout: 15_000 });
    await entry.click();
  }

  /**
   * Opens the quick input with `key` and types `text` into it. A key pressed while a webview (the chart) holds the
   * focus, or while the previous quick pick is still closing, can open the widget only to have it close again: as a
   * person would, press the key again (at most three times).
   */
  private async typeInQuickInput(key: string, text: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget input');
    for (let attempt = 1; ; attempt++) {
      await this.page.keyboard.press(key);
      try {
        await input.waitFor({ timeout: 10_000 });
        await input.fill(text, { timeout: 5_000 });
        return;
      } catch (error) {
        if (attempt === 3) throw error;
        await this.page.keyboard.press('Escape');
      }
    }
  }

  /**
   * Quick Open (Ctrl+P) a file of the workspace and wait for its editor. Quick Open keeps its file list while it is
   * open: a file written a moment ago may be missing from it, so it is closed and opened again (at most three times).
   */
  async openFile(name: string): Promise<void> {
    const entry = this.page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first();
    for (let attempt = 1; ; attempt++) {
      await this.typeInQuickInput('Control+P', name);
      const listed = await entry.waitFor({ timeout: attempt === 3 ? 15_000 : 5_000 }).then(() => true, (error: Error) => {
        if (attempt === 3) throw error;
        return false;
      });
      if (listed) break;
      await this.page.keyboard.press('Escape');
    }
    await entry.click();
    await this.page.locator('.editor-group-container .tab.active', { hasText: name }).waitFor();
    await this.page.locator('.editor-instance .view-lines').first().waitFor();
  }

  /** The span of visible editor text holding exactly this token (the editor splits lines into spans). */
  editorToken(text: string): Locator {
    return this.page.locator('.editor-instance .view-lines .view-line span span', { hasText: text }).first();
  }

  /** Picks a context-menu entry; a click right after the menu opens can be swallowed, so Enter confirms it then. */
  async pickContextMenuEntry(label: RegExp): Promise<void> {
    const entry = this.contextMenuEntry(label);
    await entry.waitFor();
    await this.page.waitForTimeout(300);
    await entry.click();
    const menu = this.page.locator('.context-view .action-label').first();
    const closed = await menu.waitFor({ state: 'hidden', timeout: 2_000 }).then(() => true, () => false);
    if (!closed) {
      await entry.hover();
      await this.page.keyboard.press('Enter');
      await menu.waitFor({ state: 'hidden', timeout: 5_000 });
    }
  }

  contextMenuEntry(label: RegExp): Locator {
    return this.page.locator('.context-view .action-label', { hasText: label }).first();
  }

  /** Opens a view container from the activity bar; a click on the one already shown would hide the side bar. */
  async showViewContainer(title: string): Promise<void> {
    const item = this.page.locator('.activitybar li.action-item', { has: this.page.locator(`[aria-label^="${title}"]`) }).first();
    await item.waitFor();
    const shown = await item.evaluate((el) => el.classList.contains('checked'));
    if (!shown) await item.click();
  }

  activityBarEntry(title: string): Locator {
    return this.page.locator(`.activitybar [aria-label^="${title}"]`).first();
  }

  sideBar(): Locator {
    return this.page.locator('.part.sidebar');
  }

  treeRow(text: string | RegExp): Locator {
    return this.page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first();
  }

  /**
   * Clicks the side bar's row holding `text`. The tree recycles its row elements as it updates (a pipeline's rec/s
   * changes several times a second), so a row found a moment ago can show another item when the click lands; the
   * row under the pointer is read right before the click, and again after it: the click counts only when the row
   * that took it (now focused) is still the one asked for. Tries at most five times.
   */
  async clickTreeRow(text: string, options: { button?: 'left' | 'right' } = {}): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const row = this.treeRow(text);
      await row.scrollIntoViewIfNeeded();
      const box = await row.boundingBox();
      if (box) {
        const x = box.x + Math.min(60, box.width / 2);
        const y = box.y + box.height / 2;
        await this.page.mouse.move(x, y);
        const under = (): Promise<boolean> =>
          this.page.evaluate(
            ([px, py, t]) => {
              type Found = { closest(selector: string): { textContent: string | null } | null } | null;
              const doc = (globalThis as unknown as { document: { elementFromPoint(x: number, y: number): Found } }).document;
              const el = doc.elementFromPoint(px, py)?.closest('.monaco-list-row');
              return el !== null && el !== undefined && (el.textContent ?? '').includes(t);
            },
            [x, y, text] as const,
          );
        if (await under()) {
          await this.page.mouse.click(x, y, options);
          const focused = this.page.locator('.part.sidebar .monaco-list-row.focused').first();
          if (((await focused.textContent().catch(() => '')) ?? '').includes(text)) return;
          // Another item took the click: close what it opened (a context menu) and try again.
          if (options.button === 'right') await this.page.keyboard.press('Escape');
        }
      }
      if (attempt === 5) throw new Error(`could not click the tree row "${text}": the tree kept changing under the pointer`);
      process.stdout.write(`[e2e]     the tree changed under the pointer: clicking "${text}" again\n`);
      await this.page.waitForTimeout(200);
    }
  }

  statusBarItem(text: string | RegExp): Locator {
    return this.page.locator('.part.statusbar .statusbar-item', { hasText: text }).first();
  }

  toast(text: string | RegExp): Locator {
    return this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  }

  /** A webview's content: the outer iframe VS Code marks ready, then the document it renders in. */
  webview(): FrameLocator {
    // The visible one: a webview kept alive behind another tab stays in the page, hidden.
    return this.page.frameLocator('iframe.webview.ready:visible').frameLocator('#active-frame');
  }

  async closeAllEditors(): Promise<void> {
    await this.runCommand('View: Close All Editors');
  }
}

