/**
 * Issue 16, "credentials never travel in a URL or a spec, and never echo": one test per row of the hostile
 * table about credentials, against the spawned agent over LSP and the real CLI. Each asserts the exact refusal
 * and that the password appears in nothing the agent or the CLI wrote (responses, notifications, stderr).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { AgentClient, ROOT, fileUri } from '../protocol/agentClient';
import { useBroker, type Broker } from '../helpers/broker';
import type { PipelineInfo, ResolveTopicResult } from '../../shared/protocol';

const PW = 'Hunter2-PW-5150';
/** A password holding `@`: its tail must never be read as a user name or a host. */
const PW_AT = 'Hunter2@PW-5150';
const WHY = 'it would land in settings, shell history and logs';
const STORE = 'Store it with "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>)';

const urlRefusal = (instead: string) => `Do not put a password in a URL: ${WHY}. ${STORE} ${instead}.`;
const brokerRefusal = (which: string, instead: string) => `Do not put a password in a broker address (${which}): ${WHY}. ${STORE} ${instead}.`;
const paramRefusal = (key: string) => `Do not put a credential in a URL (the parameter "${key}"): ${WHY}. ${STORE} and add ?secret=<name> to the URL instead.`;
const TO_URL = 'and add ?secret=<name> to the URL';
const TO_SPEC = 'and name it in spec.auth.secret';

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'clean-agent.js'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Everything the agent sent so far (notifications, log lines on stderr), plus the given responses. */
function everything(agent: AgentClient, ...more: unknown[]): string {
  return JSON.stringify(agent.received) + agent.stderr.join('') + JSON.stringify(more);
}

async function refusal(agent: AgentClient, params: unknown): Promise<{ code: number; message: string }> {
  try {
    const info = await agent.request<PipelineInfo>('clean/startPipeline', params);
    return assert.fail(`accepted: ${JSON.stringify(info)}`);
  } catch (err) {
    const e = err as { code: number; message: string };
    return { code: e.code, message: e.message };
  }
}

