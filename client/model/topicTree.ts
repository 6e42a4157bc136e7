/** The rows of the "Monitored Topics" tree, as plain data; client/topicsView.ts turns them into TreeItems. */
import type { Backend, DetectorName, PipelineState } from '../../shared/protocol';
import type { PipelineEntry } from './pipelineStore';
import { levelOf, type HealthLevel } from './statusBarState';
import { formatClock, formatCount, formatPercent, formatScore, formatThroughput } from './format';
import { baselineTooltip, learningNow, learningOf, learningShort } from './baseline';

/** A codicon id and an optional theme colour id. */
export interface NodeIcon {
  id: string;
  color?: string;
}

interface NodeBase {
  /** Stable across refreshes, so VS Code keeps expansion and selection. */
  id: string;
  pipeline: string;
  label: string;
  description: string;
  tooltip: string;
  icon: NodeIcon;
  /** Matched by `viewItem` in package.json menus. */
  contextValue: string;
}

export interface PipelineNode extends NodeBase {
  kind: 'pipeline';
  state: PipelineState;
  hasChildren: boolean;
}

export interface DetectorNode extends NodeBase {
  kind: 'detector';
  detector: DetectorName;
}

export interface FieldNode extends NodeBase {
  kind: 'field';
  field: string;
}

export type TopicNode = PipelineNode | DetectorNode | FieldNode;

export const BACKEND_ICONS: Record<Backend, string> = {
  kafka: 'server-process',
  redis: 'database',
  pulsar: 'broadcast',
  file: 'file',
  demo: 'beaker',
  memory: 'symbol-array',
};

const LEVEL_COLORS: Record<HealthLevel, string> = {
  ok: 'charts.green',
  warning: 'charts.yellow',
  error: 'charts.red',
};

/** Transitional and failed states show their own icon; a running pipeline shows its backend, coloured by score. */
export function pipelineIcon(entry: PipelineEntry): NodeIcon {
  const { info } = entry;
  switch (info.state) {
    case 'connecting':
      return { id: 'loading~spin' };
    case 'reconnecting':
      return { id: 'sync~spin', color: 'charts.yellow' };
    case 'paused':
      return { id: 'debug-pause', color: 'disabledForeground' };
    case 'error':
      return { id: 'error', color: 'errorForeground' };
    case 'stopped':
      return { id: 'circle-slash', color: 'disabledForeground' };
    case 'running':
      return { id: BACKEND_ICONS[info.backend] ?? 'pulse', color: info.score === undefined ? undefined : LEVEL_COLORS[levelOf(info.score, info.threshold)] };
  }
}

export function pipelineNode(entry: PipelineEntry): PipelineNode {
  const { info } = entry;
  const parts: string[] = [];
  if (info.state === 'running' || info.state === 'paused') {
    parts.push(info.score === undefined ? '–' : formatScore(info.score));
    if (info.state === 'running' && info.throughput !== undefined) parts.push(formatThroughput(info.throughput));
  }
  const learning = learningNow(info);
  if (learning) parts.push(learningShort(learning));
  if (info.state !== 'running') parts.push(info.state);
  if (info.name !== info.topic) parts.push(info.name);
  const children = detectorNodes(entry).length + fieldNodes(entry).length;
  return {
    kind: 'pipeline',
    id: `pipeline:${info.id}`,
    pipeline: info.id,
    label: info.topic,
    description: parts.join(' · '),
    tooltip: pipelineTooltip(entry),
    icon: pipelineIcon(entry),
    // `pipeline.<state>`, then `.undo` when the last baseline change can be undone (menus match both parts).
    contextValue: `pipeline.${info.state}${info.canUndoBaseline ? '.undo' : ''}`,
    state: info.state,
    hasChildren: children > 0,
  };
}

export function pipelineTooltip(entry: PipelineEntry): string {
  const { info, metrics } = entry;
  const lines = [`${info.name} — ${info.state}`, info.description];
  if (info.message) lines.push(info.message);
  if (info.score !== undefined) lines.push(`Quality score ${formatScore(info.score)} (alert below ${formatScore(info.threshold)})`);
  // Before its first check a pipeline has learnt nothing worth a line.
  lines.push(...baselineTooltip(info.score !== undefined ? info.baseline : undefined));
  const flow: string[] = [];
  if (info.throughput !== undefined) flow.push(formatThroughput(info.throughput));
  if (info.records !== undefined) flow.push(`${formatCount(info.records)} records`);
  if (metrics) flow.push(`window ${formatCount(metrics.window)}`);
  if (flow.length) lines.push(flow.join(' · '));
  if (metrics) lines.push(`Last check ${formatClock(metrics.time)}`);
  for (const alert of entry.activeAlerts.values()) lines.push(`⚠ ${alert.severity}: ${alert.message}`);
  if (info.configUri) lines.push(`From ${decodeURIComponent(info.configUri.replace(/^file:\/\//, ''))}`);
  return lines.join('\n');
}

