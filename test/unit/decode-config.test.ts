/**
 * Where decode settings come from: `?format=`, `?registry=`, `?schema=` in a source URL; `format`, a
 * connection's `registry: {url, auth}` and the file's `schemas:` in clean.yaml; `--format`, `--registry`,
 * `--schemas` on the command line. Credentials never travel in a registry URL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSourceUrl } from '../../server/sources/url';
import { loadCleanConfig } from '../../server/config/index';
import { parseCli } from '../../server/cli/args';
import { resolvePipelineConfig } from '../../server/engine/config';
import { decodeSettingsOf } from '../../server/decode';

test('source URL: ?format, ?registry, ?schema become the decode settings, not backend options', () => {
  const spec = parseSourceUrl('kafka://127.0.0.1:9092/orders?format=avro&registry=http://127.0.0.1:8081/apis/ccompat/v7&schema=shop.Order&group=x');
  assert.deepEqual(spec.decode, { format: 'avro', registry: { url: 'http://127.0.0.1:8081/apis/ccompat/v7' }, schema: 'shop.Order' });
  assert.deepEqual(spec.options, { group: 'x' });
  assert.deepEqual(decodeSettingsOf(spec), { format: 'avro', topic: 'orders', registry: { url: 'http://127.0.0.1:8081/apis/ccompat/v7' }, schema: 'shop.Order' });
  assert.deepEqual(decodeSettingsOf(parseSourceUrl('redis://127.0.0.1:6379/s'), 'protobuf'), { format: 'protobuf', topic: 's' });
  assert.throws(() => parseSourceUrl('kafka://127.0.0.1:9092/orders?format=xml'), { message: '?format= takes json, avro, protobuf, jsonschema, auto (got "xml")' });
  assert.throws(() => parseSourceUrl('kafka://127.0.0.1:9092/orders?registry=ftp://x'), { message: '?registry= takes the http(s) URL of a Confluent-compatible schema registry, such as http://127.0.0.1:8081 (got "ftp://x")' });
  assert.throws(
    () => parseSourceUrl('kafka://127.0.0.1:9092/orders?registry=' + encodeURIComponent('http://bob:hunter2@127.0.0.1:8081')),
    (e: unknown) => e instanceof Error && !e.message.includes('hunter2') && /password/i.test(e.message),
  );
});

test('clean.yaml: format per pipeline, registry on the connection (auth by secret name), schemas relative to the file', () => {
  const text = [
    'schemas: ./schemas',
    'connections:',
    '  k:',
    '    backend: kafka',
    '    brokers: [127.0.0.1:9092]',
    '    registry: { url: "http://127.0.0.1:8081", auth: { username: reader, secret: registry-pw } }',
    'pipelines:',
    '  - name: orders',
    '    connection: k',
    '    topic: orders',
    '    format: avro',
    '  - name: bare',
    '    connection: k',
    '    topic: bare',
    '    format: protobuf',
    '    schema: ./schemas/order.proto',
  ].join('\n');
  const { pipelines, problems } = loadCleanConfig(text, '/work/app/clean.yaml');
  assert.deepEqual(problems, []);
  assert.equal(pipelines[0].settings.format, 'avro');
  assert.equal(resolvePipelineConfig(pipelines[0].settings).format, 'avro');
  assert.deepEqual(pipelines[0].spec.decode, { registry: { url: 'http://127.0.0.1:8081', auth: { username: 'reader', secret: 'registry-pw' } }, schemas: ['/work/app/schemas'] });
  assert.deepEqual(decodeSettingsOf(pipelines[1].spec, 'protobuf'), {
    format: 'protobuf',
    topic: 'bare',
    registry: { url: 'http://127.0.0.1:8081', auth: { username: 'reader', secret: 'registry-pw' } },
    schemas: ['/work/app/schemas'],
    schema: '/work/app/schemas/order.proto',
  });
  const bad = loadCleanConfig(
    ['connections:', '  k:', '    backend: kafka', '    brokers: [127.0.0.1:9092]', '    registry: { url: "http://bob:hunter2@127.0.0.1:8081" }', 'pipelines:', '  - { name: a, connection: k, topic: t, format: xml }'].join('\n'),
    '/work/app/clean.yaml',
  );
  assert.equal(bad.problems.length, 2);
  assert.equal(bad.problems.some((p) => p.message.includes('hunter2')), false);
  assert.deepEqual(bad.problems.map((p) => p.line), [4, 6]);
  assert.match(bad.problems[1].message, /^Unknown format "xml"\. .*Use auto, json, avro, protobuf or jsonschema\.$/);
});

test('CLI: --format is a pipeline setting, --registry and --schemas go on the source', () => {
  const o = parseCli(['watch', 'kafka://127.0.0.1:9092/orders', '--format', 'avro', '--registry', 'http://127.0.0.1:8081', '--schemas', './schemas']);
  assert.equal(o.settings.format, 'avro');
  assert.deepEqual(o.decode, { registry: { url: 'http://127.0.0.1:8081' }, schemas: ['./schemas'] });
  assert.throws(() => parseCli(['watch', 'kafka://127.0.0.1:9092/orders', '--format', 'xml']), { message: '--format takes json, avro, protobuf, jsonschema, auto (got "xml")' });
  assert.throws(() => parseCli(['watch', 'kafka://127.0.0.1:9092/orders', '--registry', 'http://u:secretpw@h:1']), (e: unknown) => e instanceof Error && e.message.startsWith('--registry: ') && !e.message.includes('secretpw'));
});
