/**
 * Parses clean.yaml / *.clean.yaml (and the JSON forms) keeping every node's range, validates it
 * against the schema and the engine's own rules, and builds the pipelines' SourceSpec + settings.
 */
import path from 'node:path';
import { Composer, Document, Lexer, Parser, YAMLParseError, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, Pair } from 'yaml';
import { ConfigError, resolvePipelineConfig, parseInterval } from '../engine/config';
import type { CheckInterval, PipelineSettings } from '../engine/config';
import type { Backend, SourceSpec, StartPosition } from '../sources/types';
import { parseSourceUrl } from '../sources/url';
import { parseBrokerList } from '../sources/brokers';
import { credentialProblem } from '../secrets/credentials';
import { registryUrlProblem } from '../decode/registry';
import { sinkProblems } from '../alerts';
import { SINK_KINDS, type SinkConfig } from '../alerts/types';
import { redact } from '../secrets/redact';
import { LineIndex } from './lines';
import { MAX_NAME_LENGTH, nameTooLong } from '../engine/names';
import { DEFAULT_SUMMARIES_TOPIC, checkGroupNames } from '../scale/groupNames';
import { CLEAN_SCHEMA, allowedTypes, deref, didYouMean, knownKeys, listWords, objectBranch } from './schema';
import type { SchemaNode } from './schema';

export interface ConfigDiagnostic {
  message: string;
  severity: 'error' | 'warning';
  /** 0-based, UTF-16 characters (LSP positions). */
  line: number;
  character: number;
  endLine: number;
  endCharacter: number;
}

/** A valid pipeline of a config file, ready for createSource + resolvePipelineConfig. */
export interface ConfiguredPipeline {
  name: string;
  spec: SourceSpec;
  settings: PipelineSettings;
  /** 0-based line where the pipeline's entry starts. */
  line: number;
  /** `group:` (and `summariesTopic:`): the group of agents sharing the topic (server/scale/group.ts, groupObserver.ts). */
  group?: { name: string; summariesTopic: string };
}

export interface OffsetRange {
  start: number;
  end: number;
}

export interface ConnectionEntry {
  name: string;
  keyRange: OffsetRange;
  /** The whole `name: {...}` entry. */
  range: OffsetRange;
  backend?: Backend;
  value: Record<string, unknown>;
}

export interface PipelineEntry {
  index: number;
  name?: string;
  nameRange?: OffsetRange;
  range: OffsetRange;
  topic?: string;
  topicRange?: OffsetRange;
  connection?: string;
  connectionRange?: OffsetRange;
  /** The `source:` URL as written, when the pipeline uses one. */
  source?: string;
  /** Set when the entry has no error. */
  pipeline?: ConfiguredPipeline;
  /** The first error inside the entry, when it has one. */
  error?: string;
}

export interface CleanConfigModel {
  fileName: string;
  lines: LineIndex;
  doc: Document;
  diagnostics: ConfigDiagnostic[];
  connections: ConnectionEntry[];
  pipelines: PipelineEntry[];
  /** `metrics:`, the Prometheus endpoint of `clean-agent run`, when given and valid. */
  metrics?: { port: number; host?: string };
  /** The valid alert sinks (`alerts:` at the top and per pipeline), in file order. */
  alerts: AlertSinkEntry[];
}

/** One alert sink of the file; a pipeline's own sink has `pipelines: [its name]`. */
export interface AlertSinkEntry {
  config: SinkConfig;
  range: OffsetRange;
  /** The pipeline the sink is declared under, when it is. */
  pipeline?: string;
}

const INVALID = Symbol('invalid');
type Checked = unknown | typeof INVALID;

interface Problem extends OffsetRange {
  message: string;
  severity: 'error' | 'warning';
}

const SETTING_KEYS = Object.keys(deref(CLEAN_SCHEMA.properties?.defaults)?.properties ?? {});
/** Which connection key each backend reads. */
const BACKEND_KEYS: Record<string, Backend[]> = { brokers: ['kafka'], url: ['redis'], serviceUrl: ['pulsar'], path: ['file'] };

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  string: 'text',
  boolean: 'true or false',
  object: 'a map of keys',
  array: 'a list',
  null: 'null',
};

/** Thrown out of parseCleanConfig when `cancelled` says the run is obsolete (a newer version of the text waits). */
export class ConfigCheckCancelled extends Error {
  constructor() {
    super('The config check was cancelled: a newer version of the file replaced it.');
  }
}

export interface ParseOptions {
  /** Asked every few thousand tokens and nodes; returning true abandons the run with ConfigCheckCancelled. */
  cancelled?: () => boolean;
}

