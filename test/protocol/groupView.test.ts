/**
 * The editor watching a group of agents (`group:` in clean.yaml, server/scale/groupObserver.ts), end to end on the
 * real Kafka broker of scripts/broker: two real agent processes form the group on a topic of 8 partitions (one joins
 * through the file's `group:`, the other through `--group` on the command line), and the spawned, built editor's agent
 * starts the same file's pipeline. Its observer must show the group's merged view (records and per-detector counts
 * equal to the agents' own merged view), name both agents, bring each merged alert to the editor once as clean/alert,
 * and stay out of the group: no consumer group of the agents has it as a member, and it writes nothing to the
 * summaries topic. Every run uses its own topic, group and summaries topic.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { AgentClient, fileUri } from './agentClient';
import { useBroker, type Broker } from '../helpers/broker';
import { CliAgents, type AgentEvent, type CliAgent } from '../helpers/cliAgents';
import { sleep } from '../helpers/sources';
import type { AlertParams, BaselineChangeResult, MetricsParams, PipelineInfo, StatusParams } from '../../shared/protocol';

const PARTITIONS = 8;
const N = 800;
const tag = `${process.pid}-${Date.now()}`;

type Event = AgentEvent;
type GroupAgentProcess = CliAgent;

interface Metrics extends Event {
  records: number;
  window: number;
  score: number;
  shards?: number;
  detectors: Record<string, { count: number; rate: number }>;
  fields: Record<string, { missing: number }>;
}

const agents = new CliAgents();
const startAgent = (args: string[]): GroupAgentProcess => agents.start(args);
const until = agents.until.bind(agents);

type GroupEvent = Event & { agent: string; live: string[]; gone: string[]; owner: boolean; coverage: Record<string, Array<[number, number, string]>> };
const groupEvents = (a: GroupAgentProcess) => a.events.filter((e) => e.type === 'group') as GroupEvent[];
const lastGroup = (a: GroupAgentProcess) => groupEvents(a).at(-1);
const metricsWith = (a: GroupAgentProcess, records: number) => [...a.events].reverse().find((e) => e.type === 'metrics' && e.records === records) as Metrics | undefined;

/** Record i: every 5th is not JSON, every 7th lacks `amount`, every 11th repeats the record 8 before it (same partition). */
function payload(i: number): string {
  if (i % 5 === 0) return `not json ${i}`;
  const n = i % 11 === 0 ? i - PARTITIONS : i;
  return JSON.stringify(n % 7 === 0 ? { id: n, country: 'DE' } : { id: n, amount: 10 + (n % 13), country: ['DE', 'FR', 'US'][n % 3] });
}

