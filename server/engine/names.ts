/**
 * Names a user can send (pipelines, detectors, fields, secrets) have a length bound, and a message never
 * quotes more than the start of one: a 50 MB name must cost a refusal, not 50 MB of every event after it.
 */

/** The longest name accepted, in characters. */
export const MAX_NAME_LENGTH = 256;

/** How much of a name a message quotes. */
const QUOTED = 40;

/** `"abc"`, or the first 40 characters and an ellipsis for a longer text; what messages use to show a name. */
export function quoteName(name: string): string {
  return name.length <= QUOTED ? JSON.stringify(name) : `${JSON.stringify(name.slice(0, QUOTED)).slice(0, -1)}…"`;
}

/**
 * Why a name cannot be used (`what` says which: "Pipeline name", "Field name"), or undefined when it is fine.
 * Only the length is checked here: a long name is refused before anything is built from it.
 */
export function nameTooLong(what: string, name: unknown): string | undefined {
  if (typeof name !== 'string' || name.length <= MAX_NAME_LENGTH) return undefined;
  return `${what} ${quoteName(name)} is ${name.length} characters long; names are at most ${MAX_NAME_LENGTH} characters. Use a shorter name.`;
}

/**
 * Edit distance between two names, for every "did you mean" (config keys, topics, streams): optimal string
 * alignment, so a swap of two neighbours ("kafak") costs one edit. Past `limit` it stops early and returns
 * limit + 1. Three rows, no matrix.
 */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before = new Array<number>(b.length + 1);
  let prev = new Array<number>(b.length + 1);
  let row = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    row[0] = i;
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      let d = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a.charCodeAt(i - 1) === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === b.charCodeAt(j - 1)) d = Math.min(d, before[j - 2] + 1);
      row[j] = d;
      if (d < best) best = d;
    }
    if (best > limit) return limit + 1;
    [before, prev, row] = [prev, row, before];
  }
  return prev[b.length];
}
