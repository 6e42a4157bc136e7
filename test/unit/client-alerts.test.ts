import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeCommandError } from '../../client/model/errors';
import { inert } from '../../client/model/inertText';
import { MUTES_KEY, MuteBook, type MuteMemento } from '../../client/model/mutes';
import { chartStatusOf, conditionOf, isUnreachable, problemOf, unreachableNotice } from '../../client/model/pipelineHealth';
import { PipelineStore } from '../../client/model/pipelineStore';
import { editableAddress, muteKeyOf, sourceAddressOf, sourceUrlFromCli, withAddress } from '../../client/model/sourceAddress';
import { computeStatusBar } from '../../client/model/statusBarState';
import { childrenOf, distinguishers, pipelineNode, pipelineNodes } from '../../client/model/topicTree';
import { formatClock } from '../../client/model/format';
import type { AlertEvent, MetricsEvent, PipelineInfo } from '../../shared/protocol';
import { pipelineInfo } from '../helpers/clientModel';

const Z = '\u200B';

const info = pipelineInfo;

function metrics(pipeline: string, time: number, score: number, over: Partial<MetricsEvent> = {}): MetricsEvent {
  return {
    type: 'metrics',
    pipeline,
    time,
    records: 5000,
    window: 1000,
    score,
    throughput: 200,
    detectors: { duplicates: { rate: 0, count: 0, threshold: 0.05, out: false }, missing: { rate: 0, count: 0, threshold: 0.1, out: false } },
    fields: {},
    baseline: { state: 'ready', records: 5000, needed: 1000 },
    ...over,
  };
}

/** Stands in for VS Code's globalState (the e2e suite uses the real one): a map behind the Memento methods. */
function fakeMemento(): MuteMemento & { data: Map<string, unknown> } {
  const data = new Map<string, unknown>();
  return { data, get: <T>(key: string) => data.get(key) as T | undefined, update: (key: string, value: unknown) => void data.set(key, value) };
}

const KAFKA_REFUSED = 'Cannot reach Kafka at 127.0.0.1:9 (ECONNREFUSED). Is the broker running? Retrying in 1 s.';

// ----------------------------------------------------------------------------------------- inert text (16.5)

test('inert text: links, reference links, autolinks and icons are broken with a zero-width space; plain text is untouched', () => {
  assert.equal(inert('[Open](command:clean.stopPipeline)'), `[Open]${Z}(command:clean.stopPipeline)`);
  assert.equal(inert('[a](https://x.example/) and [b]: command:x'), `[a]${Z}(https://x.example/) and [b]${Z}: command:x`);
  assert.equal(inert('see <command:workbench.action.openSettings>'), `see <${Z}command:workbench.action.openSettings>`);
  assert.equal(inert('$(zap) boom $(x~spin)'), `$${Z}(zap) boom $${Z}(x~spin)`);
  assert.equal(inert(inert('[Open](command:x) $(zap) <file:y>')), inert('[Open](command:x) $(zap) <file:y>'));
  for (const plain of ['orders · 0.74 · 1.2k rec/s', 'customerId missing 100%', 'a < b and [c] (d)', 'f(x) = $5', 'public/default/orders']) assert.equal(inert(plain), plain);
  // Command errors are shown with showErrorMessage too.
  assert.equal(
    describeCommandError('stop the pipeline', new Error('No pipeline "[Open](command:x)" in the agent.')),
    `Cannot stop the pipeline: No pipeline "[Open]${Z}(command:x)" in the agent.`,
  );
});

// ----------------------------------------------------------------------------------------- addresses and mute keys