/** Parses and validates a config file's text; `fileName` anchors relative paths and names the file in messages. */
export function parseCleanConfig(text: string, fileName: string, options: ParseOptions = {}): CleanConfigModel {
  const lines = new LineIndex(text);
  const doc = parseYaml(text, options.cancelled);
  const v = new ConfigValidator(doc, fileName, options.cancelled);
  for (const e of doc.errors) v.problem({ start: e.pos[0], end: Math.max(e.pos[1], e.pos[0] + 1) }, firstLine(e.message));
  for (const w of doc.warnings) v.problem({ start: w.pos[0], end: Math.max(w.pos[1], w.pos[0] + 1) }, firstLine(w.message), 'warning');
  const model: CleanConfigModel = { fileName, lines, doc, diagnostics: [], connections: [], pipelines: [], alerts: [] };
  if (doc.errors.length === 0 || isMap(doc.contents)) {
    const syntax = v.problems.length;
    v.run(model);
    for (const sink of model.alerts) sink.config.line = lines.position(sink.range.start).line;
    // Past a syntax error the structure is the parser's guess: report what it sees only before it.
    let firstError = Infinity; // a loop, not Math.min(...): a garbage file can hold more errors than a call has arguments
    for (const e of doc.errors) firstError = Math.min(firstError, e.pos[0]);
    const kept = v.problems.filter((p, i) => i < syntax || p.start < firstError);
    v.problems.length = 0;
    v.problems.push(...kept);
  }
  const seen = new Set<string>();
  const clip = (o: number) => Math.min(o, text.length);
  for (const p of v.problems.sort((a, b) => a.start - b.start || a.end - b.end)) {
    const s = lines.position(clip(p.start));
    const e = lines.position(clip(Math.max(p.end, p.start)));
    const key = `${p.start}:${p.end}:${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    model.diagnostics.push({ message: p.message, severity: p.severity, line: s.line, character: s.character, endLine: e.line, endCharacter: e.character });
  }
  return model;
}

/**
 * yaml's parseDocument, driven token by token so that a long run can be abandoned: the lexer and parser
 * stream, and `cancelled` is asked every 4096 lexemes. Extra documents are an error, as parseDocument makes them.
 */
function parseYaml(text: string, cancelled: (() => boolean) | undefined): Document {
  const parser = new Parser();
  const composer = new Composer({ prettyErrors: false, keepSourceTokens: false, uniqueKeys: true });
  function* tokens() {
    let n = 0;
    for (const lexeme of new Lexer().lex(text)) {
      yield* parser.next(lexeme);
      if (cancelled && (++n & 4095) === 0 && cancelled()) throw new ConfigCheckCancelled();
    }
    yield* parser.end();
  }
  let doc: Document | null = null;
  for (const d of composer.compose(tokens(), true, text.length)) {
    if (!doc) doc = d as Document;
    else {
      doc.errors.push(new YAMLParseError([d.range[0], d.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents; please use YAML.parseAllDocuments()'));
      break;
    }
  }
  return doc!;
}

const derefs = new WeakMap<SchemaNode, SchemaNode | undefined>();

/** deref, remembered per schema node: the walk asks for the same few nodes once per node of the file. */
function derefOnce(node: SchemaNode | undefined): SchemaNode | undefined {
  if (!node) return undefined;
  if (!derefs.has(node)) derefs.set(node, deref(node));
  return derefs.get(node);
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
}

class ConfigValidator {
  readonly problems: Problem[] = [];
  /** Value and key nodes by dotted path ("pipelines.0.thresholds.duplicates"). */
  readonly nodes = new Map<string, { key?: YamlNode; value: YamlNode | null }>();
  /** Checked values by dotted path (what survived the schema walk). */
  readonly values = new Map<string, unknown>();

  /** Nodes walked, to ask `cancelled` every 4096 of them. */
  private walked = 0;

  constructor(
    private readonly doc: Document,
    private readonly fileName: string,
    private readonly cancelled?: () => boolean,
  ) {}

  problem(r: OffsetRange, message: string, severity: 'error' | 'warning' = 'error'): void {
    this.problems.push({ ...r, message, severity });
  }

  run(model: CleanConfigModel): void {
    const root = this.doc.contents;
    if (root === null || (isScalar(root) && root.value === null)) return; // an empty file is valid
    if (!isMap(root)) {
      this.problem(rangeOf(root), 'A Clean Streams config is a map with connections: and pipelines: at the top.');
      return;
    }
    const top = this.check(root, CLEAN_SCHEMA, []) as Record<string, unknown> | typeof INVALID;
    if (top === INVALID) return;
    const connections = this.checkConnections(model, top.connections as Record<string, Record<string, unknown>> | undefined);
    const defaults = this.settingsOf((top.defaults as Record<string, unknown>) ?? {}, 'defaults');
    if (top.defaults !== undefined) this.engineCheck(defaults, ['defaults']);
    this.schemaPlaces = typeof top.schemas === 'string' ? [top.schemas] : Array.isArray(top.schemas) ? top.schemas.filter((s): s is string => typeof s === 'string') : [];
    this.checkPipelines(model, connections, defaults);
    model.metrics = this.checkMetrics(top.metrics as { port?: number; host?: string } | undefined);
    this.checkAlerts(model);
  }

  // ---- schema walk -------------------------------------------------------------------------

  private check(node: YamlNode | null, schemaIn: SchemaNode | undefined, at: Array<string | number>, keyNode?: YamlNode): Checked {
    if (this.cancelled && (++this.walked & 4095) === 0 && this.cancelled()) throw new ConfigCheckCancelled();
    const dotted = at.join('.');
    this.nodes.set(dotted, { key: keyNode, value: node });
    if (node && isAlias(node)) node = (node.resolve(this.doc) as YamlNode | undefined) ?? null;
    const schema = derefOnce(schemaIn);
    if (!schema) return node ? toJS(node) : null;
    const kind = kindOf(node);
    // Only a problem needs the label: not built for each of a large file's nodes.
    const label = () => labelOf(at);
    const where = node ? rangeOf(node) : keyNode ? rangeOf(keyNode) : { start: 0, end: 0 };
    if (schema.anyOf) {
      const branch = schema.anyOf.find((b) => typeMatches(kind, allowedTypes(b)));
      if (!branch) {
        this.problem(where, `${label()} must be ${listWords(schema.anyOf.flatMap((b) => allowedTypes(b)).map((t) => TYPE_WORDS[t] ?? t))} (got ${describe(node)})`);
        return INVALID;
      }
      return this.check(node, { ...deref(branch), description: schema.description }, at, keyNode);
    }
    const r = this.checkTyped(node, schema, kind, label, where, at, keyNode);
    if (r !== INVALID) this.values.set(dotted, r);
    return r;
  }

  private checkTyped(node: YamlNode | null, schema: SchemaNode, kind: Kind, label: () => string, where: OffsetRange, at: Array<string | number>, keyNode?: YamlNode): Checked {
    const types = allowedTypes(schema);
    if (kind === 'null') {
      if (at.length === 1) return undefined; // `pipelines:` with nothing under it yet
      this.problem(where, `${label()} needs a value: ${listWords(types.map((t) => TYPE_WORDS[t] ?? t))}`);
      return INVALID;
    }
    if (types.length > 0 && !typeMatches(kind, types)) {
      this.problem(where, `${label()} must be ${listWords(types.map((t) => TYPE_WORDS[t] ?? t))} (got ${describe(node)})`);
      return INVALID;
    }
    // A name over the bound is refused at its own line, before a message could quote it or anything is built from it.
    if (isScalar(node) && typeof node.value === 'string' && node.value.length > MAX_NAME_LENGTH) {
      const what = nameValueKind(at);
      if (what) {
        this.problem(where, nameTooLong(what, node.value)!);
        return INVALID;
      }
    }
    if (schema.enum && isScalar(node) && !schema.enum.includes(node.value)) {
      const words = schema.enum.map(String);
      const guess = didYouMean(String(node.value), words);
      const noun = schema.title ?? 'value';
      this.problem(where, `Unknown ${noun} "${String(node.value)}". ${guess ? `Did you mean "${guess}"? ` : ''}Use ${listWords(words)}.`);
      return INVALID;
    }
    if (isMap(node)) return this.checkMap(node, schema, at, keyNode);
    if (isSeq(node)) {
      const out: unknown[] = [];
      node.items.forEach((item, i) => {
        const r = this.check(item as YamlNode, schema.items, [...at, i]);
        if (r !== INVALID) out.push(r);
      });
      return out;
    }
    return isScalar(node) ? node.value : toJS(node!);
  }

  private checkMap(node: import('yaml').YAMLMap, schema: SchemaNode, at: Array<string | number>, ownKey?: YamlNode): Checked {
    const obj = objectBranch(schema) ?? schema;
    const out: Record<string, unknown> = {};
    for (const pair of node.items as Pair<YamlNode, YamlNode | null>[]) {
      const keyNode = pair.key;
      const key = isScalar(keyNode) ? String(keyNode.value) : keyNode ? String(toJS(keyNode)) : '';
      if (key.length > MAX_NAME_LENGTH) {
        this.problem(keyNode ? rangeOf(keyNode) : rangeOf(node), nameTooLong(nameKeyKind(at), key)!);
        continue;
      }
      const keyRange = keyNode ? rangeOf(keyNode) : pair.value ? rangeOf(pair.value) : { start: 0, end: 0 };
      // Keys under fields: are the stream's own field names (a `password` field may be checked), not settings.
      const credential = at[at.length - 1] === 'fields' ? undefined : credentialProblem({ key }, 'config');
      if (credential) {
        this.problem(keyRange, credential);
        continue;
      }
      const declared = obj.properties?.[key];
      const extra = obj.additionalProperties;
      let childSchema: SchemaNode | undefined;
      if (declared) childSchema = declared;
      else if (typeof extra === 'object') childSchema = extra;
      else if (extra === false || (extra === undefined && obj.properties)) {
        const keys = knownKeys(obj);
        const guess = didYouMean(key, keys);
        const isDetectorMap = obj.title === 'thresholds' || obj.title === 'weights';
        const noun = isDetectorMap ? 'detector' : 'key';
        const inWhat = obj.title ? ` in ${obj.title === 'defaults' && at[0] !== 'defaults' ? 'a pipeline' : article(obj.title)}` : '';
        this.problem(keyRange, `Unknown ${noun} "${key}"${inWhat}. ${guess ? `Did you mean "${guess}"?` : `Use ${listWords(keys)}.`}`);
        continue;
      }
      const r = this.check(pair.value ?? null, childSchema, [...at, key], keyNode ?? undefined);
      if (r !== INVALID && r !== undefined) out[key] = r;
    }
    for (const req of obj.required ?? []) {
      if (!(req in out) && !node.items.some((p) => isScalar(p.key) && p.key.value === req)) {
        this.problem(ownKey ? rangeOf(ownKey) : firstLineRange(node, this.doc), `${capital(article(obj.title ?? 'entry'))} needs ${req}:.`);
      }
    }
    return out;
  }

  // ---- connections -------------------------------------------------------------------------

  private checkConnections(model: CleanConfigModel, conns: Record<string, Record<string, unknown>> | undefined): Map<string, ConnectionEntry> {
    const byName = new Map<string, ConnectionEntry>();
    const root = this.doc.contents as import('yaml').YAMLMap;
    const section = root.items.find((p) => isScalar(p.key) && p.key.value === 'connections')?.value;
    if (!isMap(section)) return byName;
    for (const pair of section.items as Pair<YamlNode, YamlNode | null>[]) {
      if (!isScalar(pair.key)) continue;
      const name = String(pair.key.value);
      const value = conns?.[name] ?? {};
      const keyRange = rangeOf(pair.key);
      const entry: ConnectionEntry = {
        name,
        keyRange,
        range: { start: keyRange.start, end: pair.value ? rangeOf(pair.value).end : keyRange.end },
        backend: typeof value.backend === 'string' ? (value.backend as Backend) : undefined,
        value,
      };
      model.connections.push(entry);
      byName.set(name, entry);
      const b = entry.backend;
      if (!b) continue;
      const at = (k: string) => this.valueRange(`connections.${name}.${k}`) ?? keyRange;
      for (const [k, backends] of Object.entries(BACKEND_KEYS)) {
        if (value[k] !== undefined && !backends.includes(b)) {
          this.problem(this.keyRange(`connections.${name}.${k}`) ?? keyRange, `${k} applies to ${backends.join('/')} connections; "${name}" is a ${b} connection (it uses ${requiredKey(b) ?? 'no address'}).`, 'warning');
        }
      }
      const need = requiredKey(b);
      if (need && value[need] === undefined && !(b === 'file')) {
        this.problem(keyRange, `Connection "${name}" (${b}) needs ${need}: ${b === 'kafka' ? '[host:port, …]' : b === 'redis' ? 'redis://host:6379' : 'pulsar://host:6650'}.`);
      }
      if (b === 'kafka' && value.brokers !== undefined) {
        // The whole list as written, so that no entry is dropped unseen; a password is refused without quoting it.
        const raw = typeof value.brokers === 'string' ? value.brokers.split(',') : Array.isArray(value.brokers) ? value.brokers.map(String) : [];
        const list = parseBrokerList(raw, 'config');
        if ('problem' in list) this.problem(at('brokers'), list.problem);
      }
      const registry = value.registry as { url?: unknown } | undefined;
      if (registry && typeof registry.url === 'string') {
        const problem = registryUrlProblem(registry.url);
        if (problem) this.problem(at('registry.url'), problem);
      }
      if (b === 'redis' && typeof value.url === 'string') this.checkUrl(value.url, ['redis:', 'rediss:'], at('url'), 'redis://127.0.0.1:6379');
      if (b === 'pulsar' && typeof value.serviceUrl === 'string') {
        this.checkUrl(value.serviceUrl, ['pulsar:', 'pulsar+ssl:', 'pulsar+ws:', 'pulsar+wss:'], at('serviceUrl'), 'pulsar://127.0.0.1:6650');
      }
    }
    return byName;
  }

  private checkUrl(text: string, schemes: string[], r: OffsetRange, example: string): void {
    const credential = credentialProblem({ url: text }, 'config');
    if (credential) {
      this.problem(r, credential);
      return;
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      this.problem(r, `"${redact(text)}" is not a URL; write it like ${example}.`);
      return;
    }
    if (!schemes.includes(url.protocol)) this.problem(r, `"${redact(text)}" should start with ${listWords(schemes.map((s) => s + '//'))}.`);
  }

  // ---- metrics -----------------------------------------------------------------------------

  /** `metrics: {port, host}` past the schema walk: a port in range and a host that is an address or a name. */
  private checkMetrics(m: { port?: number; host?: string } | undefined): CleanConfigModel['metrics'] {
    if (m?.port === undefined) return undefined;
    let ok = true;
    if (m.port < 0 || m.port > 65535) {
      this.problem(this.valueRange('metrics.port') ?? { start: 0, end: 0 }, `metrics.port must be a port from 1 to 65535, or 0 for a free one (got ${m.port}).`);
      ok = false;
    }
    if (m.host !== undefined && !/^(\[?[0-9a-fA-F:.]+\]?|[A-Za-z0-9.-]+)$/.test(m.host)) {
      this.problem(this.valueRange('metrics.host') ?? { start: 0, end: 0 }, `metrics.host must be an address such as 127.0.0.1 or 0.0.0.0 (got "${m.host.slice(0, 60)}").`);
      ok = false;
    }
    return ok ? { port: m.port, ...(m.host !== undefined ? { host: m.host.replace(/^\[(.*)\]$/, '$1') } : {}) } : undefined;
  }

  // ---- alerts ------------------------------------------------------------------------------

  /**
   * The sinks under `alerts:` (top level and per pipeline) past the schema walk: each one's own problems
   * (server/alerts sinkProblems: a missing url or secret, a credential in the URL) at its url or its first
   * line, and a `pipelines:` entry naming no pipeline of the file as a warning.
   */
  private checkAlerts(model: CleanConfigModel): void {
    const names = model.pipelines.map((p) => p.name).filter((n): n is string => !!n);
    const scan = (at: string, pipeline: string | undefined) => {
      const seq = this.nodes.get(at)?.value;
      if (!seq || !isSeq(seq)) return;
      seq.items.forEach((item, i) => {
        const value = this.values.get(`${at}.${i}`) as Record<string, unknown> | undefined;
        if (!value || !isMap(item)) return;
        const config = { ...value } as unknown as SinkConfig;
        // A kind the walk refused is reported there already.
        if (!SINK_KINDS.includes(config.kind)) return;
        if (pipeline !== undefined) config.pipelines = [pipeline];
        const range = rangeOf(item as YamlNode);
        const head = firstLineRange(item as YamlNode, this.doc);
        const problems = sinkProblems(config);
        // The schema's ranges of the numeric settings (queue, timeoutMs, retries, resendMs).
        const props = derefOnce(CLEAN_SCHEMA.properties?.alerts?.items)?.properties ?? {};
        let outOfRange = false;
        for (const [k, v] of Object.entries(value)) {
          const range = props[k] as { minimum?: number; maximum?: number; type?: string } | undefined;
          if (typeof v !== 'number' || !range) continue;
          const bad = (range.minimum !== undefined && v < range.minimum) || (range.maximum !== undefined && v > range.maximum);
          if (bad) {
            this.problem(this.valueRange(`${at}.${i}.${k}`) ?? head, range.maximum === undefined ? `${k} must be at least ${range.minimum} (got ${v}).` : `${k} must be from ${range.minimum ?? 0} to ${range.maximum} (got ${v}).`);
            outOfRange = true;
          }
        }
        for (const problem of problems) {
          const onUrl = /url|URL/.test(problem) && config.url !== undefined;
          this.problem(onUrl ? (this.valueRange(`${at}.${i}.url`) ?? head) : head, problem);
        }
        if (pipeline === undefined) {
          (config.pipelines ?? []).forEach((name, j) => {
            if (names.includes(name)) return;
            const guess = didYouMean(name, names);
            this.problem(this.valueRange(`${at}.${i}.pipelines.${j}`) ?? head, `No pipeline "${name}" in this file${guess ? `: did you mean "${guess}"?` : '.'}`, 'warning');
          });
        }
        if (problems.length === 0 && !outOfRange) model.alerts.push({ config, range, ...(pipeline !== undefined ? { pipeline } : {}) });
      });
    };
    scan('alerts', undefined);
    model.pipelines.forEach((p) => {
      if (p.name) scan(`pipelines.${p.index}.alerts`, p.name);
    });
  }

  // ---- pipelines ---------------------------------------------------------------------------

  private checkPipelines(model: CleanConfigModel, connections: Map<string, ConnectionEntry>, defaults: PipelineSettings): void {
    const root = this.doc.contents as import('yaml').YAMLMap;
    const section = root.items.find((p) => isScalar(p.key) && p.key.value === 'pipelines')?.value;
    if (!isSeq(section)) return;
    const firstByName = new Map<string, number>();
    const baseDir = path.dirname(this.fileName);
    // The schema walk's problems by start: each entry finds its own by binary search, not by a scan of all
    // (a scan per entry is quadratic on a file of many pipelines with many problems).
    const walked = this.problems.slice().sort((a, b) => a.start - b.start);
    const firstWalked = (from: number, to: number, errorsOnly: boolean): Problem | undefined => {
      let lo = 0;
      let hi = walked.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (walked[mid].start < from) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < walked.length && walked[i].start <= to; i++) if (!errorsOnly || walked[i].severity === 'error') return walked[i];
      return undefined;
    };
    section.items.forEach((itemNode, index) => {
      if (this.cancelled && (index & 255) === 255 && this.cancelled()) throw new ConfigCheckCancelled();
      const node = itemNode as YamlNode;
      const before = this.problems.length;
      const range = rangeOf(node);
      const entry: PipelineEntry = { index, range };
      model.pipelines.push(entry);
      const p = `pipelines.${index}`;
      const value = isMap(node) ? (this.values.get(p) as Record<string, unknown> | undefined) : undefined;
      if (!value) {
        entry.error = firstWalked(range.start, range.end, false)?.message ?? 'this pipeline entry is not a map';
        return;
      }
      entry.name = typeof value.name === 'string' ? value.name : undefined;
      entry.nameRange = this.valueRange(`${p}.name`);
      entry.topic = typeof value.topic === 'string' ? value.topic : undefined;
      entry.topicRange = this.valueRange(`${p}.topic`);
      entry.connection = typeof value.connection === 'string' ? value.connection : undefined;
      entry.connectionRange = this.valueRange(`${p}.connection`);
      const head = entry.nameRange ?? firstLineRange(node, this.doc);
      const who = entry.name ? `Pipeline "${entry.name}"` : 'This pipeline';

      if (entry.name !== undefined) {
        const first = firstByName.get(entry.name);
        if (first !== undefined) {
          const line = model.lines.position(model.pipelines[first].nameRange?.start ?? 0).line + 1;
          this.problem(head, `Duplicate pipeline name "${entry.name}" (first used on line ${line}). Pipeline names must be unique.`);
        } else firstByName.set(entry.name, index);
      }

      let from: StartPosition = { kind: 'latest' };
      if (typeof value.from === 'string') {
        const parsed = parseFrom(value.from);
        if (parsed) from = parsed;
        else this.problem(this.valueRange(`${p}.from`) ?? head, `"${value.from}" is not a start position. Use earliest, latest, or an ISO time such as 2026-11-28T10:00:00Z.`);
      }

      let spec: SourceSpec | undefined;
      const conn = entry.connection !== undefined ? connections.get(entry.connection) : undefined;
      if (typeof value.source === 'string') {
        entry.source = value.source;
        if (entry.connection !== undefined) this.problem(this.keyRange(`${p}.source`) ?? head, 'Give either source: or connection: with topic:, not both.');
        else {
          try {
            spec = parseSourceUrl(value.source, from);
            if (spec.backend === 'file') spec.topic = path.resolve(baseDir, spec.topic);
            if (entry.topic === undefined) entry.topic = spec.topic;
          } catch (err) {
            this.problem(this.valueRange(`${p}.source`) ?? head, (err as Error).message);
          }
        }
      } else if (entry.connection === undefined) {
        const names = [...connections.keys()];
        this.problem(head, `${who} needs connection: ${names.length ? `(one of ${listWords(names)})` : '<name> (declare it under connections:)'} or a source: URL such as demo:orders.`);
      } else if (!conn) {
        const names = [...connections.keys()];
        const guess = didYouMean(entry.connection, names);
        this.problem(
          entry.connectionRange ?? head,
          names.length === 0
            ? `Unknown connection "${entry.connection}": this file declares no connections. Add it under connections:.`
            : `Unknown connection "${entry.connection}". ${guess ? `Did you mean "${guess}"? ` : ''}Connections in this file: ${names.join(', ')}.`,
        );
      } else if (conn.backend) {
        spec = specFrom(conn, value, from, baseDir);
        if (!spec.topic && conn.backend !== 'file' && conn.backend !== 'demo') {
          spec = undefined;
          this.problem(head, `${who} needs topic: (the ${conn.backend === 'kafka' ? 'Kafka topic' : conn.backend === 'redis' ? 'Redis stream key' : 'Pulsar topic'} to watch).`);
        } else if (conn.backend === 'file' && !spec.topic) {
          spec = undefined;
          this.problem(head, `${who} needs topic: (a JSON Lines file) or its connection needs path:.`);
        }
      }

      if (spec) this.decodeOf(spec, conn, value, baseDir);
      const group = this.groupOf(p, value, spec, head);

      const own = this.settingsOf(value, p);
      const settings: PipelineSettings = { ...defaults, ...own };
      if (defaults.thresholds || own.thresholds) settings.thresholds = { ...defaults.thresholds, ...own.thresholds };
      if (defaults.weights || own.weights) settings.weights = { ...defaults.weights, ...own.weights };
      if (defaults.outliers || own.outliers) settings.outliers = { ...defaults.outliers, ...own.outliers };
      if (defaults.baseline || own.baseline) settings.baseline = { ...defaults.baseline, ...own.baseline, minJump: { ...defaults.baseline?.minJump, ...own.baseline?.minJump } };
      this.engineCheck(settings, [p, 'defaults'], head);

      let firstError = range.end > range.start ? firstWalked(range.start, range.end - 1, true) : undefined;
      for (let i = before; i < this.problems.length; i++) {
        const x = this.problems[i];
        if (x.severity === 'error' && (!firstError || x.start < firstError.start)) firstError = x;
      }
      if (firstError) entry.error = firstError.message;
      else if (spec && entry.name !== undefined) {
        entry.pipeline = { name: entry.name, spec, settings, line: model.lines.position(range.start).line };
        if (group) entry.pipeline.group = group;
      }
    });
  }

  /**
   * `group:` and `summariesTopic:` of a pipeline: names by the rules of --group and --summaries-topic
   * (checkGroupNames), a Kafka source, no `workers:` beside it; each problem at its own line.
   */
  private groupOf(p: string, value: Record<string, unknown>, spec: SourceSpec | undefined, head: OffsetRange): { name: string; summariesTopic: string } | undefined {
    const name = value.group;
    const topic = value.summariesTopic;
    if (typeof name !== 'string') {
      if (typeof topic === 'string') this.problem(this.keyRange(`${p}.summariesTopic`) ?? head, 'summariesTopic goes with group: <name> (the group of agents whose summaries it holds).');
      return undefined;
    }
    const summariesTopic = typeof topic === 'string' ? topic : DEFAULT_SUMMARIES_TOPIC;
    const problem = checkGroupNames({ name, summariesTopic, agentId: 'editor' });
    if (problem) {
      const onTopic = problem.startsWith('--summaries-topic');
      this.problem((onTopic ? this.valueRange(`${p}.summariesTopic`) : this.valueRange(`${p}.group`)) ?? head, problem.replace(/^--group/, 'group').replace(/^--summaries-topic/, 'summariesTopic'));
      return undefined;
    }
    if (spec && spec.backend !== 'kafka') {
      this.problem(this.valueRange(`${p}.group`) ?? head, `group: shares a Kafka topic's partitions between agents; this pipeline reads ${spec.backend}, not Kafka.`);
      return undefined;
    }
    if (typeof value.workers === 'number' && value.workers > 1) {
      this.problem(this.valueRange(`${p}.workers`) ?? head, 'group: and workers: go separately for now: run one agent of the group per core instead.');
      return undefined;
    }
    return { name, summariesTopic };
  }

  /** Top-level `schemas:` as written (folders or files, relative to the file). */
  private schemaPlaces: string[] = [];

  /**
   * The spec's decode settings (server/decode): the connection's `registry`, the file's `schemas`, the
   * pipeline's `schema`, over what a `source:` URL already set (`?registry=` …). Paths are relative to the file.
   */
  private decodeOf(spec: SourceSpec, conn: ConnectionEntry | undefined, value: Record<string, unknown>, baseDir: string): void {
    const d: NonNullable<SourceSpec['decode']> = { ...spec.decode };
    const reg = conn?.value.registry as { url?: unknown; auth?: { username?: string; secret?: string }; timeoutMs?: unknown } | undefined;
    if (!d.registry && reg && typeof reg.url === 'string' && !registryUrlProblem(reg.url)) {
      d.registry = { url: reg.url };
      if (reg.auth && Object.keys(reg.auth).length) d.registry.auth = { ...reg.auth };
      if (typeof reg.timeoutMs === 'number') d.registry.timeoutMs = reg.timeoutMs;
    }
    if (d.schemas) d.schemas = d.schemas.map((s) => path.resolve(baseDir, s));
    else if (this.schemaPlaces.length) d.schemas = this.schemaPlaces.map((s) => path.resolve(baseDir, s));
    if (typeof value.schema === 'string') d.schema = value.schema;
    if (d.schema !== undefined && /\.(avsc|proto|json)$/.test(d.schema)) d.schema = path.resolve(baseDir, d.schema);
    if (Object.keys(d).length) spec.decode = d;
  }

  /** The PipelineSettings a checked pipeline (or `defaults`) value carries; bad intervals are reported here. */
  private settingsOf(value: Record<string, unknown>, at: string): PipelineSettings {
    const s: Record<string, unknown> = {};
    for (const k of SETTING_KEYS) if (value[k] !== undefined) s[k] = value[k];
    for (const k of ['checkInterval', 'cooldown'] as const) {
      const raw = value[k];
      if (raw === undefined) continue;
      const parsed = intervalOf(raw as string | number);
      if (parsed) s[k] = parsed;
      else {
        delete s[k];
        this.problem(this.valueRange(`${at}.${k}`) ?? { start: 0, end: 0 }, `${k} "${String(raw)}" is not an interval. Use a duration such as 1s or 500ms, or a record count such as 1000.`);
      }
    }
    return s as PipelineSettings;
  }

  /** Runs the engine's own validation and puts each problem on the node its dotted path names. */
  private engineCheck(settings: PipelineSettings, prefixes: string[], fallback?: OffsetRange): void {
    try {
      resolvePipelineConfig(settings);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const problem of err.problems) {
        const r = this.rangeForPath(problem.path, prefixes) ?? fallback;
        if (r) this.problem(r, `${problem.path}${problem.message.startsWith('must') ? ' ' : ': '}${problem.message}`);
      }
    }
  }

  private rangeForPath(dotted: string, prefixes: string[]): OffsetRange | undefined {
    // A problem on labelField when none is set is about the `labels` detector that needs it.
    const candidates = dotted === 'labelField' ? ['labelField', 'detectors'] : [dotted];
    for (const c of candidates) {
      const parts = c.split('.');
      for (let n = parts.length; n > 0; n--) {
        for (const prefix of prefixes) {
          const r = this.valueRange(`${prefix}.${parts.slice(0, n).join('.')}`);
          if (r) return r;
        }
      }
    }
    return undefined;
  }

  valueRange(p: string): OffsetRange | undefined {
    const n = this.nodes.get(p);
    if (!n) return undefined;
    if (n.value) return rangeOf(n.value);
    return n.key ? rangeOf(n.key) : undefined;
  }

  keyRange(p: string): OffsetRange | undefined {
    const n = this.nodes.get(p);
    return n?.key ? rangeOf(n.key) : n?.value ? rangeOf(n.value) : undefined;
  }
}

