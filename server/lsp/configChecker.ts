/**
 * Checks clean.yaml documents off the language server's thread, so that requests keep being answered while a large
 * file is parsed and validated. Per document: a change is checked 250 ms after the last one (a just-opened document at
 * once); a newer version cancels the run of an older one (the check thread polls a shared flag between slices of its
 * work); a file over MAX_CONFIG_BYTES gets one diagnostic and is not parsed at all. Requests read the outline of the
 * current version when it is ready, wait briefly for one that is under way, and otherwise answer from the last one.
 *
 * This module is also the check thread's script: dist/config-check.js (this module bundled) beside the agent, or this
 * file itself under tsx.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ConfigCheckCancelled, parseCleanConfig } from '../config/index';
import { MAX_CONFIG_BYTES, outlineOf, oversizeOutline } from './configOutline';
import type { ConfigOutline } from './configOutline';

const CHECK_ROLE = 'clean-streams-config-check';
/** The check thread's heap: checking a 2 MB file of 17,000 pipelines holds about 150 MB. */
const CHECK_HEAP_MB = 1024;

/** One document version to check. */
interface CheckJob {
  id: number;
  uri: string;
  version: number;
  text: string;
  fileName: string;
}

type CheckResult =
  | { id: number; outline: ConfigOutline; ms: number }
  | { id: number; cancelled: true }
  | { id: number; error: string; stack?: string };

// ---- the check thread ------------------------------------------------------------------------

/** Runs one job; `cancelled` says a newer version made it obsolete. Shared by the thread and the in-process fallback. */
function runCheck(job: CheckJob, cancelled: () => boolean): CheckResult {
  const t0 = performance.now();
  try {
    const model = parseCleanConfig(job.text, job.fileName, { cancelled });
    return { id: job.id, outline: outlineOf(model, job.version), ms: performance.now() - t0 };
  } catch (err) {
    if (err instanceof ConfigCheckCancelled) return { id: job.id, cancelled: true };
    return { id: job.id, error: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined };
  }
}

function runCheckThread(): void {
  const port = parentPort!;
  const cancel = new Int32Array((workerData as { cancel: SharedArrayBuffer }).cancel);
  port.on('message', (job: CheckJob) => {
    const result = runCheck(job, () => Atomics.load(cancel, 0) === job.id);
    const o = 'outline' in result ? result.outline : undefined;
    port.postMessage(result, o ? ([o.configAt.buffer, o.nodes.spans.buffer, o.nodes.flags.buffer, o.nodes.segments.buffer, o.nodes.values.buffer] as ArrayBuffer[]) : []);
  });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === CHECK_ROLE) runCheckThread();

// ---- the server's side ---------------------------------------------------------------------

/** The document as the checker reads it (a vscode-languageserver TextDocument fits). */
export interface CheckedDocument {
  readonly uri: string;
  readonly version: number;
  getText(): string;
}

export interface ConfigCheckerEvents {
  /** A version was checked (publish its diagnostics when it is still the current one). */
  checked(uri: string, outline: ConfigOutline): void;
  /** A check failed unexpectedly (not a problem of the file: those are diagnostics). */
  failed(message: string, err?: unknown): void;
  /** One line per check started, finished or cancelled (the agent logs them at debug level). */
  progress?(line: string): void;
}

export interface ConfigCheckerOptions {
  /** Quiet time after the last change before a check starts. */
  debounceMs?: number;
  /** What `outlineForRequest` waits at most for a check under way before it answers from the last outline. */
  requestWaitMs?: number;
  /** Path of a document's file (anchors relative paths, names the file in messages). */
  fileName(uri: string): string;
  /** The open document of a uri, as it is now. */
  document(uri: string): CheckedDocument | undefined;
}

interface DocState {
  timer?: NodeJS.Timeout;
  queued: boolean;
  /** The newest outline checked. */
  outline?: ConfigOutline;
  /** How long the last completed check took: a quick file is checked at once when a request needs it. */
  lastMs: number;
  /** A version whose check failed (not retried until the text changes). */
  failedVersion?: number;
  /** Resolved when a version's outline arrives (or with undefined when it never will). */
  waiters: Array<{ version: number; resolve: (o: ConfigOutline | undefined) => void }>;
}

export class ConfigChecker {
  private readonly docs = new Map<string, DocState>();
  /** Texts checked once, not open in the editor (a config file started from disk), by a made-up uri. */
  private readonly once = new Map<string, CheckedDocument>();
  private onceCount = 0;
  private readonly queue: string[] = [];
  private inFlight: CheckJob | null = null;
  private nextId = 0;
  private worker: Worker | null = null;
  private workerBroken = false;
  private readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  private readonly debounceMs: number;
  private readonly requestWaitMs: number;

