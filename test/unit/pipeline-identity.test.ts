/**
 * Issue 17.1: which start is the same pipeline. The agent's rule (server/lsp/manager.ts) with real demo sources, and
 * the extension's memory of what started each pipeline (client/model/pipelineStore.ts), the one a restart replays.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PipelineManager, samePipeline, type PipelineRequest } from '../../server/lsp/manager';
import { parseSourceUrl } from '../../server/sources/url';
import type { PipelineInfo, StartPipelineParams } from '../../shared/protocol';
import { PipelineStore, recordStart, restoreRequest } from '../../client/model/pipelineStore';
import { addressChoices, addressOfBase, backendOfBase, baseUrlOf, sourceUrlOfPipeline, withTopic } from '../../client/model/sourceInput';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function inline(url: string, name = 'orders'): PipelineRequest {
  return { name, spec: parseSourceUrl(url, { kind: 'earliest' }), settings: { checkInterval: { records: 100 } } };
}

const statusListeners = new Set<(id: string, state: string) => void>();

function manager(): PipelineManager {
  return new PipelineManager({ metrics() {}, alert() {}, status: (p) => statusListeners.forEach((l) => l(p.pipeline, p.state)), error() {} }, { log: quiet, secret: async () => undefined });
}

/** Resolves when the pipeline reports `state`, or fails after 10 s. */
function reported(id: string, state: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${id} never reported ${state}`)), 10_000);
    const l = (p: string, s: string) => {
      if (p !== id || s !== state) return;
      clearTimeout(timer);
      statusListeners.delete(l);
      resolve();
    };
    statusListeners.add(l);
  });
}

test('samePipeline: one config entry whatever its source now; inline, the same name and source', () => {
  const a = inline('kafka://127.0.0.1:9092/orders');
  assert.equal(samePipeline(a, inline('kafka://127.0.0.1:9092/orders')), true);
  assert.equal(samePipeline(a, { ...inline('kafka://127.0.0.1:9092/orders'), spec: { ...a.spec, from: { kind: 'latest' } } }), true, 'the start position is not the source');
  assert.equal(samePipeline(a, inline('kafka://127.0.0.1:9999/orders')), false, 'another address');
  assert.equal(samePipeline(a, inline('kafka://127.0.0.1:9092/orders?secret=prod')), false, 'other credentials');
  assert.equal(samePipeline(a, inline('kafka://127.0.0.1:9092/orders', 'other')), false, 'another name');
  const configured = { ...a, configUri: 'file:///w/clean.yaml' };
  assert.equal(samePipeline(configured, { ...inline('kafka://127.0.0.1:9999/orders'), configUri: 'file:///w/clean.yaml' }), true);
  assert.equal(samePipeline(configured, a), false, 'a file entry and an inline start are never the same');
});

test('the agent: a typed address for a monitored topic starts a second pipeline; the same source is reused, untouched', async () => {
  const m = manager();
  try {
    const first = m.start(inline('demo:orders?rate=50'));
    assert.equal(first.id, 'orders');
    assert.equal(first.reused, undefined);
    const again = m.start(inline('demo:orders?rate=50'));
    assert.equal(again.id, 'orders');
    assert.equal(again.reused, true);
    assert.equal(again.cliCommand, first.cliCommand);
    const other = m.start(inline('demo:orders?rate=80'));
    assert.equal(other.id, 'orders (2)');
    assert.equal(other.reused, undefined);
    assert.equal(other.cliCommand, "clean-agent watch 'demo:orders?rate=80' --from earliest --check-every 100");
    assert.deepEqual(m.list().map((p) => [p.id, p.cliCommand]), [
      ['orders', "clean-agent watch 'demo:orders?rate=50' --from earliest --check-every 100"],
      ['orders (2)', "clean-agent watch 'demo:orders?rate=80' --from earliest --check-every 100"],
    ]);
  } finally {
    await m.dispose();
  }
});

test('the agent: a restart restores each pipeline under its id, whatever order the starts come in', async () => {
  const m = manager();
  try {
    const second = m.start({ ...inline('demo:orders?rate=80'), id: 'orders (2)' });
    const running = reported('orders', 'running');
    const first = m.start({ ...inline('demo:orders?rate=50'), id: 'orders' });
    await running;
    assert.deepEqual([second.id, first.id], ['orders (2)', 'orders']);
    // A stopped pipeline's id is free again: the next start of it replaces it.
    await m.stop('orders');
    assert.equal(m.start(inline('demo:orders?rate=50')).reused, undefined);
    assert.deepEqual(m.list().map((p) => p.id), ['orders (2)', 'orders']);
  } finally {
    await m.dispose();
  }
});

test('the extension keeps only what started a pipeline, and restores it under its id', () => {
  const started = new Map<string, StartPipelineParams>();
  const info = (id: string, reused?: true) => ({ id, ...(reused ? { reused } : {}) }) as PipelineInfo;
  assert.equal(recordStart(started, { url: 'kafka://a:9092/orders', name: 'orders' }, info('orders')), true);
  // The typed address answered by the running pipeline is not stored over what runs.
  assert.equal(recordStart(started, { url: 'kafka://b:9092/orders', name: 'orders' }, info('orders', true)), false);
  assert.deepEqual([...started], [['orders', { url: 'kafka://a:9092/orders', name: 'orders' }]]);
  assert.equal(recordStart(started, { url: 'kafka://b:9092/orders', name: 'orders' }, info('orders (2)')), true);
  assert.deepEqual(restoreRequest('orders (2)', started.get('orders (2)')!), { url: 'kafka://b:9092/orders', name: 'orders', id: 'orders (2)' });
  // A restore's id is not kept as part of what started it.
  recordStart(started, restoreRequest('orders', started.get('orders')!), info('orders'));
  assert.deepEqual(started.get('orders'), { url: 'kafka://a:9092/orders', name: 'orders' });
});

test('the store never keeps the answer-only reused mark', () => {
  const store = new PipelineStore();
  store.upsert({ id: 'orders', reused: true } as PipelineInfo);
  assert.deepEqual(store.get('orders')?.info, { id: 'orders' });
});

test('wizard addresses: the workspace first, then running pipelines, one entry per broker', () => {
  assert.equal(baseUrlOf('kafka://app@h1:9092,h2:9092/orders?secret=k&mechanism=plain'), 'kafka://app@h1:9092,h2:9092?secret=k&mechanism=plain');
  assert.equal(baseUrlOf('demo:orders'), undefined);
  assert.equal(withTopic('kafka://h:9092?secret=k', 'kafka', 'orders.v1'), 'kafka://h:9092/orders.v1?secret=k');
  assert.equal(withTopic('pulsar+ws://h:8080', 'pulsar', 'orders'), 'pulsar+ws://h:8080/public/default/orders');
  assert.equal(withTopic('redis://h:6379', 'redis', 'app:events'), 'redis://h:6379/app%3Aevents');
  assert.equal(addressOfBase('kafka://app@h1:9092,h2:9092?secret=k'), 'h1:9092,h2:9092');
  assert.deepEqual([backendOfBase('rediss://h:1'), backendOfBase('pulsar+ssl://h:1'), backendOfBase('demo:x')], ['redis', 'pulsar', undefined]);
  assert.equal(sourceUrlOfPipeline({ cliCommand: "clean-agent watch 'kafka://h:9092/orders?secret=k' --from earliest" }), 'kafka://h:9092/orders?secret=k');
  const choices = addressChoices(
    [
      { file: 'docker-compose.yml', connection: { backend: 'kafka', brokers: ['127.0.0.1:9092'], origin: 'service kafka, KAFKA_ADVERTISED_LISTENERS' } },
      { file: '.env', connection: { backend: 'redis', url: 'redis://cache:6379', origin: 'REDIS_URL' } },
      { file: 'application.yml', connection: { backend: 'kafka', brokers: ['127.0.0.1:9092'], origin: 'spring.kafka.bootstrap-servers' } },
      { file: 'clean.yaml', connection: { backend: 'file', path: './x.jsonl', origin: 'connections.local' } },
    ],
    [
      { id: 'orders', backend: 'kafka', cliCommand: 'clean-agent watch kafka://127.0.0.1:9092/orders' } as PipelineInfo,
      { id: 'events', backend: 'pulsar', cliCommand: 'clean-agent watch pulsar+ws://127.0.0.1:8080/public/default/events' } as PipelineInfo,
      { id: 'demo-orders', backend: 'demo', cliCommand: 'clean-agent watch demo:orders' } as PipelineInfo,
    ],
  );
  assert.deepEqual(choices, [
    { backend: 'kafka', base: 'kafka://127.0.0.1:9092', address: '127.0.0.1:9092', origins: ['docker-compose.yml: service kafka, KAFKA_ADVERTISED_LISTENERS', 'application.yml: spring.kafka.bootstrap-servers', 'running: orders'] },
    { backend: 'redis', base: 'redis://cache:6379', address: 'cache:6379', origins: ['.env: REDIS_URL'] },
    { backend: 'pulsar', base: 'pulsar+ws://127.0.0.1:8080', address: '127.0.0.1:8080', origins: ['running: events'] },
  ]);
});