test('the source URL of a CLI line, its address, an edited address, and the mute key', () => {
  assert.equal(sourceUrlFromCli('clean-agent watch kafka://u@h1:9092,h2:9093/orders?secret=kp --window 500'), 'kafka://u@h1:9092,h2:9093/orders?secret=kp');
  assert.equal(sourceUrlFromCli("clean-agent watch 'redis://127.0.0.1:6379/my stream' --from earliest"), 'redis://127.0.0.1:6379/my stream');
  assert.equal(sourceUrlFromCli('something else'), undefined);
  const kafka = sourceAddressOf('kafka://u@h1:9092,h2:9093/orders?secret=kp')!;
  assert.deepEqual(kafka, { backend: 'kafka', scheme: 'kafka://', user: 'u@', hostPorts: 'h1:9092,h2:9093', rest: '/orders?secret=kp' });
  assert.equal(editableAddress(kafka), 'h1:9092,h2:9093');
  assert.equal(withAddress(kafka, ' 10.0.0.5:9092 , 10.0.0.6:9092 '), 'kafka://u@10.0.0.5:9092,10.0.0.6:9092/orders?secret=kp');
  const redis = sourceAddressOf('rediss://127.0.0.1:6380/events')!;
  assert.equal(editableAddress(redis), 'rediss://127.0.0.1:6380');
  assert.equal(withAddress(redis, 'cache:6379'), 'rediss://cache:6379/events');
  assert.equal(withAddress(redis, 'redis://cache:6379/'), 'redis://cache:6379/events');
  const pulsar = sourceAddressOf('pulsar+ws://127.0.0.1:8080/public/default/orders')!;
  assert.equal(pulsar.backend, 'pulsar');
  assert.equal(editableAddress(pulsar), 'pulsar+ws://127.0.0.1:8080');
  assert.equal(sourceAddressOf('demo:orders'), undefined);
  // The key: topic and connection, never the id, the user or the options.
  assert.equal(muteKeyOf(info('orders (2)', { topic: 'orders', cliCommand: 'clean-agent watch kafka://u@h1:9092/orders?secret=kp --window 5' })), 'kafka://h1:9092/orders');
  assert.equal(muteKeyOf(info('orders', { cliCommand: 'clean-agent watch kafka://h1:9092/orders' })), 'kafka://h1:9092/orders');
  assert.equal(muteKeyOf(info('demo-orders', { backend: 'demo', topic: 'orders', cliCommand: 'clean-agent watch demo:orders' })), 'demo:orders#demo-orders');
});

// ----------------------------------------------------------------------------------------- mutes (17.8)

test('mutes: by key, kept in the memento, read back by a new book (a restarted window), ended by time or by unmute', () => {
  const memento = fakeMemento();
  const book = new MuteBook(memento);
  let changes = 0;
  book.onChange(() => changes++);
  assert.equal(book.mute('kafka://h1:9092/orders', 1000), 3_601_000);
  book.mute('redis://r:6379/events', 2000, 60_000);
  assert.deepEqual(memento.data.get(MUTES_KEY), [['kafka://h1:9092/orders', 3_601_000], ['redis://r:6379/events', 62_000]]);
  const reloaded = new MuteBook(memento);
  assert.equal(reloaded.isMuted('kafka://h1:9092/orders', 3_600_999), true);
  assert.deepEqual(reloaded.active(10_000), [{ key: 'redis://r:6379/events', until: 62_000 }, { key: 'kafka://h1:9092/orders', until: 3_601_000 }]);
  assert.equal(reloaded.nextEnd(10_000), 62_000);
  // Expired on reading: dropped and saved.
  assert.equal(reloaded.mutedUntil('redis://r:6379/events', 62_000), undefined);
  assert.deepEqual(memento.data.get(MUTES_KEY), [['kafka://h1:9092/orders', 3_601_000]]);
  assert.equal(reloaded.unmute('kafka://h1:9092/orders'), true);
  assert.equal(reloaded.unmute('kafka://h1:9092/orders'), false);
  assert.deepEqual(memento.data.get(MUTES_KEY), []);
  assert.equal(changes, 2);
  // Whatever else was stored under the key is ignored, not trusted.
  memento.data.set(MUTES_KEY, [['ok', 5], ['bad', 'x'], 7, null]);
  assert.deepEqual(new MuteBook(memento).active(0), [{ key: 'ok', until: 5 }]);
  memento.data.set(MUTES_KEY, { not: 'a list' });
  assert.deepEqual(new MuteBook(memento).active(0), []);
});

