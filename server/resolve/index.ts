/**
 * "The topic under the cursor": reads clean.yaml, docker-compose files, Spring application.yml /
 * .properties, .env files, Kafka Connect connector JSON and plain YAML/JSON with topic/stream keys.
 */
import path from 'node:path';
import type { Position } from 'vscode-languageserver-protocol';
import { LineIndex, parseCleanConfig } from '../config/index';
import type { OffsetRange } from '../config/index';
import type { SourceSpec } from '../sources/types';
import { isCleanConfigFile } from '../../shared/protocol';
import type { ResolveTopicResult, ResolvedConnection, TopicCandidate } from '../../shared/protocol';
import { sourceUrlOf } from '../lsp/cliCommand';
import { codeLanguageOf, readCode } from './code';
import { readCompose } from './compose';
import { withSecretPointer, type SecretPointer } from './secretPointer';
import { emptyFindings } from './found';
import type { Findings, FoundTopic } from './found';
import { envEntries, propertiesEntries, readKeyed, yamlEntries } from './keyed';

export type FileKind = ResolveTopicResult['fileKind'];

export function fileKindOf(fileName: string, text: string): FileKind {
  const base = path.basename(fileName).toLowerCase();
  if (isCleanConfigFile(base)) return 'clean';
  if (codeLanguageOf(base)) return 'code';
  if (/^(docker-)?compose([.-][\w.-]*)?\.ya?ml$/.test(base)) return 'compose';
  if (/^(application|bootstrap)([-.][\w-]+)?\.ya?ml$/.test(base)) return 'spring';
  if (/\.properties$/.test(base)) return 'properties';
  if (base === '.env' || base.startsWith('.env.') || base.endsWith('.env')) return 'env';
  if (base.endsWith('.json')) return /"connector\.class"\s*:/.test(text) ? 'connect' : 'json';
  if (/\.ya?ml$/.test(base)) return /^services\s*:/m.test(text) && /^\s+image\s*:/m.test(text) ? 'compose' : 'yaml';
  return 'unknown';
}

/** `nearby`: connections of the config files around a source file (nearby.ts); the file's own come first. */
export function resolveTopic(text: string, fileName: string, position?: Position, nearby: ResolvedConnection[] = []): ResolveTopicResult {
  const kind = fileKindOf(fileName, text);
  const lines = new LineIndex(text);
  let found: Findings;
  try {
    found = findIn(kind, text, fileName);
  } catch {
    found = emptyFindings(); // a file we cannot read as its kind names nothing we can trust
  }
  found.connections.push(...nearby);
  // A password found in the file never leaves: its connection points to a stored secret instead.
  let pointer: SecretPointer | undefined;
  found.connections = found.connections.map((c) => {
    const safe = withSecretPointer(c);
    pointer ??= safe.pointer;
    return safe.conn;
  });
  const toRange = (r: OffsetRange) => ({ start: lines.position(r.start), end: lines.position(r.end) });
  const urlFor = (t: FoundTopic): string | undefined => {
    if (t.url) return t.url;
    const conn = found.connections.find((c) => c.backend === t.backend);
    if (!conn || !t.backend) return undefined;
    const spec: SourceSpec = { backend: t.backend, topic: t.topic, from: { kind: 'latest' } };
    if (conn.brokers) spec.brokers = conn.brokers;
    if (conn.url) spec.url = conn.url;
    // A Redis URL's path is its database number (redis://host:6379/0), not part of the stream name.
    const db = t.backend === 'redis' && conn.url ? /^(rediss?:\/\/[^/]+)\/(\d+)\/?$/.exec(conn.url) : null;
    if (db) {
      spec.url = db[1];
      spec.options = { db: Number(db[2]) };
    }
    if (conn.auth) spec.auth = conn.auth;
    if (t.backend === 'pulsar' && !t.topic.includes('/')) spec.topic = `public/default/${t.topic}`;
    return sourceUrlOf(spec);
  };
  const candidates: TopicCandidate[] = found.topics.map((t) => {
    const c: TopicCandidate = { topic: t.topic, range: toRange(t.range), origin: t.origin };
    if (t.backend) c.backend = t.backend;
    const url = urlFor(t);
    if (url) c.url = url;
    if (t.pipelineName) c.pipelineName = t.pipelineName;
    return c;
  });
  const result: ResolveTopicResult = { connections: found.connections, candidates, fileKind: kind };
  if (pointer) result.secret = pointer;

  let chosen: number = -1;
  if (position) {
    const offset = lines.offset(position);
    // On the topic's own text first, then anywhere on its key/value (or its pipeline in clean.yaml).
    chosen = found.topics.findIndex((t) => offset >= t.range.start && offset <= t.range.end);
    if (chosen < 0) chosen = found.topics.findIndex((t) => t.hit !== undefined && offset >= t.hit.start && offset <= t.hit.end);
  }
  const distinct = new Set(found.topics.map((t) => t.topic));
  if (chosen < 0 && distinct.size === 1) chosen = 0;
  if (chosen >= 0) {
    const t = candidates[chosen];
    result.topic = t.topic;
    if (t.backend) result.backend = t.backend;
    if (t.url) result.url = t.url;
    if (t.pipelineName) result.pipelineName = t.pipelineName;
  } else {
    result.reason = reasonFor(kind, candidates.length, path.basename(fileName));
    if (candidates.length === 0 && found.connections.length) result.backend = found.connections[0].backend;
  }
  return result;
}

