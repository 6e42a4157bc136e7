/**
 * `group:` and `summariesTopic:` of a clean.yaml pipeline (server/config/parse.ts): the names follow --group's and
 * --summaries-topic's rules (server/scale/groupNames.ts checkGroupNames), with each problem at its own line; a valid
 * one reaches the pipeline, and `clean-agent run` refuses a file whose pipelines name different groups (exit 2,
 * before anything connects).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseCleanConfig } from '../../server/config/index';
import { tempDir } from '../helpers/tempDir';

const root = path.resolve(__dirname, '..', '..');

const head = ['connections:', '  k: { backend: kafka, brokers: [127.0.0.1:9] }', '  r: { backend: redis, url: redis://127.0.0.1:9 }', 'pipelines:'];

const lines = (model: ReturnType<typeof parseCleanConfig>) => model.diagnostics.map((d) => ({ line: d.line, character: d.character, message: d.message, severity: d.severity }));

test('a valid group reaches the pipeline, with the default summaries topic or its own', () => {
  const model = parseCleanConfig(
    [...head, '  - name: orders', '    connection: k', '    topic: orders', '    group: orders-east', '  - name: clicks', '    connection: k', '    topic: clicks', '    group: web_1.b', '    summariesTopic: team.clean.summaries', '  - name: plain', '    connection: k', '    topic: plain', ''].join('\n'),
    '/tmp/clean.yaml',
  );
  assert.deepEqual(model.diagnostics, []);
  assert.deepEqual(model.pipelines.map((p) => p.pipeline?.group), [{ name: 'orders-east', summariesTopic: 'clean.summaries' }, { name: 'web_1.b', summariesTopic: 'team.clean.summaries' }, undefined]);
  // Neither key is an engine setting.
  assert.equal('group' in model.pipelines[0].pipeline!.settings, false);
});

test('a bad group name, a bad summaries topic, a group on Redis, a group with workers, a topic without a group: each at its line', () => {
  const model = parseCleanConfig(
    [
      ...head,
      '  - name: a', // line 4
      '    connection: k',
      '    topic: a',
      '    group: orders east', // line 7
      '  - name: b',
      '    connection: k',
      '    topic: b',
      '    group: ok',
      '    summariesTopic: "team/summaries"', // line 12
      '  - name: c',
      '    connection: r',
      '    topic: c',
      '    group: g', // line 16
      '  - name: d',
      '    connection: k',
      '    topic: d',
      '    group: g',
      '    workers: 2', // line 21
      '  - name: e',
      '    connection: k',
      '    topic: e',
      '    summariesTopic: s', // line 25
      '',
    ].join('\n'),
    '/tmp/clean.yaml',
  );
  assert.deepEqual(lines(model), [
    { line: 7, character: 11, severity: 'error', message: 'group takes a name of letters, digits, ".", "_" and "-" (got "orders east")' },
    { line: 12, character: 20, severity: 'error', message: 'summariesTopic takes a Kafka topic name of letters, digits, ".", "_" and "-" (got "team/summaries")' },
    { line: 16, character: 11, severity: 'error', message: "group: shares a Kafka topic's partitions between agents; this pipeline reads redis, not Kafka." },
    { line: 21, character: 13, severity: 'error', message: 'group: and workers: go separately for now: run one agent of the group per core instead.' },
    { line: 25, character: 4, severity: 'error', message: 'summariesTopic goes with group: <name> (the group of agents whose summaries it holds).' },
  ]);
  // A pipeline with an error does not start.
  assert.deepEqual(model.pipelines.map((p) => p.pipeline === undefined), [true, true, true, true, true]);
});

test('clean-agent run refuses pipelines naming different groups, before connecting (exit 2)', () => {
  const dir = tempDir('clean-config-group-');
  const file = path.join(dir, 'clean.yaml');
  writeFileSync(file, [...head, '  - name: a', '    connection: k', '    topic: a', '    group: east', '  - name: b', '    connection: k', '    topic: b', '    group: west', ''].join('\n'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'server', 'main.ts'), 'run', file, '--json'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.split('\n')[0], 'clean-agent: an agent joins one group: pipeline "a" names group "east" (summaries in "clean.summaries"), pipeline "b" group "west" (summaries in "clean.summaries"); run one agent per group, or give --group');
});
