/**
 * A topic (or stream) that does not exist: the monitor never creates one, it says so and waits for it to
 * appear. A misspelling is the usual cause, so a close name among the broker's topics is offered.
 */
import { editDistance } from '../engine/names';

/** The widest edit distance still offered as "did you mean": one slip per four characters, at most three. */
function closeEnough(name: string): number {
  return Math.min(3, Math.max(1, Math.floor(name.length / 4)));
}

export { editDistance };

/** The existing name closest to `name` when one is close (ties: the first in sort order); undefined otherwise. */
export function closestName(name: string, existing: Iterable<string>): string | undefined {
  const limit = closeEnough(name);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of existing) {
    if (candidate === name) continue;
    const d = editDistance(name, candidate, limit);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/**
 * "topic orderz does not exist on 127.0.0.1:9092; did you mean orders?", or "…; waiting for it to be created"
 * when no existing name is close. `kind` is the backend's word ("topic", or "stream" for Redis).
 */
export function missingTopicMessage(kind: 'topic' | 'stream', name: string, address: string, existing: Iterable<string>): string {
  const close = closestName(name, existing);
  return `${kind} ${name} does not exist on ${address}; ${close !== undefined ? `did you mean ${close}?` : 'waiting for it to be created'}`;
}
