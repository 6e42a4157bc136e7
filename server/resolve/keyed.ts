/**
 * Files that are key/value settings: Spring application.yml / .properties, .env files, Kafka Connect
 * connector JSON and plain YAML/JSON with `topic` or `stream` keys. Each becomes a list of (key, value,
 * range) entries, then one set of rules finds brokers and topics in them.
 */
import { parseDocument } from 'yaml';
import type { Backend } from '../sources/types';
import type { OffsetRange } from '../config/index';
import { emptyFindings, listenerAddresses, placeholderDefault, rangeOfNode, splitTopics, walkScalars } from './found';
import type { Findings, FoundTopic } from './found';

export interface KeyedValue {
  /** Dotted key (`spring.kafka.bootstrap-servers`), or the variable name. */
  key: string;
  value: string;
  span: OffsetRange;
  /** Key and value together. */
  hit: OffsetRange;
}

export function yamlEntries(text: string): KeyedValue[] {
  const doc = parseDocument(text, { prettyErrors: false });
  const out: KeyedValue[] = [];
  walkScalars(doc.contents as never, (path, node, pair) => {
    const v = (node as { value?: unknown }).value;
    if (v === null || v === undefined || typeof v === 'object') return;
    const span = rangeOfNode(node);
    const keyStart = pair?.key && (pair.key as { range?: number[] }).range ? (pair.key as { range: number[] }).range[0] : span.start;
    out.push({ key: path.join('.'), value: String(v), span, hit: { start: keyStart, end: span.end } });
  });
  return out;
}

/** `key=value` / `key: value` lines (Java properties); comments with # or !. */
export function propertiesEntries(text: string): KeyedValue[] {
  const out: KeyedValue[] = [];
  let offset = 0;
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\s*)([^#!\s=:][^=:]*?)\s*[=:]\s*(.*?)\s*$/.exec(line);
    if (m) {
      const valueStart = offset + line.indexOf(m[3], m[1].length + m[2].length);
      out.push({ key: m[2].trim(), value: m[3], span: { start: valueStart, end: valueStart + m[3].length }, hit: { start: offset + m[1].length, end: offset + line.length } });
    }
    offset += line.length + (text[offset + line.length] === '\r' ? 2 : 1);
  }
  return out;
}

