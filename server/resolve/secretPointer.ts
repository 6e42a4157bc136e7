/**
 * A connection found in a file keeps its hosts, but never its password: the password becomes a pointer to
 * a stored secret (`auth.secret`, so the URL built from it says `?secret=<name>`), with a suggested name the
 * user stores through "Clean: Set Secret…".
 */
import type { ResolvedConnection } from '../../shared/protocol';
import { credentialProblem } from '../secrets/credentials';
import { isCredentialKey } from '../secrets/redact';

export interface SecretPointer {
  /** The suggested secret name the connection now points to. */
  name: string;
  /** What happened and what to do, for the user. */
  message: string;
}

/** The connection without credentials, and the pointer when it had one. */
export function withSecretPointer(conn: ResolvedConnection): { conn: ResolvedConnection; pointer?: SecretPointer } {
  let username: string | undefined;
  let host: string | undefined;
  let found = false;
  const out: ResolvedConnection = { ...conn };
  if (conn.url !== undefined && credentialProblem({ url: conn.url })) {
    const stripped = stripUrl(conn.url);
    out.url = stripped.url;
    username = stripped.username;
    host = stripped.host;
    found = true;
  }
  if (conn.brokers && credentialProblem({ brokers: conn.brokers })) {
    out.brokers = conn.brokers.map((b, i) => {
      const at = b.lastIndexOf('@');
      if (at < 0) return b;
      if (i === 0 || username === undefined) username = b.slice(0, at).split(':')[0] || undefined;
      return b.slice(at + 1);
    });
    host = out.brokers[0]?.replace(/:\d+$/, '');
    found = true;
  }
  if (!found) return { conn };
  const name = conn.auth?.secret ?? suggestedName(conn.backend, host);
  out.auth = { ...conn.auth, secret: name };
  if (username && !out.auth.username) out.auth.username = username;
  return {
    conn: out,
    pointer: {
      name,
      message: `The password in ${conn.origin} was left out; the connection names the secret "${name}" instead. Set it with Clean: Set Secret… under that name.`,
    },
  };
}

/**
 * The URL without its password (the user name stays) and without credential parameters. The user-info ends
 * at the last `@` that a plain host follows, so a password holding `@` or `/` is dropped whole.
 */
function stripUrl(text: string): { url: string; username?: string; host?: string } {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(text.trim());
  if (!m) return { url: text };
  const [, scheme, body] = m;
  let at = body.length;
  let rest = body;
  let username: string | undefined;
  while ((at = body.lastIndexOf('@', at - 1)) >= 0) {
    if (/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d+)?([/?#][^@]*)?$/.test(body.slice(at + 1))) {
      rest = body.slice(at + 1);
      username = decoded(body.slice(0, at).split(':')[0]) || undefined;
      break;
    }
  }
  let url = scheme + rest;
  let host: string | undefined = /^(\[[^\]]+\]|[^/:?#]+)/.exec(rest)?.[1]?.replace(/^\[|\]$/g, '');
  try {
    const u = new URL(url);
    for (const key of [...u.searchParams.keys()]) if (isCredentialKey(key)) u.searchParams.delete(key);
    url = u.toString().replace(/\?$/, '');
    host = u.hostname.replace(/^\[|\]$/g, '') || host;
  } catch {
    url = url.replace(/\?.*$/, ''); // unparsable even without the user-info: keep no parameters at all
  }
  return { url, username, host };
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** `redis-cache.internal`: the backend and host, in the characters a secret name may hold. */
function suggestedName(backend: string, host: string | undefined): string {
  const h = (host ?? '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  return h ? `${backend}-${h}`.slice(0, 128) : `${backend}-password`;
}
