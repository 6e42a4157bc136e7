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
