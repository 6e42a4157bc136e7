import type { FetchedBatch } from './fetcher';

/**
 * The hand-over between the fetch loop and consume(): a batch's put() resolves when consume() has taken it,
 * so the fetcher decodes the next batch while the engine works on this one, and never runs further ahead.
 */
export class BatchQueue {
  private readonly items: Array<{ batch: FetchedBatch; partition: number; next: string; taken: () => void }> = [];
  private waiter: ((item: { batch: FetchedBatch; partition: number; next: string } | null) => void) | null = null;
  private interrupted = false;

  put(batch: FetchedBatch, partition: number, next: string): Promise<void> {
    if (this.interrupted) return Promise.resolve();
    return new Promise<void>((taken) => {
      const w = this.waiter;
      if (w) {
        this.waiter = null;
        taken();
        w({ batch, partition, next });
      } else {
        this.items.push({ batch, partition, next, taken });
      }
    });
  }

  /** The next batch, or null once interrupted (reconnect or close). */
  take(): Promise<{ batch: FetchedBatch; partition: number; next: string } | null> {
    if (this.interrupted) return Promise.resolve(null);
    const item = this.items.shift();
    if (item) {
      item.taken();
      return Promise.resolve(item);
    }
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /** Ends take() with null until reset(), and lets every waiting put() return; their batches are dropped (re-read after a seek). */
  interrupt(): void {
    this.interrupted = true;
    for (const item of this.items.splice(0)) item.taken();
    const w = this.waiter;
    this.waiter = null;
    w?.(null);
  }

  reset(): void {
    this.interrupted = false;
  }
}