function reasonFor(kind: FileKind, count: number, base: string): string {
  if (count > 0) return `The cursor is not on a topic; ${base} names ${count} topic${count > 1 ? 's' : ''}: pick one.`;
  switch (kind) {
    case 'clean':
      return `${base} declares no pipeline with a topic yet.`;
    case 'compose':
      return `${base} names no topic: no KAFKA_CREATE_TOPICS on a Kafka service and no *_TOPIC or *_STREAM variables. Type the topic name instead.`;
    case 'spring':
    case 'properties':
      return `${base} has no key ending in topic or topics.`;
    case 'env':
      return `${base} has no *_TOPIC, *_TOPICS or *_STREAM variable.`;
    case 'connect':
      return `This connector config has no topics, topic or kafka.topic setting.`;
    case 'code':
      return `${base} has no producer, consumer or XADD call that names a topic or stream as a string (or a constant bound to one).`;
    case 'unknown':
      return `${base} is not a file kind Clean Streams reads (clean.yaml, docker-compose, Spring application.yml/.properties, .env, Kafka Connect JSON, YAML or JSON with a topic key).`;
    default:
      return `${base} has no key named topic or stream.`;
  }
}

function findIn(kind: FileKind, text: string, fileName: string): Findings {
  switch (kind) {
    case 'clean':
      return readCleanConfig(text, fileName);
    case 'compose':
      return readCompose(text);
    case 'spring':
      return readKeyed(text, yamlEntries(text), 'spring');
    case 'properties':
      return readKeyed(text, propertiesEntries(text), 'properties');
    case 'env':
      return readKeyed(text, envEntries(text), 'env');
    case 'connect':
      return readKeyed(text, yamlEntries(text), 'connect');
    case 'json':
      return readKeyed(text, yamlEntries(text), 'json');
    case 'yaml':
      return readKeyed(text, yamlEntries(text), 'yaml');
    case 'code':
      return readCode(text, fileName);
    default:
      return emptyFindings();
  }
}

function readCleanConfig(text: string, fileName: string): Findings {
  const model = parseCleanConfig(text, fileName);
  const out = emptyFindings();
  for (const c of model.connections) {
    if (!c.backend) continue;
    const v = c.value;
    const conn: ResolvedConnection = { backend: c.backend, origin: `connection ${c.name}` };
    if (Array.isArray(v.brokers) || typeof v.brokers === 'string') conn.brokers = Array.isArray(v.brokers) ? v.brokers.map(String) : String(v.brokers).split(',').map((s) => s.trim());
    if (typeof v.url === 'string') conn.url = v.url;
    if (typeof v.serviceUrl === 'string') conn.url = v.serviceUrl;
    if (typeof v.path === 'string') conn.path = v.path;
    if (v.auth && typeof v.auth === 'object') conn.auth = { ...(v.auth as object) };
    out.connections.push(conn);
  }
  for (const p of model.pipelines) {
    const topic = p.pipeline?.spec.topic ?? p.topic;
    if (!topic || !p.name) continue;
    const t: FoundTopic = { topic, range: p.topicRange ?? p.nameRange ?? p.range, origin: `pipeline ${p.name}`, pipelineName: p.name, hit: p.range };
    const backend = p.pipeline?.spec.backend ?? model.connections.find((c) => c.name === p.connection)?.backend;
    if (backend) t.backend = backend;
    if (p.pipeline) t.url = sourceUrlOf(p.pipeline.spec);
    out.topics.push(t);
  }
  return out;
}
