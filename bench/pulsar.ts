/**
 * `npm run bench -- pulsar [--json] [--records N] [--rounds N]`: the monitor (PulsarSource over the
 * WebSocket API + RealtimePipeline) against a bare WebSocket reader doing only what any reader must
 * (JSON.parse of the frame, base64 decode, JSON.parse of the payload, acknowledgement), on the same topic of
 * a real broker, in the same run, alternating. ratio = monitor records/s ÷ bare records/s (medians).
 * Uses CLEAN_TEST_PULSAR_URL when set, else a broker running through scripts/broker, else starts one and stops it afterwards.
 */
import WebSocket from 'ws';
import { useBroker } from '../test/helpers/broker';
import { PulsarSource } from '../server/sources/pulsar';
import { parseSourceUrl } from '../server/sources/url';
import { RealtimePipeline } from '../server/engine/pipeline';
import { resolvePipelineConfig } from '../server/engine/config';
import { silentLogger } from '../server/sources/types';
import { orderPayload, seededRandom } from './records';

function option(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? Number(argv[i + 1]) : fallback;
}


/** Publishes n records through the broker's REST producer in batches (much faster than one WebSocket ack each). */
async function produce(web: string, topic: string, n: number): Promise<number> {
  const rnd = seededRandom();
  const created = await fetch(`http://${web}/admin/v2/persistent/${topic}`, { method: 'PUT' });
  if (created.status !== 204) throw new Error(`cannot create ${topic}: HTTP ${created.status}`);
  let bytes = 0;
  for (let from = 0; from < n; from += 1000) {
    const messages: Array<{ payload: string }> = [];
    for (let i = from; i < Math.min(n, from + 1000); i++) {
      const payload = orderPayload(i, rnd);
      bytes += payload.length;
      messages.push({ payload });
    }
    const res = await fetch(`http://${web}/topics/persistent/${topic}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ messages }),
    });
    if (res.status !== 200) throw new Error(`publish failed: HTTP ${res.status} ${await res.text()}`);
  }
  return bytes / n;
}

/** The baseline: a WebSocket reader that parses each frame and payload and acknowledges it. */
async function bareRead(web: string, topic: string, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  const socket = new WebSocket(`ws://${web}/ws/v2/reader/persistent/${topic}?messageId=earliest&receiverQueueSize=1000`, { perMessageDeflate: false });
  let count = 0;
  let sink = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as { messageId: string; payload: string };
      const record = JSON.parse(Buffer.from(frame.payload, 'base64').toString()) as { items: number };
      sink += record.items;
      socket.send(`{"messageId":"${frame.messageId}"}`);
      if (++count === n) resolve();
    });
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  socket.close();
  if (sink === 0) throw new Error('bare reader saw no records');
  return n / seconds;
}

/** The monitor: PulsarSource + RealtimePipeline with default detectors, until n records are processed. */
async function monitorRead(url: string, topic: string, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  const source = new PulsarSource(parseSourceUrl(`${url}/${topic}`, { kind: 'earliest' }), {
    log: silentLogger,
    status: () => {},
    secret: async () => undefined,
  });
  const pipeline = new RealtimePipeline('bench', source, resolvePipelineConfig({}), { limit: n });
  await pipeline.run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (pipeline.engine.records !== n) throw new Error(`monitor processed ${pipeline.engine.records} of ${n} records`);
  return n / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

export async function run(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const records = option(argv, '--records', 100_000);
  const rounds = option(argv, '--rounds', 5);
  const broker = await useBroker('pulsar');
  try {
    const web = new URL(broker.url.replace(/^pulsar\+ws:/, 'http:')).host;
    const topic = `public/default/clean-bench-${process.pid}-${Date.now()}`;
    const t0 = Date.now();
    const avgBytes = await produce(web, topic, records);
    const produceSeconds = (Date.now() - t0) / 1000;
    if (!json) console.log(`produced ${fmt(records)} records (${Math.round(avgBytes)} B) in ${produceSeconds.toFixed(1)} s through the REST producer`);
    await bareRead(web, topic, records); // warm-up: brings the topic into the broker's cache for both readers
    const bare: number[] = [];
    const monitor: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first so that neither always reads a warmer broker.
      if (r % 2 === 0) {
        bare.push(await bareRead(web, topic, records));
        monitor.push(await monitorRead(broker.url, topic, records));
      } else {
        monitor.push(await monitorRead(broker.url, topic, records));
        bare.push(await bareRead(web, topic, records));
      }
      if (!json) console.log(`round ${r + 1}: bare ${fmt(bare[r])}/s   monitor ${fmt(monitor[r])}/s`);
    }
    const bareRps = median(bare);
    const monitorRps = median(monitor);
    const ratio = Math.round((monitorRps / bareRps) * 1000) / 1000;
    const result = {
      bench: 'pulsar',
      transport: 'websocket',
      records,
      payloadBytes: Math.round(avgBytes),
      rounds,
      bareRps: Math.round(bareRps),
      monitorRps: Math.round(monitorRps),
      bareRounds: bare.map(Math.round),
      monitorRounds: monitor.map(Math.round),
      ratio,
    };
    console.log(json ? JSON.stringify(result) : `median: bare ${fmt(bareRps)}/s   monitor ${fmt(monitorRps)}/s   ratio ${ratio}`);
  } finally {
    await broker.release();
  }
}
