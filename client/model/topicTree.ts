/** The rows of the "Monitored Topics" tree, as plain data; client/topicsView.ts turns them into TreeItems. */
import type { Backend, DecodeInfo, DetectorName, PipelineState } from '../../shared/protocol';
import type { PipelineEntry } from './pipelineStore';
import { levelOf, type HealthLevel } from './statusBarState';
import { formatClock, formatCount, formatPercent, formatScore, formatThroughput } from './format';
import { baselineTooltip, learningNow, learningOf, learningShort } from './baseline';
import { inert } from './inertText';
import { conditionOf, problemOf, type PipelineCondition } from './pipelineHealth';
import { sourceAddressOf, sourceUrlFromCli } from './sourceAddress';

/** What a row needs besides its pipeline: the time, whether the agent gave up, the pipeline's mute, its twin label. */
export interface RowContext {
  now?: number;
  /** The agent stopped for good at this time (restart limit reached). */
  agentStoppedAt?: number;
  /** Alerts of this topic are muted until this time. */
  mutedUntil?: number;
  /** What tells this row apart from others with the same label (an address or config file), shown first. */
  distinguisher?: string;
}

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
  /** Whether its numbers are live, and if not, why. */
  condition: PipelineCondition;
  muted: boolean;
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

/** An alert sink of the pipeline's config file that is failing or dropped events ("alerts → slack"). */
export interface SinkNode extends NodeBase {
  kind: 'sink';
  sink: string;
}

export type TopicNode = PipelineNode | DetectorNode | FieldNode | SinkNode;

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

/**
 * Transitional and failed states show their own icon; a running pipeline shows its backend (a bell-slash when muted),
 * coloured by score; old numbers (stale, or the agent stopped) show a clock or a broken plug instead.
 */
export function pipelineIcon(entry: PipelineEntry, context: RowContext = {}): NodeIcon {
  const { info } = entry;
  const condition = conditionOf(info.state, entry.stale === true, context.agentStoppedAt !== undefined);
  if (condition === 'agent-stopped') return { id: 'debug-disconnect', color: 'disabledForeground' };
  if (condition === 'stale') return { id: 'history', color: 'charts.yellow' };
  switch (info.state) {
    case 'connecting':
      return { id: 'loading~spin' };
    case 'waiting':
      return { id: 'watch', color: 'charts.yellow' };
    case 'reconnecting':
      return { id: 'sync~spin', color: 'charts.yellow' };
    case 'paused':
      return { id: 'debug-pause', color: 'disabledForeground' };
    case 'error':
      return { id: 'error', color: 'errorForeground' };
    case 'stopped':
      return { id: 'circle-slash', color: 'disabledForeground' };
    case 'running':
      return {
        id: context.mutedUntil !== undefined ? 'bell-slash' : BACKEND_ICONS[info.backend] ?? 'pulse',
        color: info.score === undefined ? undefined : LEVEL_COLORS[levelOf(info.score, info.threshold)],
      };
    default:
      return { id: 'question' };
  }
}

/** `0.74 at 12:03:04`: a last score that is not live, with when it was. */
function lastScore(entry: PipelineEntry): string | undefined {
  const { info, metrics } = entry;
  if (info.score === undefined) return undefined;
  return metrics ? `${formatScore(info.score)} at ${formatClock(metrics.time)}` : formatScore(info.score);
}

