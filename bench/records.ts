/** The records the benchmarks feed, deterministic so that every run measures the same bytes. */

/** A seedable Lehmer generator in [0, 1). */
export function seededRandom(seed = 12345): () => number {
  return () => (seed = (seed * 16807) % 2147483647) / 2147483647;
}

/**
 * An e-commerce order (~180 bytes; ~750 with `large`): heavy-tailed amounts and delays, a mostly-null
 * coupon — realistic data for the default detectors.
 */
export function orderPayload(i: number, rnd: () => number, large = false): string {
  const rec: Record<string, unknown> = {
    order_id: `ord-${(1_000_000 + i).toString(36)}`,
    customer_id: `cus-${1 + Math.floor(rnd() * 5000)}`,
    created_at: new Date(1_767_225_600_000 + i * 2).toISOString(),
    amount: Math.round(Math.exp(3.4 + rnd() * 2) * 100) / 100,
    currency: rnd() < 0.6 ? 'EUR' : 'USD',
    items: 1 + Math.floor(rnd() * 4),
    status: 'paid',
    delay_ms: Math.round(400 * Math.pow(1 - rnd(), -1 / 1.6)),
    coupon: rnd() < 0.25 ? 'SAVE10' : null,
  };
  if (large) {
    rec.shipping = { street: `${Math.floor(rnd() * 200)} Long Street`, city: 'Amsterdam', zip: '1011 AB', country: 'NL' };
    rec.lines = Array.from({ length: 6 }, (_, k) => ({ sku: `SKU-${k}-${Math.floor(rnd() * 1e6)}`, qty: 1 + k, price: Math.round(rnd() * 1e4) / 100 }));
    rec.notes = 'Please ring twice. '.repeat(8);
    rec.tags = ['web', 'promo', 'returning', 'eu'];
  }
  return JSON.stringify(rec);
}

/** A ~200-byte order event without randomness; every 1000th has an outlier amount so detectors have something to find. */
export function orderEvent(i: number, noteLength: number): string {
  const amount = i % 1000 === 999 ? 9_999_999 : 10 + ((i * 7919) % 9000) / 100;
  return JSON.stringify({
    id: i,
    ts: 1_790_000_000_000 + i,
    customer: `c-${(i * 31) % 50_000}`,
    amount,
    currency: ['EUR', 'USD', 'GBP'][i % 3],
    country: ['DE', 'FR', 'US', 'GB', 'NL'][i % 5],
    status: i % 17 === 0 ? 'refunded' : 'paid',
    items: 1 + (i % 9),
    channel: i % 2 ? 'web' : 'store',
    note: 'x'.repeat(noteLength + (i % 10)),
  });
}
