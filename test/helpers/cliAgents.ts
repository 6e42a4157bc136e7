/**
 * `clean-agent` processes (server/main.ts under tsx) for tests that run several agents at once (a group): each
 * one's NDJSON events parsed as they arrive, its stderr kept for the message of a test that times out.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './broker';
import { sleep } from './sources';

export type AgentEvent = Record<string, unknown> & { type: string };

export interface CliAgent {
  /** A name for messages (the group's agent id, or '' for one on its own). */
  id: string;
  events: AgentEvent[];
  stderr: string[];
  proc: ChildProcess;
  exited: Promise<number | null>;
}

/** The agents a test file started, for until()'s message and for stopping them at the end. */
export class CliAgents {
  readonly all: CliAgent[] = [];

  start(args: string[], id = ''): CliAgent {
    const proc = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'server', 'main.ts'), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const agent: CliAgent = { id, events: [], stderr: [], proc, exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) };
    let buffered = '';
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) agent.events.push(JSON.parse(line) as AgentEvent);
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => agent.stderr.push(chunk.toString('utf8')));
    this.all.push(agent);
    return agent;
  }

  /** Polls `get` until it gives a value; past `limitMs` fails with what each agent last wrote to stderr. */
  async until<T>(what: string, get: () => T | undefined | null | false, limitMs = 60_000): Promise<T> {
    const start = Date.now();
    for (;;) {
      const v = get();
      if (v) return v;
      if (Date.now() - start > limitMs) {
        const tails = this.all.map((a, i) => `${a.id || `agent ${i}`}: ${a.stderr.join('').slice(-600)}`).join('\n');
        throw new Error(`timed out waiting for ${what}\n${tails}`);
      }
      await sleep(100);
    }
  }
}
