import type { Backend, SourceSpec, StartPosition } from './types';
import { parseBrokerList } from './brokers';
import { credentialProblem } from '../secrets/credentials';
import { redact } from '../secrets/redact';

/** A command-line mistake: the CLI prints the message and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `earliest`, `latest`, an ISO time, or epoch milliseconds. */
export function parseStartPosition(text: string): StartPosition {
  const t = text.trim();
  if (t === 'latest' || t === '$') return { kind: 'latest' };
  if (t === 'earliest' || t === 'beginning') return { kind: 'earliest' };
  if (/^\d{13}$/.test(t)) return { kind: 'time', time: Number(t) };
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return { kind: 'time', time: ms };
  }
  throw new UsageError(`--from: "${text}" is not a start position. Use earliest, latest, or an ISO time such as 2026-11-28T10:00:00Z.`);
}

const SCHEMES: Record<string, Backend> = {
  'file:': 'file',
  'demo:': 'demo',
  'kafka:': 'kafka',
  'redis:': 'redis',
  'rediss:': 'redis',
  'pulsar:': 'pulsar',
  'pulsar+ssl:': 'pulsar',
  'pulsar+ws:': 'pulsar',
  'pulsar+wss:': 'pulsar',
};

/**
 * Turns a CLI source URL into a SourceSpec:
 * `file:<path>`, `demo:[scenario][?rate=N&seed=N]`, `kafka://host:port[,host:port]/<topic>`,
 * `redis://[user@]host:port/<stream>`, `pulsar://host:6650/<tenant>/<ns>/<topic>`,
 * `pulsar+ws://host:8080/<tenant>/<ns>/<topic>`. Query parameters become backend options;
 * `secret=<name>` names a stored secret. A password (in any host of a Kafka list) or a credential parameter
 * is refused by the one credential check, and every broker of a Kafka list must parse: none is dropped.
 */
