/**
 * The Clean Streams protocol between the extension (client) and the agent (language server).
 *
 * Declared once here and imported by both sides; docs/protocol.md documents every method, and a test
 * fails when a method below is missing from that page. Times are epoch milliseconds; scores and
 * rates are on a 0..1 scale.
 */
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { Position, Range } from 'vscode-languageserver-protocol';
import type { DetectorName, PipelineSettings } from '../server/engine/config';
import type { AlertEvent, AlertField, BaselineInfo, MetricsEvent, RecoveredEvent, SampleRecord, StatusEvent } from '../server/engine/events';
import type { Backend, PipelineState, SourceSpec } from '../server/sources/types';
import type { DecodeInfo } from '../server/decode/types';

export type { AlertEvent, AlertField, BaselineInfo, MetricsEvent, RecoveredEvent, SampleRecord, StatusEvent, DetectorName, PipelineSettings, PipelineState, Backend, SourceSpec };
export type { DecodeInfo };

// ---------------------------------------------------------------------------------------------
// Shared shapes

/** What the agent knows about one pipeline; returned by start/stop/pause/resume/list and sent with every status. */
export interface PipelineInfo {
  /** Unique among the agent's pipelines; every request that targets a pipeline takes this id. */
  id: string;
  /** The pipeline's name (its config file name, or the one given at start); usually equal to `id`. */
  name: string;
  /** Kafka topic, Redis stream key, Pulsar `tenant/ns/topic`, file path or demo scenario. */
  topic: string;
  backend: Backend;
  /** A short description of the source without secrets ("kafka 127.0.0.1:9092/orders"). */
  description: string;
  state: PipelineState;
  /** A human message for the state ("reading demo orders", "Cannot reach Kafka at …"). */
  message: string;
  /** The latest window score, once a check ran. */
  score?: number;
  /** Records per second at the latest check. */
  throughput?: number;
  /** Records consumed so far. */
  records?: number;
  /** The pipeline's qualityThreshold. */
  threshold: number;
  /** The detectors this pipeline runs. */
  detectors: DetectorName[];
  /** The config file the pipeline came from, when it came from one. */
  configUri?: string;
  /** The equivalent headless command (`clean-agent watch …`), without secrets. */
  cliCommand: string;
  /** Learning its first window (baseline-driven alerts held) or ready, once a check ran. */
  baseline?: BaselineInfo;
  /** Whether the last baseline change ("This is normal", reset) can be undone. */
  canUndoBaseline?: boolean;
  /** Only on a clean/startPipeline answer: the same pipeline (same file entry, or same source) was already active, nothing was started. */
  reused?: true;
  /**
   * What its records decode as, once known: the format and, for schema'd records, the writer schema's subject,
   * version and id (the tree shows `avro orders-value v3`). Absent for plain JSON.
   */
  decode?: DecodeInfo;
  /** The alert sinks of its config file that take its alerts (`alerts:`), with their delivery figures; absent when none. */
  sinks?: SinkStatus[];
  /** A `workers:` pipeline: the engine threads reading it, once they run (the tree says `2 threads`). */
  threads?: number;
  /** A pipeline with `group:` (clean.yaml): the group of agents it watches, and those merged now (the tree says `group G · 2 agents`). */
  group?: { name: string; summariesTopic: string; agents: string[] };
}

/** One alert sink's delivery figures (server/alerts SinkStats): the tree shows a failing one. */
export interface SinkStatus {
  name: string;
  kind: string;
  queued: number;
  delivered: number;
  failed: number;
  dropped: number;
  retries: number;
  /** The latest failure, without secrets ("HTTP 500", "connection refused"). */
  lastError?: string;
  /** The latest attempt failed and none succeeded since. */
  failing: boolean;
}

/** Every request that targets one pipeline carries its id. */
export interface PipelineRef {
  pipeline: string;
}

// ---------------------------------------------------------------------------------------------
// Requests, client -> agent

/** Start a pipeline that a config file declares. The agent reads the file (the open document, else the disk). */
export interface StartConfiguredPipelineParams {
  configUri: string;
  pipelineName: string;
  /** The id to take when it is free: a client restoring a pipeline after an agent restart keeps its id. */
  id?: string;
}

