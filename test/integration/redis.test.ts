/**
 * RedisStreamSource against a real redis-server started by scripts/broker (Debian's package).
 * Every test writes to its own stream key, so the file can share one broker with the rest of the suite;
 * the restart test runs its own server (scripts/brokers/redis.sh with a private state dir).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { repoRoot, useBroker, type Broker } from '../helpers/broker';
import { RedisStreamSource, compareIds } from '../../server/sources/redis';
import type { SourceSpec, StartPosition } from '../../server/sources/types';
import { SourceError } from '../../server/sources/types';
import { parseSourceUrl } from '../../server/sources/url';
import { FileSource } from '../../server/sources/file';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import type { AlertEvent, MetricsEvent, PipelineEvent, RecoveredEvent, StatusEvent } from '../../server/engine/events';
import { sleep, recordingContext, drain, until, within, freePort, endMarker } from '../helpers/sources';

const run = promisify(execFile);

let broker: Broker;
let redis: Redis;
let keySeq = 0;
const runTag = `${process.pid}-${Date.now()}`;
/** A stream key no other test (or earlier run) uses. */
const uniqueKey = (what: string) => `clean-test:${what}:${runTag}:${++keySeq}`;



function spec(url: string, stream: string, from: StartPosition, extra: Partial<SourceSpec> = {}): SourceSpec {
  return { ...parseSourceUrl(`${url}/${encodeURIComponent(stream)}`, from), ...extra };
}

const openSources = new Set<RedisStreamSource>();
/** drainTracked(), remembering the source so that the file's after() closes it if a test fails. */
function drainTracked(source: RedisStreamSource) {
  openSources.add(source);
  return drain(source);
}



function record(i: number): Record<string, unknown> {
  return { id: i, amount: 10 + (i % 7), country: ['DE', 'FR', 'US'][i % 3], ok: i % 2 === 0 };
}

async function addRecords(client: Redis, key: string, from: number, count: number): Promise<string[]> {
  const pipeline = client.pipeline();
  for (let i = from; i < from + count; i++) pipeline.xadd(key, '*', 'data', JSON.stringify(record(i)));
  const results = (await pipeline.exec()) ?? [];
  return results.map(([err, id]) => {
    if (err) throw err;
    return id as string;
  });
}

async function redisCli(url: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-u', url, '--no-auth-warning', ...args]);
  return stdout.trim();
}

async function allIds(client: Redis, key: string): Promise<string[]> {
  const entries = (await client.xrange(key, '-', '+')) as Array<[string, string[]]>;
  return entries.map(([id]) => id);
}

before(async () => {
  broker = await useBroker('redis');
  const { hostname, port } = new URL(broker.url);
  redis = new Redis({ host: hostname, port: Number(port), protocol: 2 });
});

after(async () => {
  for (const source of openSources) await source.close();
  redis?.disconnect();
  await broker?.release();
});

