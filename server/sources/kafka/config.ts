/** Kafka settings from a source spec, checked with messages that say what to write instead. */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { SourceSpec } from '../types';
import { SourceError } from '../types';

/** Kafka's SASL mechanisms as users write them in URLs and config files. */
export function saslMechanism(name: string | undefined): 'plain' | 'scram-sha-256' | 'scram-sha-512' {
  const m = (name ?? 'plain').toLowerCase().replace(/_/g, '-');
  if (m === 'plain' || m === 'scram-sha-256' || m === 'scram-sha-512') return m;
  throw new SourceError(`Kafka SASL mechanism "${name}" is not supported. Use mechanism=plain, scram-sha-256 or scram-sha-512.`, 'config');
}

export function positiveOption(v: unknown, name: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new SourceError(`Kafka option ${name}=${String(v)} must be a positive whole number.`, 'config');
  return n;
}

/** kafkajs `ssl` from the spec's tls settings, with the CA, certificate and key files read. */
export function kafkaTls(tls: SourceSpec['tls']): boolean | ConnectionOptions | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return true;
  const read = (file: string | undefined, what: string): Buffer | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      throw new SourceError(`Cannot read the TLS ${what} file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check tls.${what} in the source settings.`, 'tls');
    }
  };
  const options: ConnectionOptions = {};
  const ca = read(tls.ca, 'ca');
  const cert = read(tls.cert, 'cert');
  const key = read(tls.key, 'key');
  if (ca) options.ca = [ca];
  if (cert) options.cert = cert;
  if (key) options.key = key;
  if (tls.rejectUnauthorized === false) options.rejectUnauthorized = false;
  return options;
}
