/**
 * What a broker has, for the "Monitor Topic…" wizard: clean/listTopics (Kafka metadata, Redis `SCAN TYPE stream`,
 * the Pulsar admin API) and clean/checkAddress (reachable, credentials accepted, topic present) before a start.
 * Metadata reads only: nothing here creates, subscribes to or consumes from a topic.
 */
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import Redis from 'ioredis';
import type { CheckAddressResult, DiscoveryProblem, ListTopicsResult } from '../../shared/protocol';
import { describeKafkaError } from '../sources/kafka';
import { closestName, missingTopicMessage } from '../sources/missingTopic';
import { DEFAULT_WEB_PORT } from '../sources/pulsar';
import { restReason } from '../sources/pulsar/errors';
import { httpGet, type HttpAnswer } from '../sources/httpGet';
import { scanStreamKeys } from '../sources/redis';
import type { SourceSpec } from '../sources/types';
import { UsageError, parseSourceUrl } from '../sources/url';

/** At most this many names are listed (a picker with more is no help; the filter narrows what the broker has). */
export const LIST_LIMIT = 1000;
/** Each broker question gives up after this long, so the wizard never hangs on an address that swallows packets. */
const TIMEOUT_MS = 5000;
/** Pulsar namespaces asked for topics, at most (public/default first). */
const PULSAR_NAMESPACES = 50;
/** Stands in for the topic of an address given without one, so the source URL rules apply unchanged. */
const PLACEHOLDER = '__clean_discover__';

export interface DiscoverDeps {
  /** A stored secret by name (the extension's SecretStorage, or CLEAN_SECRET_<NAME> headless). */
  secret(name: string): Promise<string | undefined>;
}

/** A failure the wizard shows as it is: what happened, where, and what to do. */
class DiscoveryError extends Error {
  constructor(
    readonly problem: DiscoveryProblem,
    message: string,
  ) {
    super(message);
  }
}

interface Listing {
  topics: string[];
  truncated: boolean;
}

/** clean/listTopics: the broker's topics or streams, sorted; a failure is an answer (`ok: false`), never a throw. */
export async function listTopics(url: string, deps: DiscoverDeps): Promise<ListTopicsResult> {
  let spec: SourceSpec;
  try {
    spec = specOf(url, false);
  } catch (err) {
    return { ok: false, topics: [], address: '', problem: 'bad-address', message: (err as Error).message };
  }
  const address = addressOf(spec);
  try {
    const listing = await withDeadline(listOf(spec, deps), spec, address);
    return { ok: true, address, topics: listing.topics, ...(listing.truncated ? { truncated: true } : {}) };
  } catch (err) {
    const failure = asDiscoveryError(err, spec, address);
    return { ok: false, topics: [], address, problem: failure.problem, message: failure.message };
  }
}

/** clean/checkAddress: whether a source can start as given; the message says what to fix when it cannot. */
export async function checkAddress(url: string, deps: DiscoverDeps): Promise<CheckAddressResult> {
  let spec: SourceSpec;
  try {
    spec = specOf(url, true);
  } catch (err) {
    return { ok: false, problem: 'bad-address', message: (err as Error).message };
  }
  if (spec.backend !== 'kafka' && spec.backend !== 'redis' && spec.backend !== 'pulsar') {
    return { ok: true, message: `${spec.backend} sources need no broker check.` };
  }
  const address = addressOf(spec);
  let listing: Listing;
  try {
    listing = await withDeadline(listOf(spec, deps), spec, address);
  } catch (err) {
    const failure = asDiscoveryError(err, spec, address);
    return { ok: false, problem: failure.problem, message: failure.message };
  }
  const name = topicName(spec);
  const kind = spec.backend === 'redis' ? 'stream' : 'topic';
  if (listing.topics.includes(name)) return { ok: true, message: `${kind} ${name} exists on ${address}.` };
  // A listing cut short may not show the topic: only a complete one proves it missing.
  if (listing.truncated) return { ok: true, message: `${address} answered; it has more than ${LIST_LIMIT} ${kind}s, so ${name} was not looked for by name.` };
  const suggestion = closestName(name, listing.topics);
  return { ok: false, problem: 'missing-topic', message: missingTopicMessage(kind, name, address, listing.topics), ...(suggestion !== undefined ? { suggestion } : {}) };
}

