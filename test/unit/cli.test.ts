/** Runs the built `clean-agent` (bin/clean-agent.js → dist/agent.js) on fixture files and checks its NDJSON. */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tempDir';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'cli');

before(() => {
  if (!existsSync(path.join(root, 'dist', 'agent.js'))) {
    const b = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  }
});

function agent(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'clean-agent.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    get events(): Array<Record<string, any>> {
      return r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
  };
}

/** Events without the fields that depend on the clock. */
function stable(events: Array<Record<string, unknown>>) {
  return events.map(({ time, throughput, ...rest }) => rest);
}

test('a file whose middle third is 50 % duplicates: alerts inside that third, recovery after it', () => {
  const r = agent('watch', `file:${path.join(fixtures, 'dup-middle.jsonl')}`, '--window', '200', '--check-every', '100', '--json');
  assert.equal(r.code, 0, r.stderr);
  const events = stable(r.events);
  const notable = events.filter((e) => e.type === 'alert' || e.type === 'recovered').map((e) => `${e.records} ${e.type} ${e.detector ?? 'score'} ${e.severity} ${e.value}`);
  assert.deepEqual(notable, [
    // The score (0.75, then 0.5) is shown, not alerted on: with the default threshold the detector names the cause.
    '1100 alert duplicates critical 0.25',
    '2200 recovered duplicates critical 0',
  ]);
  const first = events.find((e) => e.type === 'alert' && e.detector === 'duplicates');
  assert.deepEqual(first, {
    type: 'alert',
    pipeline: 'dup-middle.jsonl',
    severity: 'critical',
    detector: 'duplicates',
    value: 0.25,
    // The learned limit: a 5 % rise over the usual 0 %, a little wider while only five windows are learnt.
    threshold: 0.056498,
    records: 1100,
    message: 'duplicates in the last 200 records: 25% of records repeat one earlier in the window (usually 0%). Latest: record 1100 (position 1100).',
    samples: [1100, 1098, 1096, 1094, 1092].map((n) => ({ record: n, position: n })),
    fields: [{ name: null, share: 0.25, usual: 0, detail: '25% of records repeat one earlier in the window (usually 0%)' }],
  });
  const metrics = events.filter((e) => e.type === 'metrics');
  assert.equal(metrics.length, 30);
  assert.deepEqual(metrics[10], {
    type: 'metrics',
    pipeline: 'dup-middle.jsonl',
    records: 1100,
    window: 200,
    score: 0.75,
    detectors: {
      outliers: { rate: 0, count: 0, threshold: 0.05, out: false },
      duplicates: { rate: 0.25, count: 50, threshold: 0.05, out: true },
      missing: { rate: 0, count: 0, threshold: 0.1, out: false },
      schema: { rate: 0, count: 0, threshold: 0.05, out: false },
      parse: { rate: 0, count: 0, threshold: 0.01, out: false },
    },
    fields: {
      id: { missing: 0, outliers: 0, type: 'number' },
      ok: { missing: 0, type: 'boolean' },
      sensor: { missing: 0, type: 'string' },
      value: { missing: 0, outliers: 0, type: 'number' },
    },
    // Five windows of 200 learnt before the duplicates began; the window in alert is not learnt.
    baseline: { state: 'ready', records: 1000, needed: 200 },
  });
  assert.deepEqual(events.slice(-2), [
    { type: 'end', pipeline: 'dup-middle.jsonl', records: 3000 },
    { type: 'status', pipeline: 'dup-middle.jsonl', state: 'stopped', message: 'end of source after 3000 records' },
  ]);
  assert.deepEqual(events.slice(0, 2).map((e) => e.state), ['connecting', 'running']);
});

test('--fail-on-alert exits 3 when an alert fired, 0 when none did', () => {
  assert.equal(agent('watch', `file:${path.join(fixtures, 'dup-middle.jsonl')}`, '--window', '200', '--check-every', '100', '--json', '--fail-on-alert').code, 3);
  const clean = agent('watch', `file:${path.join(fixtures, 'clean-200.jsonl')}`, '--check-every', '50', '--json', '--fail-on-alert');
  assert.equal(clean.code, 0, clean.stderr);
  const metrics = clean.events.filter((e) => e.type === 'metrics');
  assert.deepEqual(metrics.map((m) => [m.records, m.score]), [[50, 1], [100, 1], [150, 1], [200, 1]]);
});

