/** What a command was invoked on: a tree row, a notification action, a code lens, or nothing (the palette). */

export interface PipelineTarget {
  pipeline: string;
  detector?: string;
}

/** Accepts a pipeline id, a tree node or `{pipeline, detector?}`; undefined means "ask the user". */
export function pipelineTarget(arg: unknown): PipelineTarget | undefined {
  if (typeof arg === 'string' && arg) return { pipeline: arg };
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { pipeline?: unknown; detector?: unknown; kind?: unknown };
  if (typeof o.pipeline !== 'string' || !o.pipeline) return undefined;
  return typeof o.detector === 'string' && o.detector ? { pipeline: o.pipeline, detector: o.detector } : { pipeline: o.pipeline };
}

/** Code lenses pass `{configUri, pipelineName}`; anything else is not a configured start. */
export function configuredStart(arg: unknown): { configUri: string; pipelineName: string } | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const o = arg as { configUri?: unknown; pipelineName?: unknown };
  return typeof o.configUri === 'string' && typeof o.pipelineName === 'string' ? { configUri: o.configUri, pipelineName: o.pipelineName } : undefined;
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
