/**
 * Muted topics: keyed by topic and connection (client/model/sourceAddress.ts muteKeyOf), each until a time, kept in a
 * memento (VS Code's globalState) so that a mute holds across stop and re-monitor, agent restarts and window reloads.
 */

/** The part of vscode.Memento a mute book needs. */
export interface MuteMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void> | void;
}

export const MUTES_KEY = 'clean.mutedTopics';
/** "Mute for 1 hour". */
export const MUTE_MS = 3_600_000;

export class MuteBook {
  private readonly until = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  /** Called after a mute starts or ends (also when one expires on reading). */
  onChange(listener: () => void): { dispose(): void } {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  constructor(private readonly memento?: MuteMemento) {
    const saved = memento?.get<unknown>(MUTES_KEY);
    if (Array.isArray(saved)) {
      for (const item of saved) {
        if (Array.isArray(item) && typeof item[0] === 'string' && typeof item[1] === 'number' && Number.isFinite(item[1])) this.until.set(item[0], item[1]);
      }
    }
  }

  mute(key: string, now: number, durationMs = MUTE_MS): number {
    const until = now + durationMs;
    this.until.set(key, until);
    this.save();
    return until;
  }

  /** True when the key was muted. */
  unmute(key: string): boolean {
    const was = this.until.delete(key);
    if (was) this.save();
    return was;
  }

  /** Until when the key is muted; undefined when it is not (an expired mute is dropped). */
  mutedUntil(key: string, now: number): number | undefined {
    const until = this.until.get(key);
    if (until === undefined) return undefined;
    if (now < until) return until;
    this.until.delete(key);
    this.save();
    return undefined;
  }

  isMuted(key: string, now: number): boolean {
    return this.mutedUntil(key, now) !== undefined;
  }

  /** Mutes still in force, soonest to end first. */
  active(now: number): Array<{ key: string; until: number }> {
    for (const key of [...this.until.keys()]) this.mutedUntil(key, now);
    return [...this.until].map(([key, until]) => ({ key, until })).sort((a, b) => a.until - b.until || a.key.localeCompare(b.key));
  }

  /** The soonest end of a mute in force, to redraw when it passes. */
  nextEnd(now: number): number | undefined {
    return this.active(now)[0]?.until;
  }

  private save(): void {
    void this.memento?.update(MUTES_KEY, [...this.until]);
    for (const l of this.listeners) l();
  }
}