function specFrom(conn: ConnectionEntry, p: Record<string, unknown>, from: StartPosition, baseDir: string): SourceSpec {
  const c = conn.value;
  const backend = conn.backend!;
  const options = { ...((c.options as Record<string, unknown>) ?? {}), ...((p.options as Record<string, unknown>) ?? {}) };
  let topic = typeof p.topic === 'string' ? p.topic : '';
  const spec: SourceSpec = { backend, topic, from, options };
  if (backend === 'kafka') spec.brokers = brokerList(c.brokers);
  if (backend === 'redis' && typeof c.url === 'string') {
    spec.url = c.url;
    if (c.url.startsWith('rediss:')) spec.tls = true;
  }
  if (backend === 'pulsar') {
    if (typeof c.serviceUrl === 'string') spec.url = c.serviceUrl;
    if (topic && !topic.includes('/')) topic = spec.topic = `public/default/${topic}`;
    if (typeof c.serviceUrl === 'string' && /^pulsar\+(ssl|wss):/.test(c.serviceUrl)) spec.tls = true;
  }
  if (backend === 'file') {
    const base = typeof c.path === 'string' ? path.resolve(baseDir, c.path) : baseDir;
    spec.topic = topic ? path.resolve(base, topic) : typeof c.path === 'string' ? base : '';
  }
  if (backend === 'demo' && !topic) spec.topic = 'orders';
  const auth = c.auth as SourceSpec['auth'] | undefined;
  if (auth && Object.keys(auth).length) spec.auth = { ...auth };
  if (c.tls === true) spec.tls = true;
  else if (c.tls && typeof c.tls === 'object') {
    const t = { ...(c.tls as Record<string, unknown>) };
    for (const k of ['ca', 'cert', 'key']) if (typeof t[k] === 'string') t[k] = path.resolve(baseDir, t[k] as string);
    spec.tls = t as SourceSpec['tls'];
  }
  return spec;
}

