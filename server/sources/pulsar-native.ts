/**
 * Pulsar through the native `pulsar-client` addon (binary protocol, `pulsar://host:6650`), kept thin:
 * a non-durable Reader, reconnection left to the client library. The addon is an optional dependency
 * that often cannot be installed (its binary comes from archive.apache.org, its fallback build needs the
 * C++ client), so it is required lazily and its absence is a message naming the WebSocket URL to use.
 */
import type { SourceContext, SourceMessage } from './types';
import { SourceError } from './types';
import type { PulsarTarget, PulsarTransport } from './pulsar';
import { describeStart } from './pulsar/startPosition';

/** The name is a variable so that bundlers leave the require to run time. */
const NATIVE_CLIENT_MODULE = 'pulsar-client';
const READ_TIMEOUT_MS = 1000;
const MAX_BATCH = 1000;

/** The slice of pulsar-client's API this transport uses. */
interface NativeMessage {
  getData(): Buffer;
  getMessageId(): { serialize(): Buffer };
  getProperties(): Record<string, string>;
  getPublishTimestamp(): number;
  getPartitionKey(): string;
}
interface NativeReader {
  readNext(timeoutMs?: number): Promise<NativeMessage>;
  hasNext(): boolean;
  close(): Promise<null>;
}
interface NativeClient {
  createReader(config: Record<string, unknown>): Promise<NativeReader>;
  close(): Promise<null>;
}
interface NativeModule {
  Client: new (config: Record<string, unknown>) => NativeClient;
  AuthenticationToken: new (params: { token: string }) => unknown;
  MessageId: { earliest(): unknown; latest(): unknown; deserialize(data: Buffer): unknown };
}

/** Loads pulsar-client, or says why it cannot be loaded. Exported for tests (`moduleName` overrides it). */
export function loadNativeClient(moduleName = NATIVE_CLIENT_MODULE): { module?: NativeModule; reason?: string } {
  try {
    return { module: require(moduleName) as NativeModule };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND') return { reason: `the optional package ${moduleName} is not installed` };
    return { reason: `the optional package ${moduleName} is installed but failed to load (${(err as Error).message.split('\n')[0]})` };
  }
}

export class PulsarNativeTransport implements PulsarTransport {
  readonly name = 'native' as const;
  private client: NativeClient | undefined;
  private reader: NativeReader | undefined;
  private closed = false;

  constructor(
    private readonly target: PulsarTarget,
    private readonly ctx: SourceContext,
    private readonly webSocketUrl: string,
    private readonly moduleName = NATIVE_CLIENT_MODULE,
  ) {}

  async connect(token: string | undefined): Promise<void> {
    const t = this.target;
    const loaded = loadNativeClient(this.moduleName);
    if (!loaded.module) {
      throw new SourceError(
        `Cannot use pulsar://${t.address}: ${loaded.reason}. ` +
          `Use the broker's WebSocket API instead, on its web service port (usually 8080): ${this.webSocketUrl}` +
          ` (needs webSocketServiceEnabled=true on the broker), or install pulsar-client where its native build works.`,
        'unsupported',
      );
    }
    const Pulsar = loaded.module;
    this.closed = false;
    this.ctx.status('connecting', `Connecting to Pulsar at ${t.address} with the native client (transport: native)`);
    const config: Record<string, unknown> = {
      serviceUrl: `${t.secure ? 'pulsar+ssl' : 'pulsar'}://${t.address}`,
      operationTimeoutSeconds: 30,
    };
    if (token) config.authentication = new Pulsar.AuthenticationToken({ token });
    if (t.secure && t.tls?.rejectUnauthorized === false) config.tlsAllowInsecureConnection = true;
    try {
      this.client = new Pulsar.Client(config);
      const from = t.from;
      const startMessageId =
        from.kind === 'id' ? Pulsar.MessageId.deserialize(Buffer.from(from.id, 'base64')) : from.kind === 'latest' ? Pulsar.MessageId.latest() : Pulsar.MessageId.earliest();
      this.reader = await this.client.createReader({ topic: t.fullName, startMessageId, receiverQueueSize: t.receiverQueueSize, readerName: 'clean-streams-monitor' });
    } catch (err) {
      await this.close();
      const text = (err as Error).message ?? String(err);
      if (/AuthenticationError|AuthorizationError|Unauthorized/i.test(text)) {
        throw new SourceError(`Pulsar at ${t.address} refused the reader for ${t.fullName} (${text}). Check the token in secret "${t.secretName ?? '(none)'}".`, 'auth');
      }
      if (/TopicNotFound|NamespaceNotFound|not found/i.test(text)) {
        throw new SourceError(`Pulsar at ${t.address} has no topic ${t.fullName} (${text}). Check the topic name.`, 'not-found');
      }
      throw new SourceError(`Cannot open a Pulsar reader on ${t.fullName} at ${t.address} (${text}). Is the broker running?`, 'unreachable');
    }
    const message = `Reading ${t.fullName} at ${t.address} with the native client (transport: native), ${describeStart(t.from)}`;
    this.ctx.log.info(message);
    this.ctx.status('running', message);
  }

  async *consume(): AsyncGenerator<SourceMessage[]> {
    const notBefore = this.target.from.kind === 'time' ? this.target.from.time : undefined;
    while (!this.closed && this.reader) {
      let first: NativeMessage;
      try {
        first = await this.reader.readNext(READ_TIMEOUT_MS);
      } catch (err) {
        if (this.closed) return;
        if (/timeout|timed out/i.test((err as Error).message ?? '')) continue; // nothing new; the client reconnects by itself
        throw new SourceError(`The Pulsar reader on ${this.target.fullName} failed (${(err as Error).message}).`, 'pulsar');
      }
      const batch: SourceMessage[] = [];
      let msg: NativeMessage | undefined = first;
      while (msg) {
        const timestamp = msg.getPublishTimestamp();
        if (notBefore === undefined || timestamp >= notBefore) {
          const key = msg.getPartitionKey();
          batch.push({ value: msg.getData(), position: msg.getMessageId().serialize().toString('base64'), headers: msg.getProperties(), timestamp, key: key || undefined });
        }
        msg = batch.length < MAX_BATCH && this.reader.hasNext() ? await this.reader.readNext(READ_TIMEOUT_MS).catch(() => undefined) : undefined;
      }
      if (batch.length) yield batch;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const reader = this.reader;
    const client = this.client;
    this.reader = undefined;
    this.client = undefined;
    await reader?.close().catch(() => undefined);
    await client?.close().catch(() => undefined);
  }
}
