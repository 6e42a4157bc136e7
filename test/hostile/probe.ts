/** What the hostile tests read of a process: its memory and I/O from /proc, and the refusal of a request. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

export const MB = 1024 * 1024;

/** A /proc/<pid>/status figure in MB (VmRSS now, VmHWM the peak). */
export function procMB(pid: number, key: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, `no ${key} in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** Bytes the process has read so far (/proc/<pid>/io rchar). */
export function bytesRead(pid: number): number {
  return Number(/^rchar:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

/** Resolves once `predicate` holds, checking every 100 ms; rejects after `timeoutMs` naming what was awaited. */
export async function until(what: string, predicate: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The error message of a request that must fail. */
export async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the request was accepted');
}
