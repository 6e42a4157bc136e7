/**
 * `npm run bench -- workers [--json] [--quick]`: engine throughput with 1 and 2 engine threads
 * (server/scale/worker.ts) on pre-loaded records: each thread gets its share of the records, packed in one
 * transferred buffer, before the clock starts; the clock runs from `go` until the last thread is done.
 * Rounds alternate 1 and 2 threads so each pair sees the same machine conditions; the median pair (by
 * ratio) is reported. Also measured: a summary's size, and the cost of merging 10, 100 and 1,000 of them
 * (the figures of docs/scale.md's capacity model).
 */
import { resolvePipelineConfig, type PipelineConfig } from '../server/engine/config';
import { QualityEngine } from '../server/engine/quality';
import { ShardThread } from '../server/scale/workers';
import { SHARD_ROLE, type FromShard } from '../server/scale/threadMessages';
import { summarize, type ShardSummary } from '../server/scale/summary';
import { MergedView, mergeSummaries, metricsFromMerged } from '../server/scale/merge';
import { orderPayload, seededRandom } from './records';

/** Records each thread processes before the clock starts, so that the engine's hot path is compiled. */
const WARM = 100_000;

function payloads(n: number): Buffer[] {
  const rnd = seededRandom();
  const out: Buffer[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = Buffer.from(orderPayload(i, rnd, false));
  return out;
}

/** Records packed into one buffer and their end offsets (what a `load` message carries). */
function pack(records: Buffer[]): { data: ArrayBuffer; ends: Int32Array } {
  const total = records.reduce((s, r) => s + r.length, 0);
  const data = new ArrayBuffer(total);
  const bytes = new Uint8Array(data);
  const ends = new Int32Array(records.length);
  let at = 0;
  records.forEach((r, i) => {
    bytes.set(r, at);
    at += r.length;
    ends[i] = at;
  });
  return { data, ends };
}

function next(t: ShardThread, type: FromShard['type']): Promise<FromShard> {
  return new Promise((resolve, reject) => {
    t.onMessage = (m) => {
      if (m.type === type) resolve(m);
      else if (m.type === 'error') reject(new Error(m.message));
    };
  });
}

/** Records per second of `n` threads over `records` (split evenly, by record index), loaded before the clock. */
async function threaded(records: Buffer[], warmup: Buffer[], n: number, config: PipelineConfig): Promise<number> {
  const threads = Array.from({ length: n }, (_, i) => new ShardThread({ role: SHARD_ROLE, pipeline: 'bench', shard: `worker-${i}`, config: { ...config, windowSize: Math.ceil(config.windowSize / n) }, specs: [] }));
  try {
    await Promise.all(
      threads.map((t, i) => {
        // The warm-up records come first in each share; the measured records follow, split evenly.
        const share = [...warmup, ...records.filter((_, k) => k % n === i)];
        const { data, ends } = pack(share);
        const loaded = next(t, 'loaded');
        t.send({ type: 'load', data, ends, warm: warmup.length }, [data]);
        return loaded;
      }),
    );
    const t0 = performance.now();
    const done = threads.map((t) => next(t, 'done'));
    for (const t of threads) t.send({ type: 'go' });
    await Promise.all(done);
    return records.length / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(threads.map((t) => t.stop()));
  }
}

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const total = quick ? 400_000 : 1_000_000;
  const rounds = quick ? 3 : 5;
  const config = resolvePipelineConfig({ windowSize: 1000 });
  const all = payloads(total + WARM);
  // Every thread first processes the same WARM records (other orders than the measured ones), untimed.
  const warmup = all.slice(total);
  const records = all.slice(0, total);
  const pairs: Array<[number, number]> = [];
  for (let r = 0; r < rounds; r++) {
    const one = await threaded(records, warmup, 1, config);
    const two = await threaded(records, warmup, 2, config);
    pairs.push([one, two]);
    if (!json) console.log(`round ${r + 1}: 1 thread ${fmt(one)}/s   2 threads ${fmt(two)}/s   ratio ${round(two / one)}`);
  }
  const sorted = [...pairs].sort((x, y) => x[1] / x[0] - y[1] / y[0]);
  const [one, two] = sorted[sorted.length >> 1];

  // Summaries: one engine's window of orders summarised; merging 10, 100 and 1,000 copies of it.
  const e = new QualityEngine(resolvePipelineConfig({ windowSize: 1000 }));
  for (let i = 0; i < 20_000; i++) e.process({ value: records[i], position: `${i % 8}@${i}` });
  const summary: ShardSummary = summarize(e, 'worker-0', { 0: { first: '0', last: '19999', count: 20000 } }, 'bench');
  const bytes = Buffer.byteLength(JSON.stringify(summary));
  const merge: Record<string, number> = {};
  for (const n of [10, 100, 1000]) {
    const list = Array.from({ length: n }, (_, i) => ({ ...summary, shard: `agent-${i}` }));
    const view = new MergedView(config);
    const reps = n >= 1000 ? 5 : 20;
    const t0 = performance.now();
    for (let k = 0; k < reps; k++) {
      // What a check costs the merging side: parse the summaries as they arrive, merge, judge, build the metrics.
      const parsed = list.map((s) => JSON.parse(JSON.stringify(s)) as ShardSummary);
      const merged = mergeSummaries(parsed);
      view.update(merged);
      metricsFromMerged(merged, config, view.judge());
    }
    merge[n] = round((performance.now() - t0) / reps);
  }
  const result = { records: total, oneThreadRps: Math.round(one), twoThreadsRps: Math.round(two), ratio: round(two / one), rounds: pairs.map(([a, b]) => round(b / a)), summaryBytes: bytes, mergeMs: merge };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(`median: 1 thread ${fmt(one)}/s, 2 threads ${fmt(two)}/s, ratio ${result.ratio} (goal ≥ 1.7)`);
    console.log(`summary of a window of orders: ${bytes} bytes; a check merging 10 / 100 / 1000 summaries (parse + merge + judge): ${merge[10]} / ${merge[100]} / ${merge[1000]} ms`);
  }
}

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${Math.round(x / 1000)}k`;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
