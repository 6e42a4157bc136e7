/**
 * The service endpoint of `clean-agent run --metrics-port`: /metrics for Prometheus, /healthz (200 while the
 * process runs: a liveness probe) and /readyz (200 once every pipeline has connected, else 503 naming those
 * that have not: a readiness probe). Nothing else is served; it only reads.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServiceMetrics } from './metrics';

/** Where the endpoint listens: `9464` (loopback), `0.0.0.0:9464` (every interface), `[::1]:9464`; port 0 picks a free one. */
export interface MetricsAddress {
  host: string;
  port: number;
}

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** `[host:]port` as given to --metrics-port, or what is wrong with it. */
export function parseMetricsAddress(text: string): MetricsAddress | { problem: string } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) return { problem: `takes a port such as 9464, or host:port such as 0.0.0.0:9464 to listen on every interface (got "${text.slice(0, 60)}")` };
  const host = m[1] === undefined ? DEFAULT_METRICS_HOST : m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port };
}

export interface ServiceEndpoint {
  /** The URL of /metrics, with the port actually bound. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on `address` and serves the endpoint until close(); rejects when it cannot listen (port taken, …). */
export function startServiceEndpoint(metrics: ServiceMetrics, address: MetricsAddress): Promise<ServiceEndpoint> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'only GET and HEAD\n', { Allow: 'GET, HEAD' });
    if (path === '/metrics') {
      metrics.render().then(
        (text) => answer(res, 200, text, { 'Content-Type': metrics.contentType }),
        (err) => answer(res, 500, `cannot collect the metrics: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    } else if (path === '/healthz') answer(res, 200, 'ok\n');
    else if (path === '/readyz') {
      const r = metrics.readiness();
      answer(res, r.ready ? 200 : 503, r.body);
    } else answer(res, 404, 'not found: this endpoint serves /metrics, /healthz and /readyz\n');
  });
  // A scraper that keeps its connection open must not hold the process at exit.
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const host = address.host.includes(':') ? `[${address.host}]` : address.host;
      resolve({
        url: `http://${host}:${port}/metrics`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function answer(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
