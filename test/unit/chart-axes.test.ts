/** Issue 17.9: the chart's axes (media/chartAxes.js) and "Show Samples" on an alert (client/model/samplesText.ts, commandArgs.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseSamplesQuery, samplesPath, samplesQuery, samplesText } from '../../client/model/samplesText';
import { pipelineTarget } from '../../client/model/commandArgs';

interface ChartAxes {
  rateTicks(min: number, max: number, maxTicks: number): number[];
  rateLabels(ticks: number[]): string[];
  timeTicks(min: number, max: number, maxTicks: number, offsetMinutes: number): { step: number; ticks: number[] };
  timeLabels(ticks: number[], step: number, offsetMinutes: number): string[];
}
const axes = createRequire(__filename)(path.join(__dirname, '..', '..', 'media', 'chartAxes.js')) as ChartAxes;

/** 2026-12-02 06:00:18.500 UTC, in seconds (uPlot's time unit). */
const T = Date.UTC(2026, 11, 2, 6, 0, 18, 500) / 1000;

test('rate axis: round steps, every label distinct', () => {
  // The range a 9.4 % peak gets (max * 1.2 = 11.28 %) on a 300 px axis: 9 ticks at most.
  assert.deepEqual(axes.rateLabels(axes.rateTicks(0, 0.1128, 9)), ['0%', '2%', '4%', '6%', '8%', '10%']);
  assert.deepEqual(axes.rateLabels(axes.rateTicks(0, 0.1128, 4)), ['0%', '5%', '10%']);
  assert.deepEqual(axes.rateLabels(axes.rateTicks(0, 0.1, 5)), ['0%', '2.5%', '5%', '7.5%', '10%']);
  assert.deepEqual(axes.rateLabels(axes.rateTicks(0, 0.012, 6)), ['0%', '0.25%', '0.5%', '0.75%', '1%']);
  assert.deepEqual(axes.rateLabels(axes.rateTicks(0, 1, 6)), ['0%', '20%', '40%', '60%', '80%', '100%']);
  for (const max of [0.1, 0.1128, 0.37, 0.9]) {
    for (const n of [3, 5, 8, 12]) {
      const labels = axes.rateLabels(axes.rateTicks(0, max, n));
      assert.equal(new Set(labels).size, labels.length, `repeated label for max ${max}, ${n} ticks: ${labels.join(', ')}`);
      assert.ok(labels.length <= n, `${labels.length} ticks for at most ${n}`);
    }
  }
});

test('time axis: clock times, seconds only when the span is short', () => {
  const minute = axes.timeTicks(T, T + 60, 7, 0);
  assert.equal(minute.step, 10);
  assert.deepEqual(axes.timeLabels(minute.ticks, minute.step, 0), ['06:00:20', '06:00:30', '06:00:40', '06:00:50', '06:01:00', '06:01:10']);
  const fiveMinutes = axes.timeTicks(T, T + 300, 6, 0);
  assert.equal(fiveMinutes.step, 60);
  assert.deepEqual(axes.timeLabels(fiveMinutes.ticks, fiveMinutes.step, 0), ['06:01', '06:02', '06:03', '06:04', '06:05']);
  const hour = axes.timeTicks(T, T + 3600, 8, 60); // UTC+1
  assert.equal(hour.step, 600);
  assert.deepEqual(axes.timeLabels(hour.ticks, hour.step, 60), ['07:10', '07:20', '07:30', '07:40', '07:50', '08:00']);
  const sixHours = axes.timeTicks(T, T + 6 * 3600, 8, 330); // UTC+5:30: ticks on the local hour
  assert.equal(sixHours.step, 3600);
  assert.deepEqual(axes.timeLabels(sixHours.ticks, sixHours.step, 330), ['12:00', '13:00', '14:00', '15:00', '16:00', '17:00']);
  // Never a fraction of a second (":18.500").
  const short = axes.timeTicks(T, T + 4, 10, 0);
  assert.deepEqual(axes.timeLabels(short.ticks, short.step, 0), ['06:00:19', '06:00:20', '06:00:21', '06:00:22']);
});

test('Show Samples on an alert asks for that alert\'s records and says so', () => {
  const alert = Date.UTC(2026, 11, 2, 6, 0, 18, 500);
  assert.deepEqual(pipelineTarget({ pipeline: 'orders', detector: 'duplicates', alert }), { pipeline: 'orders', detector: 'duplicates', alert });
  assert.deepEqual(pipelineTarget({ pipeline: 'orders', alert: 'soon' }), { pipeline: 'orders' });
  const query = samplesQuery('orders', 'duplicates', alert);
  assert.equal(query, `pipeline=orders&detector=duplicates&alert=${alert}`);
  assert.deepEqual(parseSamplesQuery(query), { pipeline: 'orders', detector: 'duplicates', alert });
  assert.deepEqual(parseSamplesQuery('pipeline=orders'), { pipeline: 'orders' });
  assert.equal(samplesPath('orders', 'duplicates', alert), '/orders · duplicates alert 06:00:18.jsonl');
  assert.equal(samplesPath('orders', undefined, alert), '/orders · score alert 06:00:18.jsonl');
  const text = samplesText({ pipeline: 'orders', detector: 'duplicates', alert }, [
    { record: 812, position: '0@811', detector: 'duplicates', reason: 'repeats record 790', text: '{"id":7}', time: alert - 20 },
  ], new Date(alert + 600_000));
  assert.equal(text, [
    '// Clean Streams samples of orders behind the duplicates alert at 2026-12-02T06:00:18.500Z: 1 record, newest first, as kept when it fired.',
    '// One JSON object per line: position in the source, record number, detector, why, and the payload (cut at 2 KB).',
    '{"position":"0@811","record":812,"detector":"duplicates","reason":"repeats record 790","time":"2026-12-02T06:00:18.480Z","payload":{"id":7}}',
    '',
  ].join('\n'));
  assert.match(samplesText({ pipeline: 'orders', alert }, [], new Date(alert)), /\n\/\/ The agent no longer keeps the records behind this alert/);
});
