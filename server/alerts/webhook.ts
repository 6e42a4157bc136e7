/**
 * The `webhook` sink: the event as JSON (exactly the CLI's NDJSON line, documented in docs/alerts.md), POSTed
 * to the URL. With `secret: <name>` the body is signed: `X-Clean-Signature: sha256=<hex HMAC-SHA256 of the raw
 * body>`, so the receiver can tell the sender knew the key. The body carries the event's `time`, which a
 * receiver can check to refuse replays.
 */
import { createHmac } from 'node:crypto';
import { postStatus } from './post';
import type { DeliveryResult, SinkConfig, SinkContext, SinkEvent, Transport } from './types';

export const SIGNATURE_HEADER = 'X-Clean-Signature';
export const EVENT_HEADER = 'X-Clean-Event';

/** The signature header's value for a body: `sha256=` and the lower-case hex HMAC-SHA256 of its bytes. */
export function signature(key: string, body: string): string {
  return 'sha256=' + createHmac('sha256', key).update(body, 'utf8').digest('hex');
}

/** Resolves the named secret, or says it is missing (without a retry: setting it takes a person). */
export async function namedSecret(ctx: SinkContext, name: string | undefined, what: string): Promise<string | DeliveryResult> {
  if (!name) return { ok: false, error: `no secret named for the ${what}`, retry: false };
  const value = await ctx.secret(name);
  if (value === undefined || value === '') {
    return { ok: false, error: `the secret "${name}" (${what}) is not set: store it with "Clean: Set Secret…" (headless: CLEAN_SECRET_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')})`, retry: false };
  }
  return value;
}

export class WebhookTransport implements Transport {
  constructor(
    private readonly config: SinkConfig,
    private readonly ctx: SinkContext,
  ) {}

  async send(e: SinkEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const body = JSON.stringify(e);
    const headers: Record<string, string> = { [EVENT_HEADER]: e.test ? 'test' : e.type };
    if (this.config.secret) {
      const key = await namedSecret(this.ctx, this.config.secret, 'webhook signature key');
      if (typeof key !== 'string') return key;
      headers[SIGNATURE_HEADER] = signature(key, body);
    }
    return postStatus(this.config.url!, body, headers, signal);
  }
}
