/**
 * Several agents as a group (`clean-agent watch <kafka-url> --group <name>`, server/scale/group.ts) on the real
 * Kafka broker of scripts/broker: separate agent processes share a topic of 8 partitions through Kafka's
 * consumer groups, write their summaries to a summaries topic and show its merged view.
 *
 * (a) two agents and a single agent read the same records: the merged metrics equal the single agent's, exactly;
 * (b) kill -9 of one agent: Kafka moves its partitions to the survivor, which starts where the dead agent's last
 *     summary ended: every offset of every partition is read by an agent or reported as a gap, and the counts stay exact;
 * (c) an alert of the merged view is raised once across the group (only the owner of partition 0 of the
 *     summaries topic announces; a new owner does not announce it again);
 * and an agent that stops cleanly (SIGTERM) hands its partitions over where its final summary ends.
 * Every run uses its own topic, group and summaries topic, so it can share the broker with other tests.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Producer } from 'kafkajs';
import { useBroker, type Broker } from '../helpers/broker';
import { CliAgents, type AgentEvent, type CliAgent } from '../helpers/cliAgents';

const PARTITIONS = 8;
const SESSION = '6s';
const CHECK = '300ms';

let broker: Broker;
let kafka: Kafka;
let admin: Admin;
let producer: Producer;
const tag = `${process.pid}-${Date.now()}`;
let seq = 0;
const unique = (what: string) => `clean-test-group-${what}-${tag}-${++seq}`;

type Event = AgentEvent;
type Agent = CliAgent;

const agents = new CliAgents();
const startAgent = (args: string[], id = ''): Agent => agents.start(args, id);

function groupAgent(topic: string, group: string, summaries: string, id: string, extra: string[] = []): Agent {
  const url = `${broker.url}/${topic}`;
  return startAgent(['watch', url, '--group', group, '--summaries-topic', summaries, '--agent-id', id, '--session-timeout', SESSION, '--check-every', CHECK, '--json', ...extra], id);
}

const until = agents.until.bind(agents);

const last = (a: Agent, type: string): Event | undefined => [...a.events].reverse().find((e) => e.type === type);
const lastGroup = (a: Agent) => last(a, 'group') as (Event & { live: string[]; gone: string[]; owner: boolean; coverage: Record<string, Array<[number, number, string]>> }) | undefined;
const metricsWith = (a: Agent, records: number) => [...a.events].reverse().find((e) => e.type === 'metrics' && e.records === records) as Metrics | undefined;

interface Metrics extends Event {
  records: number;
  window: number;
  score: number;
  detectors: Record<string, { count: number; rate: number }>;
  fields: Record<string, { missing: number; type?: string }>;
}

/** Record i of a test topic: every 5th is not JSON, every 7th lacks `amount`, every 11th repeats the record before it (same partition). */
function payload(i: number): string {
  if (i % 5 === 0) return `not json ${i}`;
  const n = i % 11 === 0 ? i - PARTITIONS : i;
  return JSON.stringify(n % 7 === 0 ? { id: n, country: 'DE' } : { id: n, amount: 10 + (n % 13), country: ['DE', 'FR', 'US'][n % 3] });
}

async function produce(topic: string, from: number, count: number): Promise<void> {
  const messages = Array.from({ length: count }, (_, k) => ({ partition: (from + k) % PARTITIONS, value: payload(from + k) }));
  await producer.send({ topic, acks: -1, messages });
}

async function createTopic(topic: string): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true });
}

/**
 * Both agents are in the group and hold their partitions: each sees the other live, and the newcomer's summary,
 * written as Kafka assigned it partitions, says where it starts them.
 */
async function groupFormed(a: Agent, b: Agent): Promise<void> {
  await until(`agents ${a.id} and ${b.id} to share the partitions`, () =>
    [a, b].every((x) => {
      const g = lastGroup(x);
      return g?.live.join(',') === [a.id, b.id].sort().join(',') && Object.values(g.coverage).some((list) => list.some(([, , agent]) => agent === b.id));
    }),
  );
}

function stop(a: Agent): Promise<number | null> {
  if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill('SIGTERM');
  return a.exited;
}

const alertsOf = (list: Agent[]) => list.flatMap((a) => a.events.filter((e) => e.type === 'alert').map((e) => ({ agent: a.id, detector: e.detector, severity: e.severity })));

