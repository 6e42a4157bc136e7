/** clean.yaml / *.clean.yaml (and .json): parsing, validation with exact ranges, and the pipelines they declare. */
import { parseCleanConfig } from './parse';
import type { CleanConfigModel, ConfigDiagnostic, ConfiguredPipeline } from './parse';
import type { SinkConfig } from '../alerts/types';

export { ConfigCheckCancelled, parseCleanConfig, brokerList } from './parse';
export type { AlertSinkEntry, CleanConfigModel, ConfigDiagnostic, ConfiguredPipeline, ConnectionEntry, OffsetRange, ParseOptions, PipelineEntry } from './parse';
export { LineIndex } from './lines';

/**
 * What `clean-agent run <clean.yaml>` and the agent use: the valid pipelines of a config file and every
 * problem found (0-based ranges). A pipeline with an error is left out of `pipelines`.
 */
export function loadCleanConfig(text: string, fileName: string): { pipelines: ConfiguredPipeline[]; problems: ConfigDiagnostic[]; metrics?: CleanConfigModel['metrics']; alerts: SinkConfig[] } {
  const model = parseCleanConfig(text, fileName);
  return {
    pipelines: model.pipelines.flatMap((p) => (p.pipeline ? [p.pipeline] : [])),
    problems: model.diagnostics,
    metrics: model.metrics,
    // The valid alert sinks, top level and per pipeline (a pipeline's own carry pipelines: [its name]).
    alerts: model.alerts.map((a) => a.config),
  };
}
