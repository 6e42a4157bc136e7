/**
 * `npm run bench -- sinks [--json] [--quick]`: a pipeline's throughput with no alert sink, with a sink whose
 * receiver hangs (accepts, never answers), and with one whose receiver refuses connections (retries with
 * backoff). The workload alerts often (bursts of duplicates: one alert and one recovery per burst), so every
 * alert goes through the sinks' deliver(). Each sink run is paired with a run without sinks beside it (the
 * pair's order alternating), and the median of the pairs' ratios is reported. Goal: within 5 % (ratio ≥ 0.95).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SinkSet, type SinkConfig } from '../server/alerts';
import { resolvePipelineConfig } from '../server/engine/config';
import { RealtimePipeline } from '../server/engine/pipeline';
import { MemorySource } from '../server/sources/memory';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function bursts(episodes: number): string[] {
  const recs: string[] = [];
  for (let ep = 0; ep < episodes; ep++) {
    for (let i = 0; i < 1000; i++) recs.push(JSON.stringify({ id: `${ep}-${i}`, amount: (i * 7919) % 1000, country: i % 3 === 0 ? 'DE' : 'FR', ok: true }));
    for (let i = 0; i < 500; i++) recs.push(JSON.stringify({ id: `dup-${ep}`, amount: 1, country: 'DE', ok: true }));
  }
  return recs;
}

const CONFIG = resolvePipelineConfig({ windowSize: 500, checkInterval: { records: 100 }, cooldown: { records: 1 } });

/** Records per second of one pipeline run over `recs`, each alert handed to `sinks` (if any). */
async function once(recs: string[], sinks: SinkSet | null): Promise<{ rps: number; alerts: number; records: number }> {
  const p = new RealtimePipeline('bench', new MemorySource(recs, 500), CONFIG, { log: quiet });
  let alerts = 0;
  p.addAlertHandler((e) => {
    alerts++;
    sinks?.deliver(e);
  });
  const t0 = performance.now();
  await p.run();
  const ms = performance.now() - t0;
  return { rps: (p.engine.records / ms) * 1000, alerts, records: p.engine.records };
}

async function listen(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const rounds = quick ? 3 : 9;
  const recs = bursts(quick ? 20 : 80);
  const hung = await listen(() => undefined);
  const gone = await listen(() => undefined);
  const refusedUrl = gone.url;
  await gone.close();
  const cases: Array<{ name: string; sink: SinkConfig | null }> = [
    { name: 'no sink', sink: null },
    { name: 'hung receiver', sink: { kind: 'webhook', url: hung.url, timeoutMs: 60_000 } },
    { name: 'refused', sink: { kind: 'webhook', url: refusedUrl, retries: 5 } },
  ];
  await once(recs, null); // warm-up: the engine's hot path compiled before the clock matters
  const rps: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  let alerts = 0;
  let records = 0;
  const dropped: Record<string, number> = {};
  const measure = async (c: (typeof cases)[number]) => {
    const sinks = c.sink ? SinkSet.fromConfig([c.sink], { log: quiet, secret: async () => undefined }) : null;
    const m = await once(recs, sinks);
    if (sinks) {
      dropped[c.name] = sinks.stats()[0].dropped;
      await sinks.close();
    }
    alerts = m.alerts;
    records = m.records;
    (rps[c.name] ??= []).push(m.rps);
    return m.rps;
  };
  // Each sink case is paired with a run without sinks right beside it, the pair's order alternating by round:
  // the ratio compares runs that saw the same machine conditions (two cores shared with other work).
  for (let r = 0; r < rounds; r++) {
    for (const c of cases.slice(1)) {
      let base: number;
      let with_: number;
      if (r % 2 === 0) {
        base = await measure(cases[0]);
        with_ = await measure(c);
      } else {
        with_ = await measure(c);
        base = await measure(cases[0]);
      }
      (ratios[c.name] ??= []).push(with_ / base);
    }
  }
  await hung.close();
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  const result = {
    records,
    alerts,
    rounds,
    rps: Object.fromEntries(Object.entries(rps).map(([k, v]) => [k, Math.round(median(v))])),
    ratio: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(median(v).toFixed(3))])),
    dropped,
  };
  if (!json) {
    console.log(`${fmt(records)} records, ${alerts} alert events per run, ${rounds} rounds`);
    for (const c of cases) console.log(`${c.name.padEnd(14)} ${fmt(result.rps[c.name])} records/s${c.sink ? `   ratio ${result.ratio[c.name]}` : ''}`);
  }
  console.log(json ? JSON.stringify(result) : `ratio to no sink (median): hung ${result.ratio['hung receiver']}, refused ${result.ratio.refused} (goal ≥ 0.95)`);
}
