/** docker-compose files: Kafka / Redpanda brokers and their topics, Redis and Pulsar services, app *_TOPIC variables. */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode, Pair, YAMLMap } from 'yaml';
import type { Backend } from '../sources/types';
import type { ResolvedConnection } from '../../shared/protocol';
import { emptyFindings, listenerAddresses, locate, placeholderDefault, rangeOfNode, splitTopics } from './found';
import type { Findings, FoundTopic } from './found';
import type { OffsetRange } from '../config/index';

interface EnvVar {
  name: string;
  value: string;
  /** Where the value's text is (inside `KEY=value` for the list form). */
  span: OffsetRange;
  /** The whole entry, for "cursor on this variable". */
  hit: OffsetRange;
}

export function readCompose(text: string): Findings {
  const out = emptyFindings();
  const doc = parseDocument(text, { prettyErrors: false });
  const services = isMap(doc.contents) ? (doc.contents.get('services', true) as YamlNode | undefined) : undefined;
  if (!isMap(services)) return out;
  const appTopics: Array<{ service: string; v: EnvVar; stream: boolean }> = [];
  for (const pair of services.items as Pair<YamlNode, YamlNode | null>[]) {
    const name = isScalar(pair.key) ? String(pair.key.value) : '';
    const svc = pair.value;
    if (!isMap(svc)) continue;
    const image = scalarText(svc, 'image') ?? '';
    const env = envOf(text, svc);
    const ports = portsOf(svc);
    const command = commandText(svc);
    const isKafka = /kafka|redpanda/i.test(image) || env.some((e) => e.name === 'KAFKA_ADVERTISED_LISTENERS' || e.name === 'KAFKA_CFG_ADVERTISED_LISTENERS');
    const isRedis = /(^|\/)(redis|valkey|keydb)/i.test(image);
    const isPulsar = /pulsar/i.test(image);
    if (isKafka) {
      let brokers: string[] = [];
      let origin = `service ${name}`;
      const adv = env.find((e) => /^KAFKA_(CFG_)?ADVERTISED_LISTENERS$/.test(e.name));
      const redpanda = /--advertise-kafka-addr[= ]+(\S+)/.exec(command);
      if (adv) {
        brokers = listenerAddresses(adv.value);
        origin += `, ${adv.name}`;
      } else if (redpanda) {
        brokers = listenerAddresses(redpanda[1]);
        origin += ', --advertise-kafka-addr';
      }
      if (brokers.length === 0 || brokers.every((b) => !/^(localhost|127\.0\.0\.1)/.test(b))) {
        const published = ports.find((p) => p.target === 9092 || p.target === 19092 || p.target === 29092);
        if (published) {
          brokers = [`localhost:${published.published}`];
          origin = `service ${name}, ports`;
        }
      }
      if (brokers.length) out.connections.push({ backend: 'kafka', brokers, origin });
      for (const e of env) {
        if (/^KAFKA_CREATE_TOPICS$/.test(e.name)) {
          // `orders:3:1,payments:1:1` (wurstmeister) — the name is before the first colon.
          let from = e.span.start;
          for (const part of e.value.split(',')) {
            const topic = part.trim().split(':')[0];
            if (!topic) continue;
            const r = locate(text, e.span, topic, from);
            from = r.end;
            out.topics.push({ topic, backend: 'kafka', range: r, origin: `KAFKA_CREATE_TOPICS of service ${name}` });
          }
        }
      }
    }
    if (isRedis) {
      const p = ports.find((x) => x.target === 6379);
      out.connections.push({ backend: 'redis', url: `redis://localhost:${p?.published ?? 6379}`, origin: `service ${name}${p ? ', ports' : ''}` });
    }
    if (isPulsar) {
      const p = ports.find((x) => x.target === 6650);
      out.connections.push({ backend: 'pulsar', url: `pulsar://localhost:${p?.published ?? 6650}`, origin: `service ${name}${p ? ', ports' : ''}` });
    }
    for (const e of env) {
      if (/(^|_)TOPICS?$/.test(e.name) && e.name !== 'KAFKA_CREATE_TOPICS') appTopics.push({ service: name, v: e, stream: false });
      else if (/(^|_)STREAMS?(_KEY)?$/.test(e.name)) appTopics.push({ service: name, v: e, stream: true });
    }
  }
  const has = (b: Backend) => out.connections.some((c: ResolvedConnection) => c.backend === b);
  for (const { service, v, stream } of appTopics) {
    const value = placeholderDefault(v.value);
    if (!value) continue;
    const backend: Backend | undefined = stream ? 'redis' : has('kafka') ? 'kafka' : has('pulsar') ? 'pulsar' : has('redis') ? 'redis' : undefined;
    for (const t of splitTopics(text, v.span, value)) {
      const found: FoundTopic = { topic: t.topic, range: t.range, origin: `${v.name} of service ${service}`, hit: v.hit };
      if (backend) found.backend = backend;
      out.topics.push(found);
    }
  }
  return out;
}

function scalarText(map: YAMLMap, key: string): string | undefined {
  const v = map.get(key, true) as YamlNode | undefined;
  return isScalar(v) ? String(v.value) : undefined;
}

function commandText(map: YAMLMap): string {
  const v = map.get('command', true) as YamlNode | undefined;
  if (isScalar(v)) return String(v.value);
  if (isSeq(v)) return v.items.map((i) => (isScalar(i) ? String(i.value) : '')).join(' ');
  return '';
}

function envOf(text: string, svc: YAMLMap): EnvVar[] {
  const env = svc.get('environment', true) as YamlNode | undefined;
  const out: EnvVar[] = [];
  if (isMap(env)) {
    for (const pair of env.items as Pair<YamlNode, YamlNode | null>[]) {
      if (!isScalar(pair.key) || !isScalar(pair.value) || pair.value.value === null) continue;
      const span = rangeOfNode(pair.value);
      out.push({ name: String(pair.key.value), value: String(pair.value.value), span, hit: { start: rangeOfNode(pair.key).start, end: span.end } });
    }
  } else if (isSeq(env)) {
    for (const item of env.items as YamlNode[]) {
      if (!isScalar(item)) continue;
      const s = String(item.value);
      const eq = s.indexOf('=');
      if (eq <= 0) continue;
      const whole = rangeOfNode(item);
      const name = s.slice(0, eq);
      const value = s.slice(eq + 1);
      const at = text.slice(whole.start, whole.end).indexOf(s.slice(0, eq + 1));
      const start = at >= 0 ? whole.start + at + eq + 1 : whole.start;
      out.push({ name, value, span: { start, end: whole.end }, hit: whole });
    }
  }
  return out;
}

/** `"9092:9092"`, `127.0.0.1:19092:19092`, `{ published: 9092, target: 9092 }`. */
function portsOf(svc: YAMLMap): Array<{ published: number; target: number }> {
  const ports = svc.get('ports', true) as YamlNode | undefined;
  const out: Array<{ published: number; target: number }> = [];
  if (!isSeq(ports)) return out;
  for (const item of ports.items as YamlNode[]) {
    if (isScalar(item)) {
      const parts = String(item.value).split('/')[0].split(':');
      const target = Number(parts[parts.length - 1]);
      const published = Number(parts.length >= 2 ? parts[parts.length - 2] : parts[0]);
      if (Number.isInteger(target) && Number.isInteger(published)) out.push({ published, target });
    } else if (isMap(item)) {
      const target = Number((item.get('target') as unknown) ?? NaN);
      const published = Number((item.get('published') as unknown) ?? target);
      if (Number.isInteger(target)) out.push({ published, target });
    }
  }
  return out;
}
