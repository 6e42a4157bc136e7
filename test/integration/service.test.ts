/**
 * `clean-agent run` as a service, the built CLI spawned as systemd would: the Prometheus endpoint (/metrics with
 * exact series, /healthz, /readyz), a real Prometheus scraping it, SIGTERM (queued alerts delivered to a real
 * local HTTP receiver, the baseline saved, exit 0), SIGHUP and --watch-config reloads, and JSON logs.
 * Real parts throughout: file and demo sources, a real Redis, a real Prometheus (scripts/broker start prometheus).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { repoRoot, useBroker } from '../helpers/broker';
import { until, within } from '../helpers/sources';

const AGENT = path.join(repoRoot, 'bin', 'clean-agent.js');
const FIXTURES = path.join(repoRoot, 'test', 'fixtures', 'cli');
const tag = randomBytes(4).toString('hex');
let dir: string;

before(() => {
  if (!existsSync(path.join(repoRoot, 'dist', 'agent.js'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
  dir = mkdtempSync(path.join(os.tmpdir(), 'clean-service-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A spawned `clean-agent`, its output collected as it comes. */
interface Agent {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** NDJSON events on stdout (--json). */
  events: () => Array<Record<string, any>>;
  exited: Promise<number | null>;
  /** http://127.0.0.1:<port>, once the endpoint is up (read from the line on stderr). */
  base: () => Promise<string>;
}

const agents: Agent[] = [];
after(() => {
  for (const a of agents) if (a.child.exitCode === null) a.child.kill('SIGKILL');
});

