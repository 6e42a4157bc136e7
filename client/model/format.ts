/** Number and time formatting shared by the tree, status bar, chart titles and samples. */

/** A 0..1 score with two decimals, floored so 0.799 never reads as a passing 0.80. */
export function formatScore(score: number): string {
  if (!Number.isFinite(score)) return '–';
  const floored = Math.floor(Math.max(0, Math.min(1, score)) * 100 + 1e-9) / 100;
  return floored.toFixed(2);
}

/** A 0..1 rate as a percentage with one decimal below 10 %, none above. */
export function formatPercent(rate: number): string {
  if (!Number.isFinite(rate)) return '–';
  const pct = rate * 100;
  if (pct === 0) return '0%';
  if (pct < 0.1) return '<0.1%';
  return pct < 10 ? `${pct.toFixed(1)}%` : `${Math.round(pct)}%`;
}

/** Records per second: `840 rec/s`, `12.3k rec/s`, `1.2M rec/s`. */
export function formatThroughput(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond < 0) return '– rec/s';
  if (perSecond < 1000) return `${perSecond < 10 ? Math.round(perSecond * 10) / 10 : Math.round(perSecond)} rec/s`;
  if (perSecond < 1_000_000) return `${trim1(perSecond / 1000)}k rec/s`;
  return `${trim1(perSecond / 1_000_000)}M rec/s`;
}

/** A record count with thousands separators: `1,234,567`. */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Local wall-clock time `HH:MM:SS` of an epoch-milliseconds instant. */
export function formatClock(time: number): string {
  const d = new Date(time);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, '0')).join(':');
}

function trim1(v: number): string {
  const s = (Math.round(v * 10) / 10).toFixed(1);
  return s.endsWith('.0') ? s.slice(0, -2) : s;
}