export function brokerList(v: unknown): string[] {
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  if (Array.isArray(v)) return v.map(String).map((s) => s.trim()).filter(Boolean);
  return [];
}

/** What a string value at `at` names, when it is a name (pipeline, field, detector, secret, connection). */
function nameValueKind(at: Array<string | number>): string | undefined {
  const last = at[at.length - 1];
  const parent = at[at.length - 2];
  if (typeof last === 'number') return parent === 'detectors' ? 'Detector name' : undefined;
  if (last === 'name' && at[0] === 'pipelines') return 'Pipeline name';
  if (last === 'labelField') return 'Field name';
  if (last === 'secret') return 'Secret name';
  if (last === 'connection') return 'Connection name';
  return undefined;
}

/** What the keys of the map at `at` name. */
function nameKeyKind(at: Array<string | number>): string {
  const last = at[at.length - 1];
  if (last === 'fields') return 'Field name';
  if (last === 'connections') return 'Connection name';
  if (last === 'thresholds' || last === 'weights' || last === 'minJump') return 'Detector name';
  return 'Key';
}

function requiredKey(b: Backend): string | undefined {
  return b === 'kafka' ? 'brokers' : b === 'redis' ? 'url' : b === 'pulsar' ? 'serviceUrl' : b === 'file' ? 'path' : undefined;
}

