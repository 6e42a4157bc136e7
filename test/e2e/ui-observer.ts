// Issue 17.2 in the real VS Code: a misspelled Kafka topic shows as waiting in the tree, is never created, and the
// same row starts reading once the topic exists. Screenshot: test-results/e2e/tree-missing-topic.png.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { useBroker } from '../helpers/broker';
import type { UiCheckContext } from './uiContext';
import { eventually } from './eventually';

export type ObserverUi = UiCheckContext;

export async function checkMissingTopic(ui: ObserverUi): Promise<void> {
  const { page, workbench, recorder } = ui;
  await recorder.test('a misspelled Kafka topic shows as waiting in the tree, is not created, and is read once it exists', async () => {
    const broker = await useBroker('kafka');
    const bootstrap = broker.url.replace(/^kafka:\/\//, '');
    const tag = randomBytes(4).toString('hex');
    const orders = `e2e-orders-${tag}`;
    const orderz = `e2e-orderz-${tag}`;
    const kafka = new Kafka({ clientId: 'clean-e2e-observer', brokers: [bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await Promise.all([admin.connect(), producer.connect()]);
    const row = () => workbench.treeRow('orderz-typo');
    const rowText = async () => (await row().innerText().catch(() => '(no row)')).replace(/\s+/g, ' ');
    try {
      await admin.createTopics({ topics: [{ topic: orders, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      writeFileSync(
        path.join(ui.workspace, 'observer.clean.yaml'),
        `connections:\n  local:\n    backend: kafka\n    brokers: [${bootstrap}]\npipelines:\n  - name: orderz-typo\n    connection: local\n    topic: ${orderz}\n`,
      );
      await workbench.openFile('observer.clean.yaml');
      const lens = page.locator('.codelens-decoration a', { hasText: /Monitor/ }).first();
      await lens.waitFor({ timeout: 20_000 });
      await lens.click();
      await row().waitFor({ timeout: 5_000 }).catch(() => workbench.showViewContainer(ui.viewContainerTitle));
      const waiting = await eventually('the orderz-typo row to say waiting', async () => {
        const text = await rowText();
        return /waiting/.test(text) ? text : undefined;
      }, 30_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; the row reads "${await rowText()}"`);
      });
      if (/\d\.\d\d/.test(waiting)) throw new Error(`a waiting row must show no score, it reads "${waiting}"`);
      await ui.screenshot(workbench.sideBar(), 'tree-missing-topic', 240);
      process.stdout.write(`[e2e]     tree row: ${waiting}\n`);
      const topics = (await admin.listTopics()).filter((t) => t.includes(tag)).sort();
      if (JSON.stringify(topics) !== JSON.stringify([orders])) throw new Error(`the broker's topics of this check are ${JSON.stringify(topics)}, expected only ${orders}`);

      // Created and filled by someone else: the same row starts reading, with no restart.
      await admin.createTopics({ topics: [{ topic: orderz, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
      await producer.send({ topic: orderz, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ value: JSON.stringify({ id: i, amount: 10 + i }) })) });
      await eventually('the orderz-typo row to leave waiting', async () => {
        const text = await rowText();
        return !/waiting|connecting/.test(text) ? text : undefined;
      }, 30_000).catch(async (error: Error) => {
        throw new Error(`${error.message}; the row reads "${await rowText()}"`);
      });
      await workbench.runCommand('Clean: Stop Pipeline');
      await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'orderz-typo' }).first().click();
      await row().waitFor({ state: 'detached', timeout: 15_000 });
    } finally {
      await admin.deleteTopics({ topics: [orders, orderz] }).catch(() => undefined);
      await Promise.all([admin.disconnect(), producer.disconnect()]);
      await broker.release();
    }
  }, 120_000);
}