/** Start a pipeline given inline: a source URL (as for `clean-agent watch`) or a full SourceSpec. */
export interface StartInlinePipelineParams {
  /** Defaults to the topic. */
  name?: string;
  /** The id to take when it is free: a client restoring a pipeline after an agent restart keeps its id. */
  id?: string;
  /** `demo:orders`, `kafka://127.0.0.1:9092/orders`, `redis://…/stream`, `file:./x.jsonl`, … */
  url?: string;
  spec?: SourceSpec;
  /** `earliest`, `latest` (default) or an ISO time; used with `url`. */
  from?: string;
  /** Overrides over the `clean.*` settings the agent reads with workspace/configuration. */
  settings?: WirePipelineSettings;
}

/** PipelineSettings as a client may send them: intervals also as `"1s"`, `"500ms"` or a record count. */
export type WirePipelineSettings = Omit<PipelineSettings, 'checkInterval' | 'cooldown'> & {
  checkInterval?: PipelineSettings['checkInterval'] | string | number;
  cooldown?: PipelineSettings['cooldown'] | string | number;
};

export type StartPipelineParams = StartConfiguredPipelineParams | StartInlinePipelineParams;

/**
 * Starts a pipeline, or returns the active one that is the same pipeline unchanged, marked `reused`: the same
 * config file entry, or (inline) the same name and source. A different address, topic or credentials under the
 * same name is a different pipeline (`orders (2)`). A stopped or failed one of the same id is replaced. Resolves once the pipeline is created (state `connecting`); progress arrives as
 * `clean/status`. Errors (unknown pipeline in the file, invalid settings, bad URL) come back as a
 * ResponseError whose message says what to fix.
 */
export namespace StartPipelineRequest {
  export const method = 'clean/startPipeline' as const;
  export const type = new RequestType<StartPipelineParams, PipelineInfo, void>(method);
}

export interface StopPipelineParams extends PipelineRef {
  /** Also forget the pipeline (it leaves clean/listPipelines and its history is dropped). */
  remove?: boolean;
}

/** Stops a pipeline and closes its source; it stays listed as `stopped` unless `remove` is set. */
export namespace StopPipelineRequest {
  export const method = 'clean/stopPipeline' as const;
  export const type = new RequestType<StopPipelineParams, PipelineInfo, void>(method);
}

/** Pauses consumption (the source stays connected; no metrics until resumed). A no-op unless running. */
export namespace PausePipelineRequest {
  export const method = 'clean/pausePipeline' as const;
  export const type = new RequestType<PipelineRef, PipelineInfo, void>(method);
}

/** Resumes a paused pipeline. A no-op unless paused. */
export namespace ResumePipelineRequest {
  export const method = 'clean/resumePipeline' as const;
  export const type = new RequestType<PipelineRef, PipelineInfo, void>(method);
}

export interface ListPipelinesResult {
  pipelines: PipelineInfo[];
}

/** Every pipeline the agent holds, in start order. */
export namespace ListPipelinesRequest {
  export const method = 'clean/listPipelines' as const;
  export const type = new RequestType<Record<string, never> | null | undefined, ListPipelinesResult, void>(method);
}

export interface HistoryParams {
  /** One pipeline; all when absent. */
  pipeline?: string;
  /** Only points and alerts at or after this time. */
  since?: number;
}

/**
 * One pipeline's past in columns (ready for a chart): `time[i]` goes with `score[i]`, `throughput[i]`,
 * `records[i]` and each `detectors[d][i]` (the detector's rate, null when it had none at that point).
 * The agent keeps at least an hour at one point per second; older points are dropped first.
 */
export interface PipelineHistory {
  pipeline: string;
  threshold: number;
  /** Per-detector alert thresholds, for threshold lines. */
  thresholds: Partial<Record<DetectorName, number>>;
  time: number[];
  score: number[];
  throughput: number[];
  records: number[];
  detectors: Partial<Record<DetectorName, Array<number | null>>>;
  /** Alerts and recoveries in time order. */
  alerts: Array<AlertEvent | RecoveredEvent>;
  /** Whether the pipeline was learning its baseline at its latest check (baseline-driven alerts held); absent before a check. */
  learning?: boolean;
  /** Time of the first check of the latest learning period (the first check, or the first after a baseline reset). */
  learningFrom?: number;
  /** Time of the first `ready` check after that learning period; absent while still learning, and when none was seen (a restored baseline). */
  learningUntil?: number;
}

export interface HistoryResult {
  pipelines: PipelineHistory[];
}

/** Score, throughput and per-detector series plus alerts since a time, so a chart opened late shows the past. */
export namespace HistoryRequest {
  export const method = 'clean/history' as const;
  export const type = new RequestType<HistoryParams, HistoryResult, void>(method);
}