test('a muted topic shows in the tree: bell-slash icon, "muted until" in the description, `.muted` in the context value', () => {
  const store = new PipelineStore();
  store.upsert(info('orders'));
  store.applyMetrics([metrics('orders', 1000, 0.93)]);
  const until = new Date(2026, 0, 1, 13, 4, 5).getTime();
  const node = pipelineNode(store.get('orders')!, { mutedUntil: until });
  assert.equal(node.description, '0.93 · 200 rec/s · muted until 13:04');
  assert.deepEqual(node.icon, { id: 'bell-slash', color: 'charts.green' });
  assert.equal(node.contextValue, 'pipeline.running.muted');
  assert.equal(node.muted, true);
  assert.equal(node.tooltip.split('\n').at(-1), 'Alerts of this topic are muted until 13:04:05 ("Clean: Unmute" ends it).');
  store.upsert({ ...store.get('orders')!.info, canUndoBaseline: true });
  assert.equal(pipelineNode(store.get('orders')!, { mutedUntil: until }).contextValue, 'pipeline.running.undo.muted');
});

// ----------------------------------------------------------------------------------------- wrong address (17.6)

test('the reason a pipeline is not live, from the agent\'s message', () => {
  assert.equal(problemOf({ state: 'reconnecting', message: KAFKA_REFUSED }), 'cannot reach 127.0.0.1:9 (connection refused)');
  assert.equal(
    problemOf({ state: 'reconnecting', message: 'Cannot reach Kafka at h1:9092,h2:9092 (ETIMEDOUT). Is the broker running? Retrying in 4 s.' }),
    'cannot reach h1:9092,h2:9092 (timed out)',
  );
  assert.equal(
    problemOf({ state: 'error', message: 'Cannot reach Redis at 127.0.0.1:6390 (ECONNREFUSED). Is the server running? For a local test server run: scripts/broker start redis.' }),
    'cannot reach 127.0.0.1:6390 (connection refused)',
  );
  assert.equal(
    problemOf({ state: 'reconnecting', message: 'Lost Redis at 127.0.0.1:6379 (ECONNRESET). Retrying in 0.5 s; will resume after ID 1-0.' }),
    'lost 127.0.0.1:6379 (connection reset)',
  );
  assert.equal(
    problemOf({ state: 'reconnecting', message: 'Cannot resolve the Kafka host in kafka.invalid:9092 (ENOTFOUND). Check the host name in the source URL.' }),
    'cannot resolve kafka.invalid:9092 (unknown host)',
  );
  assert.equal(problemOf({ state: 'reconnecting', message: 'Cannot reach Pulsar at 127.0.0.1:6651 (EWHATEVER). Is it on?' }), 'cannot reach 127.0.0.1:6651 (EWHATEVER)');
  // Other messages: their first sentence, cut short.
  assert.equal(problemOf({ state: 'waiting', message: 'Topic "orderz" does not exist on Kafka at 127.0.0.1:9092; did you mean orders? Waiting for it.' }), 'Topic "orderz" does not exist on Kafka at 127.0.0.1:9092; did you mean orders?');
  assert.equal(problemOf({ state: 'error', message: `${'x'.repeat(100)} y.` }), `${'x'.repeat(79)}…`);
  // Live, paused, progress: no problem.
  assert.equal(problemOf({ state: 'running', message: KAFKA_REFUSED }), undefined);
  assert.equal(problemOf({ state: 'connecting', message: 'connecting to kafka 127.0.0.1:9092' }), undefined);
  assert.equal(problemOf({ state: 'reconnecting', message: '' }), undefined);
  assert.equal(isUnreachable({ state: 'reconnecting', message: KAFKA_REFUSED }), true);
  assert.equal(isUnreachable({ state: 'connecting', message: KAFKA_REFUSED }), false);
  assert.equal(isUnreachable({ state: 'error', message: 'Topic "x" may not be read.' }), false);
});

test('the unreachable notice says the pipeline keeps retrying only when it does', () => {
  assert.equal(
    unreachableNotice('orders', 'cannot reach 127.0.0.1:9 (connection refused)', 'reconnecting'),
    'Clean Streams · orders: cannot reach 127.0.0.1:9 (connection refused). It keeps retrying; edit the address or stop the pipeline.',
  );
  // A Redis source that cannot connect at start gives up: the pipeline is in error and retries nothing.
  assert.equal(
    unreachableNotice('events', 'cannot reach 127.0.0.1:6 (connection refused)', 'error'),
    'Clean Streams · events: cannot reach 127.0.0.1:6 (connection refused). It has stopped; edit the address to start it again, or stop the pipeline.',
  );
});

