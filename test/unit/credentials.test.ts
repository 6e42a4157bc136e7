/** The one credential check, the one redaction, broker lists, secret pointers in resolveTopic, and --fields round trips. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KnownSecretValues, MASK, isCredentialKey, redact, redactDeep } from '../../server/secrets/redact';
import { credentialProblem } from '../../server/secrets/credentials';
import { parseBrokerList } from '../../server/sources/brokers';
import { parseSourceUrl, UsageError } from '../../server/sources/url';
import { resolveTopic } from '../../server/resolve/index';
import { parseCleanConfig } from '../../server/config/index';
import { checkResolvableText, readResolvable } from '../../server/resolve/read';
import { cliCommandOf } from '../../server/lsp/cliCommand';
import { parseCli } from '../../server/cli/args';
import { DEMO_RULES } from '../../server/sources/demo';
import type { FieldRule } from '../../server/engine/config';
import type { SourceSpec } from '../../server/sources/types';

const root = path.resolve(__dirname, '..', '..');
const M = MASK;

describe('redact: the one redaction function', () => {
  it('masks URL passwords (also holding @ or /, and in any host of a Kafka list), credential parameters and known values', () => {
    const cases: Array<[string, string]> = [
      ['kafka://h1:9092,u:PW1@h2:9093/t', `kafka://h1:9092,u:${M}@h2:9093/t`],
      ['redis://:p@ss@host:6379/orders', `redis://:${M}@host:6379/orders`],
      ['redis://:p/w@host:6379/orders', `redis://:${M}@host:6379/orders`],
      ['pulsar+ws://u:PW1@h:8080/public/default/t', `pulsar+ws://u:${M}@h:8080/public/default/t`],
      ['rediss://u:PW1@h:6380', `rediss://u:${M}@h:6380`],
      ['redis://host:6379/o?password=abc&secret=name&x=1', `redis://host:6379/o?password=${M}&secret=name&x=1`],
      ['kafka://alice@h1:9092/t?sasl_password=zz&secret_key=kk&apikey=1&token=t', `kafka://alice@h1:9092/t?sasl_password=${M}&secret_key=${M}&apikey=${M}&token=${M}`],
      ['Connection error: ECONNREFUSED for u:PW1@h2:9093 and h1:9092', `Connection error: ECONNREFUSED for u:${M}@h2:9093 and h1:9092`],
      ['{"password":"x1","secret":"name","token":"abc"}', `{"password":"${M}","secret":"name","token":"${M}"}`],
      ['sasl.jaas.config=PlainLoginModule required username="u" password="x";', `sasl.jaas.config=${M} required username="u" password="${M}";`],
      ['pipeline: token=abc', `pipeline: token=${M}`],
    ];
    for (const [text, expected] of cases) assert.equal(redact(text), expected, text);
  });

  it('leaves ordinary text alone: user names, stream keys with @, positions, e-mail addresses, secret names', () => {
    for (const text of [
      'redis://host:6379/user@events',
      'kafka://alice@h1:9092,h2:9092/t?secret=kafka-prod',
      'partition 2@1534, alice@example.com',
      'Check the token in secret "x"; the tokenizer is fine',
      'Cannot reach Kafka at 127.0.0.1:9092 (ECONNREFUSED). Is the broker running?',
      `clean-agent watch file:x.jsonl --fields '{"password":{"required":true},"token":{"type":"string"}}'`,
    ]) {
      assert.equal(redact(text), text);
    }
  });

  it('masks the secret values the agent looked up, wherever a library quotes them; short values only inside patterns', () => {
    const known = new KnownSecretValues(2);
    known.remember('s3cr3t-value');
    known.remember('abc'); // too short to mask in prose
    known.remember(undefined);
    assert.equal(redact('SASL login failed with s3cr3t-value for alice (abc)', known), `SASL login failed with ${M} for alice (abc)`);
    known.remember('second-value');
    known.remember('third-value'); // the bound: the oldest is forgotten
    assert.deepEqual([...known], ['second-value', 'third-value']);
    assert.deepEqual(redactDeep({ a: ['x third-value y', 3, null], b: { c: 'redis://:pw@h' } }, known), { a: [`x ${M} y`, 3, null], b: { c: `redis://:${M}@h` } });
  });

  it('isCredentialKey: credential names in any spelling, never the secret pointer', () => {
    const yes = ['password', 'Password', 'passwd', 'pwd', 'pass', 'token', 'sasl_password', 'sasl.password', 'SASL-PASSWORD', 'secret_key', 'secretKey', 'apikey', 'api_key', 'apiKey', 'access_token', 'client_secret', 'authParams', 'passphrase'];
    const no = ['secret', 'username', 'user', 'mechanism', 'db', 'field', 'tokenizer', 'passive', 'topic', 'key'];
    assert.deepEqual(yes.filter((k) => !isCredentialKey(k)), []);
    assert.deepEqual(no.filter((k) => isCredentialKey(k)), []);
  });
});

describe('credentialProblem: the one credential check', () => {
  const WHY = 'it would land in settings, shell history and logs';
  const STORE = 'Store it with "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>)';

  it('refuses passwords in every URL form and host, and credential parameters, without quoting them', () => {
    const url = `Do not put a password in a URL: ${WHY}. ${STORE} and add ?secret=<name> to the URL.`;
    const cases: Array<[string, string]> = [
      ['redis://:PW1@h:6379/s', url],
      ['rediss://u:PW1@h:6379/s', url],
      ['pulsar://u:PW1@h:6650/a/b/c', url],
      ['pulsar+ws://u:PW1@h:8080/a/b/c', url],
      ['kafka://u:PW1@h:9092/t', url],
      ['redis://:p@ss@h:6379/s', url],
      ['redis://:p/w@h:6379/s', url],
      ['redis://:p,w@h:6379/s', url],
      ['kafka://h1:9092,u:PW1@h2:9093/t', `Do not put a password in a broker address (broker 2 of 2, h2:9093): ${WHY}. ${STORE} and add ?secret=<name> to the URL.`],
      ['redis://h/s?password=x', `Do not put a credential in a URL (the parameter "password"): ${WHY}. ${STORE} and add ?secret=<name> to the URL instead.`],
      ['demo:orders?token=x', `Do not put a credential in a URL (the parameter "token"): ${WHY}. ${STORE} and add ?secret=<name> to the URL instead.`],
    ];
    for (const [text, message] of cases) assert.equal(credentialProblem({ url: text }), message, text);
    for (const ok of ['redis://host:6379/user@events', 'kafka://alice@h1:9092,h2:9092/t?secret=n', 'redis://[::1]:6379/s', 'file:./events.jsonl', 'demo:orders?rate=5']) {
      assert.equal(credentialProblem({ url: ok }), undefined, ok);
    }
  });

  it('speaks to where the credential came from: a config file, a spec, a key', () => {
    assert.equal(
      credentialProblem({ brokers: ['h1:9092', 'u:PW1@h2:9093'] }, 'config'),
      `Do not put a password in a broker address (broker 2 of 2, h2:9093): ${WHY}. ${STORE} and refer to it with auth: { secret: <name> }.`,
    );
    const spec = (extra: Partial<SourceSpec> & Record<string, unknown>): { spec: SourceSpec } => ({ spec: { backend: 'redis', topic: 's', from: { kind: 'latest' }, ...extra } as SourceSpec });
    assert.equal(credentialProblem(spec({ url: 'redis://:PW1@h' })), `spec.url: Do not put a password in a URL: ${WHY}. ${STORE} and name it in spec.auth.secret.`);
    assert.equal(credentialProblem(spec({ tls: { passphrase: 'x' } as never })), `Do not put a credential in spec.tls.passphrase; ${WHY}. ${STORE} and name it in spec.auth.secret.`);
    assert.equal(credentialProblem(spec({ password: 'x' })), `Do not put a credential in spec.password; ${WHY}. ${STORE} and name it in spec.auth.secret.`);
    assert.equal(credentialProblem(spec({ url: 'redis://h', auth: { username: 'u', secret: 'n' } })), undefined);
    assert.equal(
      credentialProblem({ key: 'sasl_password' }),
      'Do not write a sasl_password in a config file. Store it with the command "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it here with secret: <name>.',
    );
    assert.equal(credentialProblem({ key: 'secret' }), undefined);
  });
});

describe('clean.yaml: the credential check on keys, URLs and brokers', () => {
  it('refuses credentials in settings, URLs and brokers without quoting them; field rules on a "password" field are fine', () => {
    const text = [
      'connections:',
      '  k: { backend: kafka, brokers: "h1:9092,,h2:9092" }',
      '  r: { backend: redis, url: "redis://h:6379?password=PW1" }',
      'pipelines:',
      '  - name: a',
      '    source: demo:orders',
      '    fields: { password: { required: true }, api_token: { type: string } }',
      '  - name: b',
      '    source: demo:orders',
      '    options: { token: PW1 }',
      '',
    ].join('\n');
    const model = parseCleanConfig(text, '/x/clean.yaml');
    assert.deepEqual(model.diagnostics.map((d) => [d.line, d.message]), [
      [1, 'Broker 2 of 3 is empty (a doubled or trailing comma?); list the bootstrap servers as host:port separated by commas.'],
      [2, 'Do not put a credential in a URL (the parameter "password"): it would land in settings, shell history and logs. Store it with "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it with auth: { secret: <name> } instead.'],
      [9, 'Do not write a token in a config file. Store it with the command "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it here with secret: <name>.'],
    ]);
    assert.deepEqual(model.pipelines[0].pipeline?.settings.fields, { password: { required: true }, api_token: { type: 'string' } });
    assert.equal(JSON.stringify(model.diagnostics).includes('PW1'), false);
  });
});

describe('Kafka broker lists: parsed whole, never shortened', () => {
  it('keeps every host, takes the user name from the first entry, and refuses what does not parse', () => {
    assert.deepEqual(parseBrokerList(['h1:9092', ' 10.0.0.2:9093 ', '[::1]:9094'], 'spec'), { brokers: ['h1:9092', '10.0.0.2:9093', '[::1]:9094'] });
    assert.deepEqual(parseBrokerList(['alice@h1:9092', 'h2:9092'], 'url', true), { brokers: ['h1:9092', 'h2:9092'], username: 'alice' });
    assert.deepEqual(parseBrokerList(['alice@h1:9092'], 'spec'), { problem: 'The broker (h1:9092) carries a user name; write it in auth.username instead.' });
    assert.deepEqual(parseBrokerList(['h1:0'], 'spec'), { problem: 'The broker ("h1:0") is not host:port; write it like 127.0.0.1:9092.' });
    assert.deepEqual(parseBrokerList([], 'spec'), { problem: 'The broker list is empty; list the bootstrap servers as host:port, for example 127.0.0.1:9092.' });
    assert.deepEqual(parseBrokerList(['h1:9092', ''], 'spec'), { problem: 'Broker 2 of 2 is empty (a doubled or trailing comma?); list the bootstrap servers as host:port separated by commas.' });
  });

  it('a kafka:// URL keeps every host of its list', () => {
    const spec = parseSourceUrl('kafka://alice@h1:9092,h2:9093,h3:9094/orders?secret=kafka-prod&mechanism=scram-sha-256');
    assert.deepEqual([spec.brokers, spec.topic, spec.auth], [['h1:9092', 'h2:9093', 'h3:9094'], 'orders', { username: 'alice', secret: 'kafka-prod', mechanism: 'scram-sha-256' }]);
    assert.throws(() => parseSourceUrl('kafka://h1:9092,u:PW1@h2:9093/t'), (e: Error) => e instanceof UsageError && !e.message.includes('PW1'));
  });
});

describe('resolveTopic: passwords become secret pointers; Spring topic key paths', () => {
  it('a .env Redis URL whose password holds @ keeps host, user and stream; the password is never a user name', () => {
    const r = resolveTopic('REDIS_URL=redis://default:p@ss/Hunter2@cache.internal:6379/0\nORDERS_STREAM=orders\n', '/x/.env');
    assert.deepEqual([r.topic, r.url, r.connections, r.secret?.name], [
      'orders',
      'redis://default@cache.internal:6379/orders?db=0&secret=redis-cache.internal',
      [{ backend: 'redis', url: 'redis://cache.internal:6379/0', origin: 'REDIS_URL', auth: { secret: 'redis-cache.internal', username: 'default' } }],
      'redis-cache.internal',
    ]);
    assert.equal(JSON.stringify(r).includes('Hunter2'), false);
  });

  it('Kafka brokers with user-info and a Pulsar URL with a token parameter lose their credentials, not their hosts', () => {
    const k = resolveTopic('spring.kafka.bootstrap-servers=h1:9092,alice:PW1@h2:9093\napp.orders.topic=orders\n', '/x/application.properties');
    assert.deepEqual([k.url, k.connections[0].brokers], ['kafka://alice@h1:9092,h2:9093/orders?secret=kafka-h1', ['h1:9092', 'h2:9093']]);
    const p = resolveTopic('PULSAR_SERVICE_URL=pulsar+ws://p:8080?token=eyJx.y.z\nCLICKS_TOPIC=clicks\n', '/x/.env');
    assert.deepEqual([p.url, p.secret?.name], ['pulsar+ws://p:8080/public/default/clicks?secret=pulsar-p', 'pulsar-p']);
    assert.equal(JSON.stringify(k).includes('PW1') || JSON.stringify(p).includes('eyJx'), false);
  });

  it('a Spring key path with a topic segment names a topic (app.kafka.topics.orders: orders); its settings do not', () => {
    const yml = 'spring:\n  kafka:\n    bootstrap-servers: h:9092\napp:\n  kafka:\n    topics:\n      orders: orders\n      payments: payments-v2\n      retention:\n        partitions: 3\n';
    const r = resolveTopic(yml, '/x/application.yml');
    assert.deepEqual(r.candidates.map((c) => [c.topic, c.origin, c.url]), [
      ['orders', 'app.kafka.topics.orders', 'kafka://h:9092/orders'],
      ['payments-v2', 'app.kafka.topics.payments', 'kafka://h:9092/payments-v2'],
    ]);
    const props = resolveTopic('app.kafka.topics.orders=orders\napp.kafka.topics.orders.enabled=true\n', '/x/application.properties');
    assert.deepEqual(props.candidates.map((c) => c.topic), ['orders']);
  });

  it('reads regular files only, up to the limit', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clean-read-'));
    try {
      const f = path.join(dir, '.env');
      writeFileSync(f, 'ORDERS_TOPIC=orders\n');
      assert.equal(await readResolvable(f), 'ORDERS_TOPIC=orders\n');
      await assert.rejects(readResolvable(f, 8), { message: `${f} is 20 bytes; Clean Streams reads files of up to 8 bytes to find topics. Type the topic instead with Clean: Monitor Topic….` });
      assert.throws(() => checkResolvableText('/x/.env', 'x'.repeat((1 << 20) + 1)), { message: '/x/.env is 1 MB; Clean Streams reads files of up to 1 MB to find topics. Type the topic instead with Clean: Monitor Topic….' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Copy as CLI Command keeps the field rules (--fields), and they round-trip', () => {
  const rules: Record<string, FieldRule> = { id: { required: true, type: 'string' }, amount: { min: 0, max: 1e6 }, code: { regex: "^[A-Z]{3}$|it's" }, status: { enum: ['a', 1, true, null] } };
  const spec: SourceSpec = { backend: 'file', topic: '/tmp/x y.jsonl', from: { kind: 'earliest' }, options: {} };

  /** The words bash makes of a command line (the real shell, not a copy of its rules). */
  const shellWords = (line: string) => execFileSync('bash', ['-c', `printf '%s\\0' ${line.replace(/^clean-agent /, '')}`], { encoding: 'utf8' }).split('\0').slice(0, -1);

  it('writes the rules as JSON and parseCli reads back exactly the same rules', () => {
    const line = cliCommandOf(spec, { fields: rules, windowSize: 500 });
    assert.equal(line, `clean-agent watch 'file:/tmp/x y.jsonl' --from earliest --window 500 --fields '{"id":{"required":true,"type":"string"},"amount":{"min":0,"max":1000000},"code":{"regex":"^[A-Z]{3}$|it'\\''s"},"status":{"enum":["a",1,true,null]}}'`);
    const opts = parseCli(shellWords(line));
    assert.deepEqual([opts.command, opts.target, opts.settings], ['watch', 'file:/tmp/x y.jsonl', { windowSize: 500, fields: rules }]);
  });

  it('leaves out the demo rules a demo: URL implies, and says what is wrong with bad --fields', () => {
    assert.equal(cliCommandOf({ backend: 'demo', topic: 'orders', from: { kind: 'latest' }, options: {} }, { fields: DEMO_RULES }), 'clean-agent watch demo:orders');
    assert.throws(() => parseCli(['watch', 'file:x', '--fields', '{amount']), { message: /^--fields takes the field rules as JSON, for example --fields '\{"amount":\{"min":0\}\}' \(/ });
    assert.throws(() => parseCli(['watch', 'file:x', '--fields', '[1]']), { message: `--fields takes a JSON object of field names to rules, for example --fields '{"amount":{"min":0}}'` });
    assert.throws(() => parseCli(['watch', 'file:x', '--fields', '{"amount":5}']), { message: '--fields: the rule for "amount" must be an object such as {"required":true} or {"min":0,"max":100}' });
  });

  it('the copied command, run by the real CLI, flags the same records', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'clean-fields-'));
    try {
      const file = path.join(dir, 'orders.jsonl');
      writeFileSync(file, '{"id":"a","amount":5}\n{"id":"b","amount":-1}\n{"amount":3}\n{"id":"d","amount":7}\n');
      const line = cliCommandOf({ ...spec, topic: file }, { fields: { id: { required: true }, amount: { min: 0 } }, checkInterval: { records: 4 } });
      const words = shellWords(line);
      const r = spawnSync(process.execPath, [path.join(root, 'bin', 'clean-agent.js'), ...words, '--json'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const metrics = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.type === 'metrics');
      assert.deepEqual(metrics.map((m) => [m.records, m.detectors.rules]), [[4, { rate: 0.5, count: 2, threshold: 0.05, out: true }]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
