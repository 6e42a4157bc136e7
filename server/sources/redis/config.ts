/** Redis settings from a source spec, and stream IDs. */
import { SourceError } from '../types';

/** Largest sequence part of a stream ID: `<ms-1>-MAX` is the last ID before millisecond `ms`. */
export const MAX_SEQUENCE = '18446744073709551615';

export function parseRedisUrl(text: string | undefined): { host: string; port: number } {
  if (!text) return { host: '127.0.0.1', port: 6379 };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SourceError(`"${text}" is not a Redis URL. Use redis://host:port or rediss://host:port.`, 'config');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  return { host, port: url.port ? Number(url.port) : 6379 };
}

export function integerOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new SourceError(`Redis option ${name}=${String(value)} must be a whole number of 0 or more.`, 'config');
  return n;
}

/** Compares two stream IDs numerically (`<ms>-<seq>`, each part up to 64 bits). */
export function compareIds(a: string, b: string): number {
  const [am, as = '0'] = a.split('-');
  const [bm, bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