function intervalOf(v: string | number): CheckInterval | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? (v > 0 ? parseInterval(v) : { records: v }) : undefined;
  if (/^\s*0+(\.0+)?\s*(ms|s|m|h)\s*$/.test(v)) return { seconds: 0 };
  return parseInterval(v);
}

function parseFrom(text: string): StartPosition | undefined {
  const t = text.trim();
  if (t === 'latest') return { kind: 'latest' };
  if (t === 'earliest') return { kind: 'earliest' };
  if (/^\d{13}$/.test(t)) return { kind: 'time', time: Number(t) };
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return { kind: 'time', time: ms };
  }
  return undefined;
}

type Kind = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'object' | 'array';

function kindOf(node: YamlNode | null): Kind {
  if (!node) return 'null';
  if (isMap(node)) return 'object';
  if (isSeq(node)) return 'array';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'null';
    if (typeof v === 'boolean') return 'boolean';
    if (typeof v === 'number' || typeof v === 'bigint') return Number.isInteger(Number(v)) ? 'integer' : 'number';
    return 'string';
  }
  return 'string';
}

function typeMatches(kind: Kind, types: string[]): boolean {
  if (types.length === 0) return true;
  if (types.includes(kind)) return true;
  return kind === 'integer' && types.includes('number');
}