describe('RedisStreamSource reading a real Redis stream', () => {
  test('from earliest: entries added by ioredis and by redis-cli, in order, with stream IDs as positions', async () => {
    const key = uniqueKey('earliest');
    await addRecords(redis, key, 0, 5);
    const cliIds: string[] = [];
    for (let i = 5; i < 8; i++) cliIds.push(await redisCli(broker.url, 'XADD', key, '*', 'data', JSON.stringify(record(i))));
    const ids = await allIds(redis, key);
    assert.deepEqual(ids.slice(5), cliIds);

    const rec = recordingContext();
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), rec.ctx);
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(8);
    await source.close();
    await reading.done;
    assert.equal(reading.state.error, undefined);
    assert.deepEqual(
      reading.messages.map((m) => m.position),
      ids,
    );
    assert.deepEqual(
      reading.messages.map((m) => JSON.parse(String(m.value))),
      Array.from({ length: 8 }, (_, i) => record(i)),
    );
    assert.deepEqual(
      reading.messages.map((m) => m.timestamp),
      ids.map((id) => Number(id.split('-')[0])),
    );
    assert.deepEqual(rec.statuses.map((s) => s.state), ['connecting', 'running']);
    assert.equal(source.description, `redis ${new URL(broker.url).host}/${key}`);
  });

  test('from latest: skips what is there at connect, keeps everything added after connect (even before the first read)', async () => {
    const key = uniqueKey('latest');
    await addRecords(redis, key, 0, 10);
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'latest' }), recordingContext().ctx);
    await source.connect();
    const added = await addRecords(redis, key, 100, 3); // before consume() starts: `$` would lose these
    const reading = drain(source);
    await reading.waitFor(3);
    const later = await addRecords(redis, key, 200, 2);
    await reading.waitFor(5);
    await source.close();
    await reading.done;
    assert.deepEqual(
      reading.messages.map((m) => m.position),
      [...added, ...later],
    );
  });

  test('from a time and from an ID: entries at or after the millisecond, entries strictly after the ID', async () => {
    const key = uniqueKey('positions');
    for (const id of ['1000-0', '1000-1', '2000-0', '2000-5', '3000-0']) await redis.xadd(key, id, 'data', JSON.stringify({ id }));
    const positions = async (from: StartPosition) => {
      const source = new RedisStreamSource(spec(broker.url, key, from), recordingContext().ctx);
      await source.connect();
      const reading = drain(source);
      await until('the 3000-0 entry', () => reading.messages.some((m) => m.position === '3000-0'));
      await source.close();
      await reading.done;
      return reading.messages.map((m) => m.position);
    };
    assert.deepEqual(await positions({ kind: 'time', time: 2000 }), ['2000-0', '2000-5', '3000-0']);
    assert.deepEqual(await positions({ kind: 'time', time: 1001 }), ['2000-0', '2000-5', '3000-0']);
    assert.deepEqual(await positions({ kind: 'id', id: '1000-1' }), ['2000-0', '2000-5', '3000-0']);
    assert.deepEqual(await positions({ kind: 'id', id: '2000-0' }), ['2000-5', '3000-0']);
    assert.deepEqual(await positions({ kind: 'earliest' }), ['1000-0', '1000-1', '2000-0', '2000-5', '3000-0']);
  });

  test('record mapping: the configured field, else the first of data/payload/value/json, else the field map', async () => {
    const key = uniqueKey('mapping');
    await redis.xadd(key, '1-0', 'payload', '{"a":1}', 'value', '{"b":2}');
    await redis.xadd(key, '2-0', 'json', '{"c":3}', 'value', '{"b":4}');
    await redis.xadd(key, '3-0', 'sensor', 'kitchen', 'temp', '21.5', 'count', '7', 'zip', '01234', 'empty', '');
    await redis.xadd(key, '4-0', 'other', 'x', 'data', 'not json');
    const values = async (options: Record<string, unknown>) => {
      const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }, { options }), recordingContext().ctx);
      await source.connect();
      const reading = drain(source);
      await reading.waitFor(4);
      await source.close();
      await reading.done;
      // Payload fields arrive as the bytes Redis holds; a field map arrives as an object.
      return reading.messages.map((m) => (Buffer.isBuffer(m.value) ? `bytes:${m.value.toString('utf8')}` : m.value));
    };
    assert.deepEqual(await values({}), [
      'bytes:{"a":1}',
      'bytes:{"b":4}',
      { sensor: 'kitchen', temp: 21.5, count: 7, zip: '01234', empty: '' },
      'bytes:not json',
    ]);
    assert.deepEqual(await values({ field: 'value' }), ['bytes:{"b":2}', 'bytes:{"b":4}', null, null]);
  });

  test('a stream that does not exist yet: says so, waits, and reads it once it appears', async () => {
    // Random letters: no other stream of any run is within the edit distance of a "did you mean" suggestion.
    const key = `${uniqueKey('missing')}:${randomBytes(8).toString('hex')}`;
    const rec = recordingContext();
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'latest' }), rec.ctx, { blockMs: 100 });
    await source.connect();
    const reading = drain(source);
    await until('the waiting status', () => rec.statuses.length === 2, 10_000);
    assert.equal(reading.messages.length, 0);
    assert.equal(reading.state.error, undefined);
    const host = new URL(broker.url).host;
    const waiting = `stream ${key} does not exist on ${host}; waiting for it to be created`;
    assert.deepEqual(rec.statuses, [
      { state: 'connecting', message: `Connecting to Redis at ${host}` },
      { state: 'waiting', message: waiting },
    ]);
    assert.deepEqual(rec.logs, [`info: ${waiting}`]);
    const ids = await addRecords(redis, key, 0, 4);
    await reading.waitFor(4);
    await source.close();
    await reading.done;
    assert.deepEqual(
      reading.messages.map((m) => m.position),
      ids,
    );
    assert.deepEqual(rec.statuses[2], { state: 'running', message: `Stream "${key}" appeared at ${host}; reading it` });
  });
});

describe('RedisStreamSource when the application trims or re-creates the stream', () => {
  test('entries deleted at the tail (XDEL) cause no repeats; a re-created stream is read from its start', async () => {
    const key = uniqueKey('xdel');
    const first = await addRecords(redis, key, 0, 5);
    const rec = recordingContext();
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), rec.ctx, { blockMs: 50 });
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(5);
    const commands = await watchCommands(key);
    try {
      await redis.xdel(key, first[3], first[4]);
      // Several idle rounds (XREAD, TYPE, XINFO STREAM) after the XDEL: the monitor has looked at the trimmed tail.
      await commands.seen('3 idle checks (XINFO STREAM) after the XDEL', (c) => c.after('xdel').filter((a) => a[0] === 'xinfo').length >= 3);
    } finally {
      await commands.close();
    }
    const second = await addRecords(redis, key, 5, 2);
    const marker = (await redis.xadd(key, '*', 'data', endMarker('xdel')))!;
    await reading.untilMarker('xdel');
    assert.deepEqual(
      reading.messages.map((m) => m.position),
      [...first, ...second],
    );
    assert.deepEqual(rec.logs, []);

    const recreated = ['1-0', '1-1', '2-0'];
    const transaction = redis.multi().del(key); // atomic, so the monitor never sees the key missing
    for (const id of recreated) transaction.xadd(key, id, 'data', JSON.stringify({ id }));
    await transaction.exec();
    await reading.waitFor(10);
    await source.close();
    await reading.done;
    assert.deepEqual(
      reading.messages.slice(7).map((m) => m.position),
      recreated,
    );
    assert.deepEqual(rec.logs, [
      `warn: Stream "${key}" at ${new URL(broker.url).host} was re-created (last ID 2-0 < ${marker}); reading it from the start.`,
    ]);
  });
});

