import * as assert from 'node:assert/strict';
import Redis from 'ioredis';
import * as vscode from 'vscode';
import type { PipelineInfo } from '../../../shared/protocol';
import { cleanApi, eventually, workspaceFile, type CleanStreamsApi } from './api';

const STREAM = 'clicks.e2e';

/** The lenses the language client gives a fixture file (only Clean Streams contributes lenses in this VS Code). */
async function lensesOf(file: string): Promise<vscode.CodeLens[]> {
  const uri = workspaceFile(file);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
  return (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
}

const brief = (l: vscode.CodeLens) => [l.range.start.line, l.range.start.character, l.command?.title, l.command?.command];

describe('topics in source code', () => {
  let api: CleanStreamsApi;
  let redisUrl: string;
  let redis: Redis;
  let started: PipelineInfo | undefined;

  before(async () => {
    api = await cleanApi();
    await api.whenAgentReady();
    const url = process.env.CLEAN_TEST_REDIS_URL;
    if (!url) throw new Error('CLEAN_TEST_REDIS_URL is not set: run the e2e suite through npm test, or export the URL `bash scripts/broker url redis` prints.');
    redisUrl = url;
    const u = new URL(url);
    redis = new Redis({ host: u.hostname, port: Number(u.port), protocol: 2, lazyConnect: true });
    await redis.connect();
    await redis.del(STREAM);
    await redis.xadd(STREAM, '*', 'data', '{"seed":true}'); // the stream exists; the monitor starts after this entry
    // The clicks service's own settings name the real broker (the workspace-wide .env names another).
    await vscode.workspace.fs.writeFile(workspaceFile('services/clicks/.env'), Buffer.from(`REDIS_URL=${url}\n`));
  });

  after(async () => {
    if (started) await vscode.commands.executeCommand('clean.stopPipeline', { pipeline: started.id });
    await redis?.del(STREAM);
    redis?.disconnect();
  });

  it('JavaScript, Java and Python sources get "Monitor this topic" lenses on their topics', async () => {
    const js = await eventually('lenses on publish.js', async () => {
      const l = await lensesOf('services/orders/publish.js');
      return l.length ? l : undefined;
    });
    assert.deepEqual(js.map(brief), [[6, 32, 'Monitor this topic', 'clean.monitorThisTopic']]);
    assert.deepEqual((await lensesOf('services/billing/Billing.java')).map(brief), [
      [5, 30, 'Monitor payments.v1', 'clean.monitorThisTopic'],
      [5, 45, 'Monitor refunds.v1', 'clean.monitorThisTopic'],
    ]);
    // The lens hands over the topic's place; the workspace's docker-compose/.env name its broker.
    const [arg] = js[0]!.command!.arguments as [{ uri: string; position: { line: number; character: number } }];
    assert.deepEqual(arg, { uri: workspaceFile('services/orders/publish.js').toString(), position: { line: 6, character: 32 } });
    const resolved = await api.resolveTopic(arg);
    assert.deepEqual([resolved.fileKind, resolved.topic, resolved.url], ['code', 'orders.v1', 'kafka://localhost:9092/orders.v1']);
    assert.deepEqual(vscode.languages.getDiagnostics(workspaceFile('services/orders/publish.js')).filter((d) => d.source === 'clean'), []);
  });

  it('the lens on r.xadd("clicks.e2e", …) monitors the stream on the broker beside the code, then shows its live score', async function () {
    this.timeout(90_000);
    const lenses = await eventually('a lens on track.py', async () => {
      const l = await lensesOf('services/clicks/track.py');
      return l.length ? l : undefined;
    });
    assert.deepEqual(lenses.map(brief), [[9, 12, 'Monitor this topic', 'clean.monitorThisTopic']]);

    const lens = lenses[0]!.command!;
    started = await vscode.commands.executeCommand<PipelineInfo | undefined>(lens.command, ...(lens.arguments ?? []));
    assert.ok(started, 'the lens command started nothing');
    assert.deepEqual([started.name, started.backend, started.topic, started.description], [STREAM, 'redis', STREAM, `${redisUrl}/${STREAM}`]);
    const id = started.id;
    await eventually('the pipeline to run', () => (api.pipelines().find((p) => p.info.id === id)?.info.state === 'running' ? true : undefined));

    for (let i = 0; i < 12; i++) await redis.xadd(STREAM, '*', 'data', JSON.stringify({ page: `/p/${i}`, user: `u${i}` }));
    // All 12 read, then a check with none new: the score and the rate hold still, and the lens says so exactly.
    await eventually('12 records and a quiet check', () => {
      const info = api.pipelines().find((p) => p.info.id === id)?.info;
      return info?.records === 12 && info.throughput === 0 ? true : undefined;
    });
    const title = `${STREAM} · 1.00 · 0 rec/s`;
    const live = await eventually(`the lens to read "${title}"`, async () => {
      const [l] = await lensesOf('services/clicks/track.py');
      return l?.command?.title === title ? l : undefined;
    });
    assert.deepEqual([live.command!.command, live.command!.arguments], ['clean.openChart', [{ pipeline: id }]]);
  });
});