export function pipelineNode(entry: PipelineEntry, context: RowContext = {}): PipelineNode {
  const { info } = entry;
  const condition = conditionOf(info.state, entry.stale === true, context.agentStoppedAt !== undefined);
  const parts: string[] = [];
  if (context.distinguisher) parts.push(context.distinguisher);
  if (condition === 'agent-stopped' || condition === 'stale') {
    // The last numbers, said to be old: never a bare score that reads as live.
    parts.push(condition === 'stale' ? 'stale' : 'agent stopped');
    const last = lastScore(entry);
    if (last) parts.push(last);
  } else {
    if (info.state === 'running' || info.state === 'paused') {
      parts.push(info.score === undefined ? '–' : formatScore(info.score));
      if (info.state === 'running' && info.throughput !== undefined) parts.push(formatThroughput(info.throughput));
    }
    const learning = learningNow(info);
    if (learning) parts.push(learningShort(learning));
    if (info.state !== 'running') parts.push(info.state);
    const problem = problemOf(info);
    if (problem) parts.push(problem);
  }
  const decoded = decodeShort(entry);
  if (decoded && condition !== 'agent-stopped') parts.push(decoded);
  // A `workers:` pipeline says how many engine threads share its partitions.
  if (info.threads !== undefined && condition !== 'agent-stopped') parts.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  // A pipeline with `group:` watches a group of agents: its name and how many agents are merged now.
  if (info.group && condition !== 'agent-stopped') parts.push(`group ${info.group.name} · ${info.group.agents.length} agent${info.group.agents.length === 1 ? '' : 's'}`);
  if (info.name !== info.topic && info.name !== context.distinguisher) parts.push(info.name);
  const muted = context.mutedUntil !== undefined;
  if (muted) parts.push(`muted until ${formatClock(context.mutedUntil!).slice(0, 5)}`);
  const live = condition !== 'agent-stopped' && condition !== 'stale' && condition !== 'down';
  const children = live ? detectorNodes(entry).length + fieldNodes(entry).length + sinkNodes(entry).length : 0;
  return {
    kind: 'pipeline',
    id: `pipeline:${info.id}`,
    pipeline: info.id,
    label: inert(info.topic),
    description: inert(parts.join(' · ')),
    tooltip: pipelineTooltip(entry, context),
    icon: pipelineIcon(entry, context),
    // `pipeline.<state>`, then `.undo` when the last baseline change can be undone, then `.muted` (menus match the parts).
    contextValue: `pipeline.${info.state}${info.canUndoBaseline ? '.undo' : ''}${muted ? '.muted' : ''}`,
    state: info.state,
    condition,
    muted,
    hasChildren: children > 0,
  };
}

/** Every pipeline's row; rows that share a label lead their description with what tells them apart. */
export function pipelineNodes(entries: readonly PipelineEntry[], context: (entry: PipelineEntry) => RowContext = () => ({})): PipelineNode[] {
  const twins = distinguishers(entries);
  return entries.map((e) => pipelineNode(e, { ...context(e), distinguisher: twins.get(e.info.id) }));
}

/**
 * For rows with the same label (topic): the part that differs, by pipeline id. The address when the addresses differ,
 * else the config file when each has one and those differ, else the pipeline's id.
 */
export function distinguishers(entries: readonly PipelineEntry[]): Map<string, string> {
  const byLabel = new Map<string, PipelineEntry[]>();
  for (const e of entries) {
    const same = byLabel.get(e.info.topic);
    if (same) same.push(e);
    else byLabel.set(e.info.topic, [e]);
  }
  const out = new Map<string, string>();
  for (const group of byLabel.values()) {
    if (group.length < 2) continue;
    const address = (e: PipelineEntry) => {
      const url = sourceUrlFromCli(e.info.cliCommand);
      const a = url ? sourceAddressOf(url) : undefined;
      return a ? a.hostPorts : e.info.backend;
    };
    const file = (e: PipelineEntry) => decodeURIComponent(e.info.configUri!.replace(/\/+$/, '').split('/').pop()!);
    const byFile = group.every((e) => e.info.configUri) ? [file] : [];
    const pick = [address, ...byFile].find((f) => new Set(group.map(f)).size === group.length) ?? ((e: PipelineEntry) => e.info.id);
    for (const e of group) out.set(e.info.id, pick(e));
  }
  return out;
}