function startAgent(args: string[], env: Record<string, string> = {}): Agent {
  const child = spawn(process.execPath, [AGENT, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const agent: Agent = {
    child,
    stdout: () => out,
    stderr: () => err,
    events: () => completeLines(out).map((l) => JSON.parse(l)),
    exited,
    base: async () => {
      await until('the metrics endpoint line on stderr', () => /serving metrics on http:\/\/[^/\s]+\/metrics/.test(err) || child.exitCode !== null, 20_000);
      const m = /serving metrics on (http:\/\/[^/\s]+)\/metrics/.exec(err);
      assert.ok(m, `no endpoint line; exit ${child.exitCode}; stderr: ${err}`);
      return m[1];
    },
  };
  agents.push(agent);
  return agent;
}

async function get(url: string): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

/** The samples of an exposition text: `name{labels}` exactly as printed → value. */
async function scrape(base: string): Promise<Map<string, number>> {
  const r = await get(`${base}/metrics`);
  assert.equal(r.status, 200);
  const series = new Map<string, number>();
  for (const line of r.body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    series.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return series;
}

/** The series of `name` whose labels include pipeline="<pipeline>", sorted. */
function seriesOf(all: Map<string, number>, name: string, pipeline: string): Array<[string, number]> {
  return [...all].filter(([k]) => k.startsWith(`${name}{`) && k.includes(`pipeline="${pipeline}"`)).sort(([a], [b]) => (a < b ? -1 : 1));
}

const STATES = ['connecting', 'waiting', 'running', 'reconnecting', 'paused', 'stopped', 'error'];
const stateSeries = (pipeline: string, current: string): Array<[string, number]> =>
  STATES.map((s) => [`clean_pipeline_state{pipeline="${pipeline}",state="${s}"}`, s === current ? 1 : 0] as [string, number]).sort(([a], [b]) => (a < b ? -1 : 1));

function writeConfig(file: string, lines: string[]): string {
  const p = path.join(dir, file);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}

async function stop(agent: Agent, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  agent.child.kill(signal);
  return within(`clean-agent to exit after ${signal}`, agent.exited, 15_000);
}

describe('the endpoint', () => {
  test('/metrics after a finite file: exact series and values; /healthz; /readyz; the process serves until SIGTERM', async () => {
    const name = `file-${tag}`;
    const cfg = writeConfig('finite.clean.yaml', ['pipelines:', `  - name: ${name}`, `    source: file:${path.join(FIXTURES, 'clean-200.jsonl')}`, '    from: earliest']);
    const agent = startAgent(['run', cfg, '--metrics-port', '0', '--json']);
    const base = await agent.base();
    await until('the end of the file', () => agent.stdout().includes('"type":"end"'), 20_000);
    const end = agent.events().find((e) => e.type === 'end');
    assert.deepEqual(end, { type: 'end', pipeline: name, records: 200 });
    // Read to its end, the pipeline is stopped; the process goes on serving its final figures.
    await until('state stopped', async () => (await scrape(base)).get(`clean_pipeline_state{pipeline="${name}",state="stopped"}`) === 1, 10_000);
    const all = await scrape(base);
    assert.deepEqual(seriesOf(all, 'clean_records_total', name), [[`clean_records_total{pipeline="${name}"}`, 200]]);
    assert.deepEqual(seriesOf(all, 'clean_quality_score', name), [[`clean_quality_score{pipeline="${name}"}`, 1]]);
    assert.deepEqual(
      seriesOf(all, 'clean_detector_rate', name),
      ['duplicates', 'missing', 'outliers', 'parse', 'schema'].map((d) => [`clean_detector_rate{pipeline="${name}",detector="${d}"}`, 0]),
    );
    assert.deepEqual(seriesOf(all, 'clean_field_rate', name), [
      [`clean_field_rate{pipeline="${name}",detector="missing",field="id"}`, 0],
      [`clean_field_rate{pipeline="${name}",detector="missing",field="value"}`, 0],
      [`clean_field_rate{pipeline="${name}",detector="outliers",field="id"}`, 0],
      [`clean_field_rate{pipeline="${name}",detector="outliers",field="value"}`, 0],
    ]);
    assert.deepEqual(seriesOf(all, 'clean_pipeline_state', name), stateSeries(name, 'stopped'));
    assert.deepEqual(seriesOf(all, 'clean_pipeline_up', name), [[`clean_pipeline_up{pipeline="${name}"}`, 0]]);
    assert.deepEqual(seriesOf(all, 'clean_alerts_total', name), []);
    const text = (await get(`${base}/metrics`)).body;
    for (const metric of ['clean_quality_score gauge', 'clean_detector_rate gauge', 'clean_field_rate gauge', 'clean_records_total counter', 'clean_alerts_total counter', 'clean_sink_failures_total counter', 'clean_sink_dropped_total counter', 'clean_pipeline_state gauge', 'clean_pipeline_up gauge']) {
      assert.ok(text.includes(`# TYPE ${metric}\n`), `# TYPE ${metric}`);
    }
    assert.deepEqual(await get(`${base}/healthz`), { status: 200, body: 'ok\n', type: 'text/plain; charset=utf-8' });
    assert.deepEqual(await get(`${base}/readyz`), { status: 200, body: 'ready: 1 pipeline connected\n', type: 'text/plain; charset=utf-8' });
    assert.equal((await get(`${base}/nothing`)).status, 404);
    assert.equal(agent.child.exitCode, null, 'a service keeps serving after its pipelines end');
    assert.equal(await stop(agent), 0);
  });

  test('/readyz is 503 naming the pipeline that has not connected, then 200; Redis records counted exactly', async (t) => {
    const broker = await useBroker('redis');
    t.after(() => broker.release());
    const redisUrl = new URL(broker.url);
    const redis = new Redis({ host: redisUrl.hostname, port: Number(redisUrl.port), lazyConnect: true });
    await redis.connect();
    const stream = `clean-test:service:${tag}`;
    t.after(async () => {
      await redis.del(stream);
      await redis.quit();
    });
    for (let i = 0; i < 50; i++) await redis.xadd(stream, '*', 'data', JSON.stringify({ id: i, amount: 10 + (i % 7) }));
    // A real TCP relay in front of the real Redis that holds what the client sends until released: the
    // pipeline stays in `connecting` for as long as the test wants, with no timing guess.
    const relay = await gatedRelay(Number(redisUrl.port));
    t.after(() => relay.close());
    const late = `redis-${tag}`;
    const early = `demo-${tag}`;
    const cfg = writeConfig('ready.clean.yaml', [
      'connections:',
      `  held: { backend: redis, url: "redis://127.0.0.1:${relay.port}" }`,
      'pipelines:',
      `  - name: ${late}`,
      '    connection: held',
      `    topic: "${stream}"`,
      '    from: earliest',
      `  - name: ${early}`,
      '    source: demo:orders?rate=50',
    ]);
    const agent = startAgent(['run', cfg, '--metrics-port', '0', '--json']);
    const base = await agent.base();
    await until(`${early} running`, () => agent.events().some((e) => e.type === 'status' && e.pipeline === early && e.state === 'running'), 20_000);
    const waiting = await get(`${base}/readyz`);
    assert.equal(waiting.status, 503);
    assert.equal(waiting.body, `not ready: 1 of 2 pipelines not connected yet\n${late}: connecting (Connecting to Redis at 127.0.0.1:${relay.port})\n`);
    assert.equal((await scrape(base)).get(`clean_pipeline_up{pipeline="${late}"}`), 0);
    relay.release();
    await until('/readyz 200', async () => (await get(`${base}/readyz`)).status === 200, 20_000);
    assert.equal((await get(`${base}/readyz`)).body, 'ready: 2 pipelines connected\n');
    await until('50 records counted', async () => (await scrape(base)).get(`clean_records_total{pipeline="${late}"}`) === 50, 20_000);
    const all = await scrape(base);
    assert.equal(all.get(`clean_pipeline_up{pipeline="${late}"}`), 1);
    assert.deepEqual(seriesOf(all, 'clean_pipeline_state', late), stateSeries(late, 'running'));
    assert.equal(await stop(agent), 0);
  });
});

describe('a real Prometheus', () => {
  test('scrapes the agent; its query API returns the quality score the agent computed', async (t) => {
    const prometheus = await usePrometheus();
    t.after(() => prometheus.release());
    const name = `dup-${tag}`;
    const cfg = writeConfig('prom.clean.yaml', ['pipelines:', `  - name: ${name}`, `    source: file:${path.join(FIXTURES, 'dup-middle.jsonl')}`, '    from: earliest', '    windowSize: 200', '    checkInterval: 100']);
    const agent = startAgent(['run', cfg, '--metrics-port', '0', '--json']);
    const base = await agent.base();
    await until('the end of the file', () => agent.stdout().includes('"type":"end"'), 20_000);
    const last = agent.events().filter((e) => e.type === 'metrics').pop()!;
    assert.equal(last.records, 3000);
    assert.equal((await scrape(base)).get(`clean_quality_score{pipeline="${name}"}`), last.score);
    const target = path.join(prometheus.targets, `clean-service-${tag}.json`);
    writeFileSync(target, JSON.stringify([{ targets: [new URL(base).host], labels: { job: 'clean-agent-test' } }]));
    t.after(() => rmSync(target, { force: true }));
    const query = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(`clean_quality_score{pipeline="${name}"}`)}`;
    let result: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
    await until(
      'Prometheus to have scraped the agent',
      async () => {
        const body = (await (await fetch(query)).json()) as { status: string; data: { result: typeof result } };
        result = body.data.result;
        return body.status === 'success' && result.length === 1;
      },
      30_000,
    );
    assert.equal(Number(result[0].value[1]), last.score);
    assert.equal(result[0].metric.pipeline, name);
    assert.equal(result[0].metric.job, 'clean-agent-test');
    const records = (await (await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(`clean_records_total{pipeline="${name}"}`)}`)).json()) as { data: { result: typeof result } };
    assert.equal(records.data.result[0].value[1], '3000');
    assert.equal(await stop(agent), 0);
  });
});

