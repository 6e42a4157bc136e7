import type { SourceMessage, StreamSource } from './types';

/**
 * Records given in code (objects, JSON text or bytes), delivered in batches with no artificial delay.
 * Handy for tests, notebooks and embedding the engine.
 */
export class MemorySource implements StreamSource {
  readonly description: string;
  private closed = false;

  constructor(private readonly records: ReadonlyArray<unknown>, private readonly batchSize = 1000) {
    this.description = `memory (${records.length} records)`;
  }

  async connect(): Promise<void> {}

  async *consume(): AsyncIterable<SourceMessage[]> {
    for (let i = 0; i < this.records.length && !this.closed; i += this.batchSize) {
      const batch: SourceMessage[] = [];
      const end = Math.min(this.records.length, i + this.batchSize);
      for (let j = i; j < end; j++) {
        const r = this.records[j];
        batch.push({ value: r === undefined ? null : (r as SourceMessage['value']) });
      }
      yield batch;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
