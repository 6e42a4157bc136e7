/**
 * One GET over HTTP(S) with a timeout, for the brokers' admin REST APIs (Pulsar's topic lookup, the wizard's
 * listings). It rejects with the socket's own error (ECONNREFUSED, ETIMEDOUT…); each caller says what that means.
 */
import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  body: string;
}

export interface HttpTarget {
  secure: boolean;
  hostname: string;
  port: number;
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized?: boolean };
}

/** GETs `path` (credentials only in `headers`, never in a URL that could be logged); a body past `maxBody` characters is cut. */
export function httpGet(t: HttpTarget, path: string, headers: Record<string, string>, timeoutMs: number, maxBody = Infinity): Promise<HttpAnswer> {
  const request = t.secure ? https.request : http.request;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = request(
      {
        host: t.hostname,
        port: t.port,
        path,
        method: 'GET',
        headers: { Accept: 'application/json', ...headers },
        timeout: timeoutMs,
        ...(t.secure ? { ca: t.tls?.ca, cert: t.tls?.cert, key: t.tls?.key, rejectUnauthorized: t.tls?.rejectUnauthorized, servername: t.hostname } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < maxBody) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end();
  });
}
