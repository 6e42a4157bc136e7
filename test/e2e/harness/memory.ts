// Samples the resident memory of everything the harness started (by process group) to report the run's peak.
import { readdirSync, readFileSync } from 'node:fs';
import { trackedProcesses } from './processes';

const PAGE_BYTES = 4096;

interface Sample { totalBytes: number; byName: Record<string, number> }

function sampleNow(): Sample {
  const groups = new Map(trackedProcesses().map((p) => [p.pid, p.name]));
  const byName: Record<string, number> = {};
  let totalBytes = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited between listing and reading
    }
    // Fields after the parenthesised command name: state ppid pgrp ... rss is the 22nd of them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const rssBytes = Number(fields[21]) * PAGE_BYTES;
    const name = Number(entry) === process.pid ? 'harness' : groups.get(pgrp);
    if (!name) continue;
    byName[name] = (byName[name] ?? 0) + rssBytes;
    totalBytes += rssBytes;
  }
  return { totalBytes, byName };
}

export class PeakMemory {
  private peak: Sample = { totalBytes: 0, byName: {} };
  private readonly timer: NodeJS.Timeout;

  constructor(everyMs = 500) {
    this.timer = setInterval(() => {
      const s = sampleNow();
      if (s.totalBytes > this.peak.totalBytes) this.peak = s;
    }, everyMs);
    this.timer.unref();
  }

  /** "1.9 GB (code-server 0.5 GB, chromium 1.3 GB, harness 0.1 GB)" at the moment the total peaked. */
  stop(): string {
    clearInterval(this.timer);
    const gb = (bytes: number) => `${(bytes / 1024 ** 3).toFixed(2)} GB`;
    const parts = Object.entries(this.peak.byName).map(([name, bytes]) => `${name} ${gb(bytes)}`);
    return `${gb(this.peak.totalBytes)} (${parts.join(', ')})`;
  }
}