/**
 * A detector that stands out is an error when it flags at least OUT_ERROR_RATE of the window or OUT_ERROR_FACTOR
 * times its threshold, else a warning; one that does not stand out is ok, whatever its rate.
 */
export const OUT_ERROR_RATE = 0.25;
export const OUT_ERROR_FACTOR = 3;
/** Detectors whose threshold is a hard limit even without a user-written one (the agent's rule). */
const HARD_LIMITED: readonly DetectorName[] = ['parse', 'duplicates', 'rules'];

export function detectorLevel(d: { rate: number; threshold: number; out?: boolean }): HealthLevel {
  if (d.out !== true) return 'ok';
  // 1e-9: so that 3 × 0.05 is 0.15, not 0.15000000000000002.
  return d.rate >= OUT_ERROR_RATE || (d.threshold > 0 && d.rate >= OUT_ERROR_FACTOR * d.threshold - 1e-9) ? 'error' : 'warning';
}

/** The second line of a detector's tooltip: how it is judged now. */
function detectorJudgement(name: DetectorName, d: { threshold: number; out?: boolean }, learning: boolean): string {
  const limit = HARD_LIMITED.includes(name) ? formatPercent(d.threshold) : undefined;
  // Rules are the user's contract: judged by their limit only, never learnt, never "normal".
  if (name === 'rules') return d.out === true ? `Past its ${limit} limit: your field rules are broken.` : `Alerts past its ${limit} limit.`;
  if (d.out === true) {
    return `Stands out from what this pipeline learnt as usual${limit ? ` or is past its ${limit} limit` : ''}. If this is the new normal, choose "This is normal".`;
  }
  if (learning) return `Still learning what is usual; ${limit ? `until then it alerts only past its ${limit} limit` : 'its alerts are held until then'}.`;
  return 'Within what this pipeline learnt as usual.';
}

/** One row per detector the pipeline runs: its window rate, judged by whether it stands out from the baseline now. */
export function detectorNodes(entry: PipelineEntry): DetectorNode[] {
  const m = entry.metrics;
  if (!m) return [];
  const learning = learningOf(entry.info.baseline ?? m.baseline) !== undefined;
  const out: DetectorNode[] = [];
  for (const [name, d] of Object.entries(m.detectors) as Array<[DetectorName, NonNullable<(typeof m.detectors)[DetectorName]>]>) {
    const level = detectorLevel(d);
    out.push({
      kind: 'detector',
      id: `detector:${entry.info.id}:${name}`,
      pipeline: entry.info.id,
      detector: name,
      label: name,
      description: d.out === true ? `${formatPercent(d.rate)} · stands out` : formatPercent(d.rate),
      tooltip: `${name}: ${formatCount(d.count)} of ${formatCount(m.window)} window records flagged (${formatPercent(d.rate)}).\n${detectorJudgement(name, d, learning)}`,
      icon: { id: level === 'ok' ? 'pass' : level === 'warning' ? 'warning' : 'error', color: LEVEL_COLORS[level] },
      // `detector`, `.rules` for the user's contract (never "normal"), `.out` while it stands out.
      contextValue: `detector${name === 'rules' ? '.rules' : ''}${d.out === true ? '.out' : ''}`,
    });
  }
  return out;
}

/** One row per field that has issues in the window, worst first. */
export function fieldNodes(entry: PipelineEntry): FieldNode[] {
  const m = entry.metrics;
  if (!m) return [];
  const rows: Array<{ node: FieldNode; worst: number }> = [];
  for (const [field, f] of Object.entries(m.fields)) {
    const issues: Array<[string, number]> = [];
    if (f.missing > 0) issues.push(['missing', f.missing]);
    if (f.outliers !== undefined && f.outliers > 0) issues.push(['outliers', f.outliers]);
    if (f.rules !== undefined && f.rules > 0) issues.push(['rules', f.rules]);
    if (issues.length === 0) continue;
    const worst = Math.max(...issues.map(([, v]) => v));
    rows.push({
      worst,
      node: {
        kind: 'field',
        id: `field:${entry.info.id}:${field}`,
        pipeline: entry.info.id,
        field,
        label: field,
        description: issues.map(([k, v]) => `${k} ${formatPercent(v)}`).join(' · '),
        tooltip: `Field "${field}"${f.type ? ` (${f.type})` : ''}: ${issues.map(([k, v]) => `${formatPercent(v)} ${k}`).join(', ')} of window records`,
        icon: { id: 'symbol-field' },
        contextValue: 'field',
      },
    });
  }
  rows.sort((a, b) => b.worst - a.worst || a.node.field.localeCompare(b.node.field));
  return rows.map((r) => r.node);
}

export function childrenOf(entry: PipelineEntry): TopicNode[] {
  return [...detectorNodes(entry), ...fieldNodes(entry)];
}
