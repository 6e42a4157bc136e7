// The quality chart's axis ticks (issue 17.9): distinct, round percentages on the detector-rate axis, and clock
// times on the time axis with seconds only when the span is short. Plain JavaScript shared by the webview (a
// `cleanChartAxes` global, loaded before chart.js) and the unit tests (module.exports); no DOM, no uPlot.
// @ts-check
(function (root) {
  'use strict';

  /** Rate steps as fractions: 0.1 %, 0.2 %, 0.25 %, 0.5 %, 1 %, … 50 %, 100 %. */
  const RATE_STEPS = [0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1];
  /** Time steps in seconds, up to six hours (the history the agent keeps). */
  const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600];
  /** Below this step the time labels carry seconds. */
  const SECONDS_BELOW = 60;

  /**
   * The smallest step of `steps` that puts at most `maxTicks` ticks in [min, max], and those ticks (multiples of the
   * step, shifted by `offset`), rounded so that float noise never makes two labels of one value.
   * @param {number} min @param {number} max @param {number} maxTicks @param {number[]} steps @param {number} offset
   */
  function niceTicks(min, max, maxTicks, steps, offset) {
    const span = Math.max(0, max - min);
    const limit = Math.max(2, Math.floor(maxTicks));
    let step = steps[steps.length - 1];
    for (const s of steps) {
      if (Math.floor(span / s) + 1 <= limit) {
        step = s;
        break;
      }
    }
    const ticks = [];
    const first = Math.ceil((min - offset) / step - 1e-9) * step + offset;
    for (let v = first, i = 0; v <= max + step * 1e-9 && i < 1000; i++, v = first + i * step) ticks.push(Math.round(v * 1e9) / 1e9);
    return { step, ticks };
  }

  /**
   * Ticks for the detector-rate axis: round percentages, at most `maxTicks`.
   * @param {number} min @param {number} max @param {number} maxTicks
   * @returns {number[]}
   */
  function rateTicks(min, max, maxTicks) {
    return niceTicks(min, max, maxTicks, RATE_STEPS, 0).ticks;
  }

  /**
   * Labels for rate ticks, with as many decimals as their spacing needs, so no two read the same ("2.5%", "5%").
   * @param {number[]} ticks
   * @returns {string[]}
   */
  function rateLabels(ticks) {
    const step = (ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 0.01) * 100;
    let decimals = 0;
    while (decimals < 3 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
    return ticks.map((v) => {
      const text = (v * 100).toFixed(decimals);
      return `${text.includes('.') ? text.replace(/\.?0+$/, '') : text}%`;
    });
  }

  /**
   * Ticks for the time axis, in seconds since the epoch, on round local clock times.
   * @param {number} min @param {number} max @param {number} maxTicks
   * @param {number} offsetMinutes the local time's offset east of UTC (-new Date().getTimezoneOffset())
   * @returns {{step: number, ticks: number[]}}
   */
  function timeTicks(min, max, maxTicks, offsetMinutes) {
    // Round clock times are round in local time: shift by the offset, take multiples, shift back.
    return niceTicks(min, max, maxTicks, TIME_STEPS, -offsetMinutes * 60);
  }

  /**
   * Clock labels for time ticks: "14:05" normally, "14:05:30" when the step is under a minute. 24-hour, local.
   * @param {number[]} ticks seconds since the epoch
   * @param {number} step seconds between ticks
   * @param {number} offsetMinutes
   * @returns {string[]}
   */
  function timeLabels(ticks, step, offsetMinutes) {
    const pad = (n) => String(n).padStart(2, '0');
    return ticks.map((t) => {
      const local = Math.round(t + offsetMinutes * 60);
      const day = ((local % 86400) + 86400) % 86400;
      const hh = Math.floor(day / 3600);
      const mm = Math.floor((day % 3600) / 60);
      const ss = day % 60;
      return step < SECONDS_BELOW ? `${pad(hh)}:${pad(mm)}:${pad(ss)}` : `${pad(hh)}:${pad(mm)}`;
    });
  }

  const api = { rateTicks, rateLabels, timeTicks, timeLabels, RATE_STEPS, TIME_STEPS };
  if (typeof module === 'object' && module.exports) module.exports = api;
  else root.cleanChartAxes = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