describe('the editor watches a group of agents (group: in clean.yaml, real Kafka, 8 partitions)', { timeout: 180_000 }, () => {
  let broker: Broker;
  let admin: Admin;
  let producer: Producer;
  let kafka: Kafka;
  let editor: AgentClient;
  let dir: string;

  before(async () => {
    broker = await useBroker('kafka');
    kafka = new Kafka({ clientId: 'clean-test-group-view', brokers: [broker.url.replace(/^kafka:\/\//, '')], logLevel: logLevel.NOTHING });
    admin = kafka.admin();
    producer = kafka.producer();
    await Promise.all([admin.connect(), producer.connect()]);
    dir = mkdtempSync(path.join(tmpdir(), 'clean-group-view-'));
  });

  after(async () => {
    await editor?.stop();
    await Promise.all(agents.all.map((a) => (a.proc.exitCode === null && a.proc.signalCode === null ? (a.proc.kill('SIGKILL'), a.exited) : a.exited)));
    await Promise.all([admin?.disconnect(), producer?.disconnect()]);
    await broker?.release();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows the merged metrics and alerts once, names both agents, and is never a member of the group', async () => {
    const topic = `clean-test-gview-${tag}`;
    const group = `clean-test-gview-g-${tag}`;
    const summaries = `clean-test-gview-s-${tag}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
    const file = path.join(dir, 'clean.yaml');
    writeFileSync(
      file,
      [
        'connections:',
        '  k:',
        '    backend: kafka',
        `    brokers: [${broker.url.replace(/^kafka:\/\//, '')}]`,
        'pipelines:',
        '  - name: orders',
        '    connection: k',
        `    topic: ${topic}`,
        `    group: ${group}`,
        `    summariesTopic: ${summaries}`,
        '    checkInterval: 300ms',
        '',
      ].join('\n'),
    );

    // One agent joins through the file's group:, the other through --group (which wins, naming the same group).
    const a1 = startAgent(['run', file, '--json']);
    await until('the first agent to join', () => lastGroup(a1)?.live.length === 1 && lastGroup(a1));
    const id1 = lastGroup(a1)!.agent;
    assert.equal(id1.endsWith(`-${a1.proc.pid}`), true, `the file's group takes the default agent id <host>-<pid> (got ${id1})`);
    const a2 = startAgent(['run', file, '--group', group, '--summaries-topic', summaries, '--agent-id', 'a-2', '--json']);
    const both = [id1, 'a-2'].sort();
    await until('both agents to share the partitions', () =>
      [a1, a2].every((x) => {
        const g = lastGroup(x);
        return g?.live.join(',') === both.join(',') && Object.values(g.coverage).some((list) => list.some(([, , agent]) => agent === 'a-2'));
      }),
    );

    // The editor's agent starts the same file's pipeline: it watches the group.
    editor = await AgentClient.start({ settings: { logLevel: 'info' } });
    const uri = fileUri(file);
    const started = await editor.request<PipelineInfo>('clean/startPipeline', { configUri: uri, pipelineName: 'orders' });
    assert.equal(started.id, 'orders');
    assert.equal(started.backend, 'kafka');
    assert.equal(started.group?.name, group);
    assert.equal(started.group?.summariesTopic, summaries);
    assert.match(started.cliCommand, new RegExp(` --group ${group} --summaries-topic ${summaries}$`));
    const statuses = () => editor.of('clean/status').map((r) => r.params as StatusParams).filter((s) => s.pipeline === 'orders');
    const liveMessage = `group ${group} · 2 agents live (${both.join(', ')})`;
    await editor.waitFor('the observer naming both agents', () => statuses().some((s) => s.state === 'running' && s.message === liveMessage), 30_000);
    const running = statuses().find((s) => s.message === liveMessage)!;
    assert.deepEqual(running.info.group, { name: group, summariesTopic: summaries, agents: both });
    const seenBefore = editor.of('clean/status').length;

    await producer.send({ topic, acks: -1, messages: Array.from({ length: N }, (_, k) => ({ partition: k % PARTITIONS, value: payload(k) })) });

    // The agents' merged view of all the records, and the editor's.
    const [m1, m2] = await until('the agents\' merged view of all records', () => {
      const x = metricsWith(a1, N);
      const y = metricsWith(a2, N);
      return x && y && [x, y];
    });
    const editorMetrics = () => editor.of('clean/metrics').flatMap((r) => (r.params as MetricsParams).events.filter((e) => e.pipeline === 'orders'));
    await editor.waitFor('the editor\'s merged view of all records', () => editorMetrics().some((e) => e.records === N), 30_000);
    const mine = editorMetrics().filter((e) => e.records === N).at(-1)!;
    assert.equal(mine.records, N);
    assert.equal(mine.shards, 2);
    // 160 records are not JSON; the rest as the agents' merged view counts them, detector by detector.
    assert.equal(mine.detectors.parse!.count, 160);
    for (const m of [m1, m2]) {
      assert.equal(m.records, N);
      assert.equal(mine.window, m.window);
      assert.equal(mine.score, m.score);
      for (const d of ['parse', 'duplicates', 'missing', 'schema', 'outliers', 'rules']) assert.equal(mine.detectors[d as 'parse']?.count, m.detectors[d]?.count, `${d} count`);
      assert.deepEqual(Object.fromEntries(Object.entries(mine.fields).map(([f, x]) => [f, x.missing])), Object.fromEntries(Object.entries(m.fields).map(([f, x]) => [f, x.missing])));
    }

    // Parse failures (20 %) and duplicates (1 in 11) are over their hard limits: one clean/alert each, and no more
    // over a few more checks; the group raised the same two, once, from its owner.
    await editor.waitFor('the merged alerts in the editor', () => editor.of('clean/alert').filter((r) => (r.params as AlertParams).pipeline === 'orders').length >= 2, 30_000);
    // Ten more checks of the merged view (300 ms apart), not a fixed time: none may bring a second alert.
    const checked = editorMetrics().length;
    await editor.waitFor('ten more checks of the merged view', () => editorMetrics().length >= checked + 10, 30_000);
    const alerts = editor.of('clean/alert').map((r) => r.params as AlertParams).filter((e) => e.pipeline === 'orders');
    assert.deepEqual(alerts.map((e) => `${e.type}:${e.detector}`).sort(), ['alert:duplicates', 'alert:parse']);
    const groupAlerts = [a1, a2].flatMap((a) => a.events.filter((e) => e.type === 'alert').map((e) => e.detector as string));
    assert.deepEqual(groupAlerts.sort(), ['duplicates', 'parse']);

    // Never a member: every group state the agents wrote lists the two agents only, Kafka's consumer groups of the
    // group hold two members each, and no record on the summaries topic comes from the editor.
    for (const a of [a1, a2]) for (const g of groupEvents(a)) for (const x of [...g.live, ...g.gone]) assert.ok(both.includes(x), `group state lists ${x}`);
    assert.deepEqual(lastGroup(a1)!.live, both);
    const described = await admin.describeGroups([`clean-group-${group}`, `clean-summaries-${group}`]);
    for (const g of described.groups) assert.equal(g.members.length, 2, `${g.groupId} has ${g.members.length} members`);
    const keys = await summaryKeys(kafka, summaries);
    assert.deepEqual([...new Set(keys)].sort(), [`orders|#alerts`, `orders|${id1}`, 'orders|a-2'].sort());
    assert.equal(editor.of('clean/status').slice(seenBefore).some((r) => (r.params as StatusParams).pipeline === 'orders' && (r.params as StatusParams).state === 'error'), false);

    // The group's baselines are its agents' to change: the editor says so and changes nothing.
    const refused = await editor.request<BaselineChangeResult>('clean/acceptNormal', { pipeline: 'orders' });
    assert.equal(refused.changed, 0);
    assert.equal(refused.message, `Pipeline "orders" watches group "${group}": the group's agents learn its baselines, not the editor. Change them where the agents run (clean-agent baseline accept|reset|undo --state <dir> on each agent, or --reset-baseline).`);

    const stopped = await editor.request<PipelineInfo>('clean/stopPipeline', { pipeline: 'orders' });
    assert.equal(stopped.state, 'stopped');
    for (const a of [a1, a2]) a.proc.kill('SIGTERM');
    await Promise.all([a1.exited, a2.exited]);
  });

  it('waits for the group: no summaries topic yet (never creating it), then no summary yet', async () => {
    editor ??= await AgentClient.start({ settings: { logLevel: 'info' } });
    const topic = `clean-test-gview-idle-${tag}`;
    const group = `clean-test-gview-g2-${tag}`;
    const summaries = `clean-test-gview-s2-${tag}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 1 }], waitForLeaders: true });
    const file = path.join(dir, 'idle.clean.yaml');
    writeFileSync(file, ['connections:', `  k: { backend: kafka, brokers: [${broker.url.replace(/^kafka:\/\//, '')}] }`, 'pipelines:', '  - name: idle', '    connection: k', `    topic: ${topic}`, `    group: ${group}`, `    summariesTopic: ${summaries}`, ''].join('\n'));
    await editor.request<PipelineInfo>('clean/startPipeline', { configUri: fileUri(file), pipelineName: 'idle' });
    const statuses = () => editor.of('clean/status').map((r) => r.params as StatusParams).filter((s) => s.pipeline === 'idle');
    const noTopic = `group ${group} · no summaries topic "${summaries}" on Kafka at ${broker.url.replace(/^kafka:\/\//, '')} yet: no agent of the group has started (clean-agent run --group ${group})`;
    await editor.waitFor('the observer waiting for the summaries topic', () => statuses().some((s) => s.state === 'waiting' && s.message === noTopic), 30_000);
    await sleep(1500);
    assert.equal((await admin.listTopics()).includes(summaries), false, 'the observer never creates the summaries topic');
    await admin.createTopics({ topics: [{ topic: summaries, numPartitions: 1, replicationFactor: 1 }], waitForLeaders: true });
    const noSummary = `group ${group} · no agent has written a summary yet (summaries in "${summaries}")`;
    await editor.waitFor('the observer waiting for a summary', () => statuses().some((s) => s.state === 'waiting' && s.message === noSummary), 30_000);
    const info = statuses().at(-1)!.info;
    assert.deepEqual(info.group, { name: group, summariesTopic: summaries, agents: [] });
    assert.equal(editor.of('clean/metrics').some((r) => (r.params as MetricsParams).events.some((e) => e.pipeline === 'idle')), false);
    const stopped = await editor.request<PipelineInfo>('clean/stopPipeline', { pipeline: 'idle' });
    assert.equal(stopped.state, 'stopped');
    assert.deepEqual(statuses().map((s) => `${s.state}: ${s.message}`), ['connecting: connecting', `connecting: Connecting to Kafka at ${broker.url.replace(/^kafka:\/\//, '')}`, `waiting: ${noTopic}`, `waiting: ${noSummary}`, 'stopped: stopped']);
  });
});

/** Every key written to the summaries topic so far (read from the beginning by a consumer group of the test's own). */
async function summaryKeys(kafka: Kafka, topic: string): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: `clean-test-gview-read-${tag}-${Date.now()}` });
  const keys: string[] = [];
  const read = new Map<number, number>();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    const check = () => ends.every((e) => (read.get(e.partition) ?? Number(e.low)) >= Number(e.high)) && resolve();
    check();
    void consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        keys.push(message.key?.toString('utf8') ?? '');
        read.set(partition, Number(message.offset) + 1);
        check();
      },
    });
  });
  await Promise.race([done, sleep(20_000)]);
  await consumer.disconnect();
  return keys;
}
