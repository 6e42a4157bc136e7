import type { SourceContext, SourceMessage, SourceSpec, StreamSource } from './types';
import { SourceError } from './types';
import { InterruptibleSleep } from './pause';

/** The fault episodes the demo cycles through, one detector kind each, in this order. */
export const DEMO_EPISODES = ['duplicates', 'missing', 'schema', 'parse', 'outliers', 'rules'] as const;
export type DemoEpisode = (typeof DEMO_EPISODES)[number];

export interface DemoOptions {
  /** Records per second; 0 = as fast as the engine takes them. */
  rate: number;
  seed: number;
  /** Seconds of clean data before the first episode and between episodes. */
  calm: number;
  /** Seconds each fault episode lasts. */
  episode: number;
}

/** The field rules the demo's orders are meant to follow (the demo pipeline checks them). */
export const DEMO_RULES = {
  order_id: { required: true, type: 'string' as const },
  amount: { type: 'number' as const, min: 0 },
  currency: { enum: ['EUR', 'USD', 'GBP'] },
  status: { enum: ['created', 'paid', 'shipped', 'delivered', 'cancelled'] },
};

const STATUSES = DEMO_RULES.status.enum;
const CURRENCIES = DEMO_RULES.currency.enum;
const REGIONS = ['eu-west', 'eu-central', 'us-east', 'us-west', 'ap-south'];
const TICK_MS = 50;

/** A small, fast, seedable PRNG (mulberry32), so that a seed replays the same stream. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Which episode (if any) covers record `n` (0-based) under these options. */
export function episodeAt(n: number, o: DemoOptions): DemoEpisode | null {
  const perSecond = o.rate > 0 ? o.rate : 500;
  const calm = Math.round(o.calm * perSecond);
  const ep = Math.round(o.episode * perSecond);
  if (n < calm) return null;
  const k = n - calm;
  const cycle = ep + calm;
  const i = Math.floor(k / cycle);
  return k % cycle < ep ? DEMO_EPISODES[i % DEMO_EPISODES.length] : null;
}

export function demoOptions(spec: SourceSpec): DemoOptions {
  const o = spec.options ?? {};
  const num = (k: string, dflt: number, min: number): number => {
    const v = o[k];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) throw new SourceError(`demo: ${k} must be a number ≥ ${min} (got ${String(v)})`, 'usage');
    return v;
  };
  return { rate: num('rate', 500, 0), seed: num('seed', 1, 0), calm: num('calm', 14, 1), episode: num('episode', 6, 1) };
}

/**
 * A synthetic stream of e-commerce orders, realistic enough to calibrate against: heavy-tailed amounts
 * and delivery delays, optional fields that are usually null, and scheduled fault episodes of every
 * detector kind. It needs no broker.
 */
export class DemoSource implements StreamSource {
  readonly description: string;
  readonly options: DemoOptions;
  private closed = false;
  private readonly pause = new InterruptibleSleep();
  private readonly random: () => number;
  private n = 0;
  private readonly recent: string[] = [];
  private readonly baseTime = Date.UTC(2026, 0, 1);

  constructor(spec: SourceSpec, _ctx: SourceContext) {
    if (spec.topic !== 'orders') throw new SourceError(`demo: unknown scenario "${spec.topic}"; use demo:orders`, 'usage');
    this.options = demoOptions(spec);
    this.random = prng(this.options.seed);
    this.description = `demo orders (${this.options.rate > 0 ? `${this.options.rate} records/s` : 'unthrottled'})`;
  }

  async connect(): Promise<void> {}

  async *consume(): AsyncIterable<SourceMessage[]> {
    const rate = this.options.rate;
    let due = 0;
    let last = Date.now();
    while (!this.closed) {
      let count: number;
      if (rate > 0) {
        await this.pause.sleep(TICK_MS);
        const now = Date.now();
        due += ((now - last) / 1000) * rate;
        last = now;
        count = Math.floor(due);
        due -= count;
        if (count === 0) continue;
        count = Math.min(count, rate); // after a stall, catch up at most a second's worth
      } else {
        count = 1000;
        await new Promise<void>((r) => setImmediate(r)); // let timers (checks, stop) run between batches
      }
      if (this.closed) break;
      const batch: SourceMessage[] = new Array(count);
      // As bytes, the way every broker hands them over, so that the demo takes the engine's usual path.
      for (let i = 0; i < count; i++) batch[i] = { value: Buffer.from(this.next()) };
      yield batch;
    }
  }

  /** The next message as JSON text. */
  next(): string {
    const n = this.n++;
    const r = this.random;
    const episode = episodeAt(n, this.options);
    if (episode === 'duplicates' && this.recent.length > 0 && r() < 0.5) {
      return this.recent[Math.floor(r() * this.recent.length)];
    }
    const perSecond = this.options.rate > 0 ? this.options.rate : 500;
    const order: Record<string, unknown> = {
      order_id: `ord-${(1_000_000 + n).toString(36)}`,
      customer_id: `cus-${1 + Math.floor(r() * 5000)}`,
      created_at: new Date(this.baseTime + Math.floor((n * 1000) / perSecond)).toISOString(),
      amount: Math.round(Math.exp(3.4 + 0.9 * gaussian(r)) * 100) / 100,
      currency: CURRENCIES[r() < 0.6 ? 0 : r() < 0.7 ? 1 : 2],
      items: 1 + Math.floor(-Math.log(1 - r()) * 1.2),
      status: STATUSES[Math.floor(r() * 4)],
      region: REGIONS[Math.floor(r() * REGIONS.length)],
      delivery_delay_ms: Math.round(400 * Math.pow(1 - r(), -1 / 1.6)),
      coupon: r() < 0.25 ? `SAVE${5 + Math.floor(r() * 4) * 5}` : null,
      notes: r() < 0.08 ? 'leave at the door' : null,
    };
    switch (episode) {
      case 'missing':
        if (r() < 0.7) order.customer_id = null;
        break;
      case 'schema':
        if (r() < 0.6) order.amount = String(order.amount);
        break;
      case 'parse':
        if (r() < 0.3) return JSON.stringify(order).slice(0, 40 + Math.floor(r() * 60));
        break;
      case 'outliers':
        if (r() < 0.3) order.amount = (order.amount as number) * 100_000;
        break;
      case 'rules':
        if (r() < 0.4) order.status = r() < 0.5 ? 'UNKNOWN' : 'refunded?';
        break;
      default:
        break;
    }
    const text = JSON.stringify(order);
    if (this.recent.length < 64) this.recent.push(text);
    else this.recent[n & 63] = text;
    return text;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pause.interrupt();
  }
}

/** A standard normal variate (Box–Muller). */
function gaussian(r: () => number): number {
  const u = 1 - r();
  const v = r();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
