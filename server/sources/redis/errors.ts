/** What a Redis server's refusals and connection failures mean for a person, as SourceErrors. */
import { SourceError } from '../types';
import { redact } from '../../secrets/redact';

/** Where a failure happened, for its message; the password only so that a reply quoting it can be masked. */
export interface RedisWhere {
  address: string;
  stream: string;
  username?: string;
  secret?: string;
  password?: string;
  tls: boolean;
}

/** A key that holds something else than a stream. */
export function wrongType(w: RedisWhere, type: string): SourceError {
  return new SourceError(
    `Key "${w.stream}" in Redis at ${w.address} holds a ${type}, not a stream (WRONGTYPE). ` +
      `Point the monitor at a stream key (check with: redis-cli TYPE ${w.stream}).`,
    'wrongtype',
  );
}

/** A server reply that retrying cannot fix becomes a SourceError; connection trouble returns undefined. */
export function replyError(w: RedisWhere, err: unknown): SourceError | undefined {
  const text = firstLine(err);
  const code = /^[A-Z]+(?= |$)/.exec(text)?.[0];
  if (!code || code === 'LOADING' || code === 'BUSY' || code === 'MASTERDOWN' || code === 'TRYAGAIN') return undefined;
  if (code === 'WRONGTYPE') {
    return new SourceError(
      `Key "${w.stream}" in Redis at ${w.address} is not a stream (WRONGTYPE). Point the monitor at a stream key (check with: redis-cli TYPE ${w.stream}).`,
      'wrongtype',
    );
  }
  if (code === 'WRONGPASS' || code === 'NOAUTH' || code === 'NOPERM') return authError(w, code, text);
  return new SourceError(`Redis at ${w.address} refused to read stream "${w.stream}": ${text}`, 'redis');
}

/** A connection that could not be opened: a refusing server, a TLS handshake that failed, or no server at all. */
export function connectError(w: RedisWhere, err: unknown): SourceError {
  const reply = replyError(w, err);
  if (reply) return reply;
  const reason = connectionReason(err);
  if (w.tls && /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_|HOSTNAME|ALTNAME/i.test(reason)) {
    const error = new SourceError(
      `TLS handshake with Redis at ${w.address} failed (${reason}: ${firstLine(err)}). ` +
        `If the server uses its own CA, give its certificate with ?ca=<file> (tls.ca in a config file).`,
      'tls',
    );
    error.cause = err;
    return error;
  }
  const error = new SourceError(
    `Cannot reach Redis at ${w.address} (${reason}). Is the server running? ` +
      `For a local test server run: scripts/broker start redis.`,
    'unreachable',
  );
  error.cause = err;
  return error;
}

function authError(w: RedisWhere, code: string, text: string): SourceError {
  const user = w.username ?? 'default';
  const secret = w.secret;
  if (code === 'NOAUTH') {
    return new SourceError(
      `Redis at ${w.address} requires a password (NOAUTH). Store it as a secret and add ?secret=<name> to the source URL.`,
      'auth',
    );
  }
  if (code === 'NOPERM') {
    return new SourceError(
      `Redis user "${user}" at ${w.address} may not read stream "${w.stream}" (NOPERM: ${redact(text, w.password ? [w.password] : [])}). ` +
        `Grant it +type +xread +xrevrange +xinfo|stream (+select for a db index) and read access to the key.`,
      'auth',
    );
  }
  return new SourceError(
    `Redis at ${w.address} rejected user "${user}" with ${secret ? `the password in secret "${secret}"` : 'no password'} (WRONGPASS). ` +
      `Check the user name and update the secret.`,
    'auth',
  );
}

export function connectionReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code) return code;
  return firstLine(err) || 'connection closed';
}

export function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].trim();
}
