/** The blocking-read connection of the Redis source: raw RESP2 over a socket, replies handed over as bytes. */
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';

/**
 * Where the RESP2 value starting at `pos` ends, or -1 while the buffer does not hold all of it yet.
 * Only lengths are read, so checking a partial reply again as chunks arrive stays cheap.
 */
function respEnd(b: Buffer, pos: number): number {
  if (pos >= b.length) return -1;
  const type = b[pos];
  const lineEnd = b.indexOf(10, pos);
  if (lineEnd < 0) return -1;
  if (type === 43 || type === 45 || type === 58) return lineEnd + 1; // + - :
  let n = 0;
  let negative = false;
  for (let i = pos + 1; i < lineEnd - 1; i++) {
    if (b[i] === 45) negative = true;
    else n = n * 10 + b[i] - 48;
  }
  if (negative) return lineEnd + 1; // $-1 or *-1: null
  if (type === 36) {
    const end = lineEnd + 1 + n + 2; // $
    return end <= b.length ? end : -1;
  }
  let p = lineEnd + 1; // *
  for (let i = 0; i < n; i++) {
    p = respEnd(b, p);
    if (p < 0) return -1;
  }
  return p;
}

/** A reply error from Redis (`-WRONGTYPE …`); its message starts with the error code, as ioredis's do. */
class RedisReplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
  }
}

export interface XReadConnectionOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
}

/**
 * The monitor's blocking-read connection: a minimal RESP2 client (AUTH, SELECT, XREAD) whose replies are handed
 * over as raw bytes. Decoding XREAD replies through a general client cost more than the quality engine itself.
 */
export class XReadConnection {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly pending: Array<{ resolve: (reply: Buffer) => void; reject: (err: Error) => void }> = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 10_000);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('Connection is closed.')));
  }

  static async open(options: XReadConnectionOptions): Promise<XReadConnection> {
    const socket = options.tls
      ? tls.connect({ ...options.tls, host: options.host, port: options.port })
      : net.connect({ host: options.host, port: options.port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`connect ETIMEDOUT ${options.host}:${options.port}`), { code: 'ETIMEDOUT' });
        socket.destroy(err);
      }, options.connectTimeoutMs);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve();
      });
      const onError = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
    });
    const connection = new XReadConnection(socket);
    try {
      if (options.password !== undefined) {
        await connection.command(options.username ? ['AUTH', options.username, options.password] : ['AUTH', options.password]);
      }
    } catch (err) {
      connection.close();
      throw err;
    }
    return connection;
  }

  /** Sends one command; resolves with its whole reply as raw bytes, rejects on an error reply or a lost connection. */
  command(args: string[]): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    let text = `*${args.length}\r\n`;
    for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(text);
    });
  }

  close(): void {
    this.fail(new Error('Connection is closed.'));
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    while (this.pending.length > 0 && this.buffered.length > 0) {
      const end = respEnd(this.buffered, 0);
      if (end < 0) return;
      const reply = this.buffered.subarray(0, end);
      this.buffered = end === this.buffered.length ? Buffer.alloc(0) : this.buffered.subarray(end);
      const waiter = this.pending.shift()!;
      if (reply[0] === 45) waiter.reject(new RedisReplyError(reply.toString('utf8', 1, reply.length - 2)));
      else waiter.resolve(reply);
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    for (const waiter of this.pending.splice(0)) waiter.reject(err);
  }
}