export function pipelineTooltip(entry: PipelineEntry, context: RowContext = {}): string {
  const { info, metrics } = entry;
  const condition = conditionOf(info.state, entry.stale === true, context.agentStoppedAt !== undefined);
  const lines = [`${info.name} — ${condition === 'agent-stopped' ? 'agent stopped' : condition === 'stale' ? 'stale' : info.state}`, info.description];
  if (condition === 'agent-stopped') {
    lines.push(`The agent stopped at ${formatClock(context.agentStoppedAt!)} and was not restarted: the numbers below are its last, not live. Run "Clean: Restart Agent".`);
  } else if (condition === 'stale' && metrics) {
    lines.push(`No check since ${formatClock(metrics.time)}: the numbers below are old, not live.`);
  }
  if (info.message) lines.push(info.message);
  if (info.score !== undefined) lines.push(`${condition === 'agent-stopped' || condition === 'stale' ? 'Last quality score' : 'Quality score'} ${formatScore(info.score)} (alert below ${formatScore(info.threshold)})`);
  // Before its first check a pipeline has learnt nothing worth a line.
  lines.push(...baselineTooltip(info.score !== undefined ? info.baseline : undefined));
  const flow: string[] = [];
  if (info.throughput !== undefined) flow.push(formatThroughput(info.throughput));
  if (info.records !== undefined) flow.push(`${formatCount(info.records)} records`);
  if (metrics) flow.push(`window ${formatCount(metrics.window)}`);
  if (flow.length) lines.push(flow.join(' · '));
  if (metrics) lines.push(`Last check ${formatClock(metrics.time)}`);
  const decodeLine = decodeTooltip(entry);
  if (decodeLine) lines.push(decodeLine);
  if (info.group) lines.push(`Watches group "${info.group.name}": ${info.group.agents.length ? `agents ${info.group.agents.join(', ')} merged` : 'no agent live'} (summaries in "${info.group.summariesTopic}"); the group's agents read the topic and announce its alerts to the sinks.`);
  for (const alert of entry.activeAlerts.values()) lines.push(`⚠ ${alert.severity}: ${alert.message}`);
  if (context.mutedUntil !== undefined) lines.push(`Alerts of this topic are muted until ${formatClock(context.mutedUntil)} ("Clean: Unmute" ends it).`);
  if (info.configUri) lines.push(`From ${decodeURIComponent(info.configUri.replace(/^file:\/\//, ''))}`);
  return inert(lines.join('\n'));
}

/** What the pipeline's records decode as: from its latest check (it follows a new writer schema), else from its status. */
function decodeOf(entry: PipelineEntry): DecodeInfo | undefined {
  return entry.metrics?.decode ?? entry.info.decode;
}

/**
 * The format and writer schema for the row: `avro orders-value v3`, `protobuf plant.proto`; the subject is left out
 * where it is the topic itself (Pulsar's registry), and a schema file shows by its name. Undefined for plain JSON.
 */
export function decodeShort(entry: PipelineEntry): string | undefined {
  const d = decodeOf(entry);
  if (!d || (d.format as string) === 'unknown') return undefined;
  const parts: string[] = [d.format];
  const subject = d.subject === undefined || d.subject === entry.info.topic ? undefined : d.subject.includes('/') && d.subject === d.origin ? d.subject.slice(d.subject.lastIndexOf('/') + 1) : d.subject;
  if (subject) parts.push(subject);
  if (d.version !== undefined) parts.push(`v${d.version}`);
  return parts.join(' ');
}