  constructor(
    private readonly events: ConfigCheckerEvents,
    private readonly options: ConfigCheckerOptions,
  ) {
    this.debounceMs = options.debounceMs ?? 250;
    this.requestWaitMs = options.requestWaitMs ?? 150;
  }

  /** The document changed (or opened): check it once it is quiet, or at once when it is new to the checker. */
  changed(doc: CheckedDocument): void {
    let s = this.docs.get(doc.uri);
    const fresh = !s;
    if (!s) {
      s = { queued: false, lastMs: 0, waiters: [] };
      this.docs.set(doc.uri, s);
    }
    // The run of an older version is obsolete: stop it between two slices.
    if (this.inFlight && this.inFlight.uri === doc.uri && this.inFlight.version !== doc.version) Atomics.store(this.cancel, 0, this.inFlight.id);
    if (s.timer) clearTimeout(s.timer);
    s.timer = undefined;
    if (fresh) this.enqueue(doc.uri);
    else {
      const state = s;
      s.timer = setTimeout(() => {
        state.timer = undefined;
        this.enqueue(doc.uri);
      }, this.debounceMs);
    }
  }

  closed(uri: string): void {
    const s = this.docs.get(uri);
    if (!s) return;
    if (s.timer) clearTimeout(s.timer);
    if (this.inFlight?.uri === uri) Atomics.store(this.cancel, 0, this.inFlight.id);
    this.docs.delete(uri);
    for (const w of s.waiters) w.resolve(undefined);
  }

  /**
   * What a request answers from: the current version's outline when it is ready or arrives within requestWaitMs,
   * else the last one (stale by a few edits). With none yet, it waits for the first.
   */
  async outlineForRequest(doc: CheckedDocument): Promise<ConfigOutline | undefined> {
    const s = this.docs.get(doc.uri);
    if (!s) return undefined;
    if (s.outline?.version === doc.version) return s.outline;
    if (!s.outline) return this.outlineOf(doc);
    // A file whose last check took longer than a request may wait: answer from that check at once.
    if (s.lastMs > this.requestWaitMs / 2) return s.outline;
    // A quick file: worth a short wait for the exact version (checked now if it was only scheduled).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), this.requestWaitMs)));
    const exact = await Promise.race([this.outlineOf(doc), late]);
    clearTimeout(timer);
    return exact ?? s.outline;
  }

  /** The outline of exactly this version, checking it now if it is only scheduled; undefined if the document closes or the check fails. */
  outlineOf(doc: CheckedDocument): Promise<ConfigOutline | undefined> {
    let s = this.docs.get(doc.uri);
    if (!s) {
      this.changed(doc);
      s = this.docs.get(doc.uri)!;
    }
    if (s.outline?.version === doc.version) return Promise.resolve(s.outline);
    if (s.failedVersion === doc.version) return Promise.resolve(undefined);
    const state = s;
    // Waiting first: a file over the limit is answered within enqueue.
    const outline = new Promise<ConfigOutline | undefined>((resolve) => state.waiters.push({ version: doc.version, resolve }));
    const running = this.inFlight?.uri === doc.uri && this.inFlight.version === doc.version;
    if (!running && !s.queued) {
      // Only scheduled (or not at all): someone needs it now.
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      this.enqueue(doc.uri);
    }
    return outline;
  }

  /** Checks a text that is not an open document (off this thread, as open ones are). */
  async checkText(fileUri: string, text: string): Promise<ConfigOutline | undefined> {
    const doc: CheckedDocument = { uri: `${fileUri}#check-${++this.onceCount}`, version: 0, getText: () => text };
    this.once.set(doc.uri, doc);
    try {
      return await this.outlineOf(doc);
    } finally {
      this.once.delete(doc.uri);
      this.closed(doc.uri);
    }
  }

  dispose(): void {
    for (const uri of [...this.docs.keys()]) this.closed(uri);
    void this.worker?.terminate();
    this.worker = null;
  }

  private enqueue(uri: string): void {
    const s = this.docs.get(uri);
    if (!s || s.queued) return;
    s.queued = true;
    this.queue.push(uri);
    this.pump();
  }

