/**
 * The `alertmanager` sink: POST <url>/api/v2/alerts. An alert is posted with labels {alertname, pipeline,
 * detector, severity} and annotations (summary, description, value, fields, samples); its recovery posts the
 * same labels with endsAt = now, which resolves it. Alertmanager ends an alert nobody re-posts after its
 * resolve_timeout (5 minutes by default), so the alerts still firing are re-posted every `resendMs` (default 60 s,
 * well under half that timeout) while the sink lives.
 */
import { postStatus } from './post';
import { metricKey, SCORE } from './filter';
import { cut, figure, samplesText, summary } from './format';
import type { DeliveryResult, SinkConfig, SinkEvent, Transport } from './types';

export const ALERT_NAME = 'CleanStreamsQuality';
export const TEST_ALERT_NAME = 'CleanStreamsTest';
export const DEFAULT_RESEND_MS = 60_000;
/** A test alert ends by itself after this long. */
const TEST_ALERT_MS = 5 * 60_000;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

export function alertLabels(e: SinkEvent): Record<string, string> {
  return { alertname: e.test ? TEST_ALERT_NAME : ALERT_NAME, pipeline: e.pipeline, detector: e.detector ?? SCORE, severity: e.severity };
}

export function alertAnnotations(e: SinkEvent): Record<string, string> {
  const a: Record<string, string> = { summary: summary(e), description: cut(e.message, 4000), value: figure(e) };
  if (e.fields.length > 0) a.fields = cut(e.fields.map((f) => f.detail).join('\n'), 4000);
  if (e.samples.length > 0) a.samples = samplesText(e);
  return a;
}

export class AlertmanagerTransport implements Transport {
  readonly tickMs: number;
  /** Per pipeline and detector: the alerts firing (one per severity seen, normally one). */
  private readonly firing = new Map<string, PostableAlert[]>();
  private readonly endpoint: string;

  constructor(config: SinkConfig & { resendMs?: number }) {
    this.endpoint = config.url!.replace(/\/+$/, '') + '/api/v2/alerts';
    this.tickMs = config.resendMs ?? DEFAULT_RESEND_MS;
  }

  async send(e: SinkEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const now = new Date().toISOString();
    if (e.test) {
      const a: PostableAlert = { labels: alertLabels(e), annotations: alertAnnotations(e), startsAt: now, endsAt: new Date(Date.now() + TEST_ALERT_MS).toISOString() };
      return this.post([a], signal);
    }
    const key = metricKey(e);
    const open = this.firing.get(key) ?? [];
    if (e.type === 'recovered') {
      const ended = open.length > 0 ? open.map((a) => ({ ...a, endsAt: now })) : [{ labels: alertLabels(e), annotations: alertAnnotations(e), startsAt: new Date(e.time).toISOString(), endsAt: now }];
      const r = await this.post(ended, signal);
      if (r.ok) this.firing.delete(key);
      return r;
    }
    const alert: PostableAlert = { labels: alertLabels(e), annotations: alertAnnotations(e), startsAt: new Date(e.time).toISOString() };
    // An escalation (warning → critical) ends the warning: one alert per metric fires at a time.
    const ended = open.filter((a) => a.labels.severity !== e.severity).map((a) => ({ ...a, endsAt: now }));
    const r = await this.post([...ended, alert], signal);
    if (r.ok) this.firing.set(key, [alert]);
    return r;
  }

  /** Re-posts what is firing, so Alertmanager does not time it out. */
  async tick(signal: AbortSignal): Promise<void> {
    const all = [...this.firing.values()].flat();
    if (all.length > 0) await this.post(all, signal);
  }

  /** The alerts firing now, as posted (for tests and the status). */
  firingAlerts(): PostableAlert[] {
    return [...this.firing.values()].flat();
  }

  private post(alerts: PostableAlert[], signal: AbortSignal): Promise<DeliveryResult> {
    return postStatus(this.endpoint, JSON.stringify(alerts), {}, signal);
  }
}
