/** How many agent crashes are restarted: at most `limit` within a sliding `windowMs`, then the extension gives up. */
export class RestartBudget {
  private crashes: number[] = [];

  constructor(
    private limit: number,
    private readonly windowMs = 3 * 60_000,
  ) {}

  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** Records a crash at `now`; true when the agent may be restarted once more. */
  allowRestart(now: number): boolean {
    this.crashes = this.crashes.filter((t) => now - t < this.windowMs);
    this.crashes.push(now);
    return this.crashes.length <= this.limit;
  }

  /** Crashes counted in the current window. */
  get recent(): number {
    return this.crashes.length;
  }

  /** A restart the user asked for starts a fresh budget. */
  reset(): void {
    this.crashes = [];
  }
}

/** The message shown once the limit is reached. */
export function restartLimitMessage(crashes: number, windowMs: number): string {
  const minutes = Math.round(windowMs / 60_000);
  return `The Clean Streams agent stopped ${crashes} times in ${minutes} minutes and will not be restarted again. ` +
    'Its last messages are in the "Clean Streams" output; fix the cause, then run "Clean: Restart Agent".';
}