test('a pipeline that cannot reach its broker carries the reason in its row and tooltip, and shows no stale children', () => {
  const store = new PipelineStore();
  store.upsert(info('orders'));
  store.applyMetrics([metrics('orders', 1000, 0.93, { detectors: { duplicates: { rate: 0.2, count: 200, threshold: 0.05, out: true } } })]);
  store.upsert({ ...store.get('orders')!.info, state: 'reconnecting', message: KAFKA_REFUSED });
  const node = pipelineNode(store.get('orders')!);
  assert.equal(node.description, 'reconnecting · cannot reach 127.0.0.1:9 (connection refused)');
  assert.equal(node.condition, 'down');
  assert.deepEqual(node.icon, { id: 'sync~spin', color: 'charts.yellow' });
  assert.equal(node.tooltip.split('\n').slice(0, 3).join('\n'), `orders — reconnecting\nkafka 127.0.0.1:9092/orders\n${KAFKA_REFUSED}`);
  assert.equal(node.hasChildren, false);
  assert.deepEqual(childrenOf(store.get('orders')!), []);
});

test('a Kafka source retrying an unreachable broker stays down with its reason through each attempt, until it gets through', () => {
  // The agent's statuses for kafka://127.0.0.1:9/orders, in the order it sends them (each attempt is `connecting`).
  const store = new PipelineStore();
  const seen: Array<[string, string | undefined, string]> = [];
  const look = () => {
    const entry = store.get('orders')!;
    const node = pipelineNode(entry);
    const bar = computeStatusBar([{ name: 'orders', state: entry.info.state, score: undefined, threshold: 0.8, throughput: undefined, message: entry.info.message }]);
    seen.push([node.description, node.condition, bar.text]);
  };
  const status = (state: PipelineInfo['state'], message: string) => {
    store.applyStatus({ type: 'status', pipeline: 'orders', time: 0, state, message, info: info('orders', { state, message }) });
    look();
  };
  status('connecting', 'connecting');
  status('connecting', 'Connecting to Kafka at 127.0.0.1:9');
  status('reconnecting', 'Cannot reach Kafka at 127.0.0.1:9 (ECONNREFUSED). Is the broker running? Retrying in 0.5 s.');
  status('connecting', 'Connecting to Kafka at 127.0.0.1:9');
  status('reconnecting', 'Cannot reach Kafka at 127.0.0.1:9 (ECONNREFUSED). Is the broker running? Retrying in 1 s.');
  status('connecting', 'Connecting to Kafka at 127.0.0.1:9');
  status('running', 'reading orders');
  const down = 'reconnecting · cannot reach 127.0.0.1:9 (connection refused)';
  assert.deepEqual(seen, [
    ['connecting', 'connecting', '$(pulse) –'],
    ['connecting', 'connecting', '$(pulse) –'],
    [down, 'down', '$(pulse) 1 down'],
    [down, 'down', '$(pulse) 1 down'],
    [down, 'down', '$(pulse) 1 down'],
    [down, 'down', '$(pulse) 1 down'],
    ['–', 'live', '$(pulse) –'],
  ]);
  assert.equal(store.get('orders')!.info.message, 'reading orders');
  // Held, the attempt keeps the last reason word for word (the tooltip shows it).
  status('reconnecting', KAFKA_REFUSED);
  status('connecting', 'Connecting to Kafka at 127.0.0.1:9');
  assert.deepEqual([store.get('orders')!.info.state, store.get('orders')!.info.message], ['reconnecting', KAFKA_REFUSED]);
  // A new start of the pipeline (its own first status) and a topic that appeared are not held.
  status('connecting', 'connecting');
  assert.equal(seen.at(-1)![1], 'connecting');
  status('reconnecting', KAFKA_REFUSED);
  status('waiting', 'topic orders does not exist on 127.0.0.1:9092');
  status('connecting', 'Topic "orders" appeared on Kafka at 127.0.0.1:9092; reading it from the beginning');
  assert.deepEqual(seen.at(-1), ['connecting', 'connecting', '$(pulse) –']);
  // A pipeline that lost its broker for another reason than reaching it is not held either.
  status('reconnecting', 'Kafka at 127.0.0.1:9092 rebalanced the group. Retrying in 1 s.');
  status('connecting', 'Connecting to Kafka at 127.0.0.1:9092');
  assert.equal(seen.at(-1)![1], 'connecting');
});