/** The tooltip's line on decoding: `Decoded as avro: orders-value v3 (schema id 7), record shop.Order, from http://…`. */
function decodeTooltip(entry: PipelineEntry): string | undefined {
  const d = decodeOf(entry);
  if (!d) return undefined;
  const held = d.held ? ` · ${formatCount(d.held)} record${d.held === 1 ? '' : 's'} held out of the score` : '';
  if ((d.format as string) === 'unknown') return held ? `Not decoded yet${held}` : undefined;
  const schema: string[] = [];
  if (d.subject !== undefined) schema.push(d.version !== undefined ? `${d.subject} v${d.version}` : d.subject);
  if (d.schemaId !== undefined) schema.push(`(schema id ${d.schemaId})`);
  const parts = [schema.join(' '), d.record ? `record ${d.record}` : '', d.origin && d.origin !== d.subject ? `from ${d.origin}` : ''].filter(Boolean);
  return `Decoded as ${d.format}${parts.length ? `: ${parts.join(', ')}` : ''}${held}`;
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
  // A field's issue is news only while its detector stands out or an active alert names the field: after a recovery,
  // a field the stream stopped sending ("customerId missing 100%") is not a problem of the healthy pipeline.
  const named = new Set<string>();
  for (const alert of entry.activeAlerts.values()) for (const f of alert.fields) if (f.name !== null) named.add(`${alert.detector ?? ''}\u0000${f.name}`);
  const flagged = (detector: DetectorName, field: string) => m.detectors[detector]?.out === true || named.has(`${detector}\u0000${field}`) || named.has(`\u0000${field}`);
  for (const [field, f] of Object.entries(m.fields)) {
    const issues: Array<[string, number]> = [];
    if (f.missing > 0 && flagged('missing', field)) issues.push(['missing', f.missing]);
    if (f.outliers !== undefined && f.outliers > 0 && flagged('outliers', field)) issues.push(['outliers', f.outliers]);
    if (f.rules !== undefined && f.rules > 0 && flagged('rules', field)) issues.push(['rules', f.rules]);
    if (issues.length === 0) continue;
    const worst = Math.max(...issues.map(([, v]) => v));
    rows.push({
      worst,
      node: {
        kind: 'field',
        id: `field:${entry.info.id}:${field}`,
        pipeline: entry.info.id,
        field,
        label: inert(field),
        description: issues.map(([k, v]) => `${k} ${formatPercent(v)}`).join(' · '),
        tooltip: inert(`Field "${field}"${f.type ? ` (${f.type})` : ''}: ${issues.map(([k, v]) => `${formatPercent(v)} ${k}`).join(', ')} of window records`),
        icon: { id: 'symbol-field' },
        contextValue: 'field',
      },
    });
  }
  rows.sort((a, b) => b.worst - a.worst || a.node.field.localeCompare(b.node.field));
  return rows.map((r) => r.node);
}

/** A pipeline's detector and field rows, while its numbers are live (none when down, stale or the agent stopped). */
export function childrenOf(entry: PipelineEntry, context: RowContext = {}): TopicNode[] {
  const condition = conditionOf(entry.info.state, entry.stale === true, context.agentStoppedAt !== undefined);
  if (condition === 'agent-stopped' || condition === 'stale' || condition === 'down') return [];
  return [...detectorNodes(entry), ...fieldNodes(entry), ...sinkNodes(entry)];
}

/**
 * A row per alert sink that is failing now or has dropped or given up on events: `alerts → slack` ·
 * `failing (HTTP 500) · 3 dropped`. A sink that delivers fine has no row: nothing to act on.
 */
export function sinkNodes(entry: PipelineEntry): SinkNode[] {
  const out: SinkNode[] = [];
  for (const s of entry.info.sinks ?? []) {
    if (!s.failing && s.dropped === 0 && s.failed === 0) continue;
    const parts: string[] = [];
    if (s.failing) parts.push(`failing${s.lastError ? ` (${s.lastError})` : ''}`);
    if (s.failed > 0) parts.push(`${formatCount(s.failed)} not delivered`);
    if (s.dropped > 0) parts.push(`${formatCount(s.dropped)} dropped`);
    const tooltip = [
      `Alert sink ${s.name} (${s.kind}) of this pipeline's config file.`,
      s.failing ? `Its last delivery failed${s.lastError ? `: ${s.lastError}` : ''}; it retries with backoff.` : 'It delivers again now.',
      `${formatCount(s.delivered)} delivered · ${formatCount(s.failed)} given up after retries · ${formatCount(s.dropped)} dropped (queue full) · ${formatCount(s.queued)} waiting.`,
      'Use "Send test alert" above the sink in the config file to try it.',
    ];
    out.push({
      kind: 'sink',
      id: `sink:${entry.info.id}:${s.name}`,
      pipeline: entry.info.id,
      sink: s.name,
      label: inert(`alerts → ${s.name}`),
      description: inert(parts.join(' · ')),
      tooltip: inert(tooltip.join('\n')),
      icon: s.failing ? { id: 'error', color: LEVEL_COLORS.error } : { id: 'warning', color: LEVEL_COLORS.warning },
      contextValue: s.failing ? 'sink.failing' : 'sink',
    });
  }
  return out;
}
