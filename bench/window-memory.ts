/**
 * What a window record costs in memory: the constants of server/engine/budget.ts come from here.
 *
 * `node --import tsx --expose-gc bench/window-memory.ts [--json]` runs each case in a fresh process: it fills a
 * QualityEngine's window of 1,000,000 records and reports the growth of RSS and of ArrayBuffer memory per window
 * record, for the demo's orders (11 fields, 3 numeric) and for records of 1 and 33 numeric fields (their
 * difference over 32 is the cost of one more numeric field), plus the `rules` detector with 4 rules. A ratio
 * column compares each measured RSS growth with the budget's estimate for the same config (≥ 1 would mean the
 * estimate is short).
 */
import { execFileSync } from 'node:child_process';
import { resolvePipelineConfig, type PipelineSettings } from '../server/engine/config';
import { QualityEngine } from '../server/engine/quality';
import { DemoSource, DEMO_RULES } from '../server/sources/demo';
import { estimateFootprint } from '../server/engine/budget';
import { PipelineManager } from '../server/lsp/manager';
import { parseSourceUrl } from '../server/sources/url';

const W = 1_000_000;
const ctx = { log: { debug() {}, info() {}, warn() {}, error() {} }, status() {}, secret: async () => undefined };

interface Case {
  name: string;
  settings: PipelineSettings;
  /** Numeric fields per record, or 'demo' for the demo's orders. */
  records: 'demo' | number;
}

const CASES: Case[] = [
  { name: 'demo orders, default detectors', settings: {}, records: 'demo' },
  { name: 'demo orders, with 4 rules', settings: { fields: DEMO_RULES }, records: 'demo' },
  { name: '1 numeric field', settings: {}, records: 1 },
  { name: '33 numeric fields', settings: {}, records: 33 },
];

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function rssBytes(): number {
  gc();
  gc();
  return process.memoryUsage().rss;
}

const PIPELINES = 1000;

/**
 * RSS per running pipeline beyond what the estimate counts analytically (window, history, alerts, samples,
 * fields): PIPELINES demo pipelines at windowSize 10 and 20 records/s, after each has checked 3 times.
 */
async function measurePipelines(): Promise<void> {
  const before = rssBytes();
  let checks = 0;
  const manager = new PipelineManager({ metrics: () => void checks++, alert() {}, status() {}, error() {} }, { log: ctx.log, secret: async () => undefined });
  manager.budget.maxMemoryMB = 1 << 20;
  for (let i = 0; i < PIPELINES; i++) {
    manager.start({ name: `p${i}`, spec: parseSourceUrl('demo:orders?rate=20', { kind: 'earliest' }), settings: { windowSize: 10 } });
  }
  while (checks < PIPELINES * 3) await new Promise((r) => setTimeout(r, 100));
  const rss = (rssBytes() - before) / PIPELINES;
  const estimate = estimateFootprint(resolvePipelineConfig({ windowSize: 10 }), 11).total;
  process.stdout.write(JSON.stringify({ rss, estimate }) + '\n');
  await manager.dispose();
}

/** Runs one case in this process and prints {rss, arrayBuffers} growth per window record. */
function measure(c: Case): void {
  const config = resolvePipelineConfig({ ...c.settings, windowSize: W });
  const before = rssBytes();
  const buffersBefore = process.memoryUsage().arrayBuffers;
  const engine = new QualityEngine(config);
  const demo = c.records === 'demo' ? new DemoSource({ backend: 'demo', topic: 'orders', from: { kind: 'earliest' }, options: { rate: 0, seed: 3, calm: 1e9 } }, ctx) : null;
  const width = typeof c.records === 'number' ? c.records : 0;
  for (let i = 0; i < W + 10_000; i++) {
    let text: string;
    if (demo) text = demo.next();
    else {
      let s = '{';
      for (let k = 0; k < width; k++) s += `${k ? ',' : ''}"f${k}":${(i * 7 + k) % 1000}`;
      text = s + '}';
    }
    engine.process({ value: Buffer.from(text), position: i });
  }
  const rss = rssBytes() - before;
  const buffers = process.memoryUsage().arrayBuffers - buffersBefore;
  const estimate = estimateFootprint(config, typeof c.records === 'number' ? c.records : 11).windowBytes;
  process.stdout.write(JSON.stringify({ rss: rss / W, buffers: buffers / W, estimate: estimate / W, records: engine.records }) + '\n');
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const rows: Array<{ name: string; rss: number; buffers: number; estimate: number }> = [];
  for (let i = 0; i < CASES.length; i++) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--expose-gc', __filename, '--case', String(i)], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const r = JSON.parse(out.trim().split('\n').pop()!) as { rss: number; buffers: number; estimate: number };
    rows.push({ name: CASES[i].name, ...r });
    if (!json) {
      process.stdout.write(`${CASES[i].name.padEnd(34)} RSS ${r.rss.toFixed(1).padStart(6)} B/record  buffers ${r.buffers.toFixed(1).padStart(6)} B/record  estimate ${r.estimate.toFixed(1).padStart(6)} B/record  measured/estimate ${(r.rss / r.estimate).toFixed(2)}\n`);
    }
  }
  const perField = (rows[3].rss - rows[2].rss) / 32;
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--expose-gc', __filename, '--case', 'pipelines'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const p = JSON.parse(out.trim().split('\n').pop()!) as { rss: number; estimate: number };
  if (!json) process.stdout.write(`${PIPELINES} demo pipelines, windowSize 10: RSS ${(p.rss / 1024).toFixed(0)} KB each, estimate ${(p.estimate / 1024).toFixed(0)} KB, measured/estimate ${(p.rss / p.estimate).toFixed(2)}\n`);
  if (json) process.stdout.write(JSON.stringify({ rows, perNumericField: perField, pipelines: p }) + '\n');
  else process.stdout.write(`one more numeric field: ${perField.toFixed(1)} B/record\n`);
}

const at = process.argv.indexOf('--case');
if (at >= 0 && process.argv[at + 1] === 'pipelines') void measurePipelines().then(() => process.exit(0));
else if (at >= 0) measure(CASES[Number(process.argv[at + 1])]);
else if (require.main === module) void run(process.argv.slice(2));
