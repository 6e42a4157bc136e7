/** One Kafka record as the engine sees it, built lazily over a batch's bytes. */
import type { KafkaMessage } from 'kafkajs';
import type { RecordScan } from '../../decode/types';
import type { SourceMessage } from '../types';
import { isSharedView } from '../types';

/** One Kafka record as a SourceMessage; the position and key text are built only when someone reads them (samples, rules). */
export class KafkaRecord implements SourceMessage {
  // What the decode stage sets, present from the start: a record then keeps one shape, and setting them on a busy
  // topic (a mark on every Avro record) allocates no property store per record.
  decoded: Record<string, unknown> | undefined = undefined;
  issue: { detector: 'parse' | 'schema'; why: string } | undefined = undefined;
  scan: RecordScan | undefined = undefined;

  constructor(
    readonly value: Buffer | null,
    /** The key's bytes lie at keyAt (keyLength of them) in keyData; null for no key. */
    private readonly keyData: ArrayBuffer | null,
    private readonly keyAt: number,
    private readonly keyLength: number,
    private readonly partition: number,
    private readonly offset: number,
    readonly timestamp: number,
    readonly headers: Record<string, string> | undefined,
  ) {}
  get position(): string {
    return `${this.partition}@${this.offset}`;
  }
  get key(): string | null {
    return this.keyData === null ? null : Buffer.from(this.keyData, this.keyAt, this.keyLength).toString('utf8');
  }
  /** This record without views of the batch's bytes, for a sample that outlives the batch. */
  retain(): SourceMessage {
    const v = this.value;
    const k = this.keyData;
    if ((v === null || !isSharedView(v.buffer.byteLength, v.length)) && (k === null || !isSharedView(k.byteLength, this.keyLength))) return this;
    const key = k === null ? null : new Uint8Array(k, this.keyAt, this.keyLength).slice().buffer;
    return new KafkaRecord(v && Buffer.from(v), key, 0, this.keyLength, this.partition, this.offset, this.timestamp, this.headers);
  }
}

/** Kafka headers as text (several values of one name joined by commas); undefined when there are none. */
export function headerText(h: KafkaMessage['headers']): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  for (const name in h) {
    const v = h[name];
    if (v === undefined) continue;
    (out ??= {})[name] = Array.isArray(v) ? v.map(String).join(',') : String(v);
  }
  return out;
}