function describe(node: YamlNode | null): string {
  const kind = kindOf(node);
  if (kind === 'object') return 'a map';
  if (kind === 'array') return 'a list';
  if (kind === 'null') return 'nothing';
  const v = (node as import('yaml').Scalar).value;
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function labelOf(at: Array<string | number>): string {
  const keys = at.filter((k) => typeof k === 'string') as string[];
  const last = at[at.length - 1];
  if (typeof last === 'number') return `Item ${last + 1} of ${keys[keys.length - 1] ?? 'the list'}`;
  const lastKey = keys[keys.length - 1] ?? 'The file';
  const parent = keys[keys.length - 2];
  return parent && ['thresholds', 'weights', 'outliers', 'baseline', 'minJump', 'auth', 'tls'].includes(parent) ? `${parent}.${lastKey}` : lastKey;
}

function article(noun: string): string {
  return /^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`;
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function rangeOf(node: YamlNode): OffsetRange {
  const r = node.range;
  if (!r) return { start: 0, end: 0 };
  return { start: r[0], end: r[1] };
}

function firstLineRange(node: YamlNode, doc: Document): OffsetRange {
  void doc;
  const r = rangeOf(node);
  if (isMap(node) && node.items.length > 0) {
    const first = node.items[0];
    if (isPair(first) && first.key) {
      const k = rangeOf(first.key as YamlNode);
      const v = first.value ? rangeOf(first.value as YamlNode) : k;
      return { start: k.start, end: isScalar(first.value) ? v.end : k.end };
    }
  }
  return r;
}

function toJS(node: YamlNode): unknown {
  return (node as { toJSON?: () => unknown }).toJSON ? (node as { toJSON: () => unknown }).toJSON() : null;
}
