/**
 * Reading a file for "the topic under the cursor": regular files only (never a device such as /dev/zero,
 * a pipe that blocks, or a folder), and at most RESOLVE_MAX_BYTES, so a request can neither hang nor fill memory.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { UsageError } from '../sources/url';

/** Config files that name topics are small; 1 MB is far beyond any real one. */
export const RESOLVE_MAX_BYTES = 1 << 20;

const KINDS = 'config files (clean.yaml, docker-compose, application.yml/.properties, .env, Kafka Connect JSON) and source files';

export async function readResolvable(file: string, max = RESOLVE_MAX_BYTES): Promise<string> {
  let st: Stats;
  try {
    st = await stat(file);
  } catch (err) {
    throw new UsageError(`Cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Is the file still there?`);
  }
  checkStats(file, st, max);
  // O_NONBLOCK: should a pipe have taken the file's place since stat, opening it must not wait for a writer.
  const handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const now = await handle.stat();
    checkStats(file, now, max);
    const buf = Buffer.alloc(Math.min(now.size, max) + 1);
    let length = 0;
    while (length < buf.length) {
      const { bytesRead } = await handle.read(buf, length, buf.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > max) throw new UsageError(tooLarge(file, max, max, true)); // it grew since stat
    return buf.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}

/** The same limit for the text of an open document. */
export function checkResolvableText(file: string, text: string, max = RESOLVE_MAX_BYTES): string {
  const bytes = text.length > max / 4 ? Buffer.byteLength(text) : text.length;
  if (bytes > max) throw new UsageError(tooLarge(file, bytes, max));
  return text;
}

function checkStats(file: string, st: Stats, max: number): void {
  if (!st.isFile()) throw new UsageError(`${file} is ${kindOf(st)}, not a regular file. Clean Streams finds topics in ${KINDS}.`);
  if (st.size > max) throw new UsageError(tooLarge(file, st.size, max));
}

function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'something else';
}

function tooLarge(file: string, size: number, max: number, more = false): string {
  return `${file} is ${more ? 'over ' : ''}${megabytes(size)}; Clean Streams reads files of up to ${megabytes(max)} to find topics. Type the topic instead with Clean: Monitor Topic….`;
}

function megabytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1 << 20) return `${Math.round(n / 1024)} KB`;
  return `${Math.round((n / (1 << 20)) * 10) / 10} MB`;
}
