/**
 * Where a pipeline reads from, taken from its `clean-agent watch <url>` line (the one place the agent states the source
 * URL, secrets named but never carried): the key a mute is stored under, and the address "Edit Address" changes.
 */
import type { Backend, PipelineInfo } from '../../shared/protocol';

/** The source URL of a `clean-agent watch …` line, unquoted; undefined when the line has none. */
export function sourceUrlFromCli(cliCommand: string): string | undefined {
  const m = /^clean-agent\s+watch\s+('(?:[^']|'\\'')*'|\S+)/.exec(cliCommand.trim());
  if (!m) return undefined;
  const arg = m[1]!;
  return arg.startsWith("'") ? arg.slice(1, -1).replace(/'\\''/g, "'") : arg;
}

/** A broker URL split at its address: `kafka://` + `user@` + `h1:9092,h2:9092` + `/orders?secret=x`. */
export interface SourceAddress {
  backend: Backend;
  /** `kafka://`, `redis://`, `rediss://`, `pulsar+ssl://`, … */
  scheme: string;
  /** `user@` or empty. */
  user: string;
  /** `host:port` (Kafka: a comma-separated list). */
  hostPorts: string;
  /** The path (topic or stream) and query after the address. */
  rest: string;
}

/** The address part of a broker URL; undefined for demo, file and memory sources (they have none). */
export function sourceAddressOf(url: string): SourceAddress | undefined {
  const m = /^((kafka|rediss?|pulsar(?:\+ssl|\+ws|\+wss)?):\/\/)([^/@?#]*@)?([^/?#]*)(.*)$/.exec(url);
  if (!m) return undefined;
  const backend: Backend = m[2] === 'kafka' ? 'kafka' : m[2]!.startsWith('redis') ? 'redis' : 'pulsar';
  return { backend, scheme: m[1]!, user: m[3] ?? '', hostPorts: m[4]!, rest: m[5]! };
}

/** What the address box shows: `h1:9092,h2:9092` for Kafka, the scheme and host for Redis and Pulsar (as "Monitor Topic…" asks). */
export function editableAddress(a: SourceAddress): string {
  return a.backend === 'kafka' ? a.hostPorts : `${a.scheme}${a.hostPorts}`;
}

/**
 * The same source at another address: topic, user, secret name and options kept. A Redis or Pulsar address given as
 * bare `host:port` keeps the old scheme.
 */
export function withAddress(a: SourceAddress, address: string): string {
  const given = address.trim();
  if (a.backend === 'kafka') return `${a.scheme}${a.user}${given.split(',').map((s) => s.trim()).join(',')}${a.rest}`;
  const m = /^([a-z+]+:\/\/)(.*)$/.exec(given);
  const scheme = m ? m[1]! : a.scheme;
  const hostPorts = (m ? m[2]! : given).replace(/\/+$/, '');
  return `${scheme}${a.user}${hostPorts}${a.rest}`;
}

/**
 * The key a mute is kept under: the topic and its connection (backend and address, without user or options), never the
 * pipeline id, so that a mute holds after stop and re-monitor, and across agent and window restarts. Sources without an
 * address (demo, file, memory) are told apart by their topic and name.
 */
export function muteKeyOf(info: Pick<PipelineInfo, 'backend' | 'topic' | 'name' | 'cliCommand'>): string {
  const url = sourceUrlFromCli(info.cliCommand);
  const a = url ? sourceAddressOf(url) : undefined;
  if (a) return `${a.backend}://${a.hostPorts}/${info.topic}`;
  return `${info.backend}:${info.topic}#${info.name}`;
}
