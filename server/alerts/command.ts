/**
 * The `command` sink: runs a local program (no shell: argv as written), the event as JSON on stdin. Exit code
 * 0 is delivered; another code fails (retried, the program may depend on something that comes back); a
 * program that runs past the timeout is killed. The first line of its stderr goes with the failure.
 */
import { spawn } from 'node:child_process';
import type { DeliveryResult, SinkConfig, SinkEvent, Transport } from './types';

const STDERR_MAX = 2000;

export class CommandTransport implements Transport {
  constructor(private readonly config: SinkConfig) {}

  send(e: SinkEvent, signal: AbortSignal): Promise<DeliveryResult> {
    const [program, ...args] = this.config.command ?? [];
    if (!program) return Promise.resolve({ ok: false, error: 'no command given', retry: false });
    return new Promise<DeliveryResult>((resolve) => {
      let settled = false;
      let child: ReturnType<typeof spawn> | undefined;
      const onAbort = () => {
        child?.kill('SIGKILL');
        done({ ok: false, error: 'timed out', retry: true });
      };
      const done = (r: DeliveryResult) => {
        if (!settled) {
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve(r);
        }
      };
      try {
        child = spawn(program, args, { shell: false, stdio: ['pipe', 'ignore', 'pipe'], env: { ...process.env, CLEAN_EVENT: e.test ? 'test' : e.type } });
      } catch (err) {
        return done({ ok: false, error: `cannot run ${program}: ${(err as Error).message}`, retry: false });
      }
      signal.addEventListener('abort', onAbort);
      let stderr = '';
      child!.stderr!.setEncoding('utf8');
      child!.stderr!.on('data', (chunk: string) => {
        if (stderr.length < STDERR_MAX) stderr += chunk;
      });
      child!.on('error', (err: NodeJS.ErrnoException) => {
        done({ ok: false, error: err.code === 'ENOENT' ? `program not found: ${program}` : `cannot run ${program}: ${err.code ?? err.message}`, retry: err.code !== 'ENOENT' && err.code !== 'EACCES' });
      });
      child!.on('close', (code, sig) => {
        if (code === 0) return done({ ok: true });
        const line = stderr.trim().split('\n')[0]?.slice(0, 200);
        done({ ok: false, error: `${program} ${sig ? `was killed by ${sig}` : `exited with code ${code}`}${line ? `: ${line}` : ''}`, retry: true });
      });
      // A program that does not read its stdin is fine: an EPIPE on it is not a failure of its own.
      child!.stdin!.on('error', () => {});
      child!.stdin!.end(JSON.stringify(e) + '\n');
    });
  }
}
