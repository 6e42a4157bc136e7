/** Keeps secret values out of everything the extension writes: logs, messages, copied commands. */

const MASK = '••••';

/** Query or key=value parameters whose values are credentials. */
const SECRET_KEYS = /\b(password|passwd|pwd|token|sasl\.password|api[_-]?key|auth[_-]?token)(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"']+)/gi;

/**
 * Replaces every known secret value, every URL password (`scheme://user:pw@host`) and every
 * `password=…`/`token: …` value with a mask. Known values shorter than 4 characters are masked only
 * inside the patterns, because masking them everywhere would mangle ordinary text.
 */
export function redact(text: string, knownSecrets: Iterable<string> = []): string {
  let out = text;
  const values = [...knownSecrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join(MASK);
  out = out.replace(/([a-z][a-z0-9+.-]*:\/\/[^\s/:@]*):([^\s/@]+)@/gi, `$1:${MASK}@`);
  out = out.replace(SECRET_KEYS, (_m, key: string, sep: string) => `${key}${sep}${MASK}`);
  return out;
}

/** The set of secret values the extension has handed to the agent, for redaction of later log lines. */
export class KnownSecrets implements Iterable<string> {
  private readonly values = new Map<string, string>();

  remember(name: string, value: string): void {
    this.values.set(name, value);
  }

  forget(name: string): void {
    this.values.delete(name);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.values.values();
  }
}

/** A secret's name as config files write it: letters, digits, `.`, `_`, `-`, `/`, 1–128 characters. */
export function validateSecretName(name: string): string | undefined {
  const trimmed = name.trim();
  if (!trimmed) return 'Enter the name a config file uses for this secret, for example kafka-prod-password.';
  if (trimmed.length > 128) return 'A secret name has at most 128 characters.';
  if (!/^[A-Za-z0-9._\/-]+$/.test(trimmed)) return 'A secret name may hold letters, digits, ".", "_", "-" and "/" only.';
  return undefined;
}
