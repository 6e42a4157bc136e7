/** clean.yaml parsing and validation: exact ranges and messages on fixture configs. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCleanConfig, parseCleanConfig } from '../../server/config/index';
import type { ConfigDiagnostic } from '../../server/config/index';

const dir = path.resolve(__dirname, '..', 'fixtures', 'config');
const load = (name: string) => loadCleanConfig(readFileSync(path.join(dir, name), 'utf8'), path.join(dir, name));
/** [line, character, endLine, endCharacter, message] for compact, exact expectations (0-based). */
const brief = (ds: ConfigDiagnostic[]) => ds.map((d) => [d.line, d.character, d.endLine, d.endCharacter, d.severity, d.message]);

describe('config: a valid file', () => {
  it('has no diagnostics and yields every pipeline with its spec and settings', () => {
    const { pipelines, problems } = load('valid.clean.yaml');
    assert.deepEqual(problems, []);
    assert.deepEqual(
      pipelines.map((p) => [p.name, p.line]),
      [
        ['orders', 16],
        ['sessions', 26],
        ['demo', 30],
        ['replay', 34],
      ],
    );
    assert.deepEqual(pipelines[0].spec, {
      backend: 'kafka',
      topic: 'orders',
      from: { kind: 'latest' },
      options: {},
      brokers: ['127.0.0.1:9092'],
      auth: { mechanism: 'scram-sha-256', username: 'app', secret: 'local-kafka' },
      tls: { ca: path.join(dir, 'ca.pem') },
    });
    assert.deepEqual(pipelines[0].settings, {
      windowSize: 1000,
      qualityThreshold: 0.8,
      checkInterval: { seconds: 1 },
      detectors: ['outliers', 'duplicates', 'missing', 'schema', 'parse'],
      thresholds: { duplicates: 0.05 },
      fields: { amount: { type: 'number', min: 0 }, id: { required: true } },
    });
    // defaults: apply where a pipeline sets nothing; a record-count checkInterval and 500ms parse.
    assert.deepEqual(pipelines[1].settings, { windowSize: 500, checkInterval: { records: 500 } });
    assert.deepEqual(pipelines[1].spec, { backend: 'redis', topic: 'sessions', from: { kind: 'latest' }, options: {}, url: 'redis://127.0.0.1:6379' });
    assert.deepEqual(pipelines[2].spec, { backend: 'demo', topic: 'orders', from: { kind: 'latest' }, options: { rate: 200, seed: 7 } });
    assert.deepEqual(pipelines[2].settings.checkInterval, { seconds: 0.5 });
    assert.deepEqual(pipelines[3].spec, { backend: 'file', topic: path.join(dir, 'events.jsonl'), from: { kind: 'earliest' }, options: {} });
  });

  it('reads the JSON form with the same rules', () => {
    const { pipelines, problems } = load('pipelines.clean.json');
    assert.deepEqual(brief(problems), [[6, 88, 6, 92, 'error', 'qualityThreshold must be a number between 0 and 1 (got -0.1)']]);
    assert.deepEqual(pipelines.map((p) => p.name), ['orders']);
    assert.deepEqual(pipelines[0].spec.brokers, ['127.0.0.1:9092', '127.0.0.1:9093']);
    assert.deepEqual(pipelines[0].settings, { checkInterval: { records: 500 } });
  });

  it('accepts an empty file', () => {
    assert.deepEqual(loadCleanConfig('', 'clean.yaml'), { pipelines: [], problems: [], alerts: [], metrics: undefined });
    assert.deepEqual(loadCleanConfig('# nothing yet\n', 'clean.yaml'), { pipelines: [], problems: [], alerts: [], metrics: undefined });
  });
});

