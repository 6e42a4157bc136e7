import type { SourceContext, SourceSpec, StreamSource } from './types';
import { SourceError } from './types';
import { DemoSource } from './demo';
import { FileSource } from './file';

/**
 * Opens the source a spec names. Broker backends register here as they land; each lives in its own
 * module so that its client library stays behind it.
 */
export async function createSource(spec: SourceSpec, ctx: SourceContext): Promise<StreamSource> {
  switch (spec.backend) {
    case 'demo':
      return new DemoSource(spec, ctx);
    case 'file':
      return new FileSource(spec, ctx);
    case 'redis': {
      const { RedisStreamSource } = await import('./redis');
      return new RedisStreamSource(spec, ctx);
    }
    case 'kafka': {
      const { KafkaSource } = await import('./kafka');
      return new KafkaSource(spec, ctx);
    }
    case 'pulsar': {
      const { PulsarSource } = await import('./pulsar');
      return new PulsarSource(spec, ctx);
    }
    case 'memory':
      throw new SourceError('memory sources are created in code with new MemorySource(records).', 'unsupported');
  }
}
