/** A sleep that close() can cut short, so that a polling source stops at once. */
export class InterruptibleSleep {
  private wake: (() => void) | null = null;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  /** Ends the current sleep now, if any. */
  interrupt(): void {
    this.wake?.();
  }
}
