/**
 * One JSON POST over HTTP(S) for the sinks, on node:http (no pooled keep-alive socket left to hold the process
 * open after a stop), aborted by the caller's signal. A failure becomes a DeliveryResult that says what went
 * wrong without the URL (a Slack webhook's path is its credential) and whether another attempt makes sense.
 */
import http from 'node:http';
import https from 'node:https';
import type { DeliveryResult } from './types';

export interface PostAnswer {
  status: number;
  body: string;
}

/** Bodies longer than this are cut: only error text and small JSON answers are read. */
const MAX_ANSWER = 4096;

/** POSTs `body`; rejects with the socket's error (its `code` kept), or AbortError when the signal fires. */
export function postJson(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<PostAnswer> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? https.request : http.request;
  return new Promise<PostAnswer>((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const req = request(
      u,
      {
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)), 'User-Agent': 'clean-streams', ...headers },
        signal,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (text.length < MAX_ANSWER) text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.slice(0, MAX_ANSWER) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function abortError(): Error {
  return Object.assign(new Error('aborted'), { name: 'AbortError' });
}

/** What an HTTP status means for delivery: 2xx delivered; 408, 429 and 5xx worth a retry; other 4xx not. */
export function fromStatus(a: PostAnswer): DeliveryResult {
  if (a.status >= 200 && a.status < 300) return { ok: true };
  const retry = a.status === 408 || a.status === 429 || a.status >= 500;
  const detail = a.body.trim().split('\n')[0].slice(0, 200);
  return { ok: false, error: `HTTP ${a.status}${detail ? `: ${detail}` : ''}`, retry };
}

/** A socket error in words, without the address: connection refused, no such host, reset. */
export function fromError(err: unknown): DeliveryResult {
  const e = err as { code?: string; name?: string; message?: string };
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') return { ok: false, error: 'aborted', retry: true };
  switch (e.code) {
    case 'ECONNREFUSED':
      return { ok: false, error: 'connection refused', retry: true };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { ok: false, error: 'host not found', retry: true };
    case 'ECONNRESET':
    case 'EPIPE':
      return { ok: false, error: 'connection reset', retry: true };
    case 'ETIMEDOUT':
      return { ok: false, error: 'connection timed out', retry: true };
    default:
      return { ok: false, error: e.code ? `network error ${e.code}` : `network error: ${String(e.message ?? err).slice(0, 200)}`, retry: true };
  }
}

/** POSTs and judges the answer in one step, for sinks that only need the status. */
export async function postStatus(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<DeliveryResult> {
  try {
    return fromStatus(await postJson(url, body, headers, signal));
  } catch (err) {
    return fromError(err);
  }
}
