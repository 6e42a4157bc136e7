/**
 * An engine thread: its own sources (its share of the topic's partitions), its own QualityEngine, and a
 * summary (summary.ts) whenever the main thread asks for one at a check. Loaded as a worker: this module
 * under tsx, or dist/scale-worker.js (its bundle) beside the agent.
 *
 * The thread never judges or alerts: the main thread merges every shard's summary and judges the merge,
 * so a topic has one set of alerts however many threads read it.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { QualityEngine } from '../engine/quality';
import { createSource } from '../sources/index';
import { createDecodeStage, decodeSettingsOf, type DecodeInfo, type DecodeStage } from '../decode';
import type { Logger, SourceMessage, StreamSource } from '../sources/types';
import { SourceError } from '../sources/types';
import { PositionTracker, summarize, type PositionSpan } from './summary';
import { PROGRESS_EVERY, PROGRESS_MS, SHARD_ROLE, type FromShard, type ShardData, type ToShard } from './threadMessages';

/** A busy thread lets its message port run (summary requests, stop) at least this often. */
const YIELD_EVERY_MS = 5;

function runShard(): void {
  const port = parentPort!;
  const data = workerData as ShardData;
  const engine = new QualityEngine(data.config);
  // A restarted pipeline's threads start from its saved (merged) baseline, as a single-thread engine does.
  if (data.saved) {
    try {
      engine.restore(data.saved);
    } catch (err) {
      port.postMessage({ type: 'log', level: 'warn', message: `the saved baseline was not taken in (${err instanceof Error ? err.message : String(err)}); learning afresh` } satisfies FromShard);
    }
  }
  // One tracker per source: a Kafka position names its partition; any other is filed under its source's topic.
  const trackers = data.specs.map((spec) => new PositionTracker(spec.topic));
  const positions = () => Object.assign({}, ...trackers.map((t) => t.toJSON())) as Record<string, PositionSpan>;
  const post = (m: FromShard) => port.postMessage(m);
  const log: Logger = {
    debug: (message) => post({ type: 'log', level: 'debug', message }),
    info: (message) => post({ type: 'log', level: 'info', message }),
    warn: (message) => post({ type: 'log', level: 'warn', message }),
    error: (message) => post({ type: 'log', level: 'error', message }),
  };
  const secrets = new Map<number, (v: string | undefined) => void>();
  let nextSecret = 0;
  const sources: StreamSource[] = [];
  let stopping = false;
  let preloaded: SourceMessage[] = [];
  let lastState = 'connecting';
  /** While paused: the promise the read loops wait on, and what opens it (resume, stop). */
  let gate: Promise<void> | null = null;
  let openGate: () => void = () => {};
  const stages: DecodeStage[] = [];
  /** What the records decode as: the first source's stage that knows (the main thread shows one). */
  const decodeInfo = (): DecodeInfo | undefined => {
    for (const st of stages) {
      const info = st.info;
      if (info) return info;
    }
    return undefined;
  };
  /** The count last posted (over every source of the thread: they share its engine), and when. */
  let reported = 0;
  let reportedAt = performance.now();
  let trailing: NodeJS.Timeout | null = null;
  const progress = () => {
    reported = engine.records;
    reportedAt = performance.now();
    const decode = decodeInfo();
    post(decode ? { type: 'progress', records: engine.records, decode } : { type: 'progress', records: engine.records });
  };
  /**
   * After a batch: every PROGRESS_EVERY records, at least every PROGRESS_MS while records arrive, and the last
   * records of a burst within PROGRESS_MS of it ending (a limit or a record-count check must not wait for more).
   */
  const noteProgress = () => {
    if (engine.records === reported) return;
    if (engine.records - reported >= PROGRESS_EVERY || performance.now() - reportedAt >= PROGRESS_MS) progress();
    else trailing ??= setTimeout(() => {
      trailing = null;
      if (engine.records !== reported) progress();
    }, PROGRESS_MS);
  };

  port.on('message', (m: ToShard) => {
    switch (m.type) {
      case 'summary':
        post({ type: 'summary', id: m.id, summary: summarize(engine, data.shard, positions(), data.pipeline) });
        break;
      case 'secret':
        secrets.get(m.id)?.(m.value);
        secrets.delete(m.id);
        break;
      case 'stop':
        stopping = true;
        openGate();
        if (trailing) clearTimeout(trailing);
        void Promise.allSettled(sources.map((s) => s.close())).then(() => port.close());
        break;
      case 'load': {
        // The bench: each record a view of the one transferred buffer (no copy), before the clock starts.
        const bytes = Buffer.from(m.data);
        preloaded = new Array<SourceMessage>(m.ends.length);
        let start = 0;
        for (let i = 0; i < m.ends.length; i++) {
          preloaded[i] = { value: bytes.subarray(start, m.ends[i]) };
          start = m.ends[i];
        }
        const warm = Math.min(m.warm ?? 0, preloaded.length);
        for (let i = 0; i < warm; i++) engine.process(preloaded[i]);
        preloaded = preloaded.slice(warm);
        post({ type: 'loaded', records: preloaded.length });
        break;
      }
      case 'pause':
        gate ??= new Promise<void>((r) => (openGate = r));
        break;
      case 'resume':
        gate = null;
        openGate();
        break;
      case 'baseline':
        // Between two batches (messages run when the read loop yields): the next record sees the change.
        try {
          if (m.op === 'accept') engine.accept(m.detector, m.field);
          else if (m.op === 'reset') engine.resetBaseline();
          else engine.restore(m.saved);
        } catch (err) {
          log.warn(`baseline ${m.op} not applied in this thread: ${err instanceof Error ? err.message : String(err)}`);
        }
        break;
      case 'go': {
        const t0 = performance.now();
        for (let i = 0; i < preloaded.length; i++) engine.process(preloaded[i]);
        post({ type: 'done', records: preloaded.length, ms: performance.now() - t0 });
        break;
      }
    }
  });

  if (data.specs.length === 0) return;

  const ctx = {
    log,
    status: (state: 'connecting' | 'waiting' | 'running' | 'reconnecting', message: string) => {
      lastState = state;
      post({ type: 'status', state, message });
    },
    secret: (name: string) =>
      new Promise<string | undefined>((resolve) => {
        const id = ++nextSecret;
        secrets.set(id, resolve);
        post({ type: 'secret', id, name });
      }),
    maxMessageBytes: data.config.maxMessageBytes,
  };

  /** One source read into the engine; positions noted per record (they name the partition). */
  const read = async (src: StreamSource, k: number): Promise<void> => {
    const tracker = trackers[k];
    // Each thread decodes its own share (Avro, Protobuf, JSON Schema), as a single-thread pipeline does.
    const stage = createDecodeStage(decodeSettingsOf(data.specs[k], data.config.format), ctx);
    stages.push(stage);
    await src.connect();
    // As RealtimePipeline does: a source that found its topic missing says `waiting`, and reports running itself.
    if (lastState !== 'waiting') ctx.status('running', `reading ${src.description}`);
    let yielded = performance.now();
    for await (const raw of src.consume()) {
      if (stopping) break;
      if (gate !== null) {
        // Paused: what was read waits here; the progress so far is exact (a check sees the count stand).
        if (engine.records !== reported) progress();
        await gate;
        reportedAt = performance.now();
        if (stopping) break;
      }
      // Synchronous unless a schema must be fetched first.
      const decoded = stage.decodeBatch(raw);
      const batch = Array.isArray(decoded) ? decoded : await decoded;
      if (stopping) break;
      engine.now = Date.now();
      for (let i = 0; i < batch.length; i++) {
        engine.process(batch[i]);
        tracker.note(batch[i].position);
      }
      // Every PROGRESS_EVERY records, and for a trickle at least every PROGRESS_MS (idle checks, limits).
      noteProgress();
      if (performance.now() - yielded >= YIELD_EVERY_MS) {
        await new Promise<void>((r) => setImmediate(r));
        yielded = performance.now();
      }
    }
    // Records a finite source ended on while the stage was still telling what they are.
    if (!stopping) for (const m of stage.flush()) engine.process(m), tracker.note(m.position);
    stage.close();
  };

  void (async () => {
    try {
      for (const spec of data.specs) sources.push(await createSource(spec, ctx));
      // One thread, several sources (Pulsar partitions, Redis streams): their batches interleave on its engine.
      await Promise.all(sources.map(read));
      await Promise.allSettled(sources.map((s) => s.close()));
      progress();
      if (!stopping) post({ type: 'end', records: engine.records });
    } catch (err) {
      if (stopping) return;
      const message = err instanceof Error ? err.message : String(err);
      post({ type: 'error', message, code: err instanceof SourceError ? err.code : 'source' });
      await Promise.allSettled(sources.map((s) => s.close()));
    }
  })();
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === SHARD_ROLE) runShard();
