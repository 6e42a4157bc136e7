/**
 * The `pagerduty` sink: PagerDuty Events API v2. An alert is a `trigger`, its recovery a `resolve`, both with
 * the dedup_key of the pipeline and detector (`clean-streams/<pipeline>/<detector|score>`), so an escalation
 * updates the open incident and the recovery closes it. The routing key is a secret, given by name.
 */
import os from 'node:os';
import { postJson, fromError, fromStatus } from './post';
import { metricKey } from './filter';
import { cut, samplesText, summary } from './format';
import { namedSecret } from './webhook';
import type { DeliveryResult, SinkConfig, SinkContext, SinkEvent, Transport } from './types';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
/** PagerDuty cuts summaries at 1024 characters. */
const SUMMARY_MAX = 1024;

export function dedupKey(e: SinkEvent): string {
  return e.test ? `clean-streams/${e.pipeline}/test` : `clean-streams/${metricKey(e)}`;
}

/** The Events API v2 body for an event. */
export function pagerDutyBody(e: SinkEvent, routingKey: string, source: string = os.hostname()): Record<string, unknown> {
  if (e.type === 'recovered') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey(e) };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey(e),
    client: 'Clean Streams',
    payload: {
      summary: cut(summary(e), SUMMARY_MAX),
      source,
      // A test should not wake anyone: `info` is PagerDuty's lowest severity.
      severity: e.test ? 'info' : e.severity,
      timestamp: new Date(e.time).toISOString(),
      component: e.pipeline,
      class: e.detector ?? 'score',
      custom_details: {
        message: e.message,
        pipeline: e.pipeline,
        detector: e.detector ?? 'score',
        value: e.value,
        threshold: e.threshold,
        records: e.records,
        fields: e.fields.map((f) => f.detail),
        samples: samplesText(e),
      },
    },
  };
}

export class PagerDutyTransport implements Transport {
  constructor(
    private readonly config: SinkConfig,
    private readonly ctx: SinkContext,
  ) {}

  async send(e: SinkEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const key = await namedSecret(this.ctx, this.config.secret, 'PagerDuty routing key');
    if (typeof key !== 'string') return key;
    try {
      return fromStatus(await postJson(this.config.url ?? PAGERDUTY_EVENTS_URL, JSON.stringify(pagerDutyBody(e, key)), {}, signal));
    } catch (err) {
      return fromError(err);
    }
  }
}
