/** The guided "Monitor Topic…" input and the gaps "Monitor this topic" fills: parts -> a source URL. */
import type { Backend, PipelineInfo, ResolvedConnection } from '../../shared/protocol';
import { sourceAddressOf, sourceUrlFromCli } from './sourceAddress';

export type BrokerBackend = 'kafka' | 'redis' | 'pulsar';

export interface BackendChoice {
  backend: BrokerBackend;
  label: string;
  /** Pre-filled address in the input box. */
  defaultAddress: string;
  addressPrompt: string;
  topicPrompt: string;
}

export const BACKEND_CHOICES: BackendChoice[] = [
  { backend: 'kafka', label: 'Kafka', defaultAddress: '127.0.0.1:9092', addressPrompt: 'Kafka bootstrap servers, host:port[,host:port]', topicPrompt: 'Kafka topic' },
  { backend: 'redis', label: 'Redis Streams', defaultAddress: 'redis://127.0.0.1:6379', addressPrompt: 'Redis URL (redis:// or rediss://) or host:port', topicPrompt: 'Redis stream key' },
  { backend: 'pulsar', label: 'Apache Pulsar', defaultAddress: 'pulsar://127.0.0.1:6650', addressPrompt: 'Pulsar service URL (pulsar://, pulsar+ssl://, pulsar+ws://)', topicPrompt: 'Pulsar topic as tenant/namespace/topic, or a bare topic for public/default' },
];

const HOST_PORT = /^[A-Za-z0-9.\-_]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

/** An error message for the address input box, or undefined when it is usable. */
export function validateAddress(backend: BrokerBackend, address: string): string | undefined {
  const a = address.trim();
  if (!a) return 'Enter an address.';
  if (/:\/\/[^/@]*:[^/@]*@/.test(a)) return 'Leave the password out of the address; Clean Streams asks for it and keeps it in VS Code\'s secret storage.';
  if (backend === 'kafka') {
    const bad = a.split(',').map((s) => s.trim()).filter((s) => !HOST_PORT.test(s));
    return bad.length ? `"${bad[0]}" is not host:port, for example 127.0.0.1:9092.` : undefined;
  }
  if (backend === 'redis') {
    if (HOST_PORT.test(a)) return undefined;
    return /^rediss?:\/\/[^/\s]+$/.test(a) ? undefined : 'Use redis://host:port, rediss://host:port or host:port.';
  }
  if (HOST_PORT.test(a)) return undefined;
  return /^pulsar(\+ssl|\+ws|\+wss)?:\/\/[^/\s]+$/.test(a) ? undefined : 'Use pulsar://host:6650, pulsar+ssl://host:6651 or pulsar+ws://host:8080.';
}