// ----------------------------------------------------------------------------------------- stale numbers (17.4)

test('status bar: pipelines down lead ("2 down"), only live scores count, stale and learning are counted', () => {
  const down = computeStatusBar([
    { name: 'orders', state: 'running', score: 1, threshold: 0.8, throughput: 100 },
    { name: 'payments', state: 'reconnecting', score: 0.95, threshold: 0.8, throughput: 0, message: KAFKA_REFUSED },
    { name: 'clicks', state: 'error', score: undefined, threshold: 0.8, throughput: undefined, message: 'Topic "clicks" may not be read by this client.' },
  ]);
  assert.equal(down.text, '$(pulse) 2 down · 1.00');
  assert.equal(down.level, 'warning');
  assert.equal(down.worst, 'orders');
  assert.equal(
    down.tooltip,
    'Clean Streams — worst quality score (orders)\norders: 1.00 (running, 100 rec/s)\npayments: reconnecting — cannot reach 127.0.0.1:9 (connection refused)\nclicks: error — Topic "clicks" may not be read by this client\nClick to open the chart',
  );
  assert.equal(down.command, 'clean.openChart');
  const allDown = computeStatusBar([{ name: 'payments', state: 'reconnecting', score: 0.95, threshold: 0.8, throughput: 0, message: KAFKA_REFUSED }]);
  assert.equal(allDown.text, '$(pulse) 1 down');
  const lastCheck = new Date(2026, 0, 1, 12, 3, 4).getTime();
  const mixed = computeStatusBar([
    { name: 'orders', state: 'running', score: 0.5, threshold: 0.8, throughput: 100, stale: true, lastCheck },
    { name: 'fresh', state: 'running', score: 0.9, threshold: 0.8, throughput: 100, baseline: { state: 'learning', records: 300, needed: 1000 } },
  ]);
  // The stale 0.50 neither leads nor colours the item red; it is counted as stale.
  assert.equal(mixed.text, '$(pulse) 0.90 · 1 stale · 1 learning');
  assert.equal(mixed.level, 'warning');
  assert.equal(mixed.tooltip.split('\n')[1], 'orders: stale, last 0.50 at 12:03:04');
  // A waiting pipeline (its topic does not exist yet) is shown, not down.
  assert.equal(computeStatusBar([{ name: 'orderz', state: 'waiting', score: undefined, threshold: 0.8, throughput: undefined }]).text, '$(pulse) –');
});

test('status bar: once the agent gave up nothing is live; a click restarts it', () => {
  const stoppedAt = new Date(2026, 0, 1, 12, 5, 0).getTime();
  const s = computeStatusBar(
    [
      { name: 'orders', state: 'running', score: 0.93, threshold: 0.8, throughput: 100, lastCheck: new Date(2026, 0, 1, 12, 4, 59).getTime() },
      { name: 'payments', state: 'connecting', score: undefined, threshold: 0.8, throughput: undefined },
    ],
    stoppedAt,
  );
  assert.deepEqual(s, {
    visible: true,
    text: '$(debug-disconnect) agent stopped',
    level: 'error',
    tooltip: 'Clean Streams — the agent stopped at 12:05:00 and was not restarted: no number below is live.\norders: last 0.93 at 12:04:59\npayments: –\nClick to restart the agent',
    worst: 'orders',
    command: 'clean.restartAgent',
  });
});