describe('RedisStreamSource errors a person can act on', () => {
  test('a key that is not a stream: WRONGTYPE, naming the key and its type', async () => {
    const key = uniqueKey('not-a-stream');
    await redis.set(key, 'hello');
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), recordingContext().ctx);
    await assert.rejects(source.connect(), (err: unknown) => {
      assert.ok(err instanceof SourceError);
      assert.equal(err.code, 'wrongtype');
      assert.equal(
        err.message,
        `Key "${key}" in Redis at ${new URL(broker.url).host} holds a string, not a stream (WRONGTYPE). ` +
          `Point the monitor at a stream key (check with: redis-cli TYPE ${key}).`,
      );
      return true;
    });
    await source.close();
  });

  test('a key replaced by a non-stream while monitoring ends consumption with WRONGTYPE', async () => {
    const key = uniqueKey('replaced');
    await addRecords(redis, key, 0, 2);
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), recordingContext().ctx, { blockMs: 50 });
    await source.connect();
    const reading = drain(source);
    await reading.waitFor(2);
    await redis.del(key);
    await redis.set(key, 'now a string');
    await reading.done;
    await source.close();
    assert.ok(reading.state.error instanceof SourceError);
    assert.equal((reading.state.error as SourceError).code, 'wrongtype');
    assert.match((reading.state.error as SourceError).message, /^Key ".*" in Redis at .* (holds a string, not|is not) a stream \(WRONGTYPE\)\./);
  });

  test('least-privilege ACL user: the right password from a secret reads; a wrong one fails with WRONGPASS and never shows the password', async () => {
    const key = uniqueKey('auth');
    const user = `monitor-${runTag}`;
    const password = 'c0rrect-h0rse-battery';
    // Least privilege: read-only access to this key and only the commands the monitor sends.
    await redis.call('ACL', 'SETUSER', user, 'on', `>${password}`, 'resetkeys', `%R~${key}`, '-@all', '+type', '+xread', '+xrevrange', '+xinfo|stream');
    try {
      const ids = await addRecords(redis, key, 0, 3);
      const url = broker.url.replace('redis://', `redis://${user}@`);
      const good = new RedisStreamSource(parseSourceUrl(`${url}/${key}?secret=redis-pw`, { kind: 'earliest' }), recordingContext({ 'redis-pw': password }).ctx);
      await good.connect();
      const reading = drainTracked(good);
      await reading.waitFor(3);
      await good.close();
      await reading.done;
      assert.deepEqual(
        reading.messages.map((m) => m.position),
        ids,
      );

      const wrongPassword = 'wr0ng-pa55w0rd-xyz';
      const rec = recordingContext({ 'redis-pw': wrongPassword });
      const bad = new RedisStreamSource(parseSourceUrl(`${url}/${key}?secret=redis-pw`, { kind: 'earliest' }), rec.ctx);
      await assert.rejects(bad.connect(), (err: unknown) => {
        assert.ok(err instanceof SourceError);
        assert.equal(err.code, 'auth');
        assert.equal(
          err.message,
          `Redis at ${new URL(broker.url).host} rejected user "${user}" with the password in secret "redis-pw" (WRONGPASS). ` +
            `Check the user name and update the secret.`,
        );
        assert.ok(!String(err.stack).includes(wrongPassword));
        return true;
      });
      await bad.close();
      const everything = JSON.stringify({ statuses: rec.statuses, logs: rec.logs, description: bad.description });
      assert.ok(!everything.includes(wrongPassword) && !everything.includes(password));

      const unset = new RedisStreamSource(parseSourceUrl(`${url}/${key}?secret=nope`, { kind: 'earliest' }), recordingContext().ctx);
      await assert.rejects(unset.connect(), {
        name: 'SourceError',
        message: `The secret "nope" for Redis at ${new URL(broker.url).host} is not set. Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_NOPE for the CLI.`,
      });
    } finally {
      await redis.call('ACL', 'DELUSER', user);
    }
  });

  test('nothing listening: a connection error that names the address and what to do', async () => {
    const port = await freePort();
    const source = new RedisStreamSource(spec(`redis://127.0.0.1:${port}`, 'orders', { kind: 'latest' }), recordingContext().ctx);
    await assert.rejects(source.connect(), {
      name: 'SourceError',
      message: `Cannot reach Redis at 127.0.0.1:${port} (ECONNREFUSED). Is the server running? For a local test server run: scripts/broker start redis.`,
    });
    await source.close();
  });

  test('a database index the server does not have', async () => {
    const source = new RedisStreamSource(spec(broker.url, 'orders', { kind: 'latest' }, { options: { db: 99 } }), recordingContext().ctx);
    await assert.rejects(source.connect(), {
      name: 'SourceError',
      message: `Redis at ${new URL(broker.url).host} has no database 99 (ERR DB index is out of range). Use a db index below the server's "databases" setting.`,
    });
    await source.close();
  });
});

