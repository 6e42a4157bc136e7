// The UI suite: Clean Streams used as a person would, in a real VS Code driven through Chromium.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { openWorkbench } from './harness/browser';
import type { RunningCodeServer } from './harness/codeServer';
import { SuiteRecorder } from './harness/outcomes';
import { resultsDir } from './harness/paths';
import { eventually } from './eventually';
import { Workbench } from './harness/workbench';
import { checkMissingTopic } from './ui-observer';
import { checkAlertsAndStates } from './ui-alerts';
import { checkWizardTopics } from './ui-wizard';

const VIEW_CONTAINER_TITLE = 'Clean Streams';
const THRESHOLD = 0.8; // clean.yaml's defaults.qualityThreshold

async function screenshot(target: Page | Locator, name: string, maxHeight?: number): Promise<string> {
  mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.png`);
  const box = maxHeight && 'boundingBox' in target ? await target.boundingBox() : null;
  if (box && 'page' in target) {
    // Only the top of a tall, mostly empty part (the side bar), so the rows stay readable.
    await target.page().screenshot({ path: file, animations: 'disabled', clip: { ...box, height: Math.min(box.height, maxHeight!) } });
  } else {
    await target.screenshot({ path: file, animations: 'disabled' });
  }
  return file;
}

interface StatusBarLook { text: string; score: number; background: string; kinds: string }

async function statusBarLook(item: Locator): Promise<StatusBarLook | undefined> {
  if (!(await item.isVisible())) return undefined;
  return item.evaluate((el) => {
    const text = (el as unknown as { innerText: string }).innerText.trim();
    const match = /(\d\.\d\d)/.exec(text);
    // Runs in the page, where the DOM exists; the repo's tsconfig has no DOM lib.
    const style = (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el);
    const kinds = [...el.classList].filter((c) => c.endsWith('-kind')).join(' ');
    return match ? { text, score: Number(match[1]), background: style.backgroundColor, kinds } : undefined;
  });
}

/**
 * What the chart drew on its largest canvas, by colour: the saturated hue that spans the most columns is the score
 * series; a saturated hue that fills a large share of one row is the (dashed) threshold line. Grid and text are grey.
 */
interface ChartPaint {
  width: number;
  series?: { hue: number; columns: number; topRow: number; bottomRow: number; rowsAboveLine: number; rowsBelowLine: number };
  threshold?: { hue: number; row: number; share: number };
}

/** Runs inside the webview; self-contained because Playwright serialises it. */
function analyseChartCanvas(body: unknown): ChartPaint | undefined {
  const doc = body as { querySelectorAll(s: string): ArrayLike<{ width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null }> };
  const canvases = Array.from(doc.querySelectorAll('canvas')).sort((a, b) => b.width * b.height - a.width * a.height);
  const canvas = canvases[0];
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx || canvas.width === 0) return undefined;
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const columnsByHue = new Map<number, Set<number>>();
  const rowCounts = new Map<string, number>(); // `${hue}:${row}` -> pixels
  const rowsByHue = new Map<number, Map<number, number>>();
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      if (data[i + 3]! < 128) continue;
      const r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
      const max = Math.max(r, g, b), min = Math.min(r, g, b);
      if (max < 60 || (max - min) / max < 0.35) continue; // grey grid, text, background
      let hue = 0;
      if (max === r) hue = ((g - b) / (max - min)) * 60;
      else if (max === g) hue = (2 + (b - r) / (max - min)) * 60;
      else hue = (4 + (r - g) / (max - min)) * 60;
      const bucket = Math.round(((hue + 360) % 360) / 30) % 12;
      if (!columnsByHue.has(bucket)) columnsByHue.set(bucket, new Set());
      columnsByHue.get(bucket)!.add(x);
      const key = `${bucket}:${y}`;
      rowCounts.set(key, (rowCounts.get(key) ?? 0) + 1);
      if (!rowsByHue.has(bucket)) rowsByHue.set(bucket, new Map());
      rowsByHue.get(bucket)!.set(y, (rowsByHue.get(bucket)!.get(y) ?? 0) + 1);
    }
  }
  const result: ChartPaint = { width };
  let bestLine: { hue: number; row: number; count: number } | undefined;
  for (const [key, count] of rowCounts) {
    const [hue, row] = key.split(':').map(Number) as [number, number];
    if (!bestLine || count > bestLine.count) bestLine = { hue, row, count };
  }
  if (bestLine && bestLine.count > width * 0.3) result.threshold = { hue: bestLine.hue, row: bestLine.row, share: bestLine.count / width };
  let seriesHue: number | undefined;
  for (const [hue, columns] of columnsByHue) {
    if (hue === result.threshold?.hue) continue;
    if (seriesHue === undefined || columns.size > columnsByHue.get(seriesHue)!.size) seriesHue = hue;
  }
  if (seriesHue !== undefined) {
    const rows = [...rowsByHue.get(seriesHue)!.keys()];
    const line = result.threshold?.row ?? -1;
    result.series = {
      hue: seriesHue * 30,
      columns: columnsByHue.get(seriesHue)!.size,
      topRow: Math.min(...rows),
      bottomRow: Math.max(...rows),
      rowsAboveLine: rows.filter((r) => r < line - 2).length,
      rowsBelowLine: rows.filter((r) => r > line + 2).length,
    };
  }
  return result;
}

export async function runUiSuite(context: BrowserContext, server: RunningCodeServer, workspace: string): Promise<SuiteRecorder> {
  const recorder = new SuiteRecorder('ui');
  const page = await context.newPage();
  const workbench = new Workbench(page);
  let failures = 0;
  recorder.onFailure = async () => {
    await screenshot(page, `failure-${++failures}`);
  };
  try {
    const opened = await recorder.test('the workbench opens with Clean Streams in the activity bar', async () => {
      await openWorkbench(page, server.origin, workspace);
      await workbench.activityBarEntry(VIEW_CONTAINER_TITLE).waitFor({ timeout: 60_000 });
    }, 90_000);
    if (!opened) return recorder;

    await recorder.test('right-click a topic in docker-compose.yml -> "Monitor this topic" -> it appears in the tree', async () => {
      await workbench.openFile('docker-compose.yml');
      const token = workbench.editorToken('orders.v1');
      await token.click();
      await token.click({ button: 'right' });
      await workbench.pickContextMenuEntry(/Monitor this topic/i);
      // The extension reveals the new row itself; open the view only if it did not.
      await workbench.treeRow('orders.v1').waitFor({ timeout: 5_000 }).catch(() => workbench.showViewContainer(VIEW_CONTAINER_TITLE));
      // No broker runs here, so the Kafka pipeline shows as reconnecting; being in the tree is what counts.
      await workbench.treeRow('orders.v1').waitFor({ timeout: 20_000 });
    });

    await recorder.test('the code lens above orders-fast in clean.yaml starts it; the tree shows its score', async () => {
      await workbench.openFile('clean.yaml');
      const lens = page.locator('.codelens-decoration a', { hasText: /start|monitor/i }).first();
      await lens.waitFor({ timeout: 20_000 });
      await lens.click();
      await workbench.treeRow('orders-fast').waitFor({ timeout: 5_000 }).catch(() => workbench.showViewContainer(VIEW_CONTAINER_TITLE));
      try {
        const text = await eventually('orders-fast running with a score in the tree', async () => {
          const row = (await workbench.treeRow('orders-fast').innerText()).replace(/\s+/g, ' ');
          return /running|\d\.\d\d/.test(row) && !/connecting/.test(row) ? row : undefined;
        }, 20_000).catch(async (error: Error) => {
          throw new Error(`${error.message}; the row reads "${(await workbench.treeRow('orders-fast').innerText()).replace(/\s+/g, ' ')}"`);
        });
        if (!/\d\.\d\d/.test(text)) throw new Error(`the orders-fast row shows no score: "${text}"`);
      } finally {
        await screenshot(workbench.sideBar(), 'tree', 240);
      }
    });

    await recorder.test('the status bar shows the score and changes colour when it drops below the threshold', async () => {
      const item = page.locator('.part.statusbar .statusbar-item', { has: page.locator('[aria-label^="Clean Streams worst quality score"]') }).first();
      const looks: StatusBarLook[] = [];
      let shotAbove = '';
      let shotBelow = '';
      await eventually('a passing and a failing score in the status bar', async () => {
        const look = await statusBarLook(item);
        if (look) looks.push(look);
        const passing = looks.find((l) => l.score >= THRESHOLD);
        const failing = looks.find((l) => l.score < THRESHOLD);
        if (failing && looks.at(-1) === failing && !shotBelow) shotBelow = await screenshot(page.locator('.part.statusbar'), 'status-bar-below-threshold');
        if (passing && looks.at(-1) === passing && !shotAbove) shotAbove = await screenshot(page.locator('.part.statusbar'), 'status-bar-above-threshold');
        return passing && failing ? { passing, failing } : undefined;
      }, 45_000, 100).then(({ passing, failing }) => {
        if (passing.background === failing.background && passing.kinds === failing.kinds) {
          throw new Error(`the status bar kept its look: ${JSON.stringify(passing)} vs ${JSON.stringify(failing)}`);
        }
      });
    }, 60_000);

    let toastSeen = false;
    await recorder.test('an alert toast appears with its actions', async () => {
      const toast = workbench.toast(/Clean Streams · orders-fast/); // not orders.v1's "cannot reach" notice
      await toast.waitFor({ timeout: 45_000 });
      const actions = (await toast.locator('.monaco-button').allInnerTexts()).map((a) => a.trim());
      if (JSON.stringify(actions) !== JSON.stringify(['Open Chart', 'Show Samples', 'This is normal', 'Mute for 1 hour'])) {
        throw new Error(`toast actions were ${JSON.stringify(actions)}`);
      }
      await screenshot(page.locator('.notifications-toasts'), 'toast');
      toastSeen = true;
    }, 60_000);

    await recorder.test('"Open Chart" on the toast opens the chart; it draws the score series and the threshold line', async () => {
      if (!toastSeen) throw new Error('no toast to click (previous check failed)');
      await workbench.toast(/Clean Streams · orders-fast/).locator('.monaco-button', { hasText: /Open Chart/i }).first().click();
      await page.locator('.editor-group-container .tab.active', { hasText: 'Quality: orders-fast' }).waitFor({ timeout: 15_000 });
      const chart = workbench.webview();
      await chart.locator('canvas').first().waitFor({ timeout: 30_000 });
      // The score series spans most of the plot and, after a fault episode, lies both above and below the threshold line.
      const paint = await eventually('a drawn score series crossing a threshold line', async () => {
        const p = await chart.locator('body').evaluate(analyseChartCanvas);
        return p?.series && p.threshold && p.series.columns > p.width * 0.5 && p.series.rowsAboveLine > 5 && p.series.rowsBelowLine > 5 ? p : undefined;
      }, 30_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; canvas analysis: ${JSON.stringify(await chart.locator('body').evaluate(analyseChartCanvas))}`);
      });
      process.stdout.write(`[e2e]     chart: ${JSON.stringify(paint)}\n`);
      await workbench.runCommand('Notifications: Clear All Notifications'); // so no toast covers the chart
      await screenshot(page.locator('.part.editor'), 'chart');
    }, 60_000);

    await recorder.test('"Clean: Stop Pipeline" from the palette asks which pipeline; orders-fast leaves the tree', async () => {
      await workbench.runCommand('Clean: Stop Pipeline');
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'orders-fast' }).first().click();
      await workbench.treeRow('orders-fast').waitFor({ state: 'detached', timeout: 15_000 });
      await workbench.runCommand('Notifications: Clear All Notifications');
    });

    // baseline.clean.yml: orders-learning learns 4,000 records at 400/s (about 10 s), then duplicates start at 14 s.
    const learningRow = () => workbench.treeRow('orders-learning');
    const rowText = async () => (await learningRow().innerText()).replace(/\s+/g, ' ');
    /** The row's learning progress (the row also carries the name "orders-learning"). */
    const LEARNING = /learning [\d,]+\/4,000/;
    let learningStarted = false;
    await recorder.test('a new pipeline shows it is learning in the tree and the chart; the chart keeps the learning period shaded', async () => {
      await workbench.openFile('baseline.clean.yml');
      const lens = page.locator('.codelens-decoration a', { hasText: /Monitor/ }).first();
      await lens.waitFor({ timeout: 20_000 });
      await lens.click();
      await learningRow().waitFor({ timeout: 5_000 }).catch(() => workbench.showViewContainer(VIEW_CONTAINER_TITLE));
      const text = await eventually('orders-learning to show its learning progress', async () => {
        const row = await rowText();
        return LEARNING.test(row) ? row : undefined;
      }, 15_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; the row reads "${await rowText().catch(() => '(no row)')}"`);
      });
      learningStarted = true;
      await screenshot(workbench.sideBar(), 'tree-learning', 240);
      process.stdout.write(`[e2e]     tree row: ${text}\n`);
      await workbench.clickTreeRow('orders-learning'); // opens the chart on this pipeline
      await page.locator('.editor-group-container .tab.active', { hasText: 'Quality: orders-learning' }).waitFor({ timeout: 15_000 });
      const chart = workbench.webview();
      const label = chart.locator('#learning');
      await eventually('the chart\'s learning label', async () => {
        const t = (await label.isVisible()) ? await label.innerText() : '';
        return /^Learning baseline: [\d,]+ \/ 4,000 records — alerts held$/.test(t) ? t : undefined;
      }, 10_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; it reads "${await label.innerText().catch(() => '')}"`);
      });
      const open = JSON.parse((await chart.locator('body').getAttribute('data-bands')) ?? '[]') as Array<{ id: string; from: number; until: number | null }>;
      if (open.length !== 1 || open[0]!.id !== 'orders-learning' || open[0]!.until !== null) throw new Error(`bands while learning: ${JSON.stringify(open)}`);
      await screenshot(page.locator('.part.editor'), 'chart-learning');
      // Learning ends: the label goes, the band stays, closed at the first ready check.
      const closed = await eventually('the learning band to close', async () => {
        const bands = JSON.parse((await chart.locator('body').getAttribute('data-bands')) ?? '[]') as Array<{ id: string; from: number; until: number | null }>;
        return bands.length === 1 && bands[0]!.until !== null && !(await label.isVisible()) ? bands[0]! : undefined;
      }, 20_000);
      if (!(closed.until! > closed.from)) throw new Error(`a closed band that ends before it starts: ${JSON.stringify(closed)}`);
      if (LEARNING.test(await rowText())) throw new Error(`the tree still shows learning: "${await rowText()}"`);
    }, 60_000);

    await recorder.test('its first alert offers "This is normal"; choosing it is confirmed with Undo, and Undo puts the baseline back', async () => {
      if (!learningStarted) throw new Error('orders-learning did not start (previous check failed)');
      const toast = workbench.toast(/Clean Streams · orders-learning: duplicates/);
      await toast.waitFor({ timeout: 30_000 });
      const actions = (await toast.locator('.monaco-button').allInnerTexts()).map((a) => a.trim());
      if (JSON.stringify(actions) !== JSON.stringify(['Open Chart', 'Show Samples', 'This is normal', 'Mute for 1 hour'])) throw new Error(`toast actions were ${JSON.stringify(actions)}`);
      await screenshot(page.locator('.notifications-toasts'), 'toast-this-is-normal');
      await toast.locator('.monaco-button', { hasText: 'This is normal' }).click();
      const confirmed = workbench.toast('Clean Streams · orders-learning: Accepted the current level of duplicates as normal.');
      await confirmed.waitFor({ timeout: 15_000 });
      await confirmed.locator('.monaco-button', { hasText: 'Undo' }).click();
      await workbench.toast('Clean Streams · orders-learning: Restored the baseline as it was before the last change.').waitFor({ timeout: 15_000 });
    }, 60_000);

    await recorder.test('the tree\'s "Reset Baseline" asks first, then the pipeline learns again; "Undo Baseline Change" restores it', async () => {
      if (!learningStarted) throw new Error('orders-learning did not start (previous check failed)');
      await workbench.runCommand('Notifications: Clear All Notifications');
      await workbench.clickTreeRow('orders-learning', { button: 'right' });
      await workbench.pickContextMenuEntry(/^Reset Baseline$/);
      const dialog = page.locator('.monaco-dialog-box');
      await dialog.waitFor({ timeout: 10_000 });
      const question = (await dialog.innerText()).replace(/\s+/g, ' ');
      if (!question.includes('Reset the learned baseline of "orders-learning"?') || !question.includes('It learns its next 4,000 records afresh')) throw new Error(`the dialog reads "${question}"`);
      await dialog.locator('.monaco-button', { hasText: 'Reset Baseline' }).click();
      await workbench.toast('Clean Streams · orders-learning: Baseline reset: learning the next 4000 records afresh.').waitFor({ timeout: 15_000 });
      await eventually('orders-learning to learn again', async () => (LEARNING.test(await rowText()) ? true : undefined), 10_000);
      await workbench.clickTreeRow('orders-learning', { button: 'right' });
      await workbench.pickContextMenuEntry(/^Undo Baseline Change$/);
      await workbench.toast('Clean Streams · orders-learning: Restored the baseline as it was before the last change.').waitFor({ timeout: 15_000 });
      await eventually('the tree to show the restored baseline', async () => (!LEARNING.test(await rowText()) ? true : undefined), 10_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; the row reads "${await rowText()}"`);
      });
      // The chart (still open on orders-learning) drops its label and keeps both learning periods shaded, closed.
      const chart = workbench.webview();
      await eventually('the chart to show two closed learning periods and no label', async () => {
        const bands = JSON.parse((await chart.locator('body').getAttribute('data-bands')) ?? '[]') as Array<{ id: string; from: number; until: number | null }>;
        return bands.length === 2 && bands.every((b) => b.id === 'orders-learning' && b.until !== null && b.until >= b.from) && bands[1]!.from > bands[0]!.until!
          && !(await chart.locator('#learning').isVisible()) ? bands : undefined;
      }, 10_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; bands ${await chart.locator('body').getAttribute('data-bands')}, label "${await chart.locator('#learning').innerText().catch(() => '')}"`);
      });
      await screenshot(page.locator('.part.editor'), 'chart-after-reset');
    }, 60_000);
    await checkMissingTopic({ page, workbench, recorder, workspace, screenshot, viewContainerTitle: VIEW_CONTAINER_TITLE });
    await checkAlertsAndStates({ page, workbench, recorder, workspace, screenshot, viewContainerTitle: VIEW_CONTAINER_TITLE });
    await checkWizardTopics({ page, workbench, recorder, workspace, screenshot, viewContainerTitle: VIEW_CONTAINER_TITLE });
  } finally {
    await screenshot(page, 'workbench-final').catch(() => undefined);
    await page.close();
  }
  return recorder;
}