describe('config: diagnostics with exact ranges', () => {
  it('reports each mistake on its own node and nothing on valid lines', () => {
    const { pipelines, problems } = load('invalid.clean.yaml');
    assert.deepEqual(brief(problems), [
      [2, 13, 2, 18, 'error', 'Unknown backend "kafak". Did you mean "kafka"? Use kafka, redis, pulsar, file or demo.'],
      [7, 4, 7, 12, 'error', 'Do not write a password in a config file. Store it with the command "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it here with secret: <name>.'],
      [10, 16, 10, 20, 'error', 'Unknown connection "locl". Did you mean "local"? Connections in this file: local, cache.'],
      [12, 4, 12, 14, 'error', 'Unknown key "windowsize" in a pipeline. Did you mean "windowSize"?'],
      [13, 22, 13, 25, 'error', 'qualityThreshold must be a number between 0 and 1 (got 1.5)'],
      [14, 16, 14, 17, 'error', 'windowSize must be a positive whole number of records (got 0)'],
      [15, 26, 15, 35, 'error', 'Unknown detector "duplicate". Did you mean "duplicates"? Use outliers, duplicates, missing, schema, parse, rules or labels.'],
      [16, 30, 16, 31, 'error', 'thresholds.duplicates must be a number between 0 and 1 (got 2)'],
      [17, 19, 17, 23, 'error', 'checkInterval "soon" is not an interval. Use a duration such as 1s or 500ms, or a record count such as 1000.'],
      [18, 10, 18, 16, 'error', 'Duplicate pipeline name "orders" (first used on line 10). Pipeline names must be unique.'],
      [21, 15, 21, 19, 'error', 'maxFields must be a whole number (got "many")'],
    ]);
    assert.deepEqual(pipelines, []);
  });

  it('refuses credentials written into the file and flags keys of another backend', () => {
    const { problems } = load('secrets.clean.yaml');
    assert.deepEqual(brief(problems), [
      [7, 6, 7, 14, 'error', 'Do not write a password in a config file. Store it with the command "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it here with secret: <name>.'],
      [11, 9, 11, 40, 'error', 'Do not put a password in a URL: it would land in settings, shell history and logs. Store it with "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it with auth: { secret: <name> }.'],
      [12, 4, 12, 11, 'warning', 'brokers applies to kafka connections; "cache" is a redis connection (it uses url).'],
      [17, 10, 17, 19, 'error', '"yesterday" is not a start position. Use earliest, latest, or an ISO time such as 2026-11-28T10:00:00Z.'],
      [18, 10, 18, 18, 'error', 'Pipeline "sessions" needs topic: (the Redis stream key to watch).'],
    ]);
  });

  it('reports YAML syntax errors where the parser meets them, and keeps the pipelines before them', () => {
    const { pipelines, problems } = load('syntax-error.clean.yaml');
    assert.deepEqual(brief(problems), [
      [4, 2, 4, 3, 'error', 'Flow sequence in block collection must be sufficiently indented and end with a ]'],
      [4, 10, 4, 11, 'error', 'Nested mappings are not allowed in compact mappings'],
      [4, 10, 5, 10, 'error', 'Implicit keys need to be on a single line'],
    ]);
    assert.deepEqual(pipelines.map((p) => p.name), ['orders']);
  });

  it('checks types, required keys, and the engine rules reached through defaults', () => {
    const text = [
      'defaults:',
      '  hysteresis: 2',
      'connections:',
      '  demo:',
      '    backend: demo',
      '  nowhere:',
      '    brokers: [a:1]',
      'pipelines:',
      '  - connection: demo',
      '  - name: x',
      '    connection: demo',
      '    windowSize: 10.5',
      '    detectors: labels',
      '    fields: { amount: { min: 5, max: 1 } }',
      '  - name: y',
      '    connection: demo',
      '    detectors: [labels]',
      '',
    ].join('\n');
    const model = parseCleanConfig(text, '/tmp/clean.yaml');
    assert.deepEqual(brief(model.diagnostics), [
      [1, 14, 1, 15, 'error', 'hysteresis must be a number between 0 and 1 (got 2)'],
      [5, 2, 5, 9, 'error', 'A connection needs backend:.'],
      [8, 4, 8, 20, 'error', 'A pipeline needs name:.'],
      [11, 16, 11, 20, 'error', 'windowSize must be a whole number (got 10.5)'],
      [12, 15, 12, 21, 'error', 'detectors must be a list (got "labels")'],
      [13, 22, 13, 40, 'error', 'fields.amount: min 5 is above max 1'],
      [16, 15, 16, 23, 'error', "labelField: the labels detector needs labelField, the field that holds each record's class"],
    ]);
    assert.deepEqual(model.pipelines.map((p) => p.pipeline?.name ?? null), [null, null, null]);
    assert.deepEqual(model.connections.map((c) => [c.name, c.backend ?? null]), [
      ['demo', 'demo'],
      ['nowhere', null],
    ]);
  });
});