before(async () => {
  broker = await useBroker('kafka');
  kafka = new Kafka({ clientId: 'clean-test-group', brokers: [broker.url.replace(/^kafka:\/\//, '')], logLevel: logLevel.NOTHING });
  admin = kafka.admin();
  producer = kafka.producer();
  await Promise.all([admin.connect(), producer.connect()]);
});

after(async () => {
  await Promise.all(agents.all.map((a) => (a.proc.exitCode === null && a.proc.signalCode === null ? (a.proc.kill('SIGKILL'), a.exited) : a.exited)));
  await Promise.all([admin?.disconnect(), producer?.disconnect()]);
  await broker?.release();
});

/** agent-a, then agent-b, in a fresh group on a fresh topic, both merging its first 400 records. */
async function twoAgentsAt400(what: string): Promise<{ topic: string; a: Agent; b: Agent }> {
  const topic = unique(what);
  const group = unique('g');
  const summaries = unique('s');
  await createTopic(topic);
  const a = groupAgent(topic, group, summaries, 'agent-a');
  await until('agent-a to join', () => lastGroup(a)?.live.includes('agent-a'));
  const b = groupAgent(topic, group, summaries, 'agent-b');
  await groupFormed(a, b);
  await produce(topic, 0, 400);
  await until('both agents to merge the first 400 records', () => metricsWith(a, 400) && metricsWith(b, 400));
  return { topic, a, b };
}

describe('a group of agents on Kafka', { timeout: 180_000 }, () => {
  test('(a) two agents merge to the counts of a single agent, and (c) their merged alert fires once', async () => {
    const topic = unique('a');
    const group = unique('g');
    const summaries = unique('s');
    await createTopic(topic);
    const a = groupAgent(topic, group, summaries, 'agent-a', ['--metrics-port', '0']);
    await until('agent-a to join', () => lastGroup(a)?.live.includes('agent-a'));
    const b = groupAgent(topic, group, summaries, 'agent-b');
    await groupFormed(a, b);

    const N = 800;
    await produce(topic, 0, N);
    const single = startAgent(['watch', `${broker.url}/${topic}`, '--from', 'earliest', '--limit', String(N), '--json'], 'single');
    assert.equal(await single.exited, 0, single.stderr.join(''));
    const one = last(single, 'metrics') as Metrics;
    assert.equal(one.records, N);

    const merged = await until('the merged view of all records in both agents', () => {
      const ma = metricsWith(a, N);
      const mb = metricsWith(b, N);
      return ma && mb && [ma, mb];
    });
    for (const m of merged) {
      assert.equal(m.shards, 2);
      assert.equal(m.records, one.records);
      assert.equal(m.window, one.window);
      assert.equal(m.score, one.score);
      for (const d of ['parse', 'duplicates', 'missing']) assert.equal(m.detectors[d].count, one.detectors[d].count, `${d} count`);
      assert.deepEqual(Object.fromEntries(Object.entries(m.fields).map(([f, x]) => [f, x.missing])), Object.fromEntries(Object.entries(one.fields).map(([f, x]) => [f, x.missing])));
    }
    // The records themselves: 160 are not JSON; of the 640 objects, 1/7 lack amount; every 11th repeats one 8 before.
    assert.equal(one.detectors.parse.count, 160);
    // agent-a's metrics endpoint reports what it shows, the group's merged view: all records, not its own share.
    const endpoint = /serving metrics on (http:\/\/[^/\s]+)\/metrics/.exec(a.stderr.join(''))?.[1];
    assert.ok(endpoint, a.stderr.join(''));
    const pipeline = String(merged[0]!.pipeline);
    const scraped = await (await fetch(`${endpoint}/metrics`)).text();
    const series = (name: string) => scraped.split('\n').find((l) => l.startsWith(`${name}{pipeline="${pipeline}"}`));
    assert.equal(series('clean_records_total'), `clean_records_total{pipeline="${pipeline}"} ${N}`);
    assert.equal(series('clean_quality_score'), `clean_quality_score{pipeline="${pipeline}"} ${one.score}`);
    // The agents split the partitions: each read some, together all.
    const coverage = lastGroup(a)!.coverage;
    const holders = new Set(Object.values(coverage).flatMap((list) => list.filter(([from, next]) => next > from).map(([, , agent]) => agent)));
    assert.deepEqual([...holders].sort(), ['agent-a', 'agent-b']);
    for (let p = 0; p < PARTITIONS; p++) assert.equal(Math.max(...coverage[p].map(([, next]) => next)), N / PARTITIONS, `partition ${p} read to its end`);

    // (c) Parse failures (20 %) and duplicates (1 in 11) are over their hard limits: one alert each, raised by one
    // agent, and no more over a few more checks.
    // Six more checks of each agent's merged view (300 ms apart), not a fixed time: none may bring a second alert.
    const checks = (x: Agent) => x.events.filter((e) => e.type === 'metrics').length;
    const [ca, cb] = [checks(a), checks(b)];
    await until('six more checks in both agents', () => checks(a) >= ca + 6 && checks(b) >= cb + 6);
    assert.deepEqual(alertsOf([a, b]).map((x) => x.detector).sort(), ['duplicates', 'parse']);
    const owner = [a, b].filter((x) => lastGroup(x)!.owner).map((x) => x.id);
    assert.equal(owner.length, 1);
    assert.deepEqual(alertsOf([a, b]).map((x) => x.agent), [owner[0], owner[0]]);
    await Promise.all([stop(a), stop(b)]);
  });

  test('(b) kill -9 of one agent: the survivor takes its partitions where its summaries ended, no offset unaccounted for', async () => {
    const { topic, a, b } = await twoAgentsAt400('b');
    const killedAt = Date.now();
    b.proc.kill('SIGKILL');
    await b.exited;
    // Records for every partition while the group has not noticed yet: b's partitions wait for the rebalance.
    await produce(topic, 400, 400);

    await until('agent-a to read everything after the rebalance', () => metricsWith(a, 800), 60_000);
    const noticed = await until('agent-b to be gone from the merged view', () => lastGroup(a)?.gone.includes('agent-b') && lastGroup(a));
    assert.ok(Date.now() - killedAt < 30_000, 'the death was noticed within the session timeout and a rebalance');
    assert.deepEqual(noticed.live, ['agent-a']);
    // b's window left the merge with b; the records it read still count. a's window: its 200 first records and all 400 after.
    const survivor = last(a, 'metrics') as Metrics;
    assert.equal(survivor.records, 800);
    assert.equal(survivor.window, 600);
    assert.equal(survivor.detectors.parse.count, 120);

    // Every offset of every partition: read by an agent, or reported as a gap with its exact offsets.
    const ends = await admin.fetchTopicOffsets(topic);
    const gaps = a.events.filter((e) => e.type === 'gap') as Array<Event & { partition: number; from: number; to: number }>;
    const overlaps = a.events.filter((e) => e.type === 'overlap');
    const coverage = lastGroup(a)!.coverage;
    for (const { partition, high } of ends) {
      const covered = new Array<boolean>(Number(high)).fill(false);
      for (const [from, next] of coverage[partition] ?? []) for (let o = from; o < next; o++) covered[o] = true;
      for (const g of gaps.filter((x) => x.partition === partition)) for (let o = g.from; o <= g.to; o++) covered[o] = true;
      assert.deepEqual(covered.map((c, o) => (c ? -1 : o)).filter((o) => o >= 0), [], `partition ${partition}: offsets neither read nor reported`);
    }
    // The survivor started where b's summaries ended: nothing was lost, nothing read twice.
    assert.deepEqual(gaps, []);
    assert.deepEqual(overlaps, []);
    const moved = Object.values(coverage).filter((list) => list.some(([, , agent]) => agent === 'agent-b') && list.some(([from, next, agent]) => agent === 'agent-a' && next > from && from > 0));
    assert.ok(moved.length >= 1, 'some partition moved from agent-b to agent-a');
    // (c) across an owner's death: still one alert per detector.
    assert.deepEqual(alertsOf([a, b]).map((x) => x.detector).sort(), ['duplicates', 'parse']);
    await stop(a);
  });

  test('an agent that stops cleanly hands its partitions over where its final summary ends', async () => {
    const { topic, a, b } = await twoAgentsAt400('d');
    assert.equal(await stop(b), 0, b.stderr.join(''));
    // b's final summary took its window out of the merge at once; its records still count.
    const left = await until('agent-b to be gone', () => lastGroup(a)?.gone.includes('agent-b') && lastGroup(a));
    assert.deepEqual(left.live, ['agent-a']);
    await produce(topic, 400, 400);
    await until('agent-a to read everything', () => metricsWith(a, 800));
    assert.deepEqual(a.events.filter((e) => e.type === 'gap' || e.type === 'overlap'), []);
    const coverage = lastGroup(a)!.coverage;
    for (let p = 0; p < PARTITIONS; p++) {
      const read = coverage[p].filter(([from, next]) => next > from).map(([from, next]) => [from, next]);
      assert.equal(read.reduce((n, [from, next]) => n + next - from, 0), 100, `partition ${p} read once, all of it`);
    }
    await stop(a);
  });
});
