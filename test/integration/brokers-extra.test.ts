/**
 * The servers beside the brokers answer their APIs as the feature tests expect: Apicurio Registry (started by
 * scripts/brokers/registry.sh, its Confluent-compatible API), Prometheus (scripts/brokers/prometheus.sh, scraping
 * the targets a test writes into its file_sd folder) and Alertmanager (scripts/brokers/alertmanager.sh).
 * Every test uses names with a random suffix, so the file can share these servers with the rest of the suite.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { prometheusTargetsDir, useBroker, type Broker } from '../helpers/broker';
import { sleep, until } from '../helpers/sources';

const tag = `smoke-${randomBytes(4).toString('hex')}`;

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('Apicurio Registry (Confluent-compatible API)', () => {
  let registry: Broker;
  before(async () => {
    registry = await useBroker('registry');
  });
  after(async () => {
    await registry?.release();
  });

  const register = (subject: string, body: object) =>
    json(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify(body),
    });

  test('its URL is the ccompat v7 base on loopback', () => {
    assert.match(registry.url, /^http:\/\/127\.0\.0\.1:\d+\/apis\/ccompat\/v7$/);
  });

  test('an Avro schema registered under a subject is read back by id and as the latest version', async () => {
    const subject = `${tag}-orders-value`;
    const schema = JSON.stringify({
      type: 'record',
      name: 'Order',
      namespace: 'clean.smoke',
      fields: [
        { name: 'id', type: 'long' },
        { name: 'amount', type: ['null', 'double'], default: null },
      ],
    });
    const created = await register(subject, { schema, schemaType: 'AVRO' });
    assert.equal(created.status, 200);
    const id = (created.body as { id: number }).id;
    assert.ok(Number.isInteger(id) && id > 0, `id ${id}`);

    // Avro is the Confluent default type, so the registry leaves schemaType out.
    assert.deepEqual(await json(`${registry.url}/schemas/ids/${id}`), { status: 200, body: { schema } });
    assert.deepEqual(await json(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions/latest`), {
      status: 200,
      body: { subject, version: 1, id, schema },
    });
    // The same schema again is the same version, not a new one.
    assert.deepEqual(await register(subject, { schema, schemaType: 'AVRO' }), { status: 200, body: { id } });
    assert.deepEqual(await json(`${registry.url}/subjects/${encodeURIComponent(subject)}/versions`), { status: 200, body: [1] });
  });

  test('a Protobuf schema is read back by id with its type', async () => {
    const schema = 'syntax = "proto3";\npackage clean.smoke;\n\nmessage Reading {\n  string sensor = 1;\n  double value = 2;\n}\n';
    const created = await register(`${tag}-readings-value`, { schema, schemaType: 'PROTOBUF' });
    assert.equal(created.status, 200);
    const id = (created.body as { id: number }).id;
    assert.deepEqual(await json(`${registry.url}/schemas/ids/${id}`), {
      status: 200,
      body: { schema, schemaType: 'PROTOBUF' },
    });
  });

  test('an unknown schema id is a 404 with the Confluent error code 40403', async () => {
    const res = await json(`${registry.url}/schemas/ids/987654321`);
    assert.equal(res.status, 404);
    assert.equal((res.body as { error_code: number }).error_code, 40403);
  });
});

describe('Prometheus', () => {
  let prometheus: Broker;
  let targetsDir: string;
  let targetFile: string;
  before(async () => {
    prometheus = await useBroker('prometheus');
    targetsDir = prometheusTargetsDir();
    targetFile = path.join(targetsDir, `${tag}.json`);
  });
  after(async () => {
    rmSync(targetFile, { force: true });
    await prometheus?.release();
  });

  test('its loaded configuration has the clean-agent job reading the targets folder every second', async () => {
    const res = await json(`${prometheus.url}/api/v1/status/config`);
    assert.equal(res.status, 200);
    const config = parseYaml((res.body as { data: { yaml: string } }).data.yaml);
    assert.equal(config.global.scrape_interval, '1s');
    assert.equal(config.global.evaluation_interval, '1s');
    assert.equal(config.scrape_configs.length, 1);
    const job = config.scrape_configs[0];
    assert.equal(job.job_name, 'clean-agent');
    assert.deepEqual(job.file_sd_configs, [{ files: [path.join(targetsDir, '*.json')], refresh_interval: '1s' }]);
  });

  test('a target written into the folder is scraped and queryable', async () => {
    // Prometheus's own /metrics stands in for the agent here: any HTTP endpoint in the exposition format will do.
    mkdirSync(targetsDir, { recursive: true });
    const self = new URL(prometheus.url).host;
    writeFileSync(targetFile, JSON.stringify([{ targets: [self], labels: { smoke: tag } }]));
    const query = `${prometheus.url}/api/v1/query?query=${encodeURIComponent(`up{job="clean-agent",smoke="${tag}"}`)}`;
    type Vector = { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    let result: Vector['data']['result'] = [];
    await until('Prometheus to scrape the new target', async () => {
      result = ((await json(query)).body as Vector).data.result;
      if (result.length === 1 && result[0].value[1] === '1') return true;
      await sleep(250); // a scrape a second: no need to ask more often
      return false;
    }, 20_000);
    assert.deepEqual(result[0].metric, { __name__: 'up', instance: self, job: 'clean-agent', smoke: tag });
  });
});

describe('Alertmanager', () => {
  let alertmanager: Broker;
  before(async () => {
    alertmanager = await useBroker('alertmanager');
  });
  after(async () => {
    await alertmanager?.release();
  });

  test('an alert posted to /api/v2/alerts is read back, then gone once it ends', async () => {
    const labels = { alertname: 'CleanSmoke', pipeline: 'orders', detector: 'nulls', severity: 'warning', smoke: tag };
    const annotations = { summary: 'nulls in amount', description: '12% of the last 1000 records' };
    const post = (extra: object) =>
      fetch(`${alertmanager.url}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([{ labels, annotations, ...extra }]),
      });
    assert.equal((await post({})).status, 200);

    const list = `${alertmanager.url}/api/v2/alerts?filter=${encodeURIComponent(`smoke="${tag}"`)}`;
    type Alert = { labels: object; annotations: object; status: { state: string }; receivers: { name: string }[] };
    const alerts = (await json(list)).body as Alert[];
    assert.equal(alerts.length, 1);
    assert.deepEqual(alerts[0].labels, labels);
    assert.deepEqual(alerts[0].annotations, annotations);
    assert.equal(alerts[0].status.state, 'active');
    assert.deepEqual(alerts[0].receivers, [{ name: 'discard' }]);

    // Resolving is posting the same alert with an end time that has passed.
    assert.equal((await post({ endsAt: new Date(Date.now() - 1000).toISOString() })).status, 200);
    assert.deepEqual((await json(list)).body, []);
  });
});
