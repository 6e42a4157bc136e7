/** What a file kind's reader finds: topics and connection settings, with offset ranges into the text. */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, Pair } from 'yaml';
import type { OffsetRange } from '../config/index';
import type { ResolvedConnection } from '../../shared/protocol';
import type { Backend } from '../sources/types';

export interface FoundTopic {
  topic: string;
  backend?: Backend;
  range: OffsetRange;
  origin: string;
  pipelineName?: string;
  url?: string;
  /** The key/value span that counts as "on this topic" for the cursor (wider than the topic's own text). */
  hit?: OffsetRange;
}

export interface Findings {
  topics: FoundTopic[];
  connections: ResolvedConnection[];
}

export function emptyFindings(): Findings {
  return { topics: [], connections: [] };
}

/** Where `needle` sits inside the source text of a value spanning `span` (first occurrence at or after `from`). */
export function locate(text: string, span: OffsetRange, needle: string, from = span.start): OffsetRange {
  const i = text.slice(from, span.end).indexOf(needle);
  if (i < 0) return span;
  return { start: from + i, end: from + i + needle.length };
}

/** Splits a comma (or whitespace) separated list of topics, each with its range in the text. */
export function splitTopics(text: string, span: OffsetRange, value: string): Array<{ topic: string; range: OffsetRange }> {
  const out: Array<{ topic: string; range: OffsetRange }> = [];
  let from = span.start;
  for (const part of value.split(/[,\s]+/)) {
    const t = part.trim();
    if (!t) continue;
    const r = locate(text, span, t, from);
    out.push({ topic: t, range: r });
    from = r.end;
  }
  return out;
}

/** `${KAFKA_TOPIC:orders}` -> `orders` (a Spring / shell placeholder's default); undefined when there is none. */
export function placeholderDefault(v: string): string | undefined {
  const m = /^\$\{[^:}]+:-?([^}]*)\}$/.exec(v.trim());
  if (m) return m[1];
  return /^\$\{[^}]*\}$/.test(v.trim()) ? undefined : v;
}

/** Every scalar under a YAML node with its dotted key path (list items add no key). */
export function walkScalars(node: YamlNode | null | undefined, visit: (path: string[], value: YamlNode, pair?: Pair<YamlNode, YamlNode | null>) => void, path: string[] = []): void {
  if (!node) return;
  if (isMap(node)) {
    for (const pair of node.items as Pair<YamlNode, YamlNode | null>[]) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      const v = pair.value;
      if (isScalar(v)) visit([...path, k], v, pair);
      else walkScalars(v, visit, [...path, k]);
    }
  } else if (isSeq(node)) {
    for (const item of node.items as YamlNode[]) {
      if (isScalar(item)) visit(path, item);
      else walkScalars(item, visit, path);
    }
  }
}

export function rangeOfNode(n: YamlNode): OffsetRange {
  return n.range ? { start: n.range[0], end: n.range[1] } : { start: 0, end: 0 };
}

/** `host:port` pairs from Kafka listener strings (`PLAINTEXT://localhost:9092,INTERNAL://kafka:29092`), host-reachable first. */
export function listenerAddresses(v: string): string[] {
  const all = v
    .split(',')
    .map((s) => s.trim().replace(/^[A-Za-z_]+:\/\//, ''))
    .filter((s) => /^[^\s:/]*:\d+$/.test(s))
    .map((s) => (s.startsWith(':') ? `localhost${s}` : s));
  const local = all.filter((s) => /^(localhost|127\.0\.0\.1|0\.0\.0\.0|host\.docker\.internal)(:|$)/.test(s)).map((s) => s.replace(/^0\.0\.0\.0/, 'localhost'));
  return local.length ? local : all;
}
