// The Clean Streams quality chart (webview side). Messages follow client/model/chartMessages.ts exactly.
// Drawn data is mirrored on document.body.dataset (points, threshold, alerts, learning, …) so end-to-end tests can read it.
// @ts-check
/* global uPlot, acquireVsCodeApi */
(function () {
  'use strict';

  const vscode = acquireVsCodeApi();
  /** Points older than this are dropped: the agent keeps six hours (10 s points before its last restart), the chart a little more. */
  const RETAIN_SECONDS = 6 * 3600 + 5 * 60;
  /** Distinct round ticks and clock labels (media/chartAxes.js, loaded first). */
  const axesMath = /** @type {any} */ (window).cleanChartAxes;
  /** Minimum pixels between ticks: time labels are wider than rate labels. */
  const TIME_TICK_PX = 90;
  const RATE_TICK_PX = 32;
  /** Drop old points in chunks, not one shift per check. */
  const TRIM_SLACK = 120;
  const DETECTOR_ORDER = ['outliers', 'duplicates', 'missing', 'schema', 'parse', 'rules', 'labels'];
  const MARKER_HIT_PX = 7;
  /** Learning periods kept per pipeline (one per reset of its baseline). */
  const MAX_PERIODS = 20;

  const saved = vscode.getState() || null;
  /** @type {{focus: string|null, hidden: string[]}} */
  let state = { focus: saved && typeof saved.focus === 'string' ? saved.focus : null, hidden: saved && Array.isArray(saved.hidden) ? saved.hidden : [] };

  /**
   * Per pipeline: columns of checks (time in seconds), detector rates, alerts, and its learning periods (seconds;
   * `until` null while it still learns): the latest from the agent's history, later ones as checks arrive.
   * @type {Map<string, {time: number[], score: number[], detectors: Map<string, Array<number|null>>, threshold: number, alerts: any[],
   *   learning: boolean, periods: Array<{from: number, until: number|null}>}>}
   */
  const series = new Map();
  /** @type {Array<{id: string, label: string, threshold: number, state: string, learning?: string, status?: string}>} */
  let pipelines = [];

  const chartEl = /** @type {HTMLElement} */ (document.getElementById('chart'));
  const selectEl = /** @type {HTMLSelectElement} */ (document.getElementById('pipeline-select'));
  const summaryEl = /** @type {HTMLElement} */ (document.getElementById('summary'));
  const tipEl = /** @type {HTMLElement} */ (document.getElementById('alert-tip'));
  const emptyEl = /** @type {HTMLElement} */ (document.getElementById('empty'));
  const learningEl = /** @type {HTMLElement} */ (document.getElementById('learning'));
  const statusEl = /** @type {HTMLElement} */ (document.getElementById('status'));
  const dataEl = /** @type {HTMLElement} */ (document.getElementById('chart-data'));

  /** @type {any} */
  let plot = null;
  /** Identifies the plot's series layout; a different one needs a new plot. */
  let plotKey = '';
  let drawPending = false;
  let draws = 0;
  let builds = 0;
  /** Alert markers drawn in the last frame, in CSS pixels relative to the plot area. */
  /** @type {Array<{x: number, alert: any}>} */
  let markers = [];

  function persist() {
    vscode.setState(state);
  }

  // ----------------------------------------------------------------- data

  function entry(id, threshold) {
    let s = series.get(id);
    if (!s) {
      s = { time: [], score: [], detectors: new Map(), threshold: threshold ?? 0.8, alerts: [], learning: false, periods: [] };
      series.set(id, s);
    }
    return s;
  }

  function loadHistory(history) {
    series.clear();
    for (const h of history) {
      const s = entry(h.pipeline, h.threshold);
      s.time = h.time.map((t) => t / 1000);
      s.score = h.score.slice();
      for (const [name, values] of Object.entries(h.detectors || {})) s.detectors.set(name, values.slice());
      s.alerts = (h.alerts || []).slice();
      s.learning = h.learning === true;
      s.periods = typeof h.learningFrom === 'number' ? [{ from: h.learningFrom / 1000, until: typeof h.learningUntil === 'number' ? h.learningUntil / 1000 : null }] : [];
    }
  }

  function appendMetrics(m) {
    const known = pipelines.find((p) => p.id === m.pipeline);
    const s = entry(m.pipeline, known ? known.threshold : undefined);
    const t = m.time / 1000;
    if (s.time.length && t <= s.time[s.time.length - 1]) return;
    const n = s.time.length;
    s.time.push(t);
    s.score.push(m.score);
    // The first check of a learning period (the first, or after a reset) opens a band; the first ready one closes it.
    const learning = !!(m.baseline && m.baseline.state === 'learning');
    const open = s.periods.length ? s.periods[s.periods.length - 1] : undefined;
    if (learning && !s.learning) {
      s.periods.push({ from: t, until: null });
      if (s.periods.length > MAX_PERIODS) s.periods.shift();
    } else if (!learning && open && open.until === null) open.until = t;
    s.learning = learning;
    for (const [name, d] of Object.entries(m.detectors || {})) {
      if (!s.detectors.has(name)) s.detectors.set(name, new Array(n).fill(null));
    }
    for (const [name, values] of s.detectors) {
      const d = m.detectors && m.detectors[name];
      values.push(d ? d.rate : null);
    }
    trim(s);
  }

  function trim(s) {
    const last = s.time[s.time.length - 1];
    let cut = 0;
    while (cut < s.time.length && s.time[cut] < last - RETAIN_SECONDS) cut++;
    if (cut > TRIM_SLACK || (cut > 0 && s.time.length > 4 * 3600)) {
      s.time.splice(0, cut);
      s.score.splice(0, cut);
      for (const values of s.detectors.values()) values.splice(0, cut);
      s.periods = s.periods.filter((p) => p.until === null || p.until >= s.time[0]);
    }
    const oldest = s.time[0] ?? last;
    if (s.alerts.length > 200) s.alerts = s.alerts.filter((a) => a.time / 1000 >= oldest);
  }

  // ----------------------------------------------------------------- theme

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.body).getPropertyValue(name).trim();
    return v || fallback;
  }

  function theme() {
    return {
      kind: document.body.classList.contains('vscode-light') ? 'light' : document.body.classList.contains('vscode-high-contrast') ? 'high-contrast' : 'dark',
      fg: cssVar('--vscode-foreground', '#cccccc'),
      muted: cssVar('--vscode-descriptionForeground', '#999999'),
      grid: cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', 'rgba(128,128,128,0.25)')),
      font: `${cssVar('--vscode-font-size', '12px')} ${cssVar('--vscode-font-family', 'sans-serif')}`,
      red: cssVar('--vscode-charts-red', '#f14c4c'),
      yellow: cssVar('--vscode-charts-yellow', '#cca700'),
      green: cssVar('--vscode-charts-green', '#89d185'),
      palette: ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-purple', '--vscode-charts-green', '--vscode-charts-yellow', '--vscode-charts-red', '--vscode-charts-foreground'].map((v, i) =>
        cssVar(v, ['#3794ff', '#d18616', '#b180d7', '#89d185', '#cca700', '#f14c4c', '#cccccc'][i]),
      ),
    };
  }

  // ----------------------------------------------------------------- layout of the plot

  /** What to draw now: x values, series definitions, thresholds and alerts in view. */
  function view() {
    const focused = state.focus && series.has(state.focus) ? state.focus : null;
    if (focused) {
      const s = /** @type {any} */ (series.get(focused));
      const names = [...s.detectors.keys()].sort((a, b) => DETECTOR_ORDER.indexOf(a) - DETECTOR_ORDER.indexOf(b));
      return {
        key: `one:${focused}:${names.join(',')}`,
        data: [s.time, s.score, ...names.map((n) => s.detectors.get(n))],
        lines: [{ label: 'score', scale: 'score' }, ...names.map((n) => ({ label: n, scale: 'rate' }))],
        thresholds: [s.threshold],
        alerts: s.alerts.map((a) => ({ ...a, _id: focused })),
        bands: learningBands([focused]),
      };
    }
    const ids = pipelines.map((p) => p.id).filter((id) => series.has(id) && /** @type {any} */ (series.get(id)).time.length > 0);
    for (const id of series.keys()) if (!ids.includes(id) && /** @type {any} */ (series.get(id)).time.length > 0) ids.push(id);
    const tables = ids.map((id) => {
      const s = /** @type {any} */ (series.get(id));
      return perSecond(s.time, s.score);
    });
    const data = tables.length === 0 ? [[]] : tables.length === 1 ? tables[0] : uPlot.join(tables);
    const thresholds = [...new Set(ids.map((id) => /** @type {any} */ (series.get(id)).threshold))];
    return {
      key: `all:${ids.join(',')}`,
      data,
      lines: ids.map((id) => ({ label: id, scale: 'score' })),
      thresholds,
      alerts: ids.flatMap((id) => /** @type {any} */ (series.get(id)).alerts.map((a) => ({ ...a, _id: id }))),
      bands: learningBands(ids),
    };
  }

  /**
   * The learning periods of these pipelines, in seconds: from a period's first learning check (or the first point,
   * when that scrolled away) to its first ready check, or to the latest point while it still learns.
   * @returns {Array<{id: string, from: number, until: number, open: boolean}>}
   */
  function learningBands(ids) {
    const out = [];
    for (const id of ids) {
      const s = series.get(id);
      if (!s || s.time.length === 0) continue;
      const first = s.time[0];
      const last = s.time[s.time.length - 1];
      for (const p of s.periods) {
        const until = p.until ?? last;
        const from = Math.max(p.from, first);
        if (until < from) continue;
        out.push({ id, from, until, open: p.until === null });
      }
    }
    return out;
  }

  /**
   * One point per whole second, so pipelines checked at the same pace share x values and the joined table
   * stays as long as one pipeline's, not the sum of all of them.
   */
  function perSecond(time, values) {
    const xs = [];
    const ys = [];
    for (let i = 0; i < time.length; i++) {
      const x = Math.round(time[i]);
      if (xs.length && xs[xs.length - 1] === x) ys[ys.length - 1] = values[i];
      else {
        xs.push(x);
        ys.push(values[i]);
      }
    }
    return [xs, ys];
  }

  let current = view();

  function pct(v) {
    return v == null ? '–' : `${(v * 100).toFixed(v < 0.1 ? 2 : 1)}%`;
  }

  function build() {
    const t = theme();
    current = view();
    if (plot) plot.destroy();
    plot = null;
    const hasData = current.data[0].length > 0;
    emptyEl.hidden = hasData || pipelines.length > 0;
    const lines = current.lines.map((l, i) => {
      const isScore = l.scale === 'score';
      const color = t.palette[i % t.palette.length];
      return {
        label: l.label,
        scale: l.scale,
        stroke: color,
        width: isScore ? 2 : 1.25,
        dash: isScore ? undefined : [4, 3],
        spanGaps: true,
        points: { show: false },
        show: !state.hidden.includes(l.label),
        value: (_u, v) => (v == null ? '–' : isScore ? v.toFixed(3) : pct(v)),
      };
    });
    const hasRates = current.lines.some((l) => l.scale === 'rate');
    const axis = { stroke: t.fg, grid: { stroke: t.grid, width: 1 }, ticks: { stroke: t.grid, width: 1 }, font: t.font };
    const opts = {
      width: Math.max(200, chartEl.clientWidth),
      height: Math.max(160, chartEl.clientHeight - 40),
      pxAlign: 0,
      cursor: { points: { size: 5 }, drag: { x: true, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true },
        score: { range: [0, 1] },
        rate: { range: (_u, _min, max) => [0, Math.max(0.1, Math.min(1, (max || 0) * 1.2))] },
      },
      axes: [
        {
          ...axis,
          splits: (u, _i, min, max) => axesMath.timeTicks(min, max, u.bbox.width / devicePixelRatio / TIME_TICK_PX, -new Date().getTimezoneOffset()).ticks,
          values: (u, ticks) => axesMath.timeLabels(ticks, ticks.length > 1 ? ticks[1] - ticks[0] : 60, -new Date().getTimezoneOffset()),
        },
        { ...axis, scale: 'score', space: 36, label: 'quality score', labelFont: t.font, values: (_u, vals) => vals.map((v) => String(Math.round(v * 100) / 100)) },
        ...(hasRates
          ? [{
              ...axis, scale: 'rate', side: 1, grid: { show: false }, label: 'detector rate', labelFont: t.font,
              splits: (u, _i, min, max) => axesMath.rateTicks(min, max, u.bbox.height / devicePixelRatio / RATE_TICK_PX),
              values: (_u, ticks) => axesMath.rateLabels(ticks),
            }]
          : []),
      ],
      series: [{ label: 'time', value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toLocaleTimeString()) }, ...lines],
      hooks: {
        draw: [(u) => drawOverlays(u, t)],
        setCursor: [(u) => hoverMarker(u)],
        setSeries: [(u, i) => rememberToggle(u, i)],
      },
    };
    plot = new uPlot(opts, /** @type {any} */ (current.data), chartEl);
    plotKey = current.key;
    // The legend's height is known only after layout.
    requestAnimationFrame(fitHeight);
    builds++;
    document.body.dataset.theme = t.kind;
    document.body.dataset.builds = String(builds);
    publish();
  }

  /** Threshold lines and alert markers, in canvas pixels, after uPlot drew the series. */
  function drawOverlays(u, t) {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    ctx.save();
    drawLearningBands(u, t);
    ctx.lineWidth = Math.max(1, devicePixelRatio);
    ctx.strokeStyle = t.red;
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
    for (const th of current.thresholds) {
      const y = Math.round(u.valToPos(th, 'score', true)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(left + width, y);
      ctx.stroke();
    }
    ctx.setLineDash([]);
    markers = [];
    const [xmin, xmax] = [u.scales.x.min, u.scales.x.max];
    const s = 5 * devicePixelRatio;
    for (const a of current.alerts) {
      const x = a.time / 1000;
      if (xmin == null || x < xmin || x > xmax) continue;
      const cx = u.valToPos(x, 'x', true);
      ctx.fillStyle = a.type === 'recovered' ? t.green : a.severity === 'critical' ? t.red : t.yellow;
      ctx.beginPath();
      if (a.type === 'recovered') {
        ctx.arc(cx, top + s, s * 0.7, 0, Math.PI * 2);
      } else {
        ctx.moveTo(cx - s, top);
        ctx.lineTo(cx + s, top);
        ctx.lineTo(cx, top + s * 1.6);
        ctx.closePath();
      }
      ctx.fill();
      ctx.globalAlpha = 0.35;
      ctx.strokeStyle = ctx.fillStyle;
      ctx.beginPath();
      ctx.moveTo(cx, top);
      ctx.lineTo(cx, top + height);
      ctx.stroke();
      ctx.globalAlpha = 1;
      markers.push({ x: u.valToPos(x, 'x'), alert: a });
    }
    ctx.restore();
    draws++;
    publish();
  }

  /** A shaded band (theme grey, so it never reads as a series) over each learning period, labelled where it fits. */
  function drawLearningBands(u, t) {
    const ctx = u.ctx;
    const { top, height } = u.bbox;
    const [xmin, xmax] = [u.scales.x.min, u.scales.x.max];
    if (xmin == null || xmax == null) return;
    for (const b of current.bands) {
      const from = Math.max(b.from, xmin);
      const until = Math.min(b.until, xmax);
      if (until < from) continue;
      const x0 = u.valToPos(from, 'x', true);
      // A band of one point still shows: at least 3 CSS pixels wide.
      const x1 = Math.max(u.valToPos(until, 'x', true), x0 + 3 * devicePixelRatio);
      ctx.globalAlpha = 0.14;
      ctx.fillStyle = t.muted;
      ctx.fillRect(x0, top, x1 - x0, height);
      ctx.globalAlpha = 1;
      const text = current.key.startsWith('one:') ? 'learning' : `learning · ${b.id}`;
      ctx.font = `${Math.round(11 * devicePixelRatio)}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
      if (x1 - x0 > ctx.measureText(text).width + 8 * devicePixelRatio) {
        ctx.fillStyle = t.muted;
        ctx.textBaseline = 'bottom';
        ctx.fillText(text, x0 + 4 * devicePixelRatio, top + height - 4 * devicePixelRatio);
      }
    }
  }

  function hoverMarker(u) {
    const left = u.cursor.left;
    const hit = left == null || left < 0 ? undefined : nearestMarker(left);
    if (!hit) {
      tipEl.hidden = true;
      return;
    }
    const a = hit.alert;
    const when = new Date(a.time).toLocaleTimeString();
    tipEl.textContent = `${a.type === 'recovered' ? 'recovered' : a.severity} · ${a._id} · ${when}\n${a.message}${a.type === 'alert' ? '\nClick for the samples behind it.' : ''}`;
    tipEl.hidden = false;
    const over = u.over.getBoundingClientRect();
    tipEl.style.left = `${Math.min(window.innerWidth - tipEl.offsetWidth - 8, over.left + hit.x + 10)}px`;
    tipEl.style.top = `${over.top + 8}px`;
  }

  function nearestMarker(left) {
    let best;
    for (const m of markers) {
      const d = Math.abs(m.x - left);
      if (d <= MARKER_HIT_PX && (!best || d < Math.abs(best.x - left))) best = m;
    }
    return best;
  }

  function rememberToggle(u, i) {
    if (i == null || i === 0) return;
    const s = u.series[i];
    const hidden = new Set(state.hidden);
    if (s.show) hidden.delete(s.label);
    else hidden.add(s.label);
    state = { ...state, hidden: [...hidden] };
    persist();
    publish();
  }

  /** Mirrors what is drawn, for people (summary) and for tests (dataset and #chart-data). */
  function publish() {
    const points = {};
    const shown = [];
    current.lines.forEach((l, i) => {
      const col = current.data[i + 1] || [];
      let n = 0;
      for (let k = 0; k < col.length; k++) if (col[k] != null) n++;
      points[l.label] = n;
      if (!state.hidden.includes(l.label)) shown.push(l.label);
    });
    const info = {
      focus: state.focus,
      points,
      shown,
      threshold: current.thresholds.length ? current.thresholds[0] : null,
      thresholds: current.thresholds,
      alerts: current.alerts.filter((a) => a.type === 'alert').length,
      markers: markers.length,
      learning: learningText(),
      bands: current.bands.map((b) => ({ id: b.id, from: b.from * 1000, until: b.open ? null : b.until * 1000 })),
      draws,
      builds,
      theme: document.body.dataset.theme || '',
    };
    const b = document.body.dataset;
    b.focus = state.focus ?? '*';
    b.points = JSON.stringify(points);
    b.shown = JSON.stringify(shown);
    b.threshold = info.threshold == null ? '' : String(info.threshold);
    b.alerts = String(info.alerts);
    b.markers = String(info.markers);
    b.learning = info.learning;
    b.bands = JSON.stringify(info.bands);
    learningEl.textContent = info.learning;
    if (learningEl.hidden !== (info.learning === '')) {
      learningEl.hidden = info.learning === '';
      // The banner takes or gives back height: the plot follows.
      requestAnimationFrame(fitHeight);
    }
    b.draws = String(draws);
    dataEl.textContent = JSON.stringify(info);
    summary();
    showStatus();
  }

  /** The header's line for pipelines whose numbers are not live (down, stale, agent stopped); hidden when all are. */
  function showStatus() {
    const ids = state.focus ? [state.focus] : pipelines.map((p) => p.id);
    const text = pipelines.filter((p) => p.status && ids.includes(p.id)).map((p) => (state.focus ? p.status : `${p.id}: ${p.status}`)).join(' · ');
    document.body.dataset.status = text;
    statusEl.textContent = text;
    if (statusEl.hidden !== (text === '')) {
      statusEl.hidden = text === '';
      requestAnimationFrame(fitHeight);
    }
  }

  function summary() {
    const ids = state.focus ? [state.focus] : pipelines.map((p) => p.id);
    const parts = ids.map((id) => {
      const s = series.get(id);
      const last = s && s.score.length ? s.score[s.score.length - 1] : undefined;
      const p = pipelines.find((q) => q.id === id);
      // A pipeline that is not live shows why, never its last number as if it were current.
      if (p && p.status) return `${id}: ${p.status}`;
      return `${id}: ${last === undefined ? '–' : last.toFixed(2)}${p && p.state !== 'running' ? ` (${p.state})` : ''}`;
    });
    summaryEl.textContent = parts.join(' · ');
  }

  /** The label of the shown pipeline while it learns; with all pipelines shown, one per learning pipeline. */
  function learningText() {
    if (state.focus) {
      const p = pipelines.find((q) => q.id === state.focus);
      return p && p.learning ? p.learning : '';
    }
    return pipelines.filter((p) => p.learning).map((p) => `${p.id}: ${p.learning}`).join(' · ');
  }

  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      const next = view();
      if (!plot || next.key !== plotKey) build();
      else {
        current = next;
        plot.setData(current.data);
      }
    });
  }

  function renderSelect() {
    const options = [{ value: '', text: 'All pipelines' }, ...pipelines.map((p) => ({ value: p.id, text: p.label }))];
    if (state.focus && !pipelines.some((p) => p.id === state.focus)) options.push({ value: state.focus, text: `${state.focus} (stopped)` });
    selectEl.replaceChildren(
      ...options.map((o) => {
        const el = document.createElement('option');
        el.value = o.value;
        el.textContent = o.text;
        el.selected = (state.focus ?? '') === o.value;
        return el;
      }),
    );
  }

  // ----------------------------------------------------------------- messages

  window.addEventListener('message', (event) => {
    const msg = event.data;
    try {
      switch (msg && msg.type) {
        case 'init':
          pipelines = msg.pipelines;
          loadHistory(msg.history);
          for (const p of pipelines) entry(p.id, p.threshold).threshold = p.threshold;
          state = { ...state, focus: msg.focus };
          persist();
          renderSelect();
          build();
          return;
        case 'metrics':
          for (const m of msg.events) appendMetrics(m);
          scheduleDraw();
          return;
        case 'alert': {
          const s = entry(msg.event.pipeline);
          s.alerts.push(msg.event);
          scheduleDraw();
          return;
        }
        case 'pipelines':
          pipelines = msg.pipelines;
          for (const p of pipelines) entry(p.id, p.threshold).threshold = p.threshold;
          renderSelect();
          publish();
          scheduleDraw();
          return;
        case 'focus':
          state = { ...state, focus: msg.pipeline };
          persist();
          renderSelect();
          build();
          return;
      }
    } catch (err) {
      vscode.postMessage({ type: 'error', message: String(err && err.stack ? err.stack : err) });
    }
  });

  selectEl.addEventListener('change', () => {
    const focus = selectEl.value || null;
    state = { ...state, focus };
    persist();
    vscode.postMessage({ type: 'focus', pipeline: focus });
    build();
  });

  chartEl.addEventListener('click', () => {
    if (!plot) return;
    const left = plot.cursor.left;
    const hit = left == null || left < 0 ? undefined : nearestMarker(left);
    if (hit && hit.alert.type === 'alert') vscode.postMessage({ type: 'showSamples', pipeline: hit.alert._id, detector: hit.alert.detector, alert: hit.alert.time });
  });

  /** The plot takes the panel's height minus its legend (which wraps with many series). */
  function fitHeight() {
    if (!plot) return;
    const legend = plot.root.querySelector('.u-legend');
    const legendHeight = legend ? legend.offsetHeight : 40;
    const style = getComputedStyle(chartEl);
    const inner = chartEl.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const width = chartEl.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    plot.setSize({ width: Math.max(200, width), height: Math.max(160, inner - legendHeight - 4) });
  }

  window.addEventListener('resize', fitHeight);

  // VS Code swaps the body's theme class on a theme change: rebuild with the new colours.
  new MutationObserver(() => {
    if (plot) build();
  }).observe(document.body, { attributes: true, attributeFilter: ['class'] });

  window.addEventListener('error', (e) => vscode.postMessage({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));

  renderSelect();
  publish();
  vscode.postMessage({ type: 'ready', state });
})();