test('tree: after the agent gave up, and for a stale pipeline, rows say so and show the last score with its time', () => {
  const store = new PipelineStore();
  let changes = 0;
  store.onChange(() => changes++);
  store.upsert(info('orders'));
  const t = new Date(2026, 0, 1, 12, 3, 4).getTime();
  store.applyMetrics([metrics('orders', t, 0.74, { detectors: { duplicates: { rate: 0.2, count: 200, threshold: 0.05, out: true } } })]);
  assert.equal(store.sweepStale(t + 15_000), false);
  assert.equal(store.sweepStale(t + 15_001), true);
  assert.equal(store.sweepStale(t + 20_000), false, 'told once');
  const stale = pipelineNode(store.get('orders')!);
  assert.equal(stale.description, 'stale · 0.74 at 12:03:04');
  assert.equal(stale.condition, 'stale');
  assert.deepEqual(stale.icon, { id: 'history', color: 'charts.yellow' });
  assert.deepEqual(stale.tooltip.split('\n').slice(0, 3), ['orders — stale', 'kafka 127.0.0.1:9092/orders', 'No check since 12:03:04: the numbers below are old, not live.']);
  assert.equal(stale.hasChildren, false);
  // A check arrives: live again.
  store.applyMetrics([metrics('orders', t + 16_000, 0.8)]);
  assert.equal(pipelineNode(store.get('orders')!).description, '0.80 · 200 rec/s');
  store.markAgentStopped(new Date(2026, 0, 1, 12, 5, 0).getTime());
  const context = { agentStoppedAt: store.agentStoppedAt };
  const gone = pipelineNode(store.get('orders')!, context);
  assert.equal(gone.description, 'agent stopped · 0.80 at 12:03:20');
  assert.deepEqual(gone.icon, { id: 'debug-disconnect', color: 'disabledForeground' });
  assert.equal(gone.tooltip.split('\n')[2], 'The agent stopped at 12:05:00 and was not restarted: the numbers below are its last, not live. Run "Clean: Restart Agent".');
  assert.equal(gone.tooltip.split('\n')[3], 'Last quality score 0.80 (alert below 0.80)');
  assert.deepEqual(childrenOf(store.get('orders')!, context), []);
  // A (re)started agent's list clears it.
  store.reset([info('orders')]);
  assert.equal(store.agentStoppedAt, undefined);
  assert.equal(changes, 6);
});

test('chart header: the status of pipelines that are not live', () => {
  const clock = formatClock;
  const t = new Date(2026, 0, 1, 12, 3, 4).getTime();
  assert.equal(chartStatusOf({ info: { state: 'running', message: '' } }, undefined, clock), undefined);
  assert.equal(chartStatusOf({ info: { state: 'reconnecting', message: KAFKA_REFUSED } }, undefined, clock), 'reconnecting: cannot reach 127.0.0.1:9 (connection refused)');
  assert.equal(chartStatusOf({ info: { state: 'running', message: '' }, stale: true, metrics: { time: t } }, undefined, clock), 'stale: no check since 12:03:04');
  assert.equal(chartStatusOf({ info: { state: 'running', message: '' } }, t, clock), 'agent stopped at 12:03:04: last numbers, not live');
  assert.equal(chartStatusOf({ info: { state: 'paused', message: 'paused' } }, undefined, clock), 'paused');
  assert.equal(conditionOf('waiting', false, false), 'waiting');
  assert.equal(conditionOf('error', false, false), 'down');
  assert.equal(conditionOf('paused', true, false), 'paused');
});

// ----------------------------------------------------------------------------------------- smaller things (17.9)

test('after recovery a field row such as "customerId missing 100%" leaves the healthy pipeline', () => {
  const store = new PipelineStore();
  store.upsert(info('orders'));
  const burst = metrics('orders', 1000, 0.4, {
    detectors: { missing: { rate: 0.6, count: 600, threshold: 0.1, out: true }, duplicates: { rate: 0, count: 0, threshold: 0.05, out: false } },
    fields: { customerId: { missing: 1, type: 'string' }, amount: { missing: 0.02, outliers: 0.1 } },
  });
  store.applyMetrics([burst]);
  assert.deepEqual(childrenOf(store.get('orders')!).filter((n) => n.kind === 'field').map((n) => [n.label, n.description]), [
    ['customerId', 'missing 100%'],
    ['amount', 'missing 2.0%'],
  ]);
  // An active outliers alert naming amount keeps its outliers share on the row while the alert lasts.
  const alert: AlertEvent = {
    type: 'alert', pipeline: 'orders', time: 1000, severity: 'warning', detector: 'outliers', value: 0.1, threshold: 0.05, records: 5000, message: 'outliers',
    samples: [], fields: [{ name: 'amount', share: 0.1, usual: 0, detail: 'amount' }],
  };
  store.applyAlert(alert);
  assert.deepEqual(childrenOf(store.get('orders')!).filter((n) => n.kind === 'field').map((n) => [n.label, n.description]), [
    ['customerId', 'missing 100%'],
    ['amount', 'missing 2.0% · outliers 10%'],
  ]);
  store.applyAlert({ ...alert, type: 'recovered' });
  // Recovered: the stream no longer sends customerId, but missing no longer stands out; no field row stays.
  store.applyMetrics([{ ...burst, time: 2000, score: 0.99, detectors: { missing: { rate: 0, count: 0, threshold: 0.1, out: false }, duplicates: { rate: 0, count: 0, threshold: 0.05, out: false } } }]);
  assert.deepEqual(childrenOf(store.get('orders')!).filter((n) => n.kind === 'field'), []);
});