export function validateTopic(backend: BrokerBackend, topic: string): string | undefined {
  const t = topic.trim();
  if (!t) return `Enter the ${backend === 'redis' ? 'stream key' : 'topic'}.`;
  if (/\s/.test(t)) return 'A topic name has no spaces.';
  if (backend === 'kafka' && !/^[A-Za-z0-9._-]{1,249}$/.test(t)) return 'A Kafka topic has letters, digits, ".", "_" and "-" only (at most 249).';
  if (backend === 'pulsar') {
    const bare = t.replace(/^(persistent|non-persistent):\/\//, '');
    const n = bare.split('/').length;
    if (n !== 1 && n !== 3) return 'Use tenant/namespace/topic (public/default/orders) or a bare topic name.';
  }
  return undefined;
}

/** The `clean/startPipeline` URL for a backend, address and topic; a secret only by name. */
export function sourceUrlFromParts(backend: BrokerBackend, address: string, topic: string, secret?: string): string {
  const a = address.trim();
  let t = topic.trim();
  let base: string;
  if (backend === 'kafka') base = `kafka://${a.split(',').map((s) => s.trim()).join(',')}`;
  else if (backend === 'redis') base = /^rediss?:\/\//.test(a) ? a : `redis://${a}`;
  else {
    base = /^pulsar(\+ssl|\+ws|\+wss)?:\/\//.test(a) ? a : `pulsar://${a}`;
    t = t.replace(/^(persistent|non-persistent):\/\//, '');
    if (!t.includes('/')) t = `public/default/${t}`;
  }
  const path = t.split('/').map(encodeURIComponent).join('/');
  return `${base.replace(/\/+$/, '')}/${path}${secret ? `?secret=${encodeURIComponent(secret)}` : ''}`;
}

/** A connection the agent found in a file, plus a topic, as a source URL; undefined when it lacks an address. */
export function sourceUrlFromConnection(conn: ResolvedConnection, topic: string): string | undefined {
  const secret = conn.auth?.secret;
  const user = conn.auth?.username;
  if (conn.backend === 'kafka' && conn.brokers?.length) {
    const url = sourceUrlFromParts('kafka', conn.brokers.join(','), topic, secret);
    return withUser(url, user);
  }
  if ((conn.backend === 'redis' || conn.backend === 'pulsar') && conn.url) {
    return withUser(sourceUrlFromParts(conn.backend, conn.url, topic, secret), user);
  }
  if (conn.backend === 'file' && conn.path) return `file:${conn.path}`;
  return undefined;
}

export function isBrokerBackend(b: Backend | undefined): b is BrokerBackend {
  return b === 'kafka' || b === 'redis' || b === 'pulsar';
}

function withUser(url: string, user: string | undefined): string {
  return user ? url.replace(/^([a-z+]+:\/\/)/, `$1${encodeURIComponent(user)}@`) : url;
}

/** A broker the wizard offers at its first step: found in the workspace's files, or read by a running pipeline. */
export interface AddressChoice {
  backend: BrokerBackend;
  /** The source URL without a topic, credentials by name only (`kafka://127.0.0.1:9092`, `redis://h:6379?secret=r`). */
  base: string;
  /** `127.0.0.1:9092` */
  address: string;
  /** Where it was found: "docker-compose.yml: service kafka, KAFKA_ADVERTISED_LISTENERS", "running: orders". */
  origins: string[];
}

/** A source URL cut at its topic: the broker part and the query (a secret's name, a mechanism) stay. */
export function baseUrlOf(url: string): string | undefined {
  const m = /^((?:kafka|rediss?|pulsar(?:\+ssl|\+ws|\+wss)?):\/\/[^/?#]+)(?:\/[^?#]*)?(\?[^#]*)?$/.exec(url.trim());
  return m ? `${m[1]}${m[2] ?? ''}` : undefined;
}

/** The base URL plus a topic, as sourceUrlFromParts spells it (Pulsar: a bare topic goes to public/default). */
export function withTopic(base: string, backend: BrokerBackend, topic: string): string {
  const q = base.indexOf('?');
  const head = (q >= 0 ? base.slice(0, q) : base).replace(/\/+$/, '');
  let t = topic.trim();
  if (backend === 'pulsar') {
    t = t.replace(/^(persistent|non-persistent):\/\//, '');
    if (!t.includes('/')) t = `public/default/${t}`;
  }
  return `${head}/${t.split('/').map(encodeURIComponent).join('/')}${q >= 0 ? base.slice(q) : ''}`;
}

/** The address part of a base URL ("127.0.0.1:9092"), without user or scheme. */
export function addressOfBase(base: string): string {
  return sourceAddressOf(base)?.hostPorts ?? base;
}

/** The source URL of a pipeline's `clean-agent watch <url>` line; undefined for a config-file pipeline or none. */
export function sourceUrlOfPipeline(info: Pick<PipelineInfo, 'cliCommand'>): string | undefined {
  return sourceUrlFromCli(info.cliCommand);
}

/**
 * The brokers to offer, one entry per base URL in first-seen order: the workspace's connections (clean.yaml,
 * docker-compose, Spring, .env) first, then those of running pipelines. Connections without an address are left out.
 */
export function addressChoices(found: ReadonlyArray<{ file: string; connection: ResolvedConnection }>, running: readonly PipelineInfo[]): AddressChoice[] {
  const out = new Map<string, AddressChoice>();
  const add = (backend: BrokerBackend, base: string, origin: string) => {
    const known = out.get(base);
    if (known) {
      if (!known.origins.includes(origin)) known.origins.push(origin);
      return;
    }
    out.set(base, { backend, base, address: addressOfBase(base), origins: [origin] });
  };
  for (const { file, connection } of found) {
    if (!isBrokerBackend(connection.backend)) continue;
    const url = sourceUrlFromConnection(connection, 'x');
    const base = url && baseUrlOf(url);
    if (base) add(connection.backend, base, `${file}: ${connection.origin}`);
  }
  for (const info of running) {
    if (!isBrokerBackend(info.backend)) continue;
    const url = sourceUrlOfPipeline(info);
    const base = url && baseUrlOf(url);
    if (base) add(info.backend, base, `running: ${info.id}`);
  }
  return [...out.values()];
}

/** The backend a broker URL names by its scheme; undefined for demo:, file: and anything else. */
export function backendOfBase(url: string): BrokerBackend | undefined {
  return sourceAddressOf(url)?.backend as BrokerBackend | undefined;
}