describe('RedisStreamSource is a passive observer', () => {
  test('an application consumer group reads and acks while the monitor runs: its pending list and last-delivered ID are untouched', async () => {
    const watched = uniqueKey('group-watched');
    const control = uniqueKey('group-control'); // the same workload without a monitor
    for (const key of [watched, control]) await redis.call('XGROUP', 'CREATE', key, 'app', '0', 'MKSTREAM');
    const source = new RedisStreamSource(spec(broker.url, watched, { kind: 'earliest' }), recordingContext().ctx);
    await source.connect();
    const reading = drain(source);

    // The application: reads everything as consumer "worker", acks all but every fifth entry.
    const application = async (key: string) => {
      const app = redis.duplicate();
      const unacked: string[] = [];
      let seen = 0;
      const deadline = Date.now() + 60_000;
      while (seen < 300) {
        if (Date.now() > deadline) throw new Error(`the application read only ${seen} of 300 entries within 60 s`);
        const reply = (await app.call('XREADGROUP', 'GROUP', 'app', 'worker', 'COUNT', '50', 'BLOCK', '2000', 'STREAMS', key, '>')) as
          | Array<[string, Array<[string, string[]]>]>
          | null;
        for (const [id] of reply?.[0]?.[1] ?? []) {
          if (seen % 5 === 4) unacked.push(id);
          else await app.xack(key, 'app', id);
          seen++;
        }
      }
      app.disconnect();
      return unacked;
    };
    const apps = Promise.all([application(watched), application(control)]);
    for (let i = 0; i < 300; i += 30) {
      await addRecords(redis, watched, i, 30);
      await addRecords(redis, control, i, 30);
    }
    const [unackedWatched, unackedControl] = await apps;
    await reading.waitFor(300);
    await source.close();
    await reading.done;

    assert.deepEqual(
      reading.messages.map((m) => m.position),
      await allIds(redis, watched),
    );
    assert.equal(await redis.xlen(watched), 300);
    assert.equal(unackedWatched.length, 60);
    assert.equal(unackedControl.length, 60);
    const lastWatched = (await allIds(redis, watched))[299];

    // XPENDING: exactly the unacked entries, owned by the application's consumer, delivered once.
    const pending = (await redis.call('XPENDING', watched, 'app', '-', '+', '1000')) as Array<[string, string, number, number]>;
    assert.deepEqual(
      pending.map(([id, consumer, , deliveries]) => [id, consumer, deliveries]),
      unackedWatched.map((id) => [id, 'worker', 1]),
    );
    const summary = (await redis.call('XPENDING', watched, 'app')) as [number, string, string, Array<[string, string]>];
    assert.deepEqual(summary, [60, unackedWatched[0], unackedWatched[59], [['worker', '60']]]);

    // XINFO GROUPS: one group (ours would show here), last-delivered-id at the last entry, as in the control stream.
    const groups = (await redis.call('XINFO', 'GROUPS', watched)) as unknown[][];
    const controlGroups = (await redis.call('XINFO', 'GROUPS', control)) as unknown[][];
    const info = (g: unknown[]) => Object.fromEntries(Array.from({ length: g.length / 2 }, (_, i) => [g[2 * i], g[2 * i + 1]]));
    assert.equal(groups.length, 1);
    const group = info(groups[0]);
    const controlGroup = info(controlGroups[0]);
    assert.deepEqual(
      { name: group.name, consumers: group.consumers, pending: group.pending, 'last-delivered-id': group['last-delivered-id'], 'entries-read': group['entries-read'], lag: group.lag },
      { name: 'app', consumers: 1, pending: 60, 'last-delivered-id': lastWatched, 'entries-read': 300, lag: 0 },
    );
    assert.deepEqual(
      { consumers: controlGroup.consumers, pending: controlGroup.pending, 'entries-read': controlGroup['entries-read'], lag: controlGroup.lag },
      { consumers: 1, pending: 60, 'entries-read': 300, lag: 0 },
    );
  });

  test('the monitor sends only read commands (checked in INFO commandstats)', async () => {
    const key = uniqueKey('commands');
    await addRecords(redis, key, 0, 50);
    const before = await commandCalls();
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), recordingContext().ctx, { count: 10, blockMs: 50 });
    await source.connect();
    const reading = drain(source);
    const commands = await watchCommands(key);
    try {
      await reading.waitFor(50);
      // A few idle rounds (XREAD, TYPE, XINFO STREAM) after the last entry was read.
      await commands.seen('3 idle checks (XINFO STREAM) after the last entry', (c) => c.all.filter((a) => a[0] === 'xinfo').length >= 3);
    } finally {
      await commands.close();
    }
    await source.close();
    await reading.done;
    const afterCalls = await commandCalls();
    const used = Object.keys(afterCalls).filter((c) => afterCalls[c] !== (before[c] ?? 0));
    // commandCalls itself (INFO) and test-side reads are the only others in this window.
    const writes = ['xack', 'xdel', 'xtrim', 'xgroup|create', 'xgroup|setid', 'xgroup|destroy', 'xreadgroup', 'xclaim', 'xautoclaim', 'xsetid', 'del', 'unlink', 'xadd'];
    assert.deepEqual(
      used.filter((c) => writes.includes(c)),
      [],
    );
    assert.ok(used.includes('xread'), `expected xread among ${used.join(', ')}`);
  });
});

