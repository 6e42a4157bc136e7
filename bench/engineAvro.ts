/**
 * `npm run bench -- engine --format avro [--json] [--quick] [--tsx]`: the engine on Avro records (Confluent wire
 * format, the schema from a schema file: the decode stage as a pipeline runs it, then the detectors) against bare
 * decoding of the same records with the same avsc decoder, in the same run. ratio = engine records/s / bare
 * records/s. The timed loops (bench/engineAvroLoop.ts) run as esbuild bundles them, the way dist/agent.js ships
 * the engine: under tsx every use of another module's export is a getter call, which on the engine's path for
 * decoded records costs about half its speed (measured 2026-12-02). `--tsx` measures them through tsx instead.
 */
import { medianPair } from './pairs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';

type Loop = typeof import('./engineAvroLoop');

/** One measured case of the engine benches (JSON in bench/engine.ts, Avro here). */
export interface Case {
  name: string;
  bytes: number;
  window: number;
  bareRps: number;
  engineRps: number;
  ratio: number;
}

/** The timed loops: bundled by esbuild into a temporary file (default), or as tsx loads them (`--tsx`). */
async function loadLoop(viaTsx: boolean): Promise<Loop> {
  if (viaTsx) return import('./engineAvroLoop');
  const outfile = path.join(os.tmpdir(), `clean-bench-engine-avro-${process.pid}.cjs`);
  await build({ entryPoints: [path.join(__dirname, 'engineAvroLoop.ts')], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', external: ['pulsar-client'] });
  const loop = require(outfile) as Loop;
  fs.rmSync(outfile, { force: true });
  return loop;
}

export async function runAvro(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const viaTsx = argv.includes('--tsx');
  const { makePool, bare, engineRun, stageOnly, sinkValue } = await loadLoop(viaTsx);
  const perRun = quick ? 200_000 : 500_000;
  const rounds = quick ? 3 : 7;
  const pools = { 200: makePool(200_000, false), 1024: makePool(50_000, true) };
  const cases: Case[] = [];
  for (const [size, pool] of Object.entries(pools)) {
    const avg = Math.round(pool.batches.flat().reduce((s, r) => s + r.length, 0) / pool.records);
    const runs: Array<[number, boolean]> = [[1000, false], [100_000, false]];
    if (size === '200') runs.push([1000, true]);
    for (const [window, rule] of runs) {
      // Warm both paths, then alternate them in rounds (bench/pairs.ts).
      bare(pool, 100_000);
      engineRun(pool, 100_000, window, rule);
      const [b, e] = medianPair(rounds, () => bare(pool, perRun), () => engineRun(pool, perRun, window, rule));
      const name = `Avro orders (${size === '200' ? '200 B' : '1 KB'} as JSON), window ${window}${rule ? ', a rule' : ''}`;
      const c: Case = { name, bytes: avg, window, bareRps: Math.round(b), engineRps: Math.round(e), ratio: round(e / b) };
      cases.push(c);
      if (!json) console.log(`${c.name.padEnd(44)} avg ${avg} B   bare avsc decode ${fmt(c.bareRps)}/s   decode stage + engine ${fmt(c.engineRps)}/s   ratio ${c.ratio}`);
    }
  }
  // Where the headline case's time goes: the decode stage alone against the same bare decoding, alternated likewise.
  // The orders' schema is flat: the stage only marks its records (SourceMessage.scan), and the engine's share
  // below includes reading them.
  const split: Array<[number, number]> = [];
  for (let r = 0; r < rounds; r++) split.push([bare(pools[200], perRun), stageOnly(pools[200], perRun)]);
  split.sort((x, y) => x[1] / x[0] - y[1] / y[0]);
  const [sb, ss] = split[split.length >> 1];
  const stage = { bareRps: Math.round(sb), stageRps: Math.round(ss), ratio: round(ss / sb) };
  const headline = cases[0];
  // Per record: what the engine adds on top of the decode stage (µs), from the headline pair and this one.
  const engineUs = round(1e6 / headline.engineRps - 1e6 / stage.stageRps);
  if (!json) console.log(`decode stage alone (200 B orders)               bare avsc decode ${fmt(stage.bareRps)}/s   decode stage ${fmt(stage.stageRps)}/s   ratio ${stage.ratio}; the engine adds ≈ ${engineUs} µs per record`);
  const result = { bench: 'engine', format: 'avro', ratio: headline.ratio, bareRps: headline.bareRps, engineRps: headline.engineRps, cases, stage, engineUs, build: viaTsx ? 'tsx' : 'esbuild', sink: sinkValue() !== 0 };
  console.log(json ? JSON.stringify(result) : `ratio (Avro orders of 200 B as JSON, window 1000, ${viaTsx ? 'through tsx' : 'bundled by esbuild'}): ${headline.ratio} (goal 0.6)`);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
function fmt(n: number): string {
  return n.toLocaleString('en');
}