test('--limit stops after N records with the final metrics, then end', () => {
  const r = agent('watch', `file:${path.join(fixtures, 'dup-middle.jsonl')}`, '--limit', '250', '--check-every', '100', '--json');
  assert.equal(r.code, 0);
  assert.deepEqual(stable(r.events).filter((e) => e.type !== 'status').map((e) => `${e.type} ${e.records}`), ['metrics 100', 'metrics 200', 'metrics 250', 'end 250']);
});

test('the demo runs headless with --json and stops at --limit', () => {
  const r = agent('demo', 'demo:orders?rate=0', '--json', '--limit', '2000', '--check-every', '1000');
  assert.equal(r.code, 0, r.stderr);
  const types = r.events.map((e) => e.type);
  assert.deepEqual(types, ['status', 'status', 'metrics', 'metrics', 'end', 'status']);
  assert.deepEqual(Object.keys(r.events[2].detectors), ['outliers', 'duplicates', 'missing', 'schema', 'parse', 'rules']);
});

test('bad input in a file is counted, and the run goes on to the end', () => {
  const dir = tempDir('clean-cli-');
  const file = path.join(dir, 'mixed.jsonl');
  const lines = [];
  for (let i = 0; i < 100; i++) lines.push(JSON.stringify({ id: i, v: i % 10 }));
  lines.push('{"id": 1,', '[1,2,3]', '42', '\u0001\u0002binary', '{"__proto__":{"x":1},"id":7,"v":1}');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = agent('watch', `file:${file}`, '--json', '--check-every', '105');
  assert.equal(r.code, 0, r.stderr);
  const m = r.events.filter((e) => e.type === 'metrics').at(-1)!;
  assert.equal(m.records, 105);
  // Still learning its first window: parse alerts over its 1 % limit at once; the new field is not judged yet.
  assert.deepEqual(m.baseline, { state: 'learning', records: 105, needed: 1000 });
  assert.deepEqual(m.detectors.parse, { rate: 0.038095, count: 4, threshold: 0.01, out: true });
  assert.deepEqual(m.detectors.schema, { rate: 0, count: 0, threshold: 0.05, out: false });
});

test('wrong arguments exit 2 with one line that says what to fix', () => {
  const cases: Array<[string[], string]> = [
    [['watch', 'ftp://x/y'], 'clean-agent: "ftp://x/y" is not a source URL.'],
    [['watch', 'file:/no/such/file.jsonl'], 'clean-agent: file not found: /no/such/file.jsonl'],
    [['watch', 'file:x', '--window', '-3'], 'clean-agent: --window must be a positive whole number of records (got "-3")'],
    [['watch', 'file:x', '--threshold', '1.5'], 'clean-agent: --threshold must be a number between 0 and 1 (got "1.5")'],
    [['watch', 'file:x', '--detectors', 'outliers,bogus'], 'clean-agent: --detectors: unknown detector "bogus"'],
    [['watch', 'file:x', '--check-every', 'soon'], 'clean-agent: --check-every takes a record count such as 500 or a duration such as 2s or 500ms (got "soon")'],
    [['watch', 'file:x', '--from', 'yesterday'], 'clean-agent: --from: "yesterday" is not a start position.'],
    [['watch', 'file:x', '--bogus'], "clean-agent: Unknown option '--bogus'."],
    [['watch'], 'clean-agent: watch needs one source URL'],
    [['frobnicate'], 'clean-agent: unknown command "frobnicate".'],
    [['watch', 'kafka://user:hunter2@127.0.0.1:9092/orders'], 'clean-agent: Do not put a password in a URL: it would land in settings, shell history and logs.'],
  ];
  for (const [args, start] of cases) {
    const r = agent(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}, ${r.stderr}`);
    assert.ok(r.stderr.startsWith(start), `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.ok(!r.stderr.includes('hunter2'), 'the password must not be echoed');
  }
});