export function parseSourceUrl(text: string, from: StartPosition = { kind: 'latest' }): SourceSpec {
  // First: a URL that carries a credential is refused before anything quotes it.
  const credential = credentialProblem({ url: text });
  if (credential) throw new UsageError(credential);
  // Only a refusal quotes the URL, and then through the one redaction.
  const shown = { toString: () => redact(text) };
  const colon = text.indexOf(':');
  const scheme = colon > 0 ? text.slice(0, colon + 1).toLowerCase() : '';
  const backend = SCHEMES[scheme];
  if (!backend) {
    throw new UsageError(
      `"${shown}" is not a source URL. Use file:<path>, demo:, kafka://host:port/<topic>, redis://host:port/<stream>, ` +
        `pulsar://host:port/<tenant>/<ns>/<topic> or pulsar+ws://host:port/<tenant>/<ns>/<topic>.`,
    );
  }
  if (backend === 'file') {
    let rest = text.slice(colon + 1);
    const q = rest.indexOf('?');
    const options: Record<string, unknown> = {};
    if (q >= 0) {
      for (const [k, v] of new URLSearchParams(rest.slice(q + 1))) options[k] = coerce(v);
      rest = rest.slice(0, q);
    }
    if (rest.startsWith('//')) rest = decodeURIComponent(new URL(text.slice(0, q >= 0 ? colon + 1 + q : undefined)).pathname);
    if (!rest) throw new UsageError('file: needs a path, for example file:./events.jsonl');
    return { backend, topic: rest, from, options };
  }
  if (backend === 'demo') {
    const rest = text.slice(colon + 1).replace(/^\/\//, '');
    const q = rest.indexOf('?');
    const scenario = (q >= 0 ? rest.slice(0, q) : rest) || 'orders';
    const options: Record<string, unknown> = {};
    if (q >= 0) for (const [k, v] of new URLSearchParams(rest.slice(q + 1))) options[k] = coerce(v);
    return { backend, topic: scenario, from, options };
  }

  let url: URL;
  let kafka: { brokers: string[]; username?: string } | undefined;
  let parsed = text;
  if (backend === 'kafka') {
    // A bootstrap list (`h1:9092,h2:9092`) is no URL host: parse every entry, then the rest with the first.
    const m = /^kafka:\/\/([^/?#]*)(.*)$/is.exec(text.trim());
    if (!m) throw new UsageError(`"${shown}" is not a Kafka source URL; write it like kafka://127.0.0.1:9092/orders.`);
    const list = parseBrokerList(m[1].split(','), 'url', true);
    if ('problem' in list) throw new UsageError(list.problem);
    kafka = list;
    parsed = `kafka://${list.brokers[0]}${m[2]}`;
  }
  try {
    url = new URL(parsed);
  } catch {
    throw new UsageError(`"${shown}" is not a valid URL.`);
  }
  const options: Record<string, unknown> = {};
  for (const [k, v] of url.searchParams) options[k] = coerce(v);
  const path = decodeURIComponent(url.pathname.replace(/^\/+/, ''));
  const spec: SourceSpec = { backend, topic: path, from, options };
  const secret = typeof options.secret === 'string' ? options.secret : undefined;
  const mechanism = typeof options.mechanism === 'string' ? options.mechanism : undefined;
  const username = kafka ? kafka.username : url.username ? decodeURIComponent(url.username) : undefined;
  if (username || secret) spec.auth = { username, secret, mechanism };
  delete options.secret;
  delete options.mechanism;
  takeDecodeOptions(spec, options);

  if (backend === 'kafka') {
    spec.brokers = kafka!.brokers;
    if (!path) throw new UsageError(`${shown}: name the topic, for example kafka://127.0.0.1:9092/orders`);
  } else if (backend === 'redis') {
    spec.url = `${url.protocol}//${url.host}`;
    if (!path) throw new UsageError(`${shown}: name the stream, for example redis://127.0.0.1:6379/orders`);
    if (url.protocol === 'rediss:') spec.tls = true;
  } else if (backend === 'pulsar') {
    spec.url = `${url.protocol}//${url.host}`;
    if (path.split('/').length !== 3) {
      throw new UsageError(`${shown}: name the topic as <tenant>/<namespace>/<topic>, for example ${url.protocol}//${url.host}/public/default/orders`);
    }
    if (url.protocol === 'pulsar+ssl:' || url.protocol === 'pulsar+wss:') spec.tls = true;
  }
  if (options.tls === true || options.tls === 'true') spec.tls = true;
  if (typeof options.ca === 'string') spec.tls = { ...(typeof spec.tls === 'object' ? spec.tls : {}), ca: options.ca };
  return spec;
}

const FORMAT_WORDS = ['json', 'avro', 'protobuf', 'jsonschema', 'auto'] as const;

/**
 * `?format=json|avro|protobuf|jsonschema|auto`, `?registry=<url>` (a Confluent-compatible schema registry,
 * never with credentials), `?schema=<file or name>` (bare records) and `?schemas=<folder>` become the spec's
 * decode settings (server/decode).
 */
function takeDecodeOptions(spec: SourceSpec, options: Record<string, unknown>): void {
  const { format, registry, schema, schemas } = options;
  if (format === undefined && registry === undefined && schema === undefined && schemas === undefined) return;
  const decode: NonNullable<SourceSpec['decode']> = {};
  if (format !== undefined) {
    if (!(FORMAT_WORDS as readonly unknown[]).includes(format)) throw new UsageError(`?format= takes ${FORMAT_WORDS.join(', ')} (got "${redact(String(format)).slice(0, 40)}")`);
    decode.format = format as (typeof FORMAT_WORDS)[number];
  }
  if (registry !== undefined) {
    const url = String(registry);
    const cred = credentialProblem({ url });
    if (cred) throw new UsageError(`?registry=: ${cred}`);
    if (!/^https?:\/\/[^/]/i.test(url)) throw new UsageError(`?registry= takes the http(s) URL of a Confluent-compatible schema registry, such as http://127.0.0.1:8081 (got "${redact(url).slice(0, 80)}")`);
    decode.registry = { url };
  }
  if (schema !== undefined) decode.schema = String(schema);
  if (schemas !== undefined) decode.schemas = [String(schemas)];
  delete options.format;
  delete options.registry;
  delete options.schema;
  delete options.schemas;
  spec.decode = decode;
}

function coerce(v: string): unknown {
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return v;
}