export interface SamplesParams extends PipelineRef {
  /** Only records one detector flagged; all detectors when absent. */
  detector?: DetectorName;
  /** At most this many, newest first (default 20, at most 200). */
  limit?: number;
  /**
   * The time of an alert (with its `detector`; none for a score alert): exactly the records behind that alert, as
   * they were when it fired, instead of the newest flagged ones. Empty when the agent no longer keeps them (it keeps
   * the last 50 alerts' records, in memory only).
   */
  alert?: number;
}

/** Recent offending records behind a detector, with their source positions and why each was flagged. */
export namespace SamplesRequest {
  export const method = 'clean/samples' as const;
  export const type = new RequestType<SamplesParams, SampleRecord[], void>(method);
}

export interface AcceptNormalParams extends PipelineRef {
  /** The detector whose current level becomes normal; every detector when absent. */
  detector?: DetectorName;
  /** The field; every field when absent. */
  field?: string;
}

export interface BaselineChangeResult {
  /** Metrics whose baseline changed (0: nothing to change). */
  changed: number;
  /** What happened, for a person ("Accepted the current level of schema on \"dist\" as normal."). */
  message: string;
  /** The pipeline after the change. */
  info: PipelineInfo;
}

/**
 * "This is normal": the current level of a detector on a field becomes its learned baseline, so the metric
 * stops alerting (a new field joins the schema, a new type becomes the type, a new range of values joins the
 * reference). Saved with the pipeline's baseline; undo with clean/undoBaseline.
 */
export namespace AcceptNormalRequest {
  export const method = 'clean/acceptNormal' as const;
  export const type = new RequestType<AcceptNormalParams, BaselineChangeResult, void>(method);
}

/** Forgets a pipeline's learned baseline: it learns its next window afresh (`learning`). Undo with clean/undoBaseline. */
export namespace ResetBaselineRequest {
  export const method = 'clean/resetBaseline' as const;
  export const type = new RequestType<PipelineRef, BaselineChangeResult, void>(method);
}

/** Undoes the last clean/acceptNormal or clean/resetBaseline of a pipeline. */
export namespace UndoBaselineRequest {
  export const method = 'clean/undoBaseline' as const;
  export const type = new RequestType<PipelineRef, BaselineChangeResult, void>(method);
}

export interface ResolveTopicParams {
  /** The document; an open document's current text is used, else the file on disk. */
  uri: string;
  /** The cursor; absent (e.g. from the explorer) means "the file as a whole". */
  position?: Position;
}

/** Connection settings found in the file, never secret values. */
export interface ResolvedConnection {
  backend: Backend;
  /** Kafka bootstrap servers (`host:port`). */
  brokers?: string[];
  /** Redis URL or Pulsar service URL. */
  url?: string;
  /** File path (file backend). */
  path?: string;
  auth?: { mechanism?: string; username?: string; secret?: string };
  /** Where in the file the settings came from ("service kafka, KAFKA_ADVERTISED_LISTENERS"). */
  origin: string;
}

export interface TopicCandidate {
  topic: string;
  backend?: Backend;
  /** The range of the topic's text in the document. */
  range: Range;
  /** Where it was found ("KAFKA_CREATE_TOPICS of service kafka", "spring.kafka.consumer.topic"). */
  origin: string;
  /** A source URL for clean/startPipeline `{url}`, when the connection is known. */
  url?: string;
  /** For clean.yaml: the pipeline that declares it, to start it with `{configUri, pipelineName}`. */
  pipelineName?: string;
}

export interface ResolveTopicResult {
  /** The topic under the cursor, when the cursor is on one (or the file names exactly one). */
  topic?: string;
  backend?: Backend;
  /** A source URL for clean/startPipeline `{url}`, when topic and connection are both known. */
  url?: string;
  /** For clean.yaml: the pipeline under the cursor. */
  pipelineName?: string;
  /** Connection settings found in the file (the first is the one used for `url`); for a source file, those of the config files around it. */
  connections: ResolvedConnection[];
  /** Every topic the file names, in document order. */
  candidates: TopicCandidate[];
  /** Why no topic was found, when none was ("this file names no topic; …"). */
  reason?: string;
  /**
   * Set when the file held a password for a connection: it was left out, and the connection (and `url`)
   * names this secret instead; `message` says to set it with Clean: Set Secret….
   */
  secret?: { name: string; message: string };
  /** What kind of file the agent took it for. */
  fileKind: 'clean' | 'compose' | 'spring' | 'properties' | 'env' | 'connect' | 'yaml' | 'json' | 'code' | 'unknown';
}

