/**
 * Apache Pulsar as a passive observer: a non-durable reader, never a subscription of the application's,
 * so backlogs and cursors stay exactly as they would be without us.
 *
 * Two transports behind one source:
 *  - `pulsar+ws://` / `pulsar+wss://`: the broker's WebSocket API (web service port, usually 8080), pure JS;
 *  - `pulsar://` / `pulsar+ssl://`: the native `pulsar-client` addon (binary port, usually 6650), loaded lazily
 *    because it cannot be installed everywhere.
 */
import { readFileSync } from 'node:fs';
import type { SourceContext, SourceMessage, SourceSpec, StartPosition, StreamSource } from './types';
import { SourceError } from './types';
import { PulsarWebSocketTransport } from './pulsar/wsTransport';
import { PulsarNativeTransport } from './pulsar-native';

/** What a transport needs to read one topic; built once from the spec. */
export interface PulsarTarget {
  /** `host:port` as given in the URL. */
  address: string;
  hostname: string;
  port: number;
  /** TLS (`pulsar+wss:`, `pulsar+ssl:`, or `?tls=true`). */
  secure: boolean;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean };
  tenant: string;
  namespace: string;
  /** The topic's local name, without tenant and namespace. */
  local: string;
  /** `persistent://tenant/namespace/topic`. */
  fullName: string;
  from: StartPosition;
  /** Messages the broker may push ahead of our acknowledgements. */
  receiverQueueSize: number;
  /** Name of the secret holding the token, when one is configured. */
  secretName?: string;
}

/** One way of talking to Pulsar. `name` is shown in the status line and the log. */
export interface PulsarTransport {
  readonly name: 'websocket' | 'native';
  connect(token: string | undefined): Promise<void>;
  consume(): AsyncIterable<SourceMessage[]>;
  close(): Promise<void>;
}

export const DEFAULT_WEB_PORT = 8080;
export const DEFAULT_BINARY_PORT = 6650;

export class PulsarSource implements StreamSource {
  readonly description: string;
  readonly target: PulsarTarget;
  private readonly transport: PulsarTransport;

  constructor(
    spec: SourceSpec,
    private readonly ctx: SourceContext,
  ) {
    const scheme = schemeOf(spec.url);
    const webSocket = scheme === 'pulsar+ws:' || scheme === 'pulsar+wss:';
    this.target = pulsarTarget(spec, webSocket ? DEFAULT_WEB_PORT : DEFAULT_BINARY_PORT);
    this.transport = webSocket ? new PulsarWebSocketTransport(this.target, ctx) : new PulsarNativeTransport(this.target, ctx, suggestWebSocketUrl(this.target));
    this.description = `pulsar ${this.target.address}/${spec.topic} (${this.transport.name})`;
  }

  get transportName(): 'websocket' | 'native' {
    return this.transport.name;
  }

  async connect(): Promise<void> {
    let token: string | undefined;
    const secretName = this.target.secretName;
    if (secretName) {
      token = await this.ctx.secret(secretName);
      if (token === undefined) {
        throw new SourceError(
          `The secret "${secretName}" holding the Pulsar token for ${this.target.address} is not set. ` +
            `Store it in VS Code (Clean: Set Secret…) or export CLEAN_SECRET_${secretName.toUpperCase().replace(/[^A-Z0-9]/g, '_')} for the CLI.`,
          'auth',
        );
      }
    }
    this.ctx.log.info(`Pulsar source ${this.description}: using the ${this.transport.name} transport`);
    await this.transport.connect(token);
  }

  consume(): AsyncIterable<SourceMessage[]> {
    return this.transport.consume();
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

function schemeOf(url: string | undefined): string {
  const m = /^[a-z+]+:/i.exec(url ?? '');
  return m ? m[0].toLowerCase() : 'pulsar+ws:';
}

function pulsarTarget(spec: SourceSpec, defaultPort: number): PulsarTarget {
  const parts = spec.topic.replace(/^persistent:\/\//, '').split('/');
  if (parts.length !== 3 || parts.some((p) => p === '')) {
    throw new SourceError(`"${spec.topic}" is not a Pulsar topic. Name it <tenant>/<namespace>/<topic>, for example public/default/orders.`, 'config');
  }
  const [tenant, namespace, local] = parts;
  let url: URL;
  try {
    url = new URL(spec.url ?? 'pulsar+ws://127.0.0.1:8080');
  } catch {
    throw new SourceError(`"${spec.url}" is not a Pulsar service URL. Use pulsar+ws://host:8080 or pulsar://host:6650.`, 'config');
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = url.port ? Number(url.port) : defaultPort;
  const options = spec.options ?? {};
  const receiverQueueSize = options.receiverQueueSize === undefined ? 1000 : Number(options.receiverQueueSize);
  if (!Number.isInteger(receiverQueueSize) || receiverQueueSize < 1) {
    throw new SourceError(`Pulsar option receiverQueueSize=${String(options.receiverQueueSize)} must be a whole number of 1 or more.`, 'config');
  }
  let from = spec.from;
  if (typeof options.messageId === 'string' && options.messageId !== '') from = { kind: 'id', id: options.messageId };
  const target: PulsarTarget = {
    address: `${url.hostname}:${port}`,
    hostname,
    port,
    secure: spec.tls !== undefined && spec.tls !== false,
    tenant,
    namespace,
    local,
    fullName: `persistent://${tenant}/${namespace}/${local}`,
    from,
    receiverQueueSize,
    secretName: spec.auth?.secret,
  };
  if (typeof spec.tls === 'object') {
    try {
      target.tls = {
        ca: spec.tls.ca ? readFileSync(spec.tls.ca) : undefined,
        cert: spec.tls.cert ? readFileSync(spec.tls.cert) : undefined,
        key: spec.tls.key ? readFileSync(spec.tls.key) : undefined,
        rejectUnauthorized: spec.tls.rejectUnauthorized,
      };
    } catch (err) {
      throw new SourceError(`Cannot read TLS material for Pulsar at ${target.address}: ${(err as Error).message}. Check the file path.`, 'config');
    }
  }
  return target;
}

/** The WebSocket URL to offer when the native client is missing: same host, the web service port. */
export function suggestWebSocketUrl(target: PulsarTarget): string {
  const scheme = target.secure ? 'pulsar+wss' : 'pulsar+ws';
  const port = target.secure ? 8443 : DEFAULT_WEB_PORT;
  return `${scheme}://${target.hostname}:${port}/${target.tenant}/${target.namespace}/${target.local}`;
}
