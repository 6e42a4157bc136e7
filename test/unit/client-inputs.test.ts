import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { sourceUrlFromConnection, sourceUrlFromParts, validateAddress, validateTopic } from '../../client/model/sourceInput';
import { configuredStart, isMonitorableFile, pipelineTarget } from '../../client/model/commandArgs';
import { RestartBudget, restartLimitMessage } from '../../client/model/restartBudget';
import { settingsNeedingRestart, restartPrompt, logLevelFrom, maxRestartsFrom, detectorsFrom } from '../../client/model/settings';
import { parseSamplesQuery, samplesPath, samplesQuery, samplesText } from '../../client/model/samplesText';
import { BatchedSignal } from '../../client/model/batchedSignal';
import { chartStateFrom, isFromChart } from '../../client/model/chartMessages';
import { parseSourceUrl } from '../../server/sources/url';

test('guided input builds the URLs the agent parses back to the same source', () => {
  const kafka = sourceUrlFromParts('kafka', ' 127.0.0.1:9092, 127.0.0.1:9093 ', 'orders');
  assert.equal(kafka, 'kafka://127.0.0.1:9092,127.0.0.1:9093/orders');
  assert.deepEqual(parseSourceUrl(sourceUrlFromParts('kafka', '127.0.0.1:9092', 'orders')).brokers, ['127.0.0.1:9092']);
  assert.equal(sourceUrlFromParts('redis', '127.0.0.1:6379', 'events', 'redis-pw'), 'redis://127.0.0.1:6379/events?secret=redis-pw');
  assert.equal(parseSourceUrl('redis://127.0.0.1:6379/events?secret=redis-pw').auth?.secret, 'redis-pw');
  assert.equal(sourceUrlFromParts('redis', 'rediss://cache:6380', 'events'), 'rediss://cache:6380/events');
  assert.equal(sourceUrlFromParts('pulsar', 'pulsar://127.0.0.1:6650', 'orders'), 'pulsar://127.0.0.1:6650/public/default/orders');
  assert.equal(sourceUrlFromParts('pulsar', '127.0.0.1:6650', 'persistent://acme/eu/orders'), 'pulsar://127.0.0.1:6650/acme/eu/orders');
  assert.equal(parseSourceUrl('pulsar://127.0.0.1:6650/acme/eu/orders').topic, 'acme/eu/orders');
});

test('connections found in files become URLs; a connection without an address does not', () => {
  assert.equal(sourceUrlFromConnection({ backend: 'kafka', brokers: ['kafka:9092'], origin: 'compose' }, 'orders'), 'kafka://kafka:9092/orders');
  assert.equal(
    sourceUrlFromConnection({ backend: 'kafka', brokers: ['b:9093'], auth: { username: 'app', secret: 'kafka-prod', mechanism: 'plain' }, origin: 'spring' }, 'orders'),
    'kafka://app@b:9093/orders?secret=kafka-prod',
  );
  assert.equal(sourceUrlFromConnection({ backend: 'redis', url: 'redis://cache:6379', origin: '.env' }, 'jobs'), 'redis://cache:6379/jobs');
  assert.equal(sourceUrlFromConnection({ backend: 'kafka', origin: 'compose' }, 'orders'), undefined);
});

test('address and topic validation says what to type', () => {
  assert.equal(validateAddress('kafka', '127.0.0.1:9092,broker-2:9093'), undefined);
  assert.equal(validateAddress('kafka', 'localhost'), '"localhost" is not host:port, for example 127.0.0.1:9092.');
  assert.equal(validateAddress('redis', 'redis://u:pw@h:6379'), 'Leave the password out of the address; Clean Streams asks for it and keeps it in VS Code\'s secret storage.');
  assert.equal(validateAddress('redis', 'http://h'), 'Use redis://host:port, rediss://host:port or host:port.');
  assert.equal(validateAddress('pulsar', 'pulsar+ws://h:8080'), undefined);
  assert.equal(validateAddress('pulsar', ''), 'Enter an address.');
  assert.equal(validateTopic('kafka', 'orders.v2'), undefined);
  assert.equal(validateTopic('kafka', 'orders/eu'), 'A Kafka topic has letters, digits, ".", "_" and "-" only (at most 249).');
  assert.equal(validateTopic('redis', ''), 'Enter the stream key.');
  assert.equal(validateTopic('pulsar', 'a/b'), 'Use tenant/namespace/topic (public/default/orders) or a bare topic name.');
});

test('command arguments from tree rows, notifications, code lenses and the palette', () => {
  assert.deepEqual(pipelineTarget('orders'), { pipeline: 'orders' });
  assert.deepEqual(pipelineTarget({ kind: 'detector', pipeline: 'orders', detector: 'duplicates' }), { pipeline: 'orders', detector: 'duplicates' });
  assert.deepEqual(pipelineTarget({ pipeline: 'orders', detector: undefined }), { pipeline: 'orders' });
  assert.equal(pipelineTarget(undefined), undefined);
  assert.equal(pipelineTarget({ pipeline: '' }), undefined);
  assert.deepEqual(configuredStart({ configUri: 'file:///w/clean.yaml', pipelineName: 'orders' }), { configUri: 'file:///w/clean.yaml', pipelineName: 'orders' });
  assert.equal(configuredStart({ pipeline: 'orders' }), undefined);
});