test('rows both labelled "orders" lead with what tells them apart: the address, else the config file, else the id', () => {
  const entries = (infos: PipelineInfo[]) => {
    const store = new PipelineStore();
    for (const i of infos) store.upsert(i);
    return store.list();
  };
  const byAddress = entries([
    info('orders', { cliCommand: 'clean-agent watch kafka://127.0.0.1:9092/orders' }),
    info('orders (2)', { topic: 'orders', cliCommand: 'clean-agent watch kafka://10.0.0.7:9092/orders', state: 'connecting' }),
    info('payments'),
  ]);
  assert.deepEqual(pipelineNodes(byAddress).map((n) => [n.label, n.description]), [
    ['orders', '127.0.0.1:9092 · –'],
    ['orders', '10.0.0.7:9092 · connecting · orders (2)'],
    ['payments', '–'],
  ]);
  const byFile = entries([
    info('orders', { configUri: 'file:///w/clean.yaml' }),
    info('orders-eu', { topic: 'orders', configUri: 'file:///w/eu/prod.clean.yaml' }),
  ]);
  assert.deepEqual([...distinguishers(byFile)], [['orders', 'clean.yaml'], ['orders-eu', 'prod.clean.yaml']]);
  const byId = entries([info('a', { topic: 'orders' }), info('b', { topic: 'orders' })]);
  assert.deepEqual(pipelineNodes(byId).map((n) => n.description), ['a · –', 'b · –']);
  // One from a file, one started inline, same address: their ids.
  const mixed = entries([info('orders-fast', { topic: 'orders', configUri: 'file:///w/clean.yaml' }), info('demo-orders', { topic: 'orders' })]);
  assert.deepEqual([...distinguishers(mixed)], [['orders-fast', 'orders-fast'], ['demo-orders', 'demo-orders']]);
  assert.deepEqual(pipelineNodes(mixed).map((n) => n.description), ['orders-fast · –', 'demo-orders · –']);
});

test('tree rows are inert: a pipeline, topic or field named like a command link stays text', () => {
  const store = new PipelineStore();
  const evil = '[Open](command:clean.stopPipeline)';
  store.upsert(info('p1', { name: evil, topic: evil, message: '', description: `kafka 127.0.0.1:9092/${evil}` }));
  store.applyMetrics([metrics('p1', 1000, 0.5, { detectors: { missing: { rate: 0.5, count: 500, threshold: 0.1, out: true } }, fields: { '$(zap)[x](command:y)': { missing: 0.5 } } })]);
  const node = pipelineNode(store.get('p1')!);
  assert.equal(node.label, `[Open]${Z}(command:clean.stopPipeline)`);
  assert.equal(node.tooltip.split('\n')[0], `[Open]${Z}(command:clean.stopPipeline) — running`);
  const field = childrenOf(store.get('p1')!).find((n) => n.kind === 'field')!;
  assert.equal(field.label, `$${Z}(zap)[x]${Z}(command:y)`);
  assert.equal(field.tooltip, `Field "$${Z}(zap)[x]${Z}(command:y)": 50% missing of window records`);
  assert.ok(!computeStatusBar([{ name: evil, state: 'running', score: 0.5, threshold: 0.8, throughput: 1 }]).tooltip.includes('](command:'));
});