/** `KEY=value`, `export KEY=value`, quoted values, `#` comments. */
export function envEntries(text: string): KeyedValue[] {
  const out: KeyedValue[] = [];
  let offset = 0;
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\s*(?:export\s+)?)([A-Za-z_][\w.]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) {
      let value = m[3];
      let at = line.indexOf(value, m[1].length + m[2].length);
      const q = /^(["'])(.*)\1$/.exec(value);
      if (q) {
        value = q[2];
        at += 1;
      } else value = value.replace(/\s+#.*$/, '');
      out.push({ key: m[2], value, span: { start: offset + at, end: offset + at + value.length }, hit: { start: offset + m[1].length, end: offset + line.length } });
    }
    offset += line.length + (text[offset + line.length] === '\r' ? 2 : 1);
  }
  return out;
}

export type KeyedKind = 'spring' | 'properties' | 'env' | 'connect' | 'yaml' | 'json';

/** Applies the rules for a file kind to its entries. */
export function readKeyed(text: string, entries: KeyedValue[], kind: KeyedKind): Findings {
  const out = emptyFindings();
  const lower = (k: string) => k.toLowerCase();
  let brokers: string[] | undefined;
  let brokersOrigin = '';
  const redis: { host?: string; port?: string; url?: string; username?: string; origin?: string } = {};
  for (const e of entries) {
    const k = lower(e.key);
    const value = placeholderDefault(e.value);
    if (value === undefined || value === '') continue;
    if (/(^|[._-])bootstrap[._-]servers$/.test(k) || /^(kafka_brokers|kafka_bootstrap_servers|bootstrap_servers|kafka\.brokers|kafka_broker_list)$/.test(k)) {
      if (!brokers) {
        // With user-info (`user:pw@host:9092`) every entry is kept as written, for resolveTopic to strip.
        brokers = value.includes('@') ? [] : listenerAddresses(value);
        if (brokers.length === 0) brokers = value.split(',').map((s) => s.trim()).filter(Boolean);
        // Spring lists: spring.kafka.bootstrap-servers[0] is joined below.
        brokersOrigin = e.key;
      } else if (brokersOrigin === e.key) brokers.push(...listenerAddresses(value));
    }
    if (/^spring\.(data\.)?redis\.(host|port|url|username)$/.test(k)) {
      const f = k.split('.').pop() as 'host' | 'port' | 'url' | 'username';
      redis[f] = value;
      redis.origin = `spring.${k.includes('.data.') ? 'data.' : ''}redis.*`;
    }
    if (k === 'redis_url' || k === 'redis.url') {
      redis.url = value;
      redis.origin = e.key;
    }
    if (k === 'pulsar_service_url' || k === 'spring.pulsar.client.service-url' || k === 'pulsar.service-url' || k === 'pulsar.serviceurl') {
      out.connections.push({ backend: 'pulsar', url: value, origin: e.key });
    }
  }
  if (brokers && brokers.length) out.connections.push({ backend: 'kafka', brokers, origin: brokersOrigin });
  if (redis.url || redis.host) {
    const url = redis.url ?? `redis://${redis.host}:${redis.port ?? 6379}`;
    // A password in it is turned into a secret pointer by resolveTopic, never passed on.
    out.connections.unshift({ backend: 'redis', url, origin: redis.origin ?? 'redis', ...(redis.username ? { auth: { username: redis.username } } : {}) });
    // Keep kafka first when both exist: topics are more often Kafka's.
    out.connections.sort((a, b) => order(a.backend) - order(b.backend));
  }
  const defaultBackend = out.connections[0]?.backend ?? (kind === 'connect' ? 'kafka' : undefined);
  for (const e of entries) {
    const k = lower(e.key);
    const last = k.split('.').pop()!.replace(/\[\d+\]$/, '');
    let backend: Backend | undefined;
    let isTopic = false;
    if (kind === 'connect') {
      isTopic = last === 'topics' || last === 'topic' || k === 'kafka.topic' || k.endsWith('.kafka.topic');
      if (isTopic) backend = 'kafka';
    } else if (kind === 'env') {
      if (/(^|_)TOPICS?$/i.test(e.key)) isTopic = true;
      else if (/(^|_)STREAMS?(_KEY)?$/i.test(e.key)) {
        isTopic = true;
        backend = 'redis';
      }
    } else if (kind === 'spring' || kind === 'properties') {
      // Any key path with a topic segment names one (`app.kafka.topics.orders: orders`); below the last
      // segment a number or a flag is a setting of the topic (`…topics.orders.partitions: 3`), not a name.
      const segments = k.split('.').map((x) => x.replace(/\[\d+\]$/, ''));
      const isTopicWord = (x: string) => /topics?$/.test(x) || /topic-?name$/.test(x);
      isTopic = isTopicWord(last) || (segments.slice(0, -1).some(isTopicWord) && !/^(\d+(\.\d+)?|true|false)$/i.test(e.value.trim()));
    } else {
      isTopic = last === 'topic' || last === 'topics' || last === 'stream' || last === 'streams';
      if (last.startsWith('stream')) backend = 'redis';
    }
    if (!isTopic) continue;
    const value = placeholderDefault(e.value);
    if (!value || /^[\s$]/.test(value)) continue;
    const b = backend ?? siblingBackend(entries, e.key) ?? (out.connections.some((c) => c.backend === 'kafka') ? 'kafka' : defaultBackend);
    for (const t of splitTopics(text, e.span, value)) {
      const found: FoundTopic = { topic: t.topic, range: t.range, origin: e.key, hit: e.hit };
      if (b) found.backend = b;
      out.topics.push(found);
    }
  }
  return out;
}

const BACKEND_WORDS: Backend[] = ['kafka', 'redis', 'pulsar'];

/** `input: { kind: kafka, topic: x }`: a sibling kind/type/backend key that names a backend. */
function siblingBackend(entries: KeyedValue[], key: string): Backend | undefined {
  const parent = key.includes('.') ? key.slice(0, key.lastIndexOf('.') + 1) : '';
  for (const e of entries) {
    if (!e.key.startsWith(parent) || e.key.slice(parent.length).includes('.')) continue;
    const k = e.key.slice(parent.length).toLowerCase();
    const v = e.value.toLowerCase();
    if ((k === 'kind' || k === 'type' || k === 'backend' || k === 'broker') && (BACKEND_WORDS as string[]).includes(v)) return v as Backend;
  }
  return undefined;
}

function order(b: Backend): number {
  return b === 'kafka' ? 0 : b === 'pulsar' ? 1 : 2;
}