test('--help prints the usage and exits 0', () => {
  const r = agent('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^clean-agent — data quality of live topics/);
});

test('run <clean.yaml>: every pipeline of the file, with the same engine and events as watch', () => {
  const r = agent('run', path.join(fixtures, 'replay.clean.yaml'), '--json');
  assert.equal(r.code, 0, r.stderr);
  const notable = r.events
    .filter((e) => e.type === 'alert' || e.type === 'recovered' || e.type === 'end')
    .map((e) => `${e.pipeline} ${e.type} ${e.detector ?? (e.type === 'end' ? '' : 'score')} ${e.value ?? ''} ${e.records}`.replace(/ +/g, ' '));
  assert.deepEqual(notable.filter((l) => l.startsWith('replay')), [
    'replay alert duplicates 0.25 1100',
    'replay recovered duplicates 0 2200',
    'replay end 3000',
  ]);
  // value ≤ 22 holds for 42 % of these records: the rule flags the other 58 %.
  assert.deepEqual(notable.filter((l) => l.startsWith('ruled')), ['ruled alert rules 0.58 1000', 'ruled end 3000']);
});

test('run on a config with mistakes exits 2 and lists each at file:line:column', () => {
  const file = path.join(root, 'test', 'fixtures', 'config', 'invalid.clean.yaml');
  const r = agent('run', file);
  assert.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines[0], `clean-agent: ${file} has 11 problems:`);
  assert.equal(lines[1], `  ${file}:3:14: Unknown backend "kafak". Did you mean "kafka"? Use kafka, redis, pulsar, file or demo.`);
  assert.ok(!r.stderr.includes('hunter2'), 'the password in the file is not echoed');
});

test('--state: a restarted monitor resumes its saved baseline, ready at once; baseline accept, undo and reset change what it alerts on', () => {
  const dir = tempDir('clean-state-');
  const state = path.join(dir, 'state');
  const file = path.join(dir, 'orders.jsonl');
  let seed = 9;
  const rnd = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const order = (i: number, slip = false) => JSON.stringify({ id: i, amount: Math.round(Math.exp(3 + rnd()) * (slip ? 100_000 : 100)) / 100 });
  const watch = (...extra: string[]) => agent('watch', `file:${file}`, '--window', '500', '--check-every', '100', '--json', ...extra);
  const alerts = (r: ReturnType<typeof agent>) => r.events.filter((e) => e.type === 'alert').map((e) => `${e.records} ${e.detector ?? 'score'}`);

  // First run: 2,000 ordinary orders, learnt and saved.
  writeFileSync(file, Array.from({ length: 2000 }, (_, i) => order(i)).join('\n') + '\n');
  const first = watch('--state', state);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(alerts(first), []);
  assert.deepEqual(first.events.find((e) => e.type === 'metrics')!.baseline, { state: 'learning', records: 100, needed: 500 });

  // Restarted on new records whose amounts turn ×1000 in one in five from record 200: no relearning, the slips alert at once.
  writeFileSync(file, Array.from({ length: 600 }, (_, i) => order(2000 + i, i >= 200 && i % 5 === 0)).join('\n') + '\n');
  const resumed = watch('--state', state);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.deepEqual(resumed.events.find((e) => e.type === 'metrics')!.baseline, { state: 'ready', records: 2000, needed: 500, restored: true });
  assert.deepEqual(alerts(resumed), ['300 outliers']);
  // Without the saved baseline the same records fall in the learning window: nothing to compare with, no alert.
  assert.deepEqual(alerts(watch()), []);

  const show = agent('baseline', 'show', '--state', state);
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /^orders\.jsonl: learnt from 2,500 records, saved \S+\n {2}duplicates usually 0\.0%, now 0\.0%\n {2}parse {6}usually 0\.0%, now 0\.0%\n {2}"id": type number, missing usually 0\.0% \(now 0\.0%\)\n {2}"amount": type number, missing usually 0\.0% \(now 0\.0%\), outliers usually 0\.0% \(now 16\.0%\)\n$/);

  // "This is normal" through the state file: the slips' level is accepted, and the next run stays quiet.
  const accept = agent('baseline', 'accept', '--state', state, 'orders.jsonl', '--detector', 'outliers', '--field', 'amount');
  assert.equal(accept.code, 0, accept.stderr);
  assert.equal(accept.stdout, `Accepted the saved levels of outliers on "amount" as normal for "orders.jsonl" (1 metric). Undo with: clean-agent baseline undo --state ${state} orders.jsonl\n`);
  assert.deepEqual(alerts(watch('--state', state)), []);
  // Undo brings the alert back; a reset forgets everything, and the run learns afresh.
  assert.equal(agent('baseline', 'undo', '--state', state, 'orders.jsonl').code, 0);
  assert.deepEqual(alerts(watch('--state', state)), ['300 outliers']);
  const reset = watch('--state', state, '--reset-baseline');
  assert.deepEqual(alerts(reset), []);
  assert.deepEqual(reset.events.find((e) => e.type === 'metrics')!.baseline, { state: 'learning', records: 100, needed: 500 });
  assert.match(agent('baseline', 'accept', '--state', state, 'nope').stderr, /^clean-agent: no saved baseline for "nope" in .*; saved: orders\.jsonl\n$/);
  assert.equal(agent('baseline', 'accept', '--state', state, 'nope').code, 2);
});