describe('signals', () => {
  test('SIGTERM: alerts still queued for a slow receiver are delivered, the running pipeline saves its baseline, exit 0', async (t) => {
    const receiver = await heldReceiver();
    t.after(() => receiver.close());
    const state = path.join(dir, 'state');
    const name = `term-${tag}`;
    const live = `live-${tag}`;
    const cfg = writeConfig('term.clean.yaml', [
      'pipelines:',
      `  - name: ${name}`,
      `    source: file:${path.join(FIXTURES, 'dup-middle.jsonl')}`,
      '    from: earliest',
      '    windowSize: 200',
      '    checkInterval: 100',
      `  - name: ${live}`,
      '    source: demo:orders?rate=1000&seed=5&calm=600',
      '    windowSize: 100',
      '    checkInterval: 100ms',
    ]);
    const agent = startAgent(['run', cfg, '--metrics-port', '0', '--json', '--state', state, '--alert-webhook', receiver.url]);
    await agent.base();
    await until('the end of the file', () => agent.stdout().includes('"type":"end"'), 20_000);
    const fired = agent.events().filter((e) => e.type === 'alert' || e.type === 'recovered');
    assert.deepEqual(
      fired.map((e) => `${e.pipeline} ${e.records} ${e.type} ${e.detector}`),
      [`${name} 1100 alert duplicates`, `${name} 2200 recovered duplicates`],
    );
    const liveMetrics = () => agent.events().filter((e) => e.type === 'metrics' && e.pipeline === live);
    await until(`${live} to have learnt its baseline`, () => liveMetrics().some((m) => m.baseline.state === 'ready'), 30_000);
    // The receiver holds its answer to the first POST until SIGTERM: the recovery is still queued behind it.
    assert.equal(receiver.bodies.length, 0);
    const signalled = Date.now();
    agent.child.kill('SIGTERM');
    receiver.answer();
    assert.equal(await within('clean-agent to exit after SIGTERM', agent.exited, 15_000), 0);
    assert.deepEqual(
      receiver.bodies.map((b) => `${b.pipeline} ${b.records} ${b.type} ${b.detector}`),
      [`${name} 1100 alert duplicates`, `${name} 2200 recovered duplicates`],
    );
    const finished = JSON.parse(readFileSync(path.join(state, `${name}.baseline.json`), 'utf8'));
    assert.equal(finished.learnedRecords, 3000);
    // The demo never ends: its baseline was written on the way out, after the signal.
    const saved = JSON.parse(readFileSync(path.join(state, `${live}.baseline.json`), 'utf8'));
    assert.ok(saved.savedAt >= signalled, `saved at ${saved.savedAt}, signalled at ${signalled}`);
    const statuses = agent.events().filter((e) => e.type === 'status' && e.pipeline === live);
    assert.deepEqual(statuses.map((e) => e.state), ['connecting', 'running', 'stopped']);
  });

  test('SIGHUP: an unchanged pipeline keeps its window, a changed one restarts, a removed one stops, an added one starts; a broken config is refused', async () => {
    const head = ['pipelines:'];
    const demo = (name: string, extra: string[] = []) => [`  - name: ${name}`, '    source: demo:orders?rate=100&seed=3', '    checkInterval: 200ms', ...extra];
    const cfg = writeConfig('hup.clean.yaml', [...head, ...demo('keep'), ...demo('change'), ...demo('gone')]);
    const agent = startAgent(['run', cfg, '--metrics-port', '0', '--json']);
    const base = await agent.base();
    const recordsOf = (name: string) => agent.events().filter((e) => e.type === 'metrics' && e.pipeline === name).map((e) => e.records as number);
    await until('records on every pipeline', () => ['keep', 'change', 'gone'].every((n) => (recordsOf(n).pop() ?? 0) >= 30), 20_000);

    // A config with an error: refused as a whole, the three go on.
    writeConfig('hup.clean.yaml', [...head, ...demo('keep'), '    windowSize: -4']);
    agent.child.kill('SIGHUP');
    await until('the refusal', () => agent.stderr().includes('SIGHUP: '), 10_000);
    assert.match(agent.stderr(), new RegExp(`clean-agent: SIGHUP: ${reEscape(cfg)} was not reloaded, the running pipelines go on as they were\\. ${reEscape(cfg)} has 1 problem:\\n  ${reEscape(cfg)}:5:17: windowSize must be`));
    const before = Object.fromEntries(['keep', 'change', 'gone'].map((n) => [n, recordsOf(n).pop()!]));

    writeConfig('hup.clean.yaml', [...head, ...demo('keep'), ...demo('change', ['    windowSize: 500']), ...demo('added')]);
    agent.child.kill('SIGHUP');
    await until('the reload', () => agent.stderr().includes('SIGHUP: reloaded'), 10_000);
    assert.ok(agent.stderr().includes(`clean-agent: SIGHUP: reloaded ${cfg}: 1 kept, 1 restarted (change), 1 stopped (gone), 1 started (added)\n`), agent.stderr());
    await until('records on added', () => (recordsOf('added').pop() ?? 0) > 0, 20_000);
    await until('keep and change checked again', () => recordsOf('keep').pop()! > before.keep + 20 && recordsOf('change').length > 0, 20_000);

    const statuses = (name: string) => agent.events().filter((e) => e.type === 'status' && e.pipeline === name).map((e) => e.state as string);
    // keep: never stopped, its count only grew; change: stopped and started again, its count began anew.
    assert.deepEqual(statuses('keep'), ['connecting', 'running']);
    const keep = recordsOf('keep');
    assert.ok(keep.every((r, i) => i === 0 || r >= keep[i - 1]), `keep's records never go back: ${keep.join(',')}`);
    assert.deepEqual(statuses('change'), ['connecting', 'running', 'stopped', 'connecting', 'running']);
    const change = recordsOf('change');
    const drop = change.findIndex((r, i) => i > 0 && r < change[i - 1]);
    assert.ok(drop > 0 && change[drop - 1] >= before.change && change[drop] < before.change, `change restarts from 0: ${change.join(',')}`);
    assert.deepEqual(statuses('gone'), ['connecting', 'running', 'stopped']);
    const all = await scrape(base);
    assert.deepEqual([...all.keys()].filter((k) => k.includes('pipeline="gone"')), [], 'a removed pipeline leaves no series');
    assert.equal(all.get('clean_pipeline_up{pipeline="added"}'), 1);
    assert.ok(all.get('clean_records_total{pipeline="keep"}')! > before.keep);
    assert.equal(await stop(agent), 0);
  });

  test('--watch-config reloads on an edit, like SIGHUP; --log-format json lines parse, with the pipeline named', async () => {
    const demo = (name: string, extra: string[] = []) => [`  - name: ${name}`, '    source: demo:orders?rate=100&seed=4', '    checkInterval: 200ms', ...extra];
    const cfg = writeConfig('watched.clean.yaml', ['pipelines:', ...demo('steady'), ...demo('edited')]);
    const agent = startAgent(['run', cfg, '--watch-config', '--log-format', 'json', '--json']);
    const recordsOf = (name: string) => agent.events().filter((e) => e.type === 'metrics' && e.pipeline === name).map((e) => e.records as number);
    await until('records on both', () => (recordsOf('steady').pop() ?? 0) >= 20 && (recordsOf('edited').pop() ?? 0) >= 20, 20_000);
    const before = recordsOf('steady').pop()!;
    writeConfig('watched.clean.yaml', ['pipelines:', ...demo('steady'), ...demo('edited', ['    windowSize: 500'])]);
    const logLines = () => completeLines(agent.stderr()).map((l) => JSON.parse(l) as { ts: string; level: string; msg: string; pipeline?: string });
    await until('the reload line', () => logLines().some((l) => l.msg.includes(': reloaded')), 10_000);
    await until('steady checked again', () => recordsOf('steady').pop()! > before + 10, 20_000);
    const statuses = (name: string) => agent.events().filter((e) => e.type === 'status' && e.pipeline === name).map((e) => e.state as string);
    assert.deepEqual(statuses('steady'), ['connecting', 'running']);
    assert.deepEqual(statuses('edited'), ['connecting', 'running', 'stopped', 'connecting', 'running']);
    assert.equal(await stop(agent), 0);
    const lines = logLines();
    for (const l of lines) {
      assert.deepEqual(Object.keys(l).filter((k) => k !== 'pipeline'), ['ts', 'level', 'msg']);
      assert.ok(!Number.isNaN(Date.parse(l.ts)) && l.ts.endsWith('Z'), l.ts);
    }
    const reload = lines.find((l) => l.msg.includes(': reloaded'))!;
    assert.equal(reload.level, 'info');
    assert.equal(reload.msg, `config file changed: reloaded ${cfg}: 1 kept, 1 restarted (edited)`);
  });

  test('wrong service flags exit 2 and say what to fix', () => {
    const cases: Array<[string[], string]> = [
      [['run', 'x.yaml', '--log-format', 'yaml'], 'clean-agent: --log-format takes text or json (got "yaml")\n'],
      [['run', 'x.yaml', '--metrics-port', 'http'], 'clean-agent: --metrics-port takes a port such as 9464, or host:port such as 0.0.0.0:9464 to listen on every interface (got "http")\n'],
      [['run', 'x.yaml', '--metrics-port', '70000'], 'clean-agent: --metrics-port takes a port such as 9464, or host:port such as 0.0.0.0:9464 to listen on every interface (got "70000")\n'],
      [['watch', 'demo:orders', '--watch-config'], 'clean-agent: --watch-config goes with run <clean.yaml>: it reloads that file when it changes\n'],
    ];
    for (const [args, first] of cases) {
      const r = spawnSync(process.execPath, [AGENT, ...args], { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr, first + 'Run clean-agent --help for the options.\n');
    }
  });
});

/** The lines written so far, without a last one still being written. */
function completeLines(text: string): string[] {
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean);
}

function reEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A receiver for --alert-webhook that holds its answers until answer(); `bodies` are the events answered, in order. */
async function heldReceiver(): Promise<{ url: string; bodies: Array<Record<string, any>>; answer: () => void; close: () => Promise<void> }> {
  const bodies: Array<Record<string, any>> = [];
  let held: Array<() => void> | null = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const reply = () => {
        bodies.push(JSON.parse(body));
        res.writeHead(200).end('ok');
      };
      if (held) held.push(reply);
      else reply();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    answer: () => {
      const waiting = held ?? [];
      held = null;
      for (const reply of waiting) reply();
    },
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

/** A TCP relay to 127.0.0.1:`port` that holds what clients send until release(). */
async function gatedRelay(port: number): Promise<{ port: number; release: () => void; close: () => Promise<void> }> {
  let open = false;
  const waiting: Array<() => void> = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    const held: Buffer[] = [];
    const hold = (d: Buffer) => held.push(d);
    client.on('data', hold);
    client.on('error', () => undefined);
    const connect = () => {
      const upstream = net.connect(port, '127.0.0.1', () => {
        client.off('data', hold);
        for (const d of held) upstream.write(d);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      sockets.add(upstream);
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    if (open) connect();
    else waiting.push(connect);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    release: () => {
      open = true;
      for (const w of waiting.splice(0)) w();
    },
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

const run = promisify(execFile);

/**
 * The suite's Prometheus (CLEAN_TEST_PROMETHEUS_URL and _TARGETS, from scripts/test.sh), else one running through
 * scripts/broker, else one started here (stopped on release). Its file_sd job reads `targets`.
 */
async function usePrometheus(): Promise<{ url: string; targets: string; release: () => Promise<void> }> {
  const home = process.env.CLEAN_BROKER_HOME ?? path.join(repoRoot, '.cache', 'brokers');
  const targets = process.env.CLEAN_TEST_PROMETHEUS_TARGETS ?? path.join(home, 'prometheus', 'targets');
  const shared = process.env.CLEAN_TEST_PROMETHEUS_URL;
  if (shared) return { url: shared, targets, release: async () => {} };
  const broker = path.join(repoRoot, 'scripts', 'broker');
  const last = (out: string) => out.trim().split('\n').pop() ?? '';
  const running = await run('bash', [broker, 'url', 'prometheus'], { cwd: repoRoot }).then((r) => last(r.stdout), () => '');
  if (running) return { url: running, targets, release: async () => {} };
  const { stdout } = await run('flock', ['/tmp/clean-broker.lock', 'bash', broker, 'start', 'prometheus'], { cwd: repoRoot, timeout: 10 * 60_000 });
  mkdirSync(targets, { recursive: true });
  return { url: last(stdout), targets, release: async () => void (await run('bash', [broker, 'stop', 'prometheus'], { cwd: repoRoot })) };
}