/** A source URL, its topic optional (`withTopic` false) or required, as a SourceSpec. */
export function specOf(url: string, withTopic: boolean): SourceSpec {
  const text = typeof url === 'string' ? url.trim() : '';
  if (!text) throw new UsageError('Give the broker address as a URL, for example kafka://127.0.0.1:9092, redis://127.0.0.1:6379 or pulsar+ws://127.0.0.1:8080.');
  if (withTopic || !/^(kafka|rediss?|pulsar(\+ssl|\+ws|\+wss)?):\/\//i.test(text)) return parseSourceUrl(text);
  const m = /^([a-z+]+:\/\/[^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(text);
  if (!m) return parseSourceUrl(text);
  const path = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (path) return parseSourceUrl(text);
  const placeholder = /^pulsar/i.test(m[1]) ? `public/default/${PLACEHOLDER}` : PLACEHOLDER;
  const spec = parseSourceUrl(`${m[1]}/${placeholder}${m[3] ?? ''}`);
  return { ...spec, topic: '' };
}

/** The topic's name as the listing spells it (Pulsar: tenant/namespace/topic). */
function topicName(spec: SourceSpec): string {
  return spec.backend === 'pulsar' ? spec.topic.replace(/^(persistent|non-persistent):\/\//, '') : spec.topic;
}

export function addressOf(spec: SourceSpec): string {
  if (spec.backend === 'kafka') return (spec.brokers ?? []).join(',');
  if (spec.backend === 'redis' || spec.backend === 'pulsar') return (spec.url ?? '').replace(/^[a-z+]+:\/\//i, '');
  return spec.topic;
}

function listOf(spec: SourceSpec, deps: DiscoverDeps): Promise<Listing> {
  switch (spec.backend) {
    case 'kafka':
      return kafkaTopics(spec, deps);
    case 'redis':
      return redisStreams(spec, deps);
    case 'pulsar':
      return pulsarTopics(spec, deps);
    default:
      throw new DiscoveryError('bad-address', `Listing topics needs a Kafka, Redis or Pulsar address; ${spec.backend} has none.`);
  }
}

async function withDeadline<T>(work: Promise<T>, spec: SourceSpec, address: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DiscoveryError('unreachable', `${brokerName(spec)} at ${address} did not answer within ${TIMEOUT_MS / 1000} s. Check the host and port, and that a firewall lets them through.`)), TIMEOUT_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    work.catch(() => undefined); // a late failure after the deadline is no news
  }
}

function brokerName(spec: SourceSpec): string {
  return spec.backend === 'kafka' ? 'Kafka' : spec.backend === 'redis' ? 'Redis' : 'Pulsar';
}

function asDiscoveryError(err: unknown, spec: SourceSpec, address: string): DiscoveryError {
  if (err instanceof DiscoveryError) return err;
  if (err instanceof UsageError) return new DiscoveryError('bad-address', err.message);
  return new DiscoveryError('unreachable', `Cannot ask ${brokerName(spec)} at ${address} (${(err as Error)?.message ?? String(err)}).`);
}

/** The secret's value, or a DiscoveryError naming the secret to set. */
async function secretValue(name: string, deps: DiscoverDeps, what: string): Promise<string> {
  const value = await deps.secret(name);
  if (value === undefined) {
    throw new DiscoveryError('auth', `The secret "${name}" for ${what} is not set. Run "Clean: Set Secret…" and store it under that name.`);
  }
  return value;
}

function tlsFiles(tls: SourceSpec['tls']): { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean } | undefined {
  if (typeof tls !== 'object') return undefined;
  try {
    return {
      ca: tls.ca ? readFileSync(tls.ca) : undefined,
      cert: tls.cert ? readFileSync(tls.cert) : undefined,
      key: tls.key ? readFileSync(tls.key) : undefined,
      rejectUnauthorized: tls.rejectUnauthorized,
    };
  } catch (err) {
    throw new DiscoveryError('bad-address', `Cannot read a TLS file of this address (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Check the paths in ca, cert and key.`);
  }
}

// ----- Kafka: metadata through the admin client (listTopics asks for no topic, so none is auto-created)

async function kafkaTopics(spec: SourceSpec, deps: DiscoverDeps): Promise<Listing> {
  const brokers = spec.brokers ?? [];
  const config: KafkaConfig = {
    clientId: 'clean-streams-discover',
    brokers,
    connectionTimeout: 3000,
    requestTimeout: TIMEOUT_MS,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  };
  const files = tlsFiles(spec.tls);
  if (spec.tls === true) config.ssl = true;
  else if (files) config.ssl = files;
  const auth = spec.auth;
  if (auth?.username || auth?.secret) {
    if (!auth.username || !auth.secret) {
      throw new DiscoveryError('auth', `Kafka SASL needs a user and a secret's name: kafka://<user>@${brokers.join(',')}?secret=<name>&mechanism=scram-sha-256.`);
    }
    const mechanism = (auth.mechanism ?? 'plain').toLowerCase();
    config.sasl = { mechanism, username: auth.username, password: await secretValue(auth.secret, deps, `Kafka user "${auth.username}"`) } as SASLOptions;
  }
  const admin = new Kafka(config).admin();
  try {
    await admin.connect();
    const names = (await admin.listTopics()).filter((t) => !t.startsWith('__'));
    return capped(names);
  } catch (err) {
    const failure = describeKafkaError(err, { brokers: brokers.join(','), topic: '', username: auth?.username, mechanism: auth?.mechanism, secretName: auth?.secret });
    throw new DiscoveryError(failure.code === 'auth' || failure.code === 'tls' ? 'auth' : failure.code === 'authorization' ? 'not-allowed' : 'unreachable', failure.message);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// ----- Redis: SCAN TYPE stream, a bounded number of rounds

async function redisStreams(spec: SourceSpec, deps: DiscoverDeps): Promise<Listing> {
  const url = new URL(spec.url ?? 'redis://127.0.0.1:6379');
  const password = spec.auth?.secret ? await secretValue(spec.auth.secret, deps, `Redis at ${url.host}`) : undefined;
  const db = Number(spec.options?.db ?? 0);
  const files = tlsFiles(spec.tls);
  const client = new Redis({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : 6379,
    username: spec.auth?.username,
    password,
    db: Number.isInteger(db) && db >= 0 ? db : 0,
    tls: spec.tls === true ? {} : files,
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    connectTimeout: 3000,
    disableClientInfo: true,
  });
  // The socket's own error (ECONNREFUSED) comes as an event; the rejected connect says only "Connection is closed".
  let socketError: unknown;
  client.on('error', (err: unknown) => {
    socketError ??= err;
  });
  try {
    await client.connect();
    const { names, more } = await scanStreamKeys(client, { names: LIST_LIMIT });
    return capped(names, more);
  } catch (err) {
    throw redisFailure(socketError ?? err, url.host, spec);
  } finally {
    client.disconnect();
  }
}

function redisFailure(err: unknown, address: string, spec: SourceSpec): DiscoveryError {
  const text = (err as Error)?.message ?? String(err);
  const code = (err as { code?: unknown }).code;
  if (/NOAUTH/.test(text)) return new DiscoveryError('auth', `Redis at ${address} requires a password (NOAUTH). Store it with "Clean: Set Secret…" and pick it in the wizard (or add ?secret=<name>).`);
  if (/WRONGPASS|invalid username-password/i.test(text)) return new DiscoveryError('auth', `Redis at ${address} refused ${spec.auth?.username ? `user "${spec.auth.username}"` : 'the default user'} with the password in secret "${spec.auth?.secret ?? '(none)'}" (WRONGPASS). Check the secret.`);
  if (/NOPERM/.test(text)) return new DiscoveryError('not-allowed', `Redis at ${address} does not allow this user to SCAN for streams (NOPERM). Type the stream key instead.`);
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(text)) return new DiscoveryError('unreachable', `Cannot reach Redis at ${address} (connection refused). Is the server running on that port?`);
  if (code === 'ENOTFOUND') return new DiscoveryError('unreachable', `Cannot resolve the Redis host in ${address} (ENOTFOUND). Check the host name.`);
  return new DiscoveryError('unreachable', `Cannot ask Redis at ${address} (${text.split('\n')[0]}). Is this a Redis server?`);
}

// ----- Pulsar: the admin REST API on the web service port

interface WebTarget {
  secure: boolean;
  hostname: string;
  port: number;
  address: string;
  token?: string;
  tls?: ReturnType<typeof tlsFiles>;
}

/** pulsar+ws(s):// is the web port already; for pulsar(+ssl):// the admin API is on the usual web port of that host. */
export function pulsarWebAddress(serviceUrl: string): { secure: boolean; hostname: string; port: number } {
  const url = new URL(serviceUrl);
  const secure = url.protocol === 'pulsar+ssl:' || url.protocol === 'pulsar+wss:';
  const web = url.protocol === 'pulsar+ws:' || url.protocol === 'pulsar+wss:';
  const port = web && url.port ? Number(url.port) : secure ? 8443 : DEFAULT_WEB_PORT;
  return { secure, hostname: url.hostname.replace(/^\[|\]$/g, ''), port };
}

async function pulsarTopics(spec: SourceSpec, deps: DiscoverDeps): Promise<Listing> {
  const web = pulsarWebAddress(spec.url ?? 'pulsar+ws://127.0.0.1:8080');
  const t: WebTarget = { ...web, address: `${web.hostname}:${web.port}`, tls: tlsFiles(spec.tls) };
  if (spec.auth?.secret) t.token = await secretValue(spec.auth.secret, deps, `the Pulsar token for ${t.address}`);
  // The asked-for topic's namespace first, then every namespace the token may list.
  const wanted = spec.topic ? spec.topic.replace(/^(persistent|non-persistent):\/\//, '').split('/').slice(0, 2).join('/') : 'public/default';
  const namespaces = [wanted];
  const tenants = await adminList(t, '/admin/v2/tenants', true);
  for (const tenant of tenants ?? []) {
    const listed = await adminList(t, `/admin/v2/namespaces/${encodeURIComponent(tenant)}`, true);
    for (const ns of listed ?? []) if (!namespaces.includes(ns) && namespaces.length < PULSAR_NAMESPACES) namespaces.push(ns);
  }
  const names = new Set<string>();
  let answered = false;
  for (const ns of namespaces) {
    const [tenant, namespace] = ns.split('/');
    if (!tenant || !namespace) continue;
    const base = `/admin/v2/persistent/${encodeURIComponent(tenant)}/${encodeURIComponent(namespace)}`;
    const partitioned = await adminList(t, `${base}/partitioned`, true);
    const plain = await adminList(t, base, true);
    if (partitioned || plain) answered = true;
    for (const full of [...(partitioned ?? []), ...(plain ?? [])]) {
      const short = full.replace(/^(persistent|non-persistent):\/\//, '');
      if (/-partition-\d+$/.test(short) || short.split('/')[2]?.startsWith('__')) continue;
      names.add(short);
    }
    if (names.size > LIST_LIMIT) break;
  }
  // Nothing listable is not "no topics": the token may read a topic without being allowed to list its namespace.
  if (!answered && tenants === undefined) {
    throw new DiscoveryError('not-allowed', `Pulsar at ${t.address} lets ${t.token ? 'this token' : 'anonymous clients'} list no namespace (HTTP 403/404). Type the topic instead.`);
  }
  return capped([...names]);
}

/** A list from the admin API; undefined for a 403/404 when `optional` (a namespace the token may not see). */
async function adminList(t: WebTarget, path: string, optional: boolean): Promise<string[] | undefined> {
  const res = await adminGet(t, path);
  if (res.status === 200) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body);
    } catch {
      throw new DiscoveryError('unreachable', `Pulsar at ${t.address} answered the admin API with something that is not JSON. Is this the broker's web service port (usually 8080)?`);
    }
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  }
  if (res.status === 401) {
    throw new DiscoveryError('auth', t.token ? `Pulsar at ${t.address} refused the token (HTTP 401). Check that it is valid and not expired, then update the secret.` : `Pulsar at ${t.address} requires authentication (HTTP 401). Store a token with "Clean: Set Secret…" and pick it in the wizard.`);
  }
  if (optional && (res.status === 403 || res.status === 404)) return undefined;
  const reason = restReason(res.body);
  if (res.status === 403) throw new DiscoveryError('not-allowed', `Pulsar at ${t.address} does not allow ${t.token ? 'this token' : 'anonymous clients'} to list ${path.replace('/admin/v2/persistent/', '')} (HTTP 403). Type the topic instead.`);
  throw new DiscoveryError('unreachable', `Pulsar at ${t.address} answered ${path} with HTTP ${res.status}${reason ? ` (${reason})` : ''}. Check the tenant and namespace.`);
}

function adminGet(t: WebTarget, path: string): Promise<HttpAnswer> {
  return httpGet(t, path, t.token ? { Authorization: `Bearer ${t.token}` } : {}, TIMEOUT_MS, 4_000_000).catch((err: NodeJS.ErrnoException) => {
    const why = err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'host not found' : err.code ?? err.message;
    throw new DiscoveryError('unreachable', `Cannot reach Pulsar's admin API at ${t.address} (${why}). Is the broker running, and is this its web service port (usually 8080)?`);
  });
}

function capped(names: string[], more = false): Listing {
  names.sort();
  return names.length > LIST_LIMIT ? { topics: names.slice(0, LIST_LIMIT), truncated: true } : { topics: names, truncated: more };
}
