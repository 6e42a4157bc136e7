/**
 * A real HTTP receiver for the alert sink tests (node:http on a free loopback port): it records every request
 * (path, headers, raw body) and answers each with the next scripted behaviour — a status and body, `hang`
 * (never answers; the connection stays open until the receiver closes) or `reset` (destroys the socket).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour = { status: number; body?: string; headers?: Record<string, string> } | 'hang' | 'reset';

export interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: unknown;
}

export class Receiver {
  readonly requests: Received[] = [];
  private readonly script: Behaviour[];
  private readonly server: http.Server;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];
  url = '';

  /** Answers with `script` in order, then with `otherwise` (200 "ok" by default). */
  constructor(script: Behaviour[] = [], private readonly otherwise: Behaviour = { status: 200, body: 'ok' }) {
    this.script = [...script];
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        this.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json });
        for (const w of this.waiters.filter((x) => this.requests.length >= x.n)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve();
        }
        const b = this.script.length > 0 ? this.script.shift()! : this.otherwise;
        if (b === 'hang') return;
        if (b === 'reset') {
          req.socket.destroy();
          return;
        }
        res.writeHead(b.status, { 'Content-Type': 'text/plain', ...b.headers });
        res.end(b.body ?? '');
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    // A test that fails before close() must not leave the test process waiting on the listener.
    this.server.unref();
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Resolves once `n` requests have arrived in all. */
  received(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`receiver: ${this.requests.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** A loopback port nothing listens on (bound, then released): connections to it are refused. */
export async function refusedUrl(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
