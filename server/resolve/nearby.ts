/**
 * Where a topic named in source code lives: the connections of the config files around the source file
 * (clean.yaml, .env, Spring application.yml/.properties, docker-compose), nearest folder first, walking up
 * to the workspace folder. A source file names topics; its project's config files name the brokers.
 */
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { isCleanConfigFile } from '../../shared/protocol';
import type { ResolvedConnection } from '../../shared/protocol';
import { resolveTopic } from './index';
import { readResolvable } from './read';

/** Without a workspace folder around the file, this many folders up at most. */
const MAX_LEVELS = 6;
const MAX_FILES = 40;

/** Which files name connections, in the order they are preferred within one folder. */
function rankOf(name: string): number {
  if (isCleanConfigFile(name)) return 0;
  if (name === '.env' || name.startsWith('.env.') || name.endsWith('.env')) return 1;
  if (/^(application|bootstrap)([-.][\w-]+)?\.(ya?ml|properties)$/i.test(name)) return 2;
  if (/^(docker-)?compose([.-][\w.-]*)?\.ya?ml$/i.test(name)) return 3;
  return -1;
}

async function configFilesIn(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && rankOf(e.name) >= 0)
    .sort((a, b) => rankOf(a.name) - rankOf(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((e) => path.join(dir, e.name));
}

/**
 * Connections for a source file at `file`: its folder's config files, then (Spring's layout)
 * `src/main/resources` of each folder, then the parent folders' up to the workspace folder that holds it.
 * Each connection's `origin` names the file it came from, relative to that workspace folder.
 */
export async function nearbyConnections(file: string, roots: readonly string[]): Promise<ResolvedConnection[]> {
  const root = roots.filter((r) => file.startsWith(r.endsWith(path.sep) ? r : r + path.sep)).sort((a, b) => b.length - a.length)[0];
  const out: ResolvedConnection[] = [];
  const seen = new Set<string>();
  let read = 0;
  let dir = path.dirname(file);
  for (let level = 0; ; level++) {
    const files = [...(await configFilesIn(dir)), ...(await configFilesIn(path.join(dir, 'src', 'main', 'resources')))];
    for (const f of files) {
      if (read++ >= MAX_FILES) return out;
      const conns = await connectionsOf(f);
      const rel = path.relative(root ?? path.dirname(file), f) || path.basename(f);
      for (const c of conns) {
        const key = JSON.stringify([c.backend, c.brokers, c.url]);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ ...c, origin: `${rel}: ${c.origin}` });
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir || (root !== undefined && dir === root) || (root === undefined && level + 1 >= MAX_LEVELS)) break;
    dir = parent;
  }
  return out;
}

async function connectionsOf(file: string): Promise<ResolvedConnection[]> {
  try {
    const found = resolveTopic(await readResolvable(file), file).connections; // regular files of at most 1 MB
    // A source file names Kafka topics and Redis streams (and Pulsar topics by URL): only brokers help it.
    return found.filter((c) => c.backend === 'kafka' || c.backend === 'redis' || c.backend === 'pulsar');
  } catch {
    return []; // unreadable, too large or not a regular file: it names nothing we can trust
  }
}
