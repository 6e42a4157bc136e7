/** What the client-model unit tests build their rows from: a running Kafka pipeline's info, as the agent sends it. */
import type { PipelineInfo } from '../../shared/protocol';

export function pipelineInfo(id: string, over: Partial<PipelineInfo> = {}): PipelineInfo {
  return {
    id,
    name: id,
    topic: id,
    backend: 'kafka',
    description: `kafka 127.0.0.1:9092/${id}`,
    state: 'running',
    message: '',
    threshold: 0.8,
    detectors: ['duplicates', 'missing'],
    cliCommand: `clean-agent watch kafka://127.0.0.1:9092/${id}`,
    ...over,
  };
}
