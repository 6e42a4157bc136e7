/**
 * A real LSP client for protocol tests: spawns the BUILT agent (`node dist/agent.js lsp --stdio`) and
 * talks JSON-RPC to it over stdio, recording every notification with its arrival time.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import type { Diagnostic, InitializeParams } from 'vscode-languageserver-protocol';

export const ROOT = path.resolve(__dirname, '..', '..');
export const AGENT = path.join(ROOT, 'dist', 'agent.js');

export interface Received {
  method: string;
  params: any;
  at: number;
}

export interface AgentClientOptions {
  /** The `clean` settings section the client answers workspace/configuration with. */
  settings?: Record<string, unknown>;
  /** Secrets the client hands out through clean/secret. */
  secrets?: Record<string, string>;
  codeLensRefresh?: boolean;
  /** initializationOptions.storagePath: where the agent keeps baselines. */
  storagePath?: string;
}

export class AgentClient {
  readonly received: Received[] = [];
  readonly secretRequests: string[] = [];
  readonly stderr: string[] = [];
  private waiters: Array<() => void> = [];

  private constructor(
    readonly process: ChildProcess,
    readonly connection: MessageConnection,
  ) {}

  static async start(options: AgentClientOptions = {}): Promise<AgentClient> {
    if (!existsSync(AGENT)) throw new Error(`${AGENT} is missing: run npm run build first.`);
    const child = spawn(process.execPath, [AGENT, 'lsp', '--stdio'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CLEAN_SECRET_FROM_ENV: 'env-value' } });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
    const client = new AgentClient(child, connection);
    child.stderr!.on('data', (d: Buffer) => client.stderr.push(d.toString()));
    connection.onNotification((method: string, params: unknown) => {
      client.received.push({ method, params, at: Date.now() });
      const w = client.waiters;
      client.waiters = [];
      for (const f of w) f();
    });
    connection.onRequest('workspace/configuration', (p: any) => (p.items as Array<{ section?: string }>).map((i) => (i.section === 'clean' ? (options.settings ?? {}) : null)));
    connection.onRequest('clean/secret', (p: any): { value?: string } => {
      client.secretRequests.push(p.name);
      const value = options.secrets?.[p.name];
      return value === undefined ? {} : { value };
    });
    connection.onRequest('workspace/codeLens/refresh', () => {
      client.received.push({ method: 'workspace/codeLens/refresh', params: null, at: Date.now() });
      return null;
    });
    connection.onRequest('client/registerCapability', () => null);
    connection.onRequest('window/workDoneProgress/create', () => null);
    connection.listen();
    const init: InitializeParams = {
      processId: process.pid,
      rootUri: null,
      capabilities: {
        workspace: { configuration: true, codeLens: { refreshSupport: options.codeLensRefresh ?? true } },
        textDocument: { publishDiagnostics: { versionSupport: true }, documentSymbol: { hierarchicalDocumentSymbolSupport: true } },
      },
      workspaceFolders: null,
      initializationOptions: options.storagePath ? { storagePath: options.storagePath } : undefined,
    };
    await connection.sendRequest('initialize', init);
    await connection.sendNotification('initialized', {});
    return client;
  }

  request<R = any>(method: string, params?: unknown): Promise<R> {
    return this.connection.sendRequest(method, params) as Promise<R>;
  }

  notify(method: string, params: unknown): Promise<void> {
    return this.connection.sendNotification(method, params);
  }

  of(method: string): Received[] {
    return this.received.filter((r) => r.method === method);
  }

  /** Resolves once `predicate` holds on what was received, or rejects after `timeoutMs` saying what was awaited. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 15000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${this.received.map((r) => r.method + (r.params?.state ? ':' + r.params.state : '')).slice(-30).join(', ')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  statesOf(pipeline: string): string[] {
    return this.of('clean/status').filter((r) => r.params.pipeline === pipeline).map((r) => r.params.state);
  }

  async diagnosticsFor(uri: string, version: number): Promise<Diagnostic[]> {
    const find = () => this.of('textDocument/publishDiagnostics').find((r) => r.params.uri === uri && r.params.version === version);
    await this.waitFor(`diagnostics of ${uri} v${version}`, () => !!find());
    return find()!.params.diagnostics;
  }

  /** shutdown + exit, then waits for the process (killing it by pid if it does not leave). */
  async stop(): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => {
      if (this.process.exitCode !== null) resolve(this.process.exitCode);
      else this.process.once('exit', (code) => resolve(code));
    });
    try {
      await Promise.race([this.connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 5000))]);
      await this.connection.sendNotification('exit');
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    this.connection.dispose();
    return code;
  }
}

export function fileUri(p: string): string {
  return pathToFileURL(path.resolve(p)).href;
}
