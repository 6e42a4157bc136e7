/** clean.yaml / *.clean.yaml (and .json): parsing, validation with exact ranges, and the pipelines they declare. */
import { parseCleanConfig } from './parse';
import type { ConfigDiagnostic, ConfiguredPipeline } from './parse';

export { ConfigCheckCancelled, parseCleanConfig, brokerList } from './parse';
export type { CleanConfigModel, ConfigDiagnostic, ConfiguredPipeline, ConnectionEntry, OffsetRange, ParseOptions, PipelineEntry } from './parse';
export { LineIndex } from './lines';

/**
 * What `clean-agent run <clean.yaml>` and the agent use: the valid pipelines of a config file and every
 * problem found (0-based ranges). A pipeline with an error is left out of `pipelines`.
 */
export function loadCleanConfig(text: string, fileName: string): { pipelines: ConfiguredPipeline[]; problems: ConfigDiagnostic[] } {
  const model = parseCleanConfig(text, fileName);
  return {
    pipelines: model.pipelines.flatMap((p) => (p.pipeline ? [p.pipeline] : [])),
    problems: model.diagnostics,
  };
}