  /** Starts the next queued check when none runs. */
  private pump(): void {
    while (!this.inFlight && this.queue.length > 0) {
      const uri = this.queue.shift()!;
      const s = this.docs.get(uri);
      if (!s) continue;
      s.queued = false;
      const doc = this.once.get(uri) ?? this.options.document(uri);
      if (!doc || s.outline?.version === doc.version) continue;
      const fileName = this.options.fileName(uri.replace(/#check-\d+$/, ''));
      const text = doc.getText();
      // UTF-8 takes one to three bytes per UTF-16 unit: count them only when the length leaves it in doubt.
      const bytes = text.length * 3 <= MAX_CONFIG_BYTES ? text.length : Buffer.byteLength(text, 'utf8');
      if (bytes > MAX_CONFIG_BYTES) {
        const firstLine = /^[^\r\n]*/.exec(text.slice(0, 1000))![0].length;
        this.deliver(uri, oversizeOutline(doc.version, fileName, bytes, firstLine), 0);
        continue;
      }
      const job: CheckJob = { id: ++this.nextId, uri, version: doc.version, text, fileName };
      this.inFlight = job;
      this.events.progress?.(`Checking ${path.basename(fileName)} v${job.version} (${text.length} characters).`);
      this.post(job);
    }
  }

  private post(job: CheckJob): void {
    const worker = this.ensureWorker();
    if (worker) {
      worker.postMessage(job);
      return;
    }
    // No thread could start (reported once): check here, whole, as before.
    setImmediate(() => this.finished(runCheck(job, () => false)));
  }

  private finished(result: CheckResult): void {
    const job = this.inFlight;
    if (!job || job.id !== result.id) return;
    this.inFlight = null;
    const s = this.docs.get(job.uri);
    if (s) {
      if ('outline' in result) {
        this.events.progress?.(`Checked ${path.basename(job.fileName)} v${job.version} in ${Math.round(result.ms)} ms.`);
        this.deliver(job.uri, result.outline, result.ms);
      } else if ('error' in result) {
        this.events.failed(`Checking ${job.fileName} failed: ${result.error}`, Object.assign(new Error(result.error), { stack: result.stack }));
        s.failedVersion = job.version;
        this.settle(s, job.version, undefined);
      }
      // Cancelled: the newer version is scheduled already.
      else this.events.progress?.(`Check of ${path.basename(job.fileName)} v${job.version} cancelled: a newer version replaced it.`);
    }
    this.pump();
  }

  private deliver(uri: string, outline: ConfigOutline, ms: number): void {
    const s = this.docs.get(uri);
    if (!s) return;
    if (!s.outline || s.outline.version <= outline.version) s.outline = outline;
    s.lastMs = ms;
    this.settle(s, outline.version, outline);
    this.events.checked(uri, outline);
  }

  private settle(s: DocState, version: number, outline: ConfigOutline | undefined): void {
    const waiting = s.waiters;
    s.waiters = [];
    for (const w of waiting) {
      if (w.version === version) w.resolve(outline);
      else if (w.version < version) w.resolve(undefined); // that version will never be checked
      else s.waiters.push(w);
    }
  }

  private ensureWorker(): Worker | null {
    if (this.worker || this.workerBroken) return this.worker;
    const script = checkScript();
    if (!script) {
      this.workerBroken = true;
      this.events.failed('The config check thread is missing (config-check.js beside agent.js); checking clean.yaml on the main thread instead.');
      return null;
    }
    try {
      const data = { role: CHECK_ROLE, cancel: this.cancel.buffer };
      // A file that needs more than this to check ends the thread (reported), never the agent.
      const resourceLimits = { maxOldGenerationSizeMb: CHECK_HEAP_MB };
      // Under tsx (tests) the thread loads this TypeScript module through tsx's require hook.
      const worker = script.endsWith('.ts')
        ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(script)});`, { eval: true, workerData: data, resourceLimits })
        : new Worker(script, { workerData: data, resourceLimits });
      worker.unref();
      worker.on('message', (r: CheckResult) => this.finished(r));
      worker.on('error', (err) => this.events.failed(`The config check thread failed: ${err.message}`, err));
      worker.on('exit', (code) => {
        if (this.worker !== worker) return;
        this.worker = null;
        const job = this.inFlight;
        if (!job) return;
        // The thread died under this job (out of memory, say): report it, and do not retry the same version.
        this.finished({ id: job.id, error: `the check thread exited with code ${code}` });
      });
      this.worker = worker;
      return worker;
    } catch (err) {
      this.workerBroken = true;
      this.events.failed(`The config check thread could not start (${(err as Error).message}); checking clean.yaml on the main thread instead.`, err);
      return null;
    }
  }
}

/** The thread's script: this module itself under tsx, or dist/config-check.js beside the agent. */
function checkScript(): string | null {
  const file = typeof __filename === 'string' ? __filename : '';
  const script = file.endsWith('.ts') ? file : path.join(path.dirname(file), 'config-check.js');
  return file && existsSync(script) ? script : null;
}
