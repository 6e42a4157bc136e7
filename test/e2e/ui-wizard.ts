// Issue 17.7 in the real VS Code: "Clean: Monitor Topic…" offers the brokers the workspace names, then lists the
// broker's streams with a filter. Screenshot: test-results/e2e/wizard-topics.png.
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { useBroker } from '../helpers/broker';
import type { UiCheckContext } from './uiContext';
import { eventually } from './eventually';

export type WizardUi = UiCheckContext;

export async function checkWizardTopics(ui: WizardUi): Promise<void> {
  const { page, workbench, recorder } = ui;
  await recorder.test('"Monitor Topic…" offers the workspace\'s brokers, then lists the Redis streams with a filter', async () => {
    const broker = await useBroker('redis');
    const address = broker.url.replace(/^redis:\/\//, '');
    const tag = randomBytes(4).toString('hex');
    const streams = [`e2e-wizard-${tag}-orders`, `e2e-wizard-${tag}-payments`];
    const redis = new Redis(broker.url);
    const widget = page.locator('.quick-input-widget');
    const rows = () => widget.locator('.monaco-list-row');
    const rowTexts = async () => (await rows().allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    try {
      for (const s of streams) await redis.xadd(s, '*', 'data', '{"id":1}');
      await page.keyboard.press('Escape');
      await workbench.runCommand('Clean: Monitor Topic…');
      // Step 1: docker-compose.yml's Kafka comes first, under "In this workspace".
      await eventually('the workspace\'s brokers in step 1', async () => ((await rowTexts()).some((t) => t.includes('docker-compose.yml')) ? true : undefined), 20_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; step 1 lists ${JSON.stringify(await rowTexts())}`);
      });
      await widget.locator('input').fill('Redis Streams');
      await rows().filter({ hasText: 'Redis Streams' }).first().click();
      // Step 2: the address.
      await widget.locator('input').fill(address);
      await page.keyboard.press('Enter');
      // Step 3: the broker's streams (the shared broker holds many: the list is virtual, so filter to this run's).
      await eventually('the topic list', async () => {
        // A profile with stored secrets asks for credentials first.
        if ((await rowTexts()).includes('No authentication')) await rows().filter({ hasText: 'No authentication' }).first().click();
        return (await widget.locator('input').getAttribute('placeholder'))?.includes('on the broker') ? true : undefined;
      }, 20_000);
      await widget.locator('input').fill(`e2e-wizard-${tag}`);
      const listed = await eventually('both test streams in the topic list', async () => {
        const texts = await rowTexts();
        return streams.every((s) => texts.some((t) => t.includes(s))) ? texts : undefined;
      }, 20_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; the list shows ${JSON.stringify(await rowTexts())}`);
      });
      await ui.screenshot(widget, 'wizard-topics');
      await widget.locator('input').fill(`${tag}-or`);
      const filtered = await eventually('the filter to leave the orders stream', async () => {
        const texts = await rowTexts();
        return texts.some((t) => t.includes(streams[0]!)) && !texts.some((t) => t.includes(streams[1]!)) ? texts : undefined;
      }, 10_000);
      process.stdout.write(`[e2e]     wizard: ${listed.length} rows listed, filtered to ${JSON.stringify(filtered)}\n`);
      await page.keyboard.press('Escape');
    } finally {
      await redis.del(...streams).catch(() => undefined);
      redis.disconnect();
      await broker.release();
    }
  }, 60_000);
}
