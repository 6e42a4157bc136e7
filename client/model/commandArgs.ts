/** What a command was invoked on: a tree row, a notification action, a code lens, or nothing (the palette). */

import type { AlertEvent } from '../../server/engine/events';

export interface PipelineTarget {
  pipeline: string;
  detector?: string;
  field?: string;
  /** The time of the alert whose records to show (Show Samples on an alert's notification or chart marker). */
  alert?: number;
}

/** Accepts a pipeline id, a tree node or `{pipeline, detector?, field?}`; undefined means "ask the user". */
export function pipelineTarget(arg: unknown): PipelineTarget | undefined {
  if (typeof arg === 'string' && arg) return { pipeline: arg };
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { pipeline?: unknown; detector?: unknown; field?: unknown; alert?: unknown };
  if (typeof o.pipeline !== 'string' || !o.pipeline) return undefined;
  const out: PipelineTarget = { pipeline: o.pipeline };
  if (typeof o.detector === 'string' && o.detector) out.detector = o.detector;
  if (typeof o.field === 'string' && o.field) out.field = o.field;
  if (typeof o.alert === 'number' && Number.isFinite(o.alert)) out.alert = o.alert;
  return out;
}

/** An alert handed over by its notification ("This is normal"): the parts that say what to accept. */
export function alertTarget(arg: unknown): Pick<AlertEvent, 'pipeline' | 'detector' | 'fields'> | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { type?: unknown; pipeline?: unknown; detector?: unknown; fields?: unknown };
  if (o.type !== 'alert' || typeof o.pipeline !== 'string' || !o.pipeline || !Array.isArray(o.fields)) return undefined;
  if (o.detector !== null && typeof o.detector !== 'string') return undefined;
  const fields = o.fields.filter((f): f is AlertEvent['fields'][number] => typeof f === 'object' && f !== null && (typeof f.name === 'string' || f.name === null));
  return { pipeline: o.pipeline, detector: o.detector as AlertEvent['detector'], fields };
}

/** Code lenses pass `{configUri, pipelineName}`; anything else is not a configured start. */
export function configuredStart(arg: unknown): { configUri: string; pipelineName: string } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { configUri?: unknown; pipelineName?: unknown };
  return typeof o.configUri === 'string' && typeof o.pipelineName === 'string' ? { configUri: o.configUri, pipelineName: o.pipelineName } : undefined;
}

/** The "Send test alert" lens on a sink in clean.yaml passes `{ configUri, sink }`; anything else is not one. */
export function testSinkTarget(arg: unknown): { configUri: string; sink: string } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { configUri?: unknown; sink?: unknown };
  return typeof o.configUri === 'string' && o.configUri !== '' && typeof o.sink === 'string' && o.sink !== '' ? { configUri: o.configUri, sink: o.sink } : undefined;
}

/** A code lens on a topic in source code passes `{ uri, position }` (the topic's place); anything else is not one. */
export function lensTopicAt(arg: unknown): { uri: string; position: { line: number; character: number } } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { uri?: unknown; position?: { line?: unknown; character?: unknown } };
  const p = o.position;
  if (typeof o.uri !== 'string' || !o.uri || typeof p !== 'object' || p === null) return undefined;
  if (!Number.isInteger(p.line) || !Number.isInteger(p.character) || (p.line as number) < 0 || (p.character as number) < 0) return undefined;
  return { uri: o.uri, position: { line: p.line as number, character: p.character as number } };
}

/** Whether "Monitor this topic" applies to a file name (mirrors the `when` clauses in package.json menus). */
export function isMonitorableFile(fileName: string): boolean {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  return (
    /^clean\.ya?ml$/i.test(base) ||
    /\.clean\.ya?ml$/i.test(base) ||
    /^(docker-)?compose.*\.ya?ml$/i.test(base) ||
    /^application.*\.(ya?ml|properties)$/i.test(base) ||
    /^\.env/i.test(base) ||
    /\.json$/i.test(base)
  );
}
