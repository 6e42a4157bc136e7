// Every process the harness starts is tracked by id and stopped by id, also on failure or Ctrl-C.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { say } from './log';

interface StartedProcess { name: string; pid: number; exited: boolean }

const started: StartedProcess[] = [];

/** Spawns a command as the leader of its own process group, so stopping it also stops its children. */
export function startTracked(name: string, command: string, args: string[], options: SpawnOptions): ChildProcess {
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid === undefined) throw new Error(`Could not start ${name} (${command}): no process id.`);
  const entry: StartedProcess = { name, pid: child.pid, exited: false };
  started.push(entry);
  child.on('exit', () => { entry.exited = true; });
  return child;
}

/** The live tracked processes (each the leader of its own process group). */
export function trackedProcesses(): Array<{ name: string; pid: number }> {
  return started.map(({ name, pid }) => ({ name, pid }));
}

/** Tracks a process that a library started (Chromium via Playwright) in its own process group. */
export function trackPid(name: string, pid: number): void {
  started.push({ name, pid, exited: false });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return isAlive(pid);
  }
}

/** Stops one tracked process group: TERM, then KILL after a grace period. */
export async function stopTracked(pid: number, graceMs = 5000): Promise<void> {
  const entry = started.find((p) => p.pid === pid);
  if (!entry) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (groupAlive(pid)) {
    say(`${entry.name} (pid ${pid}) ignored SIGTERM for ${graceMs} ms; sending SIGKILL`);
    signalGroup(pid, 'SIGKILL');
  }
  started.splice(started.indexOf(entry), 1);
}

export async function stopAllTracked(): Promise<void> {
  for (const entry of [...started].reverse()) await stopTracked(entry.pid);
}

/** Last resort when the harness itself is exiting: no time to wait, so KILL every tracked group now. */
function killAllNow(): void {
  for (const entry of started) signalGroup(entry.pid, 'SIGKILL');
  started.length = 0;
}

let handlersInstalled = false;

export function installStopHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    say(`received ${signal}; stopping ${started.length} started process(es)`);
    stopAllTracked().finally(() => process.exit(code));
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
  process.on('exit', killAllNow);
}

/**
 * Finds processes that escaped their process group (Chromium's crash handler re-parents itself) by an environment
 * entry only this run sets, and stops them by id. Returns what it stopped, for the log.
 */
export function stopStragglers(environmentEntry: string): string[] {
  const stopped: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environment = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (!environment.includes(environmentEntry)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')[0] ?? '?';
      process.kill(Number(entry), 'SIGKILL');
      stopped.push(`${command} (pid ${entry})`);
    } catch {
      // gone already, or not ours to read
    }
  }
  return stopped;
}
