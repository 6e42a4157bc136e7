/**
 * The defaults, calibrated on realistic data: the demo's orders have heavy-tailed amounts and delivery
 * delays and optional fields that are null most of the time. Clean data must stay quiet; each fault
 * episode must raise its detector's alert, and recover after it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealtimePipeline } from '../../server/engine/pipeline';
import { resolvePipelineConfig } from '../../server/engine/config';
import { DemoSource, DEMO_RULES, episodeAt, type DemoOptions } from '../../server/sources/demo';
import type { AlertEvent, RecoveredEvent } from '../../server/engine/events';

const ctx = { log: { debug() {}, info() {}, warn() {}, error() {} }, status() {}, secret: async () => undefined };

async function replay(options: Record<string, number>, records: number) {
  const src = new DemoSource({ backend: 'demo', topic: 'orders', from: { kind: 'earliest' }, options: { rate: 0, ...options } }, ctx);
  const p = new RealtimePipeline('demo', src, resolvePipelineConfig({ checkInterval: { records: 250 }, fields: DEMO_RULES }), { limit: records });
  const events: Array<AlertEvent | RecoveredEvent> = [];
  let worst = 1;
  p.on('alert', (e) => events.push(e));
  p.on('recovered', (e) => events.push(e));
  p.on('metrics', (m) => (worst = Math.min(worst, m.score)));
  await p.run();
  return { events, worst, options: src.options };
}

test('clean realistic data (heavy tails, mostly-null fields) raises no alert over 60,000 records', async () => {
  const { events, worst } = await replay({ calm: 1e6 }, 60_000);
  assert.deepEqual(events.map((e) => e.message), []);
  assert.ok(worst > 0.95, `worst score ${worst}`);
});

test('every fault episode raises its own detector alert inside the episode, and recovers after', async () => {
  // 7,000 calm records, then six episodes of 3,000 records, each followed by 7,000 calm ones.
  const { events, options } = await replay({}, 67_000);
  const o = options as DemoOptions;
  const byEpisode = new Map<string, string[]>();
  for (const e of events) {
    if (e.type !== 'alert' || e.detector === null) continue;
    // The episode this alert belongs to: the one covering the record a few checks earlier.
    const ep = episodeAt(e.records - 1, o) ?? episodeAt(e.records - 1 - 1000, o);
    assert.ok(ep, `alert at ${e.records} outside every episode: ${e.message}`);
    const list = byEpisode.get(ep!) ?? [];
    if (!list.includes(e.detector)) list.push(e.detector); // a warning may escalate to critical
    byEpisode.set(ep!, list);
  }
  assert.deepEqual(Object.fromEntries(byEpisode), {
    duplicates: ['duplicates'],
    missing: ['missing'],
    schema: ['schema', 'rules'],
    parse: ['parse'],
    outliers: ['outliers'],
    rules: ['rules'],
  });
  // Every alert is followed by a recovery of the same metric: no episode leaves an alert open.
  const open = new Set<string>();
  for (const e of events) {
    const key = e.detector ?? 'score';
    if (e.type === 'alert') open.add(key);
    else open.delete(key);
  }
  assert.deepEqual([...open], []);
});
