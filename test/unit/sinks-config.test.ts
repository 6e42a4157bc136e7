/**
 * Alert sinks as clean.yaml and the command line declare them: `alerts:` at the top and per pipeline, each
 * mistake at its own line and column (a credential in a URL refused at the URL), `--alert-webhook`, and the
 * tree row of a sink that is failing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCleanConfig, parseCleanConfig } from '../../server/config/index';
import { parseCli } from '../../server/cli/args';
import { sinkNodes } from '../../client/model/topicTree';
import type { PipelineEntry } from '../../client/model/pipelineStore';
import type { PipelineInfo } from '../../shared/protocol';

const FILE = [
  'alerts:',
  '  - kind: webhook',
  '    url: https://user:pw@example.com/hook',
  '  - kind: slack',
  '    url: https://hooks.slack.com/services/T/B/X',
  '    pipelines: [ordrs]',
  '  - kind: pagerduty',
  '  - kind: pagerdoody',
  '  - kind: alertmanager',
  '    url: http://127.0.0.1:9093',
  '    minSeverity: critical',
  '    detectors: [score, schema]',
  'pipelines:',
  '  - name: orders',
  '    source: demo:orders',
  '    alerts:',
  '      - kind: webhook',
  '        url: http://127.0.0.1:9999/x',
  '        secret: hook',
  '        queue: 50',
  '      - kind: command',
  '        command: [/usr/local/bin/on-alert, --team, data]',
  '',
].join('\n');

test('each sink mistake is reported at its own place; the valid sinks are kept with their lines', () => {
  const m = parseCleanConfig(FILE, '/tmp/clean.yaml');
  assert.deepEqual(
    m.diagnostics.map((d) => [d.severity, d.line, d.character, d.endLine, d.endCharacter, d.message]),
    [
      ['error', 2, 9, 2, 41, 'Do not put a password in a URL: it would land in settings, shell history and logs. Store it with "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it with secret: <name>.'],
      ['warning', 5, 16, 5, 21, 'No pipeline "ordrs" in this file: did you mean "orders"?'],
      ['error', 6, 4, 6, 19, 'A pagerduty sink needs secret: <name>, the name of the secret holding the routing key (integration key).'],
      ['error', 7, 10, 7, 20, 'Unknown sink kind "pagerdoody". Did you mean "pagerduty"? Use webhook, slack, pagerduty, alertmanager or command.'],
    ],
  );
  assert.ok(!JSON.stringify(m.diagnostics).includes('user:pw'));
  assert.deepEqual(
    m.alerts.map((a) => [a.pipeline, a.config]),
    [
      [undefined, { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X', pipelines: ['ordrs'], line: 3 }],
      [undefined, { kind: 'alertmanager', url: 'http://127.0.0.1:9093', minSeverity: 'critical', detectors: ['score', 'schema'], line: 8 }],
      ['orders', { kind: 'webhook', url: 'http://127.0.0.1:9999/x', secret: 'hook', queue: 50, pipelines: ['orders'], line: 16 }],
      ['orders', { kind: 'command', command: ['/usr/local/bin/on-alert', '--team', 'data'], pipelines: ['orders'], line: 20 }],
    ],
  );
});

test('schema checks: an unknown key, an unknown detector, a queue out of range', () => {
  const text = ['alerts:', '  - kind: webhook', '    url: http://127.0.0.1:1/x', '    retry: 2', '    detectors: [outlier]', '    queue: 0', 'pipelines: []', ''].join('\n');
  const m = parseCleanConfig(text, '/tmp/clean.yaml');
  assert.deepEqual(
    m.diagnostics.map((d) => `${d.line}:${d.character} ${d.message}`),
    [
      '3:4 Unknown key "retry" in an alert sink. Use kind, name, url, secret, channel, minSeverity, pipelines, detectors, queue, timeoutMs, retries, command or resendMs.',
      '4:16 Unknown detector "outlier". Did you mean "outliers"? Use score, outliers, duplicates, missing, schema, parse, rules or labels.',
      '5:11 queue must be from 1 to 100000 (got 0).',
    ],
  );
});

test('loadCleanConfig hands the CLI every valid sink', () => {
  const { alerts } = loadCleanConfig('alerts:\n  - kind: webhook\n    url: http://127.0.0.1:1/x\npipelines:\n  - name: d\n    source: demo:orders\n', 'clean.yaml');
  assert.deepEqual(alerts, [{ kind: 'webhook', url: 'http://127.0.0.1:1/x', line: 1 }]);
});

test('--alert-webhook is repeatable, and refuses a URL with a credential or another scheme', () => {
  assert.deepEqual(parseCli(['watch', 'demo:orders', '--alert-webhook', 'http://127.0.0.1:1/a', '--alert-webhook', 'https://hooks.example.com/b']).alertWebhooks, ['http://127.0.0.1:1/a', 'https://hooks.example.com/b']);
  assert.equal(parseCli(['watch', 'demo:orders']).alertWebhooks, undefined);
  assert.throws(() => parseCli(['watch', 'demo:orders', '--alert-webhook', 'https://a:b@example.com/x']), /^UsageError: --alert-webhook: Do not put a password in a URL/);
  assert.throws(() => parseCli(['watch', 'demo:orders', '--alert-webhook', 'ftp://example.com/x']), { message: '--alert-webhook: The url of an alert sink must be http:// or https://, not "ftp://example.com/x".' });
});

function entry(sinks: PipelineInfo['sinks']): PipelineEntry {
  const info: PipelineInfo = { id: 'orders', name: 'orders', topic: 'orders', backend: 'demo', description: 'demo orders', state: 'running', message: 'reading', threshold: 0.8, detectors: ['outliers'], cliCommand: 'clean-agent demo', sinks };
  return { info, activeAlerts: new Map() } as unknown as PipelineEntry;
}

test('the tree shows a sink that is failing or dropped events, and none that delivers', () => {
  const nodes = sinkNodes(
    entry([
      { name: 'ops', kind: 'webhook', queued: 0, delivered: 4, failed: 0, dropped: 0, retries: 0, failing: false },
      { name: 'slack', kind: 'slack', queued: 1000, delivered: 2, failed: 1, dropped: 3, retries: 9, lastError: 'HTTP 500', failing: true },
      { name: 'pd', kind: 'pagerduty', queued: 0, delivered: 5, failed: 0, dropped: 2, retries: 0, failing: false },
    ]),
  );
  assert.deepEqual(
    nodes.map((n) => [n.id, n.label, n.description, n.icon.id, n.contextValue]),
    [
      ['sink:orders:slack', 'alerts → slack', 'failing (HTTP 500) · 1 not delivered · 3 dropped', 'error', 'sink.failing'],
      ['sink:orders:pd', 'alerts → pd', '2 dropped', 'warning', 'sink'],
    ],
  );
  assert.equal(
    nodes[0].tooltip,
    'Alert sink slack (slack) of this pipeline\'s config file.\nIts last delivery failed: HTTP 500; it retries with backoff.\n2 delivered · 1 given up after retries · 3 dropped (queue full) · 1,000 waiting.\nUse "Send test alert" above the sink in the config file to try it.',
  );
  assert.deepEqual(sinkNodes(entry(undefined)), []);
});
