/**
 * `npm run bench -- engine [--json] [--quick]`: the quality engine's throughput against bare
 * `buf.toString()` + `JSON.parse` over the same records in the same run, RSS growth over a long run, and the
 * size of a saved baseline for a 50-field record. With `--format avro`: the engine on Avro records against bare
 * Avro decoding instead (bench/engineAvro.ts).
 */
import { medianPair } from './pairs';
import { QualityEngine } from '../server/engine/quality';
import { resolvePipelineConfig } from '../server/engine/config';
import type { SourceMessage } from '../server/sources/types';
import { orderPayload, seededRandom } from './records';
import { benchFormat } from './avro';
import { runAvro, type Case } from './engineAvro';


function makeRecords(n: number, large: boolean): SourceMessage[] {
  const rnd = seededRandom();
  const out: SourceMessage[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { value: Buffer.from(orderPayload(i, rnd, large)) };
  return out;
}

let sink = 0;
function bare(records: SourceMessage[], total: number): number {
  const n = records.length;
  const t = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const o = JSON.parse((records[i % n].value as Buffer).toString());
    sink += o.items;
  }
  return total / (Number(process.hrtime.bigint() - t) / 1e9);
}

/** A rule on every record: the engine reads the rule field's value too. */
const RULE = { amount: { type: 'number' as const, min: 0 } };

function engineRun(records: SourceMessage[], total: number, window: number, parsed = false): number {
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: window, ...(parsed ? { fields: RULE } : {}) }));
  const n = records.length;
  const t = process.hrtime.bigint();
  for (let i = 0; i < total; i++) e.process(records[i % n]);
  sink += e.score;
  return total / (Number(process.hrtime.bigint() - t) / 1e9);
}

export async function run(argv: string[]): Promise<void> {
  if (benchFormat(argv) === 'avro') return runAvro(argv);
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const perRun = quick ? 200_000 : 500_000;
  const rounds = quick ? 3 : 7;
  const pools = { 200: makeRecords(200_000, false), 1024: makeRecords(50_000, true) };
  const cases: Case[] = [];
  for (const [bytes, records] of Object.entries(pools)) {
    const avg = Math.round(records.reduce((s, r) => s + (r.value as Buffer).length, 0) / records.length);
    const runs: Array<[number, boolean]> = [[1000, false], [100_000, false]];
    if (bytes === '200') runs.push([1000, true]);
    for (const [window, parsed] of runs) {
      // Warm both paths, then alternate them in rounds (bench/pairs.ts).
      bare(records, 100_000);
      engineRun(records, 100_000, window, parsed);
      const [b, e] = medianPair(rounds, () => bare(records, perRun), () => engineRun(records, perRun, window, parsed));
      const name = `${bytes === '200' ? '200 B' : '1 KB'} records, window ${window}${parsed ? ', a rule' : ''}`;
      const c: Case = { name, bytes: avg, window, bareRps: Math.round(b), engineRps: Math.round(e), ratio: round(e / b) };
      cases.push(c);
      if (!json) console.log(`${c.name.padEnd(44)} avg ${avg} B   bare parse ${fmt(c.bareRps)}/s   engine ${fmt(c.engineRps)}/s   ratio ${c.ratio}`);
    }
  }

  // Memory: a long run through a 1,000-record window must not grow with the stream.
  const longTotal = quick ? 2_000_000 : 10_000_000;
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 1000 }));
  const recs = pools[200];
  for (let i = 0; i < 200_000; i++) e.process(recs[i % recs.length]);
  global.gc?.();
  const rssStart = process.memoryUsage().rss;
  let rssPeak = rssStart;
  const t = process.hrtime.bigint();
  for (let i = 0; i < longTotal; i++) {
    e.process(recs[i % recs.length]);
    if (i % 1_000_000 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  }
  global.gc?.();
  const rssEnd = process.memoryUsage().rss;
  const longRps = Math.round(longTotal / (Number(process.hrtime.bigint() - t) / 1e9));
  const rssGrowthMB = round((rssEnd - rssStart) / 1048576);
  if (!json) console.log(`long run: ${fmt(longTotal)} records at ${fmt(longRps)}/s, RSS ${mb(rssStart)} → ${mb(rssEnd)} MB (peak ${mb(rssPeak)}), growth ${rssGrowthMB} MB`);

  const savedKB = savedBaselineKB(quick ? 50_000 : 200_000);
  if (!json) console.log(`saved baseline of a 50-field record (10 fields spanning 9 decades of both signs): ${savedKB} KB`);

  const headline = cases[0];
  const result = { bench: 'engine', ratio: headline.ratio, bareRps: headline.bareRps, engineRps: headline.engineRps, rssGrowthMB, savedBaselineKB: savedKB, longRun: { records: longTotal, rps: longRps }, cases, sink: sink > 0 };
  console.log(json ? JSON.stringify(result) : `ratio (200 B, window 1000): ${headline.ratio}   RSS growth over ${fmt(longTotal)} records: ${rssGrowthMB} MB   saved baseline (50 fields): ${savedKB} KB`);
}

/** The saved learned state of a pipeline whose records carry 50 fields, a fifth of them heavy-tailed numbers of both signs. */
function savedBaselineKB(records: number): number {
  const rnd = seededRandom(5);
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 1000 }));
  for (let i = 0; i < records; i++) {
    const o: Record<string, unknown> = {};
    for (let k = 0; k < 50; k++) {
      if (k % 5 === 0) o['s' + k] = 'v' + Math.floor(rnd() * 100);
      else if (k % 5 === 1) o['n' + k] = Math.exp(rnd() * 20 - 5) * (rnd() < 0.3 ? -1 : 1);
      else o['x' + k] = Math.round(rnd() * 1000) / 10;
    }
    e.process({ value: Buffer.from(JSON.stringify(o)) });
  }
  return round(Buffer.byteLength(JSON.stringify(e.save())) / 1024);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
function fmt(n: number): string {
  return n.toLocaleString('en');
}
function mb(b: number): string {
  return (b / 1048576).toFixed(1);
}
