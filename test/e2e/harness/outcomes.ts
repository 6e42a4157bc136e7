// Records pass/fail per check for the harness-driven suites (smoke, UI) in the same shape as mocha's.
import { say } from './log';

export interface TestOutcome { suite: string; name: string; passed: boolean; error?: string; durationMs: number }

export class SuiteRecorder {
  readonly outcomes: TestOutcome[] = [];

  /** Called after a failed check, e.g. to save a screenshot of what the browser showed. */
  onFailure: ((name: string) => Promise<void>) | undefined;

  constructor(readonly suite: string) {}

  /** Runs one check with a time limit; a failure is recorded, never thrown, so later checks still run. */
  async test(name: string, check: () => Promise<void>, timeoutMs = 60_000): Promise<boolean> {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        check(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      this.outcomes.push({ suite: this.suite, name, passed: true, durationMs: Date.now() - started });
      say(`  ✓ ${this.suite}: ${name} (${Date.now() - started} ms)`);
      return true;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.outcomes.push({ suite: this.suite, name, passed: false, error: message, durationMs: Date.now() - started });
      say(`  ✗ ${this.suite}: ${name}\n      ${message.split('\n').slice(0, 12).join('\n      ')}`);
      await this.onFailure?.(name).catch(() => undefined);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Records a check that could not run because an earlier step failed. */
  fail(name: string, reason: string): void {
    this.outcomes.push({ suite: this.suite, name, passed: false, error: reason, durationMs: 0 });
    say(`  ✗ ${this.suite}: ${name}\n      ${reason}`);
  }
}
