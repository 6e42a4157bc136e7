/** Coalesces many change signals into at most one call per `intervalMs` (tree, status bar and chart refreshes). */
export class BatchedSignal {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = -Infinity;

  constructor(
    private readonly flush: () => void,
    private readonly intervalMs: number,
    private readonly clock: { now(): number } = Date,
  ) {}

  /** Marks a change; the flush runs at the earliest `intervalMs` after the previous one. */
  signal(): void {
    if (this.timer !== undefined) return;
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.clock.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFlush = this.clock.now();
      this.flush();
    }, wait);
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