describe('hostile: credentials never travel in a URL or a spec, and never echo', () => {
  let agent: AgentClient;
  let redis: Broker;
  let producer: Redis;
  let dir: string;
  const stream = `creds-${process.pid}-${Date.now()}`;

  before(async () => {
    redis = await useBroker('redis');
    producer = new Redis(redis.url);
    dir = mkdtempSync(path.join(tmpdir(), 'clean-hostile-creds-'));
    agent = await AgentClient.start({ secrets: { 'redis-127.0.0.1': PW_AT }, settings: { logLevel: 'debug' } });
  });
  after(async () => {
    await agent.stop();
    await producer.del(stream);
    await producer.quit();
    await redis.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('clean/startPipeline: a spec holding redis://:PW@…, pulsar+ws://u:PW@… or Kafka brokers ["u:PW@…"] is refused; the password echoes nowhere', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'spec-redis', spec: { backend: 'redis', topic: 'orders', url: `redis://:${PW}@127.0.0.1:6379` } }, `spec.url: ${urlRefusal(TO_SPEC)}`],
      [{ name: 'spec-rediss', spec: { backend: 'redis', topic: 'orders', url: `rediss://app:${PW_AT}@127.0.0.1:6380` } }, `spec.url: ${urlRefusal(TO_SPEC)}`],
      [{ name: 'spec-pulsar', spec: { backend: 'pulsar', topic: 'public/default/t', url: `pulsar+ws://u:${PW}@127.0.0.1:8080` } }, `spec.url: ${urlRefusal(TO_SPEC)}`],
      [{ name: 'spec-pulsar-bin', spec: { backend: 'pulsar', topic: 'public/default/t', url: `pulsar://u:${PW}@127.0.0.1:6650` } }, `spec.url: ${urlRefusal(TO_SPEC)}`],
      [{ name: 'spec-kafka', spec: { backend: 'kafka', topic: 't', brokers: [`u:${PW}@127.0.0.1:9092`] } }, `spec.brokers: ${brokerRefusal('127.0.0.1:9092', TO_SPEC)}`],
      [{ name: 'spec-kafka-2nd', spec: { backend: 'kafka', topic: 't', brokers: ['127.0.0.1:9092', `u:${PW_AT}@10.0.0.2:9093`] } }, `spec.brokers: ${brokerRefusal('broker 2 of 2, 10.0.0.2:9093', TO_SPEC)}`],
      [{ name: 'spec-auth', spec: { backend: 'redis', topic: 'orders', url: 'redis://127.0.0.1:6379', auth: { username: 'u', password: PW } } }, `Do not put a credential in spec.auth.password; ${WHY}. ${STORE} ${TO_SPEC}.`],
      [{ name: 'spec-options', spec: { backend: 'kafka', topic: 't', brokers: ['127.0.0.1:9092'], options: { sasl_password: PW } } }, `Do not put a credential in spec.options.sasl_password; ${WHY}. ${STORE} ${TO_SPEC}.`],
    ];
    for (const [params, message] of cases) assert.deepEqual(await refusal(agent, params), { code: -32602, message });
    const list = await agent.request<{ pipelines: PipelineInfo[] }>('clean/listPipelines');
    assert.deepEqual(list.pipelines.filter((p) => p.id.startsWith('spec-')), []);
    const all = everything(agent, list);
    assert.equal(all.includes(PW), false);
    assert.equal(all.includes('PW-5150'), false, 'no tail of a password holding @');
  });

  it('clean/startPipeline url: userinfo passwords in redis://, rediss://, pulsar://, pulsar+ws:// and kafka:// URLs are refused', async () => {
    const urls = [
      `redis://:${PW}@127.0.0.1:6379/orders`,
      `redis://default:${PW_AT}@127.0.0.1:6379/orders`,
      `rediss://u:${PW}@127.0.0.1:6380/orders`,
      `pulsar://u:${PW}@127.0.0.1:6650/public/default/t`,
      `pulsar+ws://u:${PW}@127.0.0.1:8080/public/default/t`,
      `kafka://u:${PW}@127.0.0.1:9092/t`,
      // A `/` in the password cuts the URL's authority short: still a password, still refused whole.
      `redis://:Hunter2/PW-5150@127.0.0.1:6379/orders`,
    ];
    for (const url of urls) {
      const r = await refusal(agent, { name: 'url-pw', url });
      assert.deepEqual(r, { code: -32602, message: urlRefusal(TO_URL) }, url);
    }
    const all = everything(agent);
    assert.equal(all.includes('PW-5150'), false);
  });

  it('CLI kafka://h1:9092,u:PW@h2:9093/t is refused with exit 2, and no broker list is ever shortened', () => {
    const refused = cli('watch', `kafka://h1:9092,u:${PW}@h2:9093/t`);
    assert.deepEqual(refused, {
      code: 2,
      stdout: '',
      stderr: `clean-agent: ${brokerRefusal('broker 2 of 2, h2:9093', TO_URL)}\nRun clean-agent --help for the options.\n`,
    });
    const cases: Array<[string, string]> = [
      ['kafka://h1:9092,,h2:9093/t', 'Broker 2 of 3 is empty (a doubled or trailing comma?); list the bootstrap servers as host:port separated by commas.'],
      ['kafka://h1:9092,h2:9093,/t', 'Broker 3 of 3 is empty (a doubled or trailing comma?); list the bootstrap servers as host:port separated by commas.'],
      ['kafka://h1:9092,h2/t', 'Broker 2 of 2 ("h2") is not host:port; write it like 127.0.0.1:9092.'],
      ['kafka://h1:9092,h2:99999/t', 'Broker 2 of 2 ("h2:99999") is not host:port; write it like 127.0.0.1:9092.'],
      ['kafka://h1:9092,bob@h2:9093/t', 'Broker 2 of 2 (h2:9093) carries a user name; write it once, before the first broker: kafka://<user>@host:port,host:port/<topic>.'],
      ['kafka:///t', 'The broker list is empty; list the bootstrap servers as host:port, for example 127.0.0.1:9092.'],
    ];
    for (const [url, message] of cases) {
      assert.deepEqual(cli('watch', url), { code: 2, stdout: '', stderr: `clean-agent: ${message}\nRun clean-agent --help for the options.\n` }, url);
    }
  });

  it('a Kafka broker list keeps every host (URL and spec), and a spec list that does not parse is refused', async () => {
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'two-hosts', url: 'kafka://alice@127.0.0.1:1,127.0.0.1:2/orders?secret=kafka-none' });
    assert.deepEqual([info.description, info.cliCommand], ['kafka://127.0.0.1:1,127.0.0.1:2/orders', "clean-agent watch 'kafka://alice@127.0.0.1:1,127.0.0.1:2/orders?secret=kafka-none'"]);
    await agent.waitFor('two-hosts in error (no such secret)', () => agent.statesOf('two-hosts').includes('error'));
    const failed = agent.of('clean/status').find((r) => r.params.pipeline === 'two-hosts' && r.params.state === 'error')!.params;
    assert.equal(
      failed.message,
      'The secret "kafka-none" for Kafka user "alice" at 127.0.0.1:1,127.0.0.1:2 is not set. Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_KAFKA_NONE for the CLI.',
    );
    await agent.request('clean/stopPipeline', { pipeline: 'two-hosts', remove: true });
    assert.deepEqual(await refusal(agent, { name: 'bad-list', spec: { backend: 'kafka', topic: 't', brokers: ['127.0.0.1:9092', 'not a host'] } }), {
      code: -32602,
      message: 'spec.brokers: Broker 2 of 2 ("not a host") is not host:port; write it like 127.0.0.1:9092.',
    });
  });

  it('?password= and other credential parameters are refused by the agent and the CLI, and echoed in no cliCommand', async () => {
    for (const key of ['password', 'token', 'sasl_password', 'secret_key', 'apikey', 'sasl.password']) {
      const url = `redis://127.0.0.1:6379/orders?${key}=${PW}`;
      assert.deepEqual(await refusal(agent, { name: 'param', url }), { code: -32602, message: paramRefusal(key) }, key);
      assert.deepEqual(cli('watch', url), { code: 2, stdout: '', stderr: `clean-agent: ${paramRefusal(key)}\nRun clean-agent --help for the options.\n` }, key);
    }
    // `secret=` names a stored secret: accepted, and the only credential-shaped thing in the command.
    const info = await agent.request<PipelineInfo>('clean/startPipeline', { name: 'named', url: 'redis://127.0.0.1:1/orders?secret=redis-prod' });
    assert.equal(info.cliCommand, "clean-agent watch 'redis://127.0.0.1:1/orders?secret=redis-prod'");
    await agent.request('clean/stopPipeline', { pipeline: 'named', remove: true });
    assert.equal(everything(agent).includes(PW), false);
  });

  it('clean/resolveTopic on .env and application.properties: host and stream kept, the password becomes ?secret=<name>, and the URL runs with the stored secret', async () => {
    const port = new URL(redis.url).port;
    const env = path.join(dir, '.env');
    writeFileSync(env, `REDIS_URL=redis://default:${PW_AT}@127.0.0.1:${port}/0\nORDERS_STREAM=${stream}\n`);
    const r = await agent.request<ResolveTopicResult>('clean/resolveTopic', { uri: fileUri(env), position: { line: 1, character: 3 } });
    const expectedUrl = `redis://default@127.0.0.1:${port}/${stream}?db=0&secret=redis-127.0.0.1`;
    assert.deepEqual(
      { topic: r.topic, backend: r.backend, url: r.url, connections: r.connections, secret: r.secret },
      {
        topic: stream,
        backend: 'redis',
        url: expectedUrl,
        connections: [{ backend: 'redis', url: `redis://127.0.0.1:${port}/0`, origin: 'REDIS_URL', auth: { secret: 'redis-127.0.0.1', username: 'default' } }],
        secret: {
          name: 'redis-127.0.0.1',
          message: 'The password in REDIS_URL was left out; the connection names the secret "redis-127.0.0.1" instead. Set it with Clean: Set Secret… under that name.',
        },
      },
    );

    const props = path.join(dir, 'application.properties');
    writeFileSync(props, `spring.data.redis.url=redis://:${PW_AT}@cache.internal:6379\napp.orders.topic=orders\n`);
    const p = await agent.request<ResolveTopicResult>('clean/resolveTopic', { uri: fileUri(props) });
    assert.deepEqual([p.topic, p.url, p.connections[0].url, p.secret?.name], ['orders', 'redis://cache.internal:6379/orders?secret=redis-cache.internal', 'redis://cache.internal:6379', 'redis-cache.internal']);

    // What Monitor This Topic then does with the resolved URL: the agent asks the client for the secret by name.
    await producer.xadd(stream, '*', 'data', '{"id":1}');
    await agent.request<PipelineInfo>('clean/startPipeline', { url: r.url, name: 'resolved' });
    await agent.waitFor('resolved running', () => agent.statesOf('resolved').includes('running'), 30_000);
    assert.deepEqual(agent.secretRequests.slice(-1), ['redis-127.0.0.1']);
    const info = (await agent.request<{ pipelines: PipelineInfo[] }>('clean/listPipelines')).pipelines.find((x) => x.id === 'resolved')!;
    assert.equal(info.cliCommand, `clean-agent watch '${expectedUrl}'`);
    await agent.request('clean/stopPipeline', { pipeline: 'resolved', remove: true });
    const all = everything(agent, r, p);
    assert.equal(all.includes(PW_AT), false);
    assert.equal(all.includes('PW-5150'), false, 'the tail of a password holding @ is no user name or host');
  });

  it('clean.yaml brokers: ["u:PW@host:9092"]: the diagnostic refuses it without quoting the password, in the editor and in clean-agent run', async () => {
    const brokers = `["127.0.0.1:9092", "u:${PW}@kafka.internal:9092"]`;
    const text = `connections:\n  prod:\n    backend: kafka\n    brokers: ${brokers}\npipelines:\n  - name: orders\n    connection: prod\n    topic: orders\n`;
    const message = brokerRefusal('broker 2 of 2, kafka.internal:9092', 'and refer to it with auth: { secret: <name> }');
    const uri = 'file:///tmp/clean-hostile-creds/clean.yaml';
    await agent.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: 1, text } });
    const diagnostics = await agent.diagnosticsFor(uri, 1);
    assert.deepEqual(
      diagnostics.map((d) => [d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.message]),
      [[3, 13, 3, 13 + brokers.length, message]],
    );
    const file = path.join(dir, 'clean.yaml');
    writeFileSync(file, text);
    const run = cli('run', file);
    assert.deepEqual(run, { code: 2, stdout: '', stderr: `clean-agent: ${file} has 1 problem:\n  ${file}:4:14: ${message}\n` });
    assert.equal(everything(agent).includes(PW), false);
  });

  it('clean/resolveTopic reads only regular files up to 1 MB: /dev/zero, a pipe, a folder and a 2 MB file are refused at once', async () => {
    const fifo = path.join(dir, 'pipe.env');
    execFileSync('mkfifo', [fifo]);
    const folder = path.join(dir, 'folder.env');
    mkdirSync(folder);
    const big = path.join(dir, 'big.env');
    writeFileSync(big, 'ORDERS_TOPIC=orders\n'.padEnd(2 << 20, '#'));
    const kinds = 'config files (clean.yaml, docker-compose, application.yml/.properties, .env, Kafka Connect JSON) and source files';
    const cases: Array<[string, string]> = [
      ['/dev/zero', `/dev/zero is a device, not a regular file. Clean Streams finds topics in ${kinds}.`],
      [fifo, `${fifo} is a pipe, not a regular file. Clean Streams finds topics in ${kinds}.`],
      [folder, `${folder} is a folder, not a regular file. Clean Streams finds topics in ${kinds}.`],
      [big, `${big} is 2 MB; Clean Streams reads files of up to 1 MB to find topics. Type the topic instead with Clean: Monitor Topic….`],
    ];
    for (const [file, message] of cases) {
      try {
        await agent.request('clean/resolveTopic', { uri: fileUri(file) });
        assert.fail(`${file} was read`);
      } catch (err) {
        assert.deepEqual({ code: (err as { code: number }).code, message: (err as Error).message }, { code: -32602, message }, file);
      }
    }
    assert.equal(agent.of('clean/agentError').length, 0);
  });
});