/** "The topic under the cursor": the topic, backend and connection settings a document names at a position. */
export namespace ResolveTopicRequest {
  export const method = 'clean/resolveTopic' as const;
  export const type = new RequestType<ResolveTopicParams, ResolveTopicResult, void>(method);
}

export interface ListTopicsParams {
  /**
   * A broker address as a source URL, with or without a topic: `kafka://127.0.0.1:9092`, `redis://127.0.0.1:6379`,
   * `pulsar+ws://127.0.0.1:8080`, or `pulsar://127.0.0.1:6650` (Pulsar is asked through its admin API on the web
   * port, 8080). Credentials only by name: `kafka://user@host:9092?secret=name&mechanism=scram-sha-256`.
   */
  url: string;
}

/** Why a broker could not be listed or checked; absent when it could. */
export type DiscoveryProblem = 'bad-address' | 'unreachable' | 'auth' | 'not-allowed' | 'missing-topic';

export interface ListTopicsResult {
  /** False when the broker could not be asked: `problem` and `message` say why. */
  ok: boolean;
  /** Kafka topics (internal `__…` ones left out), Redis stream keys, Pulsar `tenant/namespace/topic` names; sorted. */
  topics: string[];
  /** The broker has more than the agent lists (1000 at most). */
  truncated?: boolean;
  /** The address as asked ("127.0.0.1:9092"). */
  address: string;
  problem?: DiscoveryProblem;
  /** What went wrong and what to do ("Cannot reach Kafka at 127.0.0.1:9092 (connection refused). Is the broker running?"). */
  message?: string;
}

/** The topics (Kafka, Pulsar) or streams (Redis) a broker has, for the "Monitor Topic…" picker. Never creates anything. */
export namespace ListTopicsRequest {
  export const method = 'clean/listTopics' as const;
  export const type = new RequestType<ListTopicsParams, ListTopicsResult, void>(method);
}

export interface CheckAddressParams {
  /** A source URL with its topic, as for clean/startPipeline. */
  url: string;
}

export interface CheckAddressResult {
  /** True when the broker is reachable, accepts the credentials and has the topic. */
  ok: boolean;
  problem?: DiscoveryProblem;
  /** For a person, in both cases ("topic orderz does not exist on 127.0.0.1:9092; did you mean orders?"). */
  message: string;
  /** A close existing topic when the one asked for is missing. */
  suggestion?: string;
}

/** Checks a source before it starts: reachable, credentials accepted, topic present. Reads metadata only. */
export namespace CheckAddressRequest {
  export const method = 'clean/checkAddress' as const;
  export const type = new RequestType<CheckAddressParams, CheckAddressResult, void>(method);
}

// ---------------------------------------------------------------------------------------------
// Notifications, agent -> client

export interface MetricsParams {
  /** Checks since the previous notification, oldest first, possibly of several pipelines. */
  events: MetricsEvent[];
}

/** Metrics of running pipelines, batched: at most 4 notifications per second (one per 250 ms flush). */
export namespace MetricsNotification {
  export const method = 'clean/metrics' as const;
  export const type = new NotificationType<MetricsParams>(method);
}

export type AlertParams = AlertEvent | RecoveredEvent;

/** An alert fired (`type: 'alert'`) or a metric recovered (`type: 'recovered'`). Sent at once, never throttled. */
export namespace AlertNotification {
  export const method = 'clean/alert' as const;
  export const type = new NotificationType<AlertParams>(method);
}

export interface StatusParams extends StatusEvent {
  /** The pipeline after the change (also sent when a pipeline is removed, with state `stopped`). */
  info: PipelineInfo;
  /** True when the pipeline was removed from the agent. */
  removed?: boolean;
}

/** A pipeline changed state: `connecting | running | reconnecting | paused | stopped | error`, with a human message. */
export namespace StatusNotification {
  export const method = 'clean/status' as const;
  export const type = new NotificationType<StatusParams>(method);
}

export interface AgentErrorParams {
  /** What went wrong, for a person. */
  message: string;
  /** Where (the pipeline, or "agent"). */
  origin: string;
  stack?: string;
}

/** An unexpected error inside the agent, caught and survived (also written with window/logMessage). */
export namespace AgentErrorNotification {
  export const method = 'clean/agentError' as const;
  export const type = new NotificationType<AgentErrorParams>(method);
}

