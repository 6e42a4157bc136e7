/**
 * Alert sinks with real pipelines and real local HTTP receivers: the pipeline never waits on a sink (a hung
 * receiver leaves every record processed, the queue bounded and the drops counted exactly), and the CLI
 * (`run clean.yaml` with `alerts:`, `--alert-webhook`) delivers exactly the alerts it prints, HMAC-signed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SinkSet } from '../../server/alerts';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { AlertEvent, RecoveredEvent } from '../../server/engine/events';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { MemorySource } from '../../server/sources/memory';
import { Receiver } from '../helpers/receiver';

const root = path.resolve(__dirname, '..', '..');

/** 20 episodes of 300 distinct records then 300 copies of one: 39 alert and recovery events, always the same. */
function bursts(): string[] {
  const recs: string[] = [];
  for (let ep = 0; ep < 20; ep++) {
    for (let i = 0; i < 300; i++) recs.push(JSON.stringify({ id: `${ep}-${i}`, v: i % 50 }));
    for (let i = 0; i < 300; i++) recs.push(JSON.stringify({ id: `dup-${ep}`, v: 1 }));
  }
  return recs;
}
const CONFIG = resolvePipelineConfig({ windowSize: 100, checkInterval: { records: 50 }, cooldown: { records: 1 }, detectors: ['duplicates'] });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function runWith(sinks: SinkSet): Promise<{ pipeline: RealtimePipeline; events: Array<AlertEvent | RecoveredEvent> }> {
  const pipeline = new RealtimePipeline('bursts', new MemorySource(bursts(), 500), CONFIG, {});
  const events: Array<AlertEvent | RecoveredEvent> = [];
  pipeline.addAlertHandler((e) => {
    events.push(e);
    sinks.deliver(e);
  });
  await pipeline.run();
  return { pipeline, events };
}

test('a hung receiver never stalls the pipeline: every record processed, the queue bounded, drops exact', async () => {
  const hung = await new Receiver([], 'hang').start();
  const sinks = SinkSet.fromConfig([{ kind: 'webhook', url: hung.url, queue: 5, timeoutMs: 60_000, retries: 0 }], { log: quiet, secret: async () => undefined });
  const { pipeline, events } = await runWith(sinks);
  // The whole stream went through while the first delivery still hung.
  assert.equal(pipeline.engine.records, 12_000);
  assert.equal(events.length, 39);
  assert.equal(hung.requests.length, 1);
  assert.deepEqual(sinks.stats(), [{ name: 'webhook', kind: 'webhook', queued: 5, delivered: 0, failed: 0, dropped: 34, retries: 0, failing: false }]);
  await sinks.close();
  assert.equal(sinks.stats()[0].dropped, 39);
  await hung.close();
});

test('a receiver that is down (connection refused, retries) costs the pipeline nothing either', async () => {
  const gone = await new Receiver().start();
  const url = gone.url;
  await gone.close();
  const sinks = SinkSet.fromConfig([{ kind: 'webhook', url, queue: 1000, retries: 2, backoffMs: 1000 }], { log: quiet, secret: async () => undefined });
  const { pipeline, events } = await runWith(sinks);
  assert.equal(pipeline.engine.records, 12_000);
  assert.equal(events.length, 39);
  const s = sinks.stats()[0];
  // Still working on the first event (it waits for its backoff): nothing delivered, nothing dropped yet.
  assert.equal(s.delivered, 0);
  assert.equal(s.dropped, 0);
  assert.equal(s.queued, 39);
  assert.equal(s.lastError, 'connection refused');
  await sinks.close();
});

test('a healthy receiver gets every alert and recovery, in order, exactly as the pipeline emitted them', async () => {
  const r = await new Receiver().start();
  const sinks = SinkSet.fromConfig([{ kind: 'webhook', url: r.url }], { log: quiet, secret: async () => undefined });
  const { events } = await runWith(sinks);
  assert.equal((await sinks.flush(10_000)).left, 0);
  assert.equal(sinks.stats()[0].delivered, 39);
  assert.deepEqual(r.requests.map((q) => q.json), JSON.parse(JSON.stringify(events)));
  await sinks.close();
  await r.close();
});

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'main.ts'), ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('clean-agent run: alerts: sinks and --alert-webhook get exactly the alerts printed, signed, filtered per sink', async () => {
  const all = await new Receiver().start();
  const critical = await new Receiver().start();
  const flag = await new Receiver().start();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-sinks-'));
  const config = path.join(dir, 'clean.yaml');
  writeFileSync(
    config,
    [
      'alerts:',
      '  - kind: webhook',
      '    name: all',
      `    url: ${all.url}/all`,
      '    secret: hook-key',
      'pipelines:',
      '  - name: replay',
      `    source: file:${path.join(root, 'test', 'fixtures', 'cli', 'dup-middle.jsonl')}`,
      '    from: earliest',
      '    windowSize: 200',
      '    checkInterval: 100',
      '    alerts:',
      '      - kind: webhook',
      `        url: ${critical.url}/critical`,
      '        minSeverity: critical',
      '',
    ].join('\n'),
  );
  const r = await cli(['run', config, '--json', '--alert-webhook', `${flag.url}/flag`], { CLEAN_SECRET_HOOK_KEY: 'sh4red-key' });
  assert.equal(r.code, 0, r.stderr);
  const printed = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'alert' || e.type === 'recovered');
  assert.ok(printed.length >= 2, 'the fixture alerts and recovers');
  assert.deepEqual(all.requests.map((q) => q.json), printed);
  assert.deepEqual(flag.requests.map((q) => q.json), printed);
  assert.deepEqual(critical.requests.map((q) => q.json), printed.filter((e) => e.severity === 'critical'));
  for (const q of all.requests) assert.equal(q.headers['x-clean-signature'], 'sha256=' + createHmac('sha256', 'sh4red-key').update(q.body).digest('hex'));
  assert.equal(flag.requests[0].headers['x-clean-signature'], undefined);
  assert.ok(!r.stderr.includes('sh4red-key'));
  await Promise.all([all.close(), critical.close(), flag.close()]);
});

test('clean-agent: a credential in a sink URL is refused at its line (exit 2), and on the command line', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-sinks-'));
  const config = path.join(dir, 'clean.yaml');
  writeFileSync(config, ['alerts:', '  - kind: webhook', '    url: https://ops:hunter2@hooks.example.com/x', 'pipelines:', '  - name: d', '    source: demo:orders', ''].join('\n'));
  const r = await cli(['run', config]);
  assert.equal(r.code, 2);
  assert.ok(r.stderr.includes(`${config}:3:10: Do not put a password in a URL`), r.stderr);
  assert.ok(!r.stderr.includes('hunter2'));
  const flag = await cli(['watch', 'demo:orders', '--alert-webhook', 'https://hooks.example.com/x?token=abc123']);
  assert.equal(flag.code, 2);
  assert.ok(flag.stderr.startsWith('clean-agent: --alert-webhook: Do not put a credential in a URL (the parameter "token")'), flag.stderr);
  assert.ok(!flag.stderr.includes('abc123'));
});