describe('RedisStreamSource across connection loss', () => {
  test('a killed connection mid-stream: reconnecting with the reason, then every entry exactly once', async () => {
    const key = uniqueKey('killed');
    const rec = recordingContext();
    await addRecords(redis, key, 0, 20);
    const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), rec.ctx, { count: 25 });
    await source.connect();
    const reading = drain(source);
    const writer = (async () => {
      for (let i = 20; i < 1000; i += 20) {
        await addRecords(redis, key, i, 20);
        await sleep(5);
      }
    })();
    await reading.waitFor(100);
    const killed = await killMonitorConnections();
    assert.ok(killed >= 1, 'the monitor had a blocked XREAD connection to kill');
    await writer;
    await reading.waitFor(1000);
    await redis.xadd(key, '*', 'data', endMarker('killed'));
    await reading.untilMarker('killed');
    await source.close();
    await reading.done;
    assert.deepEqual(
      reading.messages.map((m) => m.position),
      (await allIds(redis, key)).slice(0, -1),
    );
    const states = rec.statuses.map((s) => s.state);
    assert.deepEqual(states.slice(0, 2), ['connecting', 'running']);
    const reconnecting = rec.statuses.find((s) => s.state === 'reconnecting');
    assert.ok(reconnecting, `a reconnecting status among ${states.join(', ')}`);
    assert.match(reconnecting.message, /^Lost Redis at 127\.0\.0\.1:\d+ \(.+\)\. Retrying in 0\.25 s; will resume after ID \d+-\d+\.$/);
    assert.equal(rec.statuses[rec.statuses.length - 1].state, 'running');
  });

  test('its own redis-server stopped and restarted mid-stream: the count matches exactly what was added', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clean-redis-restart-'));
    const script = path.join(repoRoot, 'scripts', 'brokers', 'redis.sh');
    const broker2 = async (action: 'start' | 'stop') => {
      const { stdout } = await run('bash', [script, action, stateDir], { cwd: repoRoot });
      return stdout.trim().split('\n').pop() ?? '';
    };
    const url = await broker2('start');
    const { hostname, port } = new URL(url);
    const client = new Redis({ host: hostname, port: Number(port), protocol: 2, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    const rec = recordingContext();
    const source = new RedisStreamSource(spec(url, 'orders', { kind: 'earliest' }), rec.ctx);
    try {
      await client.connect();
      const firstIds = await addRecords(client, 'orders', 0, 150);
      await source.connect();
      const reading = drain(source);
      await reading.waitFor(150);
      client.disconnect();

      await broker2('stop');
      // A few failed attempts while the server is down (the first status is the loss itself).
      await until('two failed attempts', () => rec.statuses.filter((s) => s.state === 'reconnecting').length >= 3, 30_000);
      assert.equal(await broker2('start'), url, 'the restarted server is on the same address');

      // No persistence: the restarted server starts empty, so everything now is new.
      await client.connect();
      const secondIds = await addRecords(client, 'orders', 150, 250);
      await reading.waitFor(400);
      await client.xadd('orders', '*', 'data', endMarker('restart'));
      await reading.untilMarker('restart');
      assert.equal(reading.messages.length, 400);
      assert.deepEqual(
        reading.messages.map((m) => m.position),
        [...firstIds, ...secondIds],
      );
      assert.equal(compareIds(secondIds[0], firstIds[149]), 1);
      const reconnects = rec.statuses.filter((s) => s.state === 'reconnecting');
      assert.ok(reconnects.length >= 2, `several attempts while down, got ${reconnects.length}`);
      assert.match(reconnects[0].message, new RegExp(`^Lost Redis at 127\\.0\\.0\\.1:${port} \\(.+\\)\\. Retrying in 0\\.25 s; will resume after ID ${firstIds[149]}\\.$`));
      assert.ok(reconnects.slice(1).some((s) => s.message.includes('(ECONNREFUSED)')), 'the reason shows the refused connection');
      assert.ok(
        rec.statuses.some((s) => s.state === 'running' && s.message === `Reconnected to Redis at 127.0.0.1:${port}; reading stream "orders" after ID ${firstIds[149]}`),
      );
      await source.close();
      await reading.done;
      assert.equal(reading.state.error, undefined);
    } finally {
      await source.close();
      client.disconnect();
      await broker2('stop');
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

async function commandCalls(): Promise<Record<string, number>> {
  const text = (await redis.info('commandstats')) as string;
  const calls: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) calls[m[1]] = Number(m[2]);
  }
  return calls;
}

/** The commands naming one key, in the order the server ran them, as MONITOR reports them: [lower-case name, feed line]. */
interface KeyCommands {
  all: string[][];
  /** Those after the first command named `name` (empty until it ran). */
  after(name: string): string[][];
}

/**
 * Watches the server's MONITOR feed for commands that name `key`, so a test waits for the source's own idle reads
 * and checks to happen (a count of commands, with a deadline) instead of sleeping for a time they usually take.
 * A plain socket: ioredis' monitor() mistakes a feed line that arrives with MONITOR's +OK for a reply under load.
 */
async function watchCommands(key: string): Promise<{ seen(what: string, enough: (c: KeyCommands) => boolean, limitMs?: number): Promise<void>; close(): Promise<void> }> {
  const url = new URL(broker.url);
  const socket = net.connect(Number(url.port), url.hostname);
  socket.setEncoding('utf8');
  const all: string[][] = [];
  const quotedKey = `"${key}"`;
  let buffer = '';
  let failure: Error | undefined;
  const monitoring = new Promise<void>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (line === '+OK') resolve();
        else if (line.startsWith('-')) reject((failure = new Error(`MONITOR: ${line.slice(1)}`)));
        else if (line.includes(quotedKey)) {
          // +1700000000.123456 [0 127.0.0.1:5000] "XINFO" "STREAM" "key"
          const name = /^\+[\d.]+ \[[^\]]*\] "([^"]+)"/.exec(line)?.[1];
          if (name) all.push([name.toLowerCase(), line]);
        }
      }
    });
  });
  const auth = url.password ? `AUTH ${url.username ? `${decodeURIComponent(url.username)} ` : ''}${decodeURIComponent(url.password)}\r\n` : '';
  socket.write(`${auth}MONITOR\r\n`);
  await within('MONITOR to start', monitoring, 10_000);
  const view: KeyCommands = {
    all,
    after(name) {
      const at = all.findIndex((a) => a[0] === name);
      return at < 0 ? [] : all.slice(at + 1);
    },
  };
  return {
    seen: (what, enough, limitMs = 10_000) =>
      until(what, () => {
        if (failure) throw failure;
        return enough(view);
      }, limitMs).catch((error: Error) => {
        throw new Error(`${error.message}; commands on ${key}: ${all.map((a) => a[0]).join(' ') || 'none'}`);
      }),
    async close() {
      socket.destroy();
    },
  };
}

