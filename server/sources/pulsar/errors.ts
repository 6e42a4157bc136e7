/**
 * What a Pulsar broker's refusals mean for a person: the admin REST answers, the WebSocket upgrade answers and
 * socket failures, each as a SourceError whose code says whether waiting can fix it.
 */
import { SourceError } from '../types';
import type { PulsarTarget } from '../pulsar';

/** The broker's reason from an admin JSON body (`{"reason": …}`) or a Jetty error page (`<title>Error 500 …</title>`). */
export function restReason(body: string): string {
  const trimmed = body.trim();
  if (trimmed.startsWith('{')) {
    try {
      const reason = (JSON.parse(trimmed) as { reason?: unknown }).reason;
      if (typeof reason === 'string') return reason;
    } catch {
      // fall through to the text forms
    }
  }
  const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
  if (title) {
    const text = title.replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/^Error \d+\s*/, '');
    const inner = /"errorMsg"\s*:\s*"([^"]*)"/.exec(text)?.[1];
    return inner ? `${text.slice(0, text.indexOf('{')).replace(/[:\s]+$/, '')}: ${inner}` : text;
  }
  return trimmed.split('\n')[0].slice(0, 200);
}

export function connectionReason(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code) return code;
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0].trim() || 'connection closed';
}

/** HTTP 401: the token (when there is one) was refused, or the broker wants one. */
export function refusedToken(t: PulsarTarget, token: string | undefined, status: number): SourceError {
  if (token) {
    return new SourceError(
      `Pulsar at ${t.address} refused the token in secret "${t.secretName}" (HTTP ${status}). Check that the token is valid for this cluster and not expired, then update the secret.`,
      'auth',
    );
  }
  return new SourceError(
    `Pulsar at ${t.address} requires authentication (HTTP ${status}). Store a token as a secret and add ?secret=<name> to the source URL.`,
    'auth',
  );
}

/** A refused WebSocket upgrade for the reader of `laneTopic` (the topic, or one of its partitions). */
export function upgradeError(t: PulsarTarget, token: string | undefined, status: number, body: string, laneTopic: string): SourceError {
  const reason = restReason(body);
  if (status === 401) return refusedToken(t, token, 401);
  if (status === 403) {
    return new SourceError(
      `Pulsar at ${t.address} does not allow ${token ? `the role of the token in secret "${t.secretName}"` : 'anonymous clients'} to read ${t.fullName} (HTTP 403). ` +
        `Grant it consume permission: pulsar-admin namespaces grant-permission ${t.tenant}/${t.namespace} --role <role> --actions consume.`,
      'auth',
    );
  }
  if (status === 404 || /not found|does not exist/i.test(reason)) {
    return new SourceError(`Pulsar at ${t.address} has no topic ${t.fullName}${laneTopic !== t.local ? ` partition ${laneTopic}` : ''} (${reason || `HTTP ${status}`}). Check the topic name.`, 'not-found');
  }
  if (status >= 500) {
    return new SourceError(`Pulsar at ${t.address} could not open a reader on ${t.fullName} (HTTP ${status}${reason ? `: ${reason}` : ''}).`, 'unavailable');
  }
  return new SourceError(
    `Pulsar at ${t.address} refused the WebSocket reader for ${t.fullName} (HTTP ${status}${reason ? `: ${reason}` : ''}). Is webSocketServiceEnabled=true on the broker, and is this its web service port (usually 8080)?`,
    'pulsar',
  );
}

/** A socket that could not connect: a host that does not resolve, or a broker that does not answer (retried). */
export function unreachable(t: PulsarTarget, err: unknown): SourceError {
  const reason = connectionReason(err);
  const code = (err as { code?: unknown }).code;
  const error =
    code === 'ENOTFOUND'
      ? new SourceError(`Cannot resolve the Pulsar host "${t.hostname}" (ENOTFOUND). Check the host name in the URL.`, 'config')
      : new SourceError(`Cannot reach Pulsar at ${t.address} (${reason}). Is the broker running, and is this its web service port? For a local test broker run: scripts/broker start pulsar.`, 'unreachable');
  error.cause = err;
  return error;
}