// ---------------------------------------------------------------------------------------------
// Requests, agent -> client

export interface SecretParams {
  /** The secret's name from a config file (`secret: local-kafka`) or a URL (`?secret=local-kafka`). */
  name: string;
}

export interface SecretResult {
  /** Absent when the extension has no secret of that name. Never logged by either side. */
  value?: string;
}

/** The agent asks the extension for a secret from VS Code SecretStorage when a source needs one. */
export namespace SecretRequest {
  export const method = 'clean/secret' as const;
  export const type = new RequestType<SecretParams, SecretResult, void>(method);
}

// ---------------------------------------------------------------------------------------------
// Method list, settings and commands

/** Every custom method, for docs and tests. */
export interface TestSinkParams {
  /** The config file that declares the sink. */
  configUri: string;
  /** The sink's name (its `name:`, else its kind, `webhook-2` … when a kind repeats). */
  sink: string;
}

export interface TestSinkResult {
  ok: boolean;
  /** "Test alert delivered to slack (slack) in 140 ms." or what failed ("… failed: HTTP 500: no_service."). */
  message: string;
}

/** "Send test alert" (a code lens on each sink in clean.yaml): one test event straight to the sink, and the receiver's answer. */
export namespace TestSinkRequest {
  export const method = 'clean/testSink' as const;
  export const type = new RequestType<TestSinkParams, TestSinkResult, void>(method);
}

export const PROTOCOL_METHODS = [
  StartPipelineRequest.method,
  StopPipelineRequest.method,
  PausePipelineRequest.method,
  ResumePipelineRequest.method,
  ListPipelinesRequest.method,
  HistoryRequest.method,
  SamplesRequest.method,
  ResolveTopicRequest.method,
  ListTopicsRequest.method,
  CheckAddressRequest.method,
  AcceptNormalRequest.method,
  ResetBaselineRequest.method,
  UndoBaselineRequest.method,
  MetricsNotification.method,
  AlertNotification.method,
  StatusNotification.method,
  AgentErrorNotification.method,
  SecretRequest.method,
  TestSinkRequest.method,
] as const;

/** The `clean` settings section the agent reads with workspace/configuration (defaults for pipelines). */
export interface AgentSettings {
  windowSize?: number;
  qualityThreshold?: number;
  /** `1s`, `500ms`, or a record count. */
  checkInterval?: string | number;
  detectors?: string[];
  /** Which alerts the extension shows as notifications (the agent passes it through untouched). */
  notifications?: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /** The agent's memory budget: a pipeline whose estimated footprint does not fit is refused at its start. */
  maxMemoryMB?: number;
}

export const SETTINGS_SECTION = 'clean' as const;

/**
 * Commands that code lenses on clean.yaml invoke; the extension registers them (the agent does not, so
 * the language client does not claim them). Start: `[StartConfiguredPipelineParams]`; stop: `[PipelineRef]`.
 */
export const CodeLensCommands = {
  startPipeline: 'clean.startPipeline',
  stopPipeline: 'clean.stopPipeline',
  /** On a topic in source code: `[{ uri, position }]`, the topic's place (the extension resolves it). */
  monitorThisTopic: 'clean.monitorThisTopic',
  /** On a topic in source code that a pipeline watches: `[PipelineRef]`. */
  openChart: 'clean.openChart',
  /** On an alert sink in clean.yaml: `[TestSinkParams]`. */
  testSink: 'clean.testSink',
} as const;

/** Extensions of source files whose producer, consumer and XADD calls name topics (code lenses only, no diagnostics). */
export const SOURCE_CODE_EXTENSIONS = ['js', 'jsx', 'mjs', 'cjs', 'ts', 'tsx', 'mts', 'cts', 'java', 'kt', 'kts', 'py'] as const;
export type SourceCodeExtension = (typeof SOURCE_CODE_EXTENSIONS)[number];

/** Whether a file is source code the agent scans for topic names. */
export function isSourceCodeFile(fileName: string): boolean {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 && (SOURCE_CODE_EXTENSIONS as readonly string[]).includes(base.slice(dot + 1).toLowerCase());
}

/** File names the agent treats as pipeline config files. */
export function isCleanConfigFile(fileName: string): boolean {
  const base = fileName.split(/[\\/]/).pop() ?? '';
  return /^(.+\.)?clean\.(ya?ml|json)$/i.test(base);
}
