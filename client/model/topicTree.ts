/** The rows of the "Monitored Topics" tree, as plain data; client/topicsView.ts turns them into TreeItems. */
import type { Backend, DetectorName, PipelineState } from '../../shared/protocol';
import type { PipelineEntry } from './pipelineStore';
import { levelOf, type HealthLevel } from './statusBarState';
import { formatClock, formatCount, formatPercent, formatScore, formatThroughput } from './format';

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
    contextValue: `pipeline.${info.state}`,
    state: info.state,
    hasChildren: children > 0,
  };
}

export function pipelineTooltip(entry: PipelineEntry): string {
  const { info, metrics } = entry;
  const lines = [`${info.name} — ${info.state}`, info.description];
  if (info.message) lines.push(info.message);
  if (info.score !== undefined) lines.push(`Quality score ${formatScore(info.score)} (alert below ${formatScore(info.threshold)})`);
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

/** One row per detector the pipeline runs: its window rate against its threshold. */
export function detectorNodes(entry: PipelineEntry): DetectorNode[] {
  const m = entry.metrics;
  if (!m) return [];
  const out: DetectorNode[] = [];
  for (const [name, d] of Object.entries(m.detectors) as Array<[DetectorName, NonNullable<(typeof m.detectors)[DetectorName]>]>) {
    const level: HealthLevel = d.rate <= d.threshold ? 'ok' : d.rate >= Math.min(1, 3 * d.threshold) ? 'error' : 'warning';
    out.push({
      kind: 'detector',
      id: `detector:${entry.info.id}:${name}`,
      pipeline: entry.info.id,
      detector: name,
      label: name,
      description: `${formatPercent(d.rate)} / ${formatPercent(d.threshold)}`,
      tooltip: `${name}: ${formatCount(d.count)} of ${formatCount(m.window)} window records flagged (${formatPercent(d.rate)}); alert above ${formatPercent(d.threshold)}`,
      icon: { id: level === 'ok' ? 'pass' : level === 'warning' ? 'warning' : 'error', color: LEVEL_COLORS[level] },
      contextValue: level === 'ok' ? 'detector' : 'detector.flagged',
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