/** Kills the connections blocked in XREAD on the test server (the monitor's reader). */
async function killMonitorConnections(): Promise<number> {
  let killed = 0;
  await until('a blocked XREAD connection', async () => ((await redis.client('LIST')) as string).split('\n').some((line) => /\bcmd=xread\s/.test(line)));
  for (const line of ((await redis.client('LIST')) as string).split('\n')) {
    if (!/\bcmd=xread\s/.test(line)) continue;
    const id = /\bid=(\d+)/.exec(line)?.[1];
    if (id) killed += Number(await redis.client('KILL', 'ID', id));
  }
  return killed;
}

async function portAccepts(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}


/**
 * 1200 order events with scripted quality episodes: duplicates, a missing field, a type change,
 * unparsable lines and outliers. Deterministic (a fixed LCG), so both sources see the same bytes.
 */
function qualityEpisodes(): string[] {
  let seed = 42;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const lines: string[] = [];
  for (let i = 0; i < 1200; i++) {
    const order: Record<string, unknown> = { order: i, amount: Math.round((20 + rand() * 60) * 100) / 100, country: ['DE', 'FR', 'US', 'JP'][i % 4], items: 1 + (i % 5) };
    if (i >= 300 && i < 380) lines.push(lines[i - 100]); // replayed events
    else if (i >= 500 && i < 600) lines.push(JSON.stringify({ order: i, amount: order.amount, items: order.items })); // country lost
    else if (i >= 700 && i < 760) lines.push(JSON.stringify({ ...order, amount: String(order.amount) })); // amount as text
    else if (i >= 850 && i < 880) lines.push(i % 2 ? `{"order": ${i}, "amount": ` : 'not json at all'); // truncated or garbage
    else if (i >= 1000 && i < 1060) lines.push(JSON.stringify({ ...order, amount: 1e9 + i })); // absurd amounts
    else lines.push(JSON.stringify(order));
  }
  return lines;
}

interface PipelineRun {
  metrics: MetricsEvent[];
  alerts: Array<AlertEvent | RecoveredEvent>;
  statuses: StatusEvent[];
  ends: number[];
}

function listen(pipeline: RealtimePipeline): PipelineRun {
  const out: PipelineRun = { metrics: [], alerts: [], statuses: [], ends: [] };
  pipeline.on('metrics', (e) => void out.metrics.push(e));
  pipeline.on('alert', (e) => void out.alerts.push(e));
  pipeline.on('recovered', (e) => void out.alerts.push(e));
  pipeline.on('status', (e) => void out.statuses.push(e));
  pipeline.on('end', (e) => void out.ends.push(e.records));
  return out;
}

/** What must match between sources: everything but the clock, the rate and the backend-native positions. */
function comparable(e: PipelineEvent): unknown {
  if (e.type === 'metrics') {
    const { time: _t, throughput: _r, ...rest } = e;
    return rest;
  }
  if (e.type === 'alert' || e.type === 'recovered') {
    const { time: _t, samples, ...rest } = e;
    return { ...rest, samples: samples.map((x) => x.record) };
  }
  return e;
}

