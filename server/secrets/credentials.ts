/**
 * The one credential check of the agent. Every entry point (CLI source URLs, clean.yaml, clean/startPipeline
 * url and spec, Kafka broker lists) asks it, and refuses what it finds with its message. A credential never
 * travels in a URL, a broker address or a spec: it is stored as a secret and named (`?secret=<name>`,
 * `auth: { secret: <name> }`). The messages never quote the credential.
 */
import type { SourceSpec } from '../sources/types';
import { isCredentialKey } from './redact';

/** What the user should write instead, by entry point. */
export type CredentialRemedy = 'url' | 'config' | 'spec';

export type CredentialTarget =
  /** A source URL (`kafka://…`, `redis://…`, `pulsar+ws://…`), also one that does not parse. */
  | { url: string }
  /** Kafka bootstrap brokers, each `host:port`. */
  | { brokers: readonly string[] }
  /** A spec from the wire or built from a config file. */
  | { spec: SourceSpec }
  /** A key of a config file (`password:`, `token:` …). */
  | { key: string };

const WHY = 'it would land in settings, shell history and logs';
const STORE = 'Store it with "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>)';
const INSTEAD: Record<CredentialRemedy, string> = {
  url: 'and add ?secret=<name> to the URL',
  config: 'and refer to it with auth: { secret: <name> }',
  spec: 'and name it in spec.auth.secret',
};

/** Why the target cannot be accepted because it carries a credential; undefined when it carries none. */
export function credentialProblem(target: CredentialTarget, remedy: CredentialRemedy = 'url'): string | undefined {
  if ('url' in target) return inUrl(target.url, remedy);
  if ('brokers' in target) return inBrokers(target.brokers, remedy);
  if ('key' in target) {
    return isCredentialKey(target.key)
      ? `Do not write a ${target.key} in a config file. Store it with the command "Clean: Set Secret…" (headless: the environment variable CLEAN_SECRET_<NAME>) and refer to it here with secret: <name>.`
      : undefined;
  }
  return inSpec(target.spec);
}

/** The parts of a source URL that can hold credentials: its authority (each host of a list) and its query. */
function inUrl(text: string, remedy: CredentialRemedy): string | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(.*)$/is.exec(text.trim());
  if (m) {
    const [, , authority, path] = m;
    const hosts = authority.split(',');
    const inList = hosts.length > 1 ? inBrokers(hosts, remedy) : undefined;
    if (inList) return inList;
    if (hosts.length === 1 && userPassword(authority) !== undefined) return urlPassword(remedy);
    // `user:pa/ss@host`, `user:pa,ss@host`: a `/` or `,` in the password cut the authority short, leaving a
    // "port" that is no number with an `@` still to come.
    const rest = authority + path;
    let offset = 0;
    for (const h of hosts) {
      offset += h.length + 1;
      const port = /:([^:\]]*)$/.exec(h.slice(h.lastIndexOf('@') + 1))?.[1];
      if (port !== undefined && !/^\d*$/.test(port) && rest.indexOf('@', offset - 1) >= 0) return urlPassword(remedy);
    }
  }
  const q = text.indexOf('?');
  if (q >= 0) {
    for (const part of text.slice(q + 1).split(/[&#]/)) {
      const key = decoded(part.split('=')[0]).trim();
      if (key && isCredentialKey(key)) {
        return `Do not put a credential in a URL (the parameter "${key}"): ${WHY}. ${STORE} ${INSTEAD[remedy]} instead.`;
      }
    }
  }
  return undefined;
}

function urlPassword(remedy: CredentialRemedy): string {
  return `Do not put a password in a URL: ${WHY}. ${STORE} ${INSTEAD[remedy]}.`;
}

function inBrokers(brokers: readonly string[], remedy: CredentialRemedy): string | undefined {
  for (let i = 0; i < brokers.length; i++) {
    const entry = String(brokers[i]).trim();
    if (userPassword(entry) === undefined) continue;
    const host = entry.slice(entry.lastIndexOf('@') + 1);
    const which = brokers.length > 1 ? `broker ${i + 1} of ${brokers.length}, ${host}` : host;
    return `Do not put a password in a broker address (${which}): ${WHY}. ${STORE} ${INSTEAD[remedy]}.`;
  }
  return undefined;
}

/** The user-info before the last `@` when it holds a password (`user:password`); the password may hold `@`. */
function userPassword(authority: string): string | undefined {
  const at = authority.lastIndexOf('@');
  if (at < 0) return undefined;
  const info = authority.slice(0, at);
  return info.includes(':') ? info : undefined;
}

function inSpec(spec: SourceSpec): string | undefined {
  const s = spec as SourceSpec & Record<string, unknown>;
  if (typeof s.url === 'string') {
    const p = inUrl(s.url, 'spec');
    if (p) return `spec.url: ${p}`;
  }
  if (Array.isArray(s.brokers)) {
    const p = inBrokers(s.brokers.map(String), 'spec');
    if (p) return `spec.brokers: ${p}`;
  }
  const places: Array<[string, unknown]> = [['spec', s], ['spec.options', s.options], ['spec.auth', s.auth], ['spec.tls', s.tls]];
  for (const [where, obj] of places) {
    if (!obj || typeof obj !== 'object') continue;
    for (const key of Object.keys(obj)) {
      // `;` not `:` after the key: `password: …` is what the redaction masks.
      if (isCredentialKey(key)) return `Do not put a credential in ${where}.${key}; ${WHY}. ${STORE} ${INSTEAD.spec}.`;
    }
  }
  return undefined;
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}
