/**
 * Throwaway folders for tests, removed when the test process exits (issue 17.9: `npm test` must leave nothing
 * behind in the system temp directory). node --test runs each test file in a process of its own, so every folder a
 * file made is gone once that file has run, whether its tests passed or failed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made: string[] = [];

process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new folder under the system temp directory, named `<prefix>XXXXXX`, removed at exit. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
