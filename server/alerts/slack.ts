/**
 * The `slack` sink. Two modes:
 * - an incoming webhook (`url`, or `secret` naming a secret that holds the webhook URL): a Block Kit message per alert. Incoming webhooks return no message id, so a
 *   recovery cannot be threaded under its alert; it is its own message that names the alert it ends (its
 *   severity and time).
 * - chat.postMessage (`channel` and `secret` naming a bot token; `url` defaults to Slack's API): the same
 *   message, and the recovery (and an escalation) is posted in the alert's thread (`thread_ts`).
 */
import { fromError, postJson, fromStatus } from './post';
import { metricKey, SCORE } from './filter';
import { cut, figure, pct, samplesText, subject, when } from './format';
import { namedSecret } from './webhook';
import type { DeliveryResult, SinkConfig, SinkContext, SinkEvent, Transport } from './types';

export const SLACK_POST_MESSAGE = 'https://slack.com/api/chat.postMessage';

/** Block Kit limits: a header's text, a section's text. */
const HEADER_MAX = 150;
const SECTION_MAX = 3000;
/** Threads remembered at most (the oldest is forgotten first). */
const THREADS_MAX = 1000;

type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Block[];
  channel?: string;
  thread_ts?: string;
}

/** The alert before this recovery, as far as this sink saw it. */
export interface Earlier {
  time: number;
  severity: string;
}

/** Slack's mrkdwn needs &, < and > escaped. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The message for an event (the channel and thread are added by the caller). */
export function slackMessage(e: SinkEvent, earlier?: Earlier): SlackMessage {
  const what = subject(e);
  const test = e.test ? ' (test)' : '';
  if (e.type === 'recovered') {
    const ref = earlier ? `the ${earlier.severity} alert of ${when(earlier.time)}` : `the ${e.severity} alert`;
    const text = `Recovered${test}: ${what}, ending ${ref}`;
    return {
      text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: cut(`:white_check_mark: *Recovered${test}: ${esc(what)}*\nEnds ${esc(ref)}.\n${esc(e.message)}`, SECTION_MAX) } },
      ],
    };
  }
  const icon = e.severity === 'critical' ? ':rotating_light:' : ':warning:';
  const text = `${e.severity === 'critical' ? 'Critical' : 'Warning'}${test}: ${what}: ${figure(e)}`;
  const valueField = e.detector === null ? `*Score*\n${e.value.toFixed(2)} (threshold ${e.threshold.toFixed(2)})` : `*Rate*\n${pct(e.value)} (limit ${pct(e.threshold)})`;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(`${e.severity === 'critical' ? 'Critical' : 'Warning'}${test}: ${what}`, HEADER_MAX), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: cut(`${icon} ${esc(e.message)}`, SECTION_MAX) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Pipeline*\n${esc(e.pipeline)}` },
        { type: 'mrkdwn', text: `*Detector*\n${esc(e.detector ?? SCORE)}` },
        { type: 'mrkdwn', text: valueField },
        { type: 'mrkdwn', text: `*Severity*\n${e.severity}` },
      ],
    },
  ];
  if (e.fields.length > 0) {
    const lines = e.fields.map((f) => `• ${esc(f.detail)}`);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: cut(`*Fields*\n${lines.join('\n')}`, SECTION_MAX) } });
  }
  if (e.samples.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: esc(`Samples: ${samplesText(e)}`) }] });
  }
  return { text, blocks };
}

export class SlackTransport implements Transport {
  /** Per pipeline and detector: the alert a recovery refers to, and its message ts in chat.postMessage mode. */
  private readonly earlier = new Map<string, Earlier & { ts?: string }>();

  constructor(
    private readonly config: SinkConfig,
    private readonly ctx: SinkContext,
  ) {}

  async send(e: SinkEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const key = metricKey(e);
    const prior = e.test ? undefined : this.earlier.get(key);
    const msg = slackMessage(e, prior);
    if (!this.config.channel) {
      // The webhook URL is itself a credential: it may be kept as a secret, named in `secret`, instead of written in `url`.
      const url = this.config.url ?? (await namedSecret(this.ctx, this.config.secret, 'Slack incoming-webhook URL'));
      if (typeof url !== 'string') return url;
      const r = await this.post(url, msg, {}, signal);
      if (r.ok && !e.test) this.remember(e, key, undefined);
      return r;
    }
    const token = await namedSecret(this.ctx, this.config.secret, 'Slack bot token');
    if (typeof token !== 'string') return token;
    msg.channel = this.config.channel;
    if (prior?.ts) msg.thread_ts = prior.ts;
    try {
      const a = await postJson(this.config.url ?? SLACK_POST_MESSAGE, JSON.stringify(msg), { Authorization: `Bearer ${token}` }, signal);
      if (a.status < 200 || a.status >= 300) return fromStatus(a);
      let answer: { ok?: boolean; error?: string; ts?: string };
      try {
        answer = JSON.parse(a.body) as typeof answer;
      } catch {
        return { ok: false, error: 'Slack answered with something other than JSON', retry: true };
      }
      if (!answer.ok) return { ok: false, error: `Slack: ${answer.error ?? 'not ok'}`, retry: answer.error === 'ratelimited' || answer.error === 'internal_error' || answer.error === 'service_unavailable' };
      if (!e.test) this.remember(e, key, prior?.ts ?? answer.ts);
      return { ok: true };
    } catch (err) {
      return fromError(err);
    }
  }

  private async post(url: string, msg: SlackMessage, headers: Record<string, string>, signal: AbortSignal): Promise<DeliveryResult> {
    try {
      return fromStatus(await postJson(url, JSON.stringify(msg), headers, signal));
    } catch (err) {
      return fromError(err);
    }
  }

  /** An alert starts (or escalates) a thread; its recovery ends it. */
  private remember(e: SinkEvent, key: string, ts: string | undefined): void {
    if (e.type === 'recovered') {
      this.earlier.delete(key);
      return;
    }
    const first = this.earlier.get(key);
    this.earlier.delete(key);
    // An escalation keeps the thread of the first alert but is the alert a recovery then refers to.
    this.earlier.set(key, { time: e.time, severity: e.severity, ts: first?.ts ?? ts });
    if (this.earlier.size > THREADS_MAX) this.earlier.delete(this.earlier.keys().next().value as string);
  }
}
