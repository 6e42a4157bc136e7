/**
 * The one redaction function of the agent: every text that leaves it (log lines, status and alert
 * notifications, response errors, diagnostics, resolved URLs, CLI output) goes through `redact`.
 */

export const MASK = '••••';

/**
 * A parameter or key name whose value is a credential (`password`, `sasl_password`, `apiKey`, `token`,
 * `secret_key`, …). `secret` itself is not one: it names a stored secret, never holds one.
 */
export function isCredentialKey(name: string): boolean {
  const k = name.toLowerCase().replace(/[\s_.-]/g, '');
  if (k === 'secret') return false;
  return (
    CREDENTIAL_KEYS.has(k) ||
    /(password|passwd|passphrase|token|apikey|secretkey|accesskey|privatekey|clientsecret)$/.test(k) ||
    (k.endsWith('secret') && k !== 'secret')
  );
}

const CREDENTIAL_KEYS = new Set(['pass', 'pwd', 'credential', 'credentials', 'authparams', 'secretvalue', 'jaasconfig', 'sasljaasconfig']);

/**
 * `key=value`, `key: value`, `"key": "value"` where the key ends like a credential's (confirmed by isCredentialKey).
 * A value opening an object or a list is not masked: `{"password":{"required":true}}` is a field rule, not a secret.
 */
const KEYED_VALUE =
  /(["']?)\b([\w.-]{0,48}?(?:password|passwd|passphrase|pwd|token|api[_.-]?key|secret[_.-]?key|access[_.-]?key|private[_.-]?key|secret|credentials?|auth[_.-]?params|jaas[_.-]?config|secretvalue))\1(\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&,;"'{}[\]][^\s&,;"'}\]]*)/gi;
/** A URL with an authority, up to the first whitespace or quote. */
const URL_TOKEN = /[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/**
 * Masks every known secret value, every password of a URL or broker address (`user:pw@host`, also with
 * `@` or `/` inside the password, and in each host of a Kafka list), and the value of every credential
 * parameter (`?password=…`, `token: …`). Known values shorter than 4 characters are masked only inside
 * those patterns: masking them everywhere would mangle ordinary text.
 */
export function redact(text: string, known: Iterable<string> = []): string {
  let out = text;
  for (const value of longestFirst(known)) if (out.includes(value)) out = out.split(value).join(MASK);
  if (out.includes('://')) out = out.replace(URL_TOKEN, redactUrl);
  if (out.includes('@')) out = redactAuthority(out, true);
  return out.replace(KEYED_VALUE, (m, q: string, key: string, sep: string, value: string) => {
    if (!isCredentialKey(key)) return m;
    const quote = value[0] === '"' || value[0] === "'" ? value[0] : '';
    return `${q}${key}${q}${sep}${quote}${MASK}${quote}`;
  });
}

/** `redact` on every string inside a JSON-like value (notifications, results); other values are kept. */
export function redactDeep<T>(value: T, known: Iterable<string> = []): T {
  const values = [...known];
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return redact(v, values);
    if (v === null || typeof v !== 'object' || depth > 32) return v;
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = walk(x, depth + 1);
    return out;
  };
  return walk(value, 0) as T;
}

/** Secret values the agent has looked up, so that a library's message quoting one is still masked. Bounded. */
export class KnownSecretValues implements Iterable<string> {
  private readonly values = new Set<string>();

  constructor(private readonly max = 64) {}

  remember(value: string | undefined): void {
    if (value === undefined || value.length < 4 || this.values.has(value)) return;
    if (this.values.size >= this.max) this.values.delete(this.values.values().next().value as string);
    this.values.add(value);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.values.values();
  }
}

function longestFirst(known: Iterable<string>): string[] {
  const values = [...known].filter((s) => s.length >= 4);
  return values.length > 1 ? values.sort((a, b) => b.length - a.length) : values;
}

/** One URL token: the password in its authority (every host of a list), then credential parameters. */
function redactUrl(token: string): string {
  const start = token.indexOf('://') + 3;
  const q = token.search(/[?#]/);
  const head = q >= 0 ? token.slice(0, q) : token;
  const query = q >= 0 ? token.slice(q) : '';
  let slash = head.indexOf('/', start);
  if (slash < 0) slash = head.length;
  const authority = head.slice(start, slash);
  let rest = head.slice(slash);
  let safe: string;
  if (authority.includes('@')) safe = redactAuthority(authority, false);
  else if (/:(?![\d\]]*(,|$))/.test(lastSegment(authority)) && rest.includes('@')) {
    // `user:pa/ss@host`: a `/` inside the password ended the authority early; mask up to the `@`.
    const colon = authority.lastIndexOf(':');
    safe = authority.slice(0, colon + 1) + MASK;
    rest = rest.slice(rest.indexOf('@'));
  } else safe = authority;
  return token.slice(0, start) + safe + rest + query.replace(/([?&])([^=&#]*)=([^&#]*)/g, (m, sep: string, key: string) => (isCredentialKey(safeDecode(key)) ? `${sep}${key}=${MASK}` : m));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function lastSegment(authority: string): string {
  return authority.slice(authority.lastIndexOf(',') + 1);
}

/**
 * The user-info of each `user:password@host` in a text or an authority (hosts split by `,`): the password
 * runs to the last `@` before the host, so a password holding `@` is masked whole and never read as a user.
 * `inText`: the text is prose (split at whitespace and quotes too), not one authority.
 */
function redactAuthority(text: string, inText: boolean): string {
  const stop = inText ? /[\s,/"'<>()[\]{}]/ : /,/;
  let out = '';
  let i = text.length;
  // Walk right to left: each `@` closes a user-info that starts after the previous separator.
  while (i > 0) {
    const at = text.lastIndexOf('@', i - 1);
    if (at < 0) break;
    let begin = at;
    while (begin > 0 && !stop.test(text[begin - 1])) begin--;
    const info = text.slice(begin, at);
    const colon = info.indexOf(':');
    let masked = info;
    if (colon >= 0) masked = info.slice(0, colon + 1) + MASK;
    else if (info.includes('@')) masked = MASK;
    out = masked + text.slice(at, i) + out;
    i = begin;
    if (!inText && i > 0) {
      out = text[i - 1] + out; // the `,`
      i--;
    }
  }
  return text.slice(0, i) + out;
}