describe('RealtimePipeline on a Redis stream', () => {
  test('detection results identical to the file source on the same records', async () => {
    const lines = qualityEpisodes();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-redis-vs-file-'));
    const file = path.join(dir, 'orders.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const key = uniqueKey('vs-file');
    const pipelineWrite = redis.pipeline();
    for (const line of lines) pipelineWrite.xadd(key, '*', 'data', line);
    const ids = ((await pipelineWrite.exec()) ?? []).map(([err, id]) => {
      if (err) throw err;
      return id as string;
    });
    try {
      // A window of 200: the baseline is learnt before the first episode (record 300).
      const config = () => resolvePipelineConfig({ windowSize: 200, checkInterval: { records: 100 } });
      const fromFile = new RealtimePipeline('orders', new FileSource({ backend: 'file', topic: file, from: { kind: 'earliest' } }, recordingContext().ctx), config());
      const fileRun = listen(fromFile);
      await fromFile.run();

      const source = new RedisStreamSource(spec(broker.url, key, { kind: 'earliest' }), recordingContext().ctx);
      openSources.add(source);
      const fromRedis = new RealtimePipeline('orders', source, config(), { limit: lines.length });
      const redisRun = listen(fromRedis);
      await fromRedis.run();

      assert.equal(fileRun.metrics.length, 12);
      assert.deepEqual(fileRun.ends, [1200]);
      assert.deepEqual(redisRun.ends, [1200]);
      assert.deepEqual(redisRun.metrics.map(comparable), fileRun.metrics.map(comparable));
      // Alert messages name the latest offending record's position: a line number, or its stream ID.
      const asRedis = (a: AlertEvent | RecoveredEvent) => ({ ...a, message: a.message.replace(/\(position (\d+)\)/, (_, line) => `(position ${ids[Number(line) - 1]})`) });
      assert.deepEqual(redisRun.alerts.map(comparable), fileRun.alerts.map(asRedis).map(comparable));
      // The episodes are seen at all (otherwise equality would prove little).
      const detectorsAlerted = new Set(fileRun.alerts.filter((a) => a.type === 'alert').map((a) => a.detector));
      assert.deepEqual([...detectorsAlerted].sort(), ['duplicates', 'missing', 'outliers', 'parse', 'schema']);
      // Samples point at the same records: line numbers in the file, stream IDs in Redis.
      for (const [i, a] of redisRun.alerts.entries()) {
        assert.deepEqual(a.samples.map((x) => x.position), a.samples.map((x) => ids[x.record - 1]));
        assert.deepEqual(fileRun.alerts[i].samples.map((x) => x.position), a.samples.map((x) => x.record));
      }
      const issues = fromRedis.samples('parse', 3);
      assert.deepEqual(issues.map((x) => x.position), issues.map((x) => ids[x.record - 1]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing stream shows as waiting in the pipeline status, then running once it appears', async () => {
    const key = `${uniqueKey('pipeline-missing')}:${randomBytes(8).toString('hex')}`;
    const pipeline = new RealtimePipeline(
      'late',
      (ctx) => {
        const source = new RedisStreamSource(spec(broker.url, key, { kind: 'latest' }), ctx, { blockMs: 100 });
        openSources.add(source);
        return source;
      },
      resolvePipelineConfig({ checkInterval: { records: 10 } }),
      { limit: 20 },
    );
    const events = listen(pipeline);
    const running = pipeline.run();
    await until('the waiting status', () => pipeline.state === 'waiting');
    assert.equal(pipeline.message, `stream ${key} does not exist on ${new URL(broker.url).host}; waiting for it to be created`);
    await addRecords(redis, key, 0, 20);
    await running;
    assert.deepEqual(events.ends, [20]);
    assert.deepEqual(events.metrics.map((m) => m.records), [10, 20]);
    assert.deepEqual(
      events.statuses.map((e) => e.state),
      ['connecting', 'connecting', 'waiting', 'running', 'stopped'],
    );
    assert.equal(events.statuses[3].message, `Stream "${key}" appeared at ${new URL(broker.url).host}; reading it`);
  });

  test('its own redis-server restarted under a running pipeline: reconnecting, running again, and exactly the records added', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'clean-redis-pipeline-restart-'));
    const script = path.join(repoRoot, 'scripts', 'brokers', 'redis.sh');
    const own = async (action: 'start' | 'stop') => (await run('bash', [script, action, stateDir], { cwd: repoRoot })).stdout.trim().split('\n').pop() ?? '';
    const url = await own('start');
    const { hostname, port } = new URL(url);
    const client = new Redis({ host: hostname, port: Number(port), protocol: 2, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {});
    const pipeline = new RealtimePipeline('restart', (ctx) => new RedisStreamSource(spec(url, 'events', { kind: 'latest' }), ctx), resolvePipelineConfig({ checkInterval: { records: 50 } }));
    const events = listen(pipeline);
    let running: Promise<void> | undefined;
    try {
      await client.connect();
      await addRecords(client, 'events', 0, 40); // before the monitor starts: not counted (latest)
      running = pipeline.run();
      await until('the pipeline running', () => pipeline.state === 'running');
      await addRecords(client, 'events', 40, 300);
      await until('300 records', () => pipeline.engine.records === 300);
      client.disconnect();
      await own('stop');
      await until('reconnecting', () => pipeline.state === 'reconnecting');
      assert.equal(await own('start'), url);
      await client.connect();
      await addRecords(client, 'events', 340, 200);
      await until('500 records', () => pipeline.engine.records === 500);
      // An end marker as record 501: once it is counted, nothing else was in flight.
      await client.xadd('events', '*', 'data', endMarker('pipeline'));
      await until('the end marker counted', () => pipeline.engine.records >= 501);
      assert.equal(pipeline.engine.records, 501);
      assert.equal(pipeline.state, 'running');
      const states = events.statuses.map((e) => e.state);
      const firstReconnect = states.indexOf('reconnecting');
      assert.ok(firstReconnect > 0 && states.indexOf('running', firstReconnect) > firstReconnect, states.join(' -> '));
      assert.match(events.statuses[firstReconnect].message, /^Lost Redis at 127\.0\.0\.1:\d+ \(.+\)\. Retrying in 0\.25 s; will resume after ID \d+-\d+\.$/);
      assert.deepEqual(events.metrics.map((m) => m.records).slice(0, 10), [50, 100, 150, 200, 250, 300, 350, 400, 450, 500]);
    } finally {
      await pipeline.stop();
      await running;
      client.disconnect();
      await own('stop');
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('RedisStreamSource on a private TLS server (rediss://)', () => {
  test('reads through TLS with the server CA given as ?ca=; without it a TLS error that says to give the CA; NOAUTH once a password is required', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'clean-redis-tls-'));
    const cert = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    const pidFile = path.join(dir, 'redis.pid');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
    const port = await freePort();
    await run('redis-server', [
      '--bind', '127.0.0.1', '--port', '0', '--tls-port', String(port), '--tls-cert-file', cert, '--tls-key-file', keyFile,
      '--tls-ca-cert-file', cert, '--tls-auth-clients', 'no', '--save', '', '--appendonly', 'no',
      '--daemonize', 'yes', '--pidfile', pidFile, '--logfile', path.join(dir, 'redis.log'), '--dir', dir,
    ]);
    const tlsClient = new Redis({ host: '127.0.0.1', port, tls: { ca: readFileSync(cert) }, protocol: 2, lazyConnect: true, retryStrategy: () => null });
    tlsClient.on('error', () => {});
    try {
      await until('the TLS server to listen', () => portAccepts(port));
      await tlsClient.connect();
      const ids = await addRecords(tlsClient, 'secure', 0, 5);
      const source = new RedisStreamSource(parseSourceUrl(`rediss://127.0.0.1:${port}/secure?ca=${encodeURIComponent(cert)}`, { kind: 'earliest' }), recordingContext().ctx);
      await source.connect();
      const reading = drain(source);
      await reading.waitFor(5);
      await source.close();
      await reading.done;
      assert.deepEqual(
        reading.messages.map((m) => m.position),
        ids,
      );

      const untrusted = new RedisStreamSource(parseSourceUrl(`rediss://127.0.0.1:${port}/secure`, { kind: 'earliest' }), recordingContext().ctx);
      await assert.rejects(untrusted.connect(), (err: unknown) => {
        assert.ok(err instanceof SourceError);
        assert.equal(err.code, 'tls');
        assert.match(err.message, new RegExp(`^TLS handshake with Redis at 127\\.0\\.0\\.1:${port} failed \\(DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate\\)\\. If the server uses its own CA, give its certificate with \\?ca=<file> \\(tls\\.ca in a config file\\)\\.$`));
        return true;
      });
      await untrusted.close();

      // The same private server, now with a password on the default user: NOAUTH without a secret.
      await tlsClient.config('SET', 'requirepass', 'server-secret-1');
      const tlsUrl = `rediss://127.0.0.1:${port}/secure?ca=${encodeURIComponent(cert)}`;
      const anonymous = new RedisStreamSource(parseSourceUrl(tlsUrl, { kind: 'earliest' }), recordingContext().ctx);
      await assert.rejects(anonymous.connect(), {
        name: 'SourceError',
        message: `Redis at 127.0.0.1:${port} requires a password (NOAUTH). Store it as a secret and add ?secret=<name> to the source URL.`,
      });
      await anonymous.close();
      const withSecret = new RedisStreamSource(parseSourceUrl(`${tlsUrl}&secret=pw`, { kind: 'earliest' }), recordingContext({ pw: 'server-secret-1' }).ctx);
      await withSecret.connect();
      const again = drainTracked(withSecret);
      await again.waitFor(5);
      await withSecret.close();
      await again.done;
      assert.equal(again.messages.length, 5);
    } finally {
      tlsClient.disconnect();
      const pid = Number(readFileSync(pidFile, 'utf8'));
      process.kill(pid, 'SIGTERM');
      await until('the TLS server to exit', () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