test('"Monitor this topic" applies to the config-file kinds the agent resolves', () => {
  const yes = ['clean.yaml', 'x/orders.clean.yml', 'docker-compose.yml', 'docker-compose.prod.yaml', 'compose.yaml', 'application.yml', 'application-dev.properties', '.env', '.env.local', 'connect-sink.json'];
  const no = ['README.md', 'values.yaml', 'Dockerfile', 'app.properties'];
  assert.deepEqual(yes.filter((f) => !isMonitorableFile(f)), []);
  assert.deepEqual(no.filter((f) => isMonitorableFile(f)), []);
});

test('restart budget: a limited number of crash restarts within a sliding window', () => {
  const budget = new RestartBudget(2, 60_000);
  assert.equal(budget.allowRestart(0), true);
  assert.equal(budget.allowRestart(1000), true);
  assert.equal(budget.allowRestart(2000), false);
  assert.equal(budget.recent, 3);
  assert.equal(budget.allowRestart(61_500), true);
  budget.reset();
  assert.equal(budget.recent, 0);
  assert.equal(
    restartLimitMessage(5, 180_000),
    'The Clean Streams agent stopped 5 times in 3 minutes and will not be restarted again. Its last messages are in the "Clean Streams" output; fix the cause, then run "Clean: Restart Agent".',
  );
});

test('settings: coercion and which changes need an agent restart', () => {
  assert.deepEqual(settingsNeedingRestart((s) => s === 'clean.logLevel' || s === 'clean.notifications'), ['clean.logLevel']);
  assert.deepEqual(settingsNeedingRestart(() => false), []);
  assert.equal(restartPrompt(['clean.windowSize']), 'Clean Streams: "clean.windowSize" takes effect when the agent restarts (running pipelines are started again).');
  assert.equal(logLevelFrom('debug'), 'debug');
  assert.equal(logLevelFrom('verbose'), 'info');
  assert.equal(maxRestartsFrom(7), 7);
  assert.equal(maxRestartsFrom(-1), 4);
  assert.deepEqual(detectorsFrom(['duplicates', 'nope', 'parse']), ['duplicates', 'parse']);
});

test('samples document: JSON lines with positions, header comments, round-tripped address', () => {
  const text = samplesText(
    { pipeline: 'orders', detector: 'duplicates' },
    [
      { record: 17, position: '2@1534', detector: 'duplicates', reason: 'same as record 9', text: '{"id":1}', time: Date.UTC(2026, 10, 28, 10, 0, 0) },
      { record: 18, detector: 'duplicates', reason: 'not JSON', text: 'oops', time: Date.UTC(2026, 10, 28, 10, 0, 1) },
    ],
    new Date(Date.UTC(2026, 10, 28, 10, 0, 2)),
  );
  assert.equal(
    text,
    '// Clean Streams samples of orders, flagged by duplicates: 2 records, newest first, as of 2026-11-28T10:00:02.000Z.\n' +
      '// One JSON object per line: position in the source, record number, detector, why, and the payload (cut at 2 KB).\n' +
      '{"position":"2@1534","record":17,"detector":"duplicates","reason":"same as record 9","time":"2026-11-28T10:00:00.000Z","payload":{"id":1}}\n' +
      '{"position":null,"record":18,"detector":"duplicates","reason":"not JSON","time":"2026-11-28T10:00:01.000Z","payload":"oops"}\n',
  );
  assert.equal(samplesPath('a/b', undefined), '/a_b · all detectors.jsonl');
  assert.deepEqual(parseSamplesQuery(samplesQuery('a/b & c', 'parse')), { pipeline: 'a/b & c', detector: 'parse' });
  assert.deepEqual(parseSamplesQuery(samplesQuery('orders')), { pipeline: 'orders' });
  assert.equal(parseSamplesQuery('x=1'), undefined);
});

test('batched refresh: many signals, at most one flush per interval', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    let flushes = 0;
    const b = new BatchedSignal(() => flushes++, 250);
    for (let i = 0; i < 100; i++) b.signal();
    mock.timers.tick(0);
    assert.equal(flushes, 1);
    for (let i = 0; i < 100; i++) b.signal();
    mock.timers.tick(249);
    assert.equal(flushes, 1);
    mock.timers.tick(1);
    assert.equal(flushes, 2);
    b.signal();
    b.dispose();
    mock.timers.tick(1000);
    assert.equal(flushes, 2);
  } finally {
    mock.timers.reset();
  }
});

test('chart messages from the webview are checked; saved state is coerced', () => {
  assert.equal(isFromChart({ type: 'ready', state: null }), true);
  assert.equal(isFromChart({ type: 'drop-tables' }), false);
  assert.equal(isFromChart(null), false);
  assert.deepEqual(chartStateFrom({ focus: 'orders', hidden: ['parse', 3] }), { focus: 'orders', hidden: ['parse'] });
  assert.deepEqual(chartStateFrom(undefined), { focus: null, hidden: [] });
});
