/** The read-only admin REST calls of the web service port that the WebSocket transport needs: the topic lookup. */
import { SourceError } from '../types';
import type { SourceContext } from '../types';
import type { PulsarTarget } from '../pulsar';
import { missingTopicMessage } from '../missingTopic';
import { httpGet, type HttpAnswer } from '../httpGet';
import { refusedToken, restReason, unreachable } from './errors';

export const HTTP_TIMEOUT_MS = 10_000;

export function authHeaders(token: string | undefined): Record<string, string> {
  // The token travels in a header, never in the URL, so no URL that could be logged carries it.
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/**
 * Partition count from the admin REST API (0 for a non-partitioned topic). A topic that does not exist is a
 * SourceError coded `missing` (its message names a close existing topic): the caller waits, and opens no reader,
 * which on a broker with allowAutoTopicCreation would create the topic.
 */
export async function lookupPartitions(t: PulsarTarget, token: string | undefined, log: SourceContext['log']): Promise<number> {
  const ns = `/admin/v2/persistent/${encodeURIComponent(t.tenant)}/${encodeURIComponent(t.namespace)}`;
  const partitioned = await adminGet(t, token, `${ns}/partitioned`);
  if (partitioned.status === 403) {
    // The token's role may read the topic without being allowed to list the namespace; the reader will tell.
    log.debug(`Pulsar at ${t.address}: not allowed to list ${t.tenant}/${t.namespace}; reading ${t.fullName} as a non-partitioned topic`);
    return 0;
  }
  const partitionedNames = listOrThrow(t, token, partitioned);
  if (partitionedNames.includes(t.fullName)) {
    const meta = await adminGet(t, token, `${ns}/${encodeURIComponent(t.local)}/partitions`);
    const count = (jsonOrThrow(t, token, meta) as { partitions?: unknown }).partitions;
    return typeof count === 'number' && count > 0 ? count : 0;
  }
  const names = listOrThrow(t, token, await adminGet(t, token, ns));
  if (names.includes(t.fullName)) return 0;
  const known = [...new Set([...partitionedNames, ...names.filter((n) => !/-partition-\d+$/.test(n))])]
    .map((n) => n.slice(n.lastIndexOf('/') + 1))
    .filter((n) => !n.startsWith('__'))
    .map((n) => `${t.tenant}/${t.namespace}/${n}`);
  throw new SourceError(missingTopicMessage('topic', `${t.tenant}/${t.namespace}/${t.local}`, t.address, known), 'missing');
}

function listOrThrow(t: PulsarTarget, token: string | undefined, res: HttpAnswer): string[] {
  const list = jsonOrThrow(t, token, res);
  return Array.isArray(list) ? list.filter((x): x is string => typeof x === 'string') : [];
}

function jsonOrThrow(t: PulsarTarget, token: string | undefined, res: HttpAnswer): unknown {
  if (res.status === 200) {
    try {
      return JSON.parse(res.body) as unknown;
    } catch {
      throw new SourceError(`Pulsar at ${t.address} answered the admin API with something that is not JSON. Is this the broker's web service port (usually 8080)?`, 'protocol');
    }
  }
  const reason = restReason(res.body);
  if (res.status === 401) throw refusedToken(t, token, 401);
  if (res.status === 404) {
    throw new SourceError(
      `Namespace ${t.tenant}/${t.namespace} does not exist on Pulsar at ${t.address}${reason ? ` (${reason})` : ''}. Check the tenant and namespace in the URL.`,
      'not-found',
    );
  }
  if (res.status >= 500 || res.status === 0) {
    throw new SourceError(`Pulsar at ${t.address} is not ready (HTTP ${res.status}${reason ? `: ${reason}` : ''}).`, 'unavailable');
  }
  throw new SourceError(`Pulsar at ${t.address} answered HTTP ${res.status}${reason ? ` (${reason})` : ''} when looking up ${t.fullName}.`, 'pulsar');
}

function adminGet(t: PulsarTarget, token: string | undefined, path: string): Promise<HttpAnswer> {
  return httpGet(t, path, authHeaders(token), HTTP_TIMEOUT_MS).catch((err: unknown) => {
    throw unreachable(t, err);
  });
}
