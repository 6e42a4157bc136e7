/** Turns what a command can throw into one message a person can act on (never a stack, never a secret). */
import { inert } from './inertText';
import { redact } from './redact';

const AGENT_GONE = /(client is not running|connection got disposed|pending response rejected|connection is closed|stopped by the user|write after end|EPIPE)/i;

export function describeCommandError(action: string, err: unknown, knownSecrets: Iterable<string> = []): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
  // Shown with showErrorMessage, which renders links: a name in the agent's error must stay text.
  const message = inert(redact(raw ?? 'unknown error', knownSecrets).trim());
  if (AGENT_GONE.test(message)) {
    return `Cannot ${action}: the Clean Streams agent is not running. Run "Clean: Restart Agent" and try again; the "Clean Streams" output shows why it stopped.`;
  }
  const sentence = /[.!?]$/.test(message) ? message : `${message}.`;
  return `Cannot ${action}: ${sentence}`;
}
