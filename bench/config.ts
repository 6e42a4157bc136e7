/**
 * `npm run bench -- config [--json]`: what checking a large clean.yaml costs, as ratios to yaml's own
 * parseDocument on the same text in the same run. The check (parse + validation) and the outline the language
 * server answers from should stay a small multiple of the parse, with or without a problem in every pipeline,
 * and grow linearly: checking twice the pipelines should cost about twice as much.
 */
import { parseDocument } from 'yaml';
import { parseCleanConfig } from '../server/config/index';
import { outlineOf } from '../server/lsp/configOutline';

function config(pipelines: number, broken: boolean): string {
  const out = ['connections:', '  local:', '    backend: kafka', '    brokers: [127.0.0.1:9092]', 'pipelines:'];
  for (let i = 0; i < pipelines; i++) {
    out.push(`  - name: p${i}`, '    connection: local', `    topic: t${i}`, `    windowSize: ${broken ? 0 : 1000}`, '    detectors: [outliers, duplicates]');
  }
  return out.join('\n') + '\n';
}

/** CPU milliseconds of the fastest of `runs` calls (the machine may be shared: the minimum is the least disturbed). */
function cpuMs(fn: () => unknown, runs = 5): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = process.cpuUsage();
    fn();
    const d = process.cpuUsage(t);
    best = Math.min(best, (d.user + d.system) / 1000);
  }
  return best;
}

export async function run(argv: string[]): Promise<void> {
  const rows: Array<{ case: string; ratio: number; ms: number }> = [];
  for (const [name, pipelines, broken] of [
    ['10,000 valid pipelines', 10_000, false],
    ['10,000 pipelines, each with an error', 10_000, true],
    ['20,000 valid pipelines', 20_000, false],
  ] as const) {
    const text = config(pipelines, broken);
    const yaml = cpuMs(() => parseDocument(text, { prettyErrors: false, uniqueKeys: true }));
    const check = cpuMs(() => parseCleanConfig(text, '/tmp/clean.yaml', { cancelled: () => false }));
    const model = parseCleanConfig(text, '/tmp/clean.yaml');
    const outline = cpuMs(() => outlineOf(model, 1));
    rows.push({ case: `${name}: check / yaml parse`, ratio: check / yaml, ms: check });
    rows.push({ case: `${name}: outline / yaml parse`, ratio: outline / yaml, ms: outline });
  }
  const growth = rows[4].ms / rows[0].ms;
  for (const r of rows) process.stdout.write(`${r.case.padEnd(58)} ${r.ratio.toFixed(2)}  (${r.ms.toFixed(0)} ms CPU)\n`);
  process.stdout.write(`${'check of 20,000 / check of 10,000 pipelines (linear: 2)'.padEnd(58)} ${growth.toFixed(2)}\n`);
  if (argv.includes('--json')) process.stdout.write(JSON.stringify({ rows, growth }) + '\n');
}
