/**
 * A checked clean.yaml reduced to plain data: what the language server answers hover, completion, symbols and
 * code lenses from. It is built where the file is checked (the config check thread) and posted to the server's
 * thread, so it holds no yaml nodes; the node tree it needs for hover travels as typed arrays.
 */
import { isMap, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode, Pair } from 'yaml';
import type { Diagnostic, DocumentSymbol } from 'vscode-languageserver';
import { DiagnosticSeverity } from 'vscode-languageserver';
import type { CleanConfigModel, ConfiguredPipeline, ConnectionEntry, OffsetRange } from '../config/index';
import { documentSymbols, toDiagnostics } from './configFeatures';
import { namedSinks } from '../alerts';
import type { SinkConfig } from '../alerts/types';

export interface OutlinePipeline {
  name?: string;
  /** 0-based line where the entry starts (the code lens goes there). */
  line: number;
  /** The first error inside the entry, when it has one. */
  error?: string;
}

/**
 * Bulky parts travel as JSON text and are parsed where they are used: a thread message of ten thousand small
 * objects takes the receiving thread hundreds of milliseconds to rebuild, a string of the same size almost nothing.
 */
export interface ConfigOutline {
  /** The document version this outline was checked from. */
  version: number;
  /** Set when the file is over the size limit: it carries the one diagnostic that says so, and nothing else. */
  oversize?: boolean;
  /** JSON of Diagnostic[]. */
  diagnosticsJson: string;
  /** JSON of DocumentSymbol[]. */
  symbolsJson: string;
  connections: ConnectionEntry[];
  pipelines: OutlinePipeline[];
  /** JSON of each valid pipeline's ConfiguredPipeline, one after another; `configAt` holds where each begins and ends. */
  configsJson: string;
  /** Per pipeline: start and end of its config in configsJson (equal when the entry has errors). */
  configAt: Int32Array;
  nodes: NodeTable;
  /** The file's valid alert sinks, named (server/alerts), each with its line: the agent's sinks and "Send test alert" lenses. */
  sinks: SinkConfig[];
}

const parsed = new WeakMap<ConfigOutline, { diagnostics?: Diagnostic[]; symbols?: DocumentSymbol[] }>();

/** The outline's diagnostics, parsed once. */
export function diagnosticsOf(outline: ConfigOutline): Diagnostic[] {
  const p = parsed.get(outline) ?? {};
  parsed.set(outline, p);
  return (p.diagnostics ??= JSON.parse(outline.diagnosticsJson) as Diagnostic[]);
}

/** The outline's document symbols, parsed once (on the first request for them). */
export function symbolsOf(outline: ConfigOutline): DocumentSymbol[] {
  const p = parsed.get(outline) ?? {};
  parsed.set(outline, p);
  return (p.symbols ??= JSON.parse(outline.symbolsJson) as DocumentSymbol[]);
}

/** The runnable config of the pipeline at `index`, when its entry has no error. */
export function configOf(outline: ConfigOutline, index: number): ConfiguredPipeline | undefined {
  const start = outline.configAt[2 * index];
  const end = outline.configAt[2 * index + 1];
  return end > start ? (JSON.parse(outline.configsJson.slice(start, end)) as ConfiguredPipeline) : undefined;
}

/**
 * The yaml tree below the root in pre-order, as hover walks it. Node i spans `spans[3i]..spans[3i+1]` (offsets) and
 * its subtree ends before node `spans[3i+2]`; a map contributes its keys and values as sibling nodes.
 */
export interface NodeTable {
  spans: Int32Array;
  /** NODE_KEY | NODE_SCALAR | NODE_ITEM | NODE_INDEX per node. */
  flags: Uint8Array;
  /** The node's path segment: an index into the strings (a key), or the list index when NODE_INDEX is set. */
  segments: Int32Array;
  /** A scalar's value as text (index into the strings), or -1. */
  values: Int32Array;
  /** JSON of the keys' and values' texts (string[]), parsed on the first hover. */
  stringsJson: string;
}

const NODE_KEY = 1;
const NODE_SCALAR = 2;
/** An item of a list: hover looks at every item that contains the offset, not only the first. */
const NODE_ITEM = 4;
const NODE_INDEX = 8;

/** Files larger than this (in UTF-8 bytes) get one diagnostic and no further work. */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;

/** Builds the outline of a checked model (runs in the config check thread). */
export function outlineOf(model: CleanConfigModel, version: number): ConfigOutline {
  const configs: string[] = [];
  const configAt = new Int32Array(2 * model.pipelines.length);
  let at = 0;
  const pipelines = model.pipelines.map((p, i) => {
    const out: OutlinePipeline = { line: model.lines.position(p.range.start).line };
    if (p.name !== undefined) out.name = p.name;
    if (p.error !== undefined) out.error = p.error;
    const json = p.pipeline ? JSON.stringify(p.pipeline) : '';
    configs.push(json);
    configAt[2 * i] = at;
    configAt[2 * i + 1] = at += json.length;
    return out;
  });
  return {
    version,
    diagnosticsJson: JSON.stringify(toDiagnostics(model)),
    symbolsJson: JSON.stringify(documentSymbols(model)),
    connections: model.connections,
    pipelines,
    configsJson: configs.join(''),
    configAt,
    nodes: nodeTableOf(model.doc.contents as YamlNode | null),
    sinks: namedSinks(model.alerts.map((a) => a.config)),
  };
}

/** The outline of a file over MAX_CONFIG_BYTES: one diagnostic on its first line, naming both sizes. */
export function oversizeOutline(version: number, fileName: string, bytes: number, firstLineLength: number): ConfigOutline {
  return {
    version,
    oversize: true,
    diagnosticsJson: JSON.stringify([
      {
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: firstLineLength } },
        severity: DiagnosticSeverity.Error,
        source: 'clean',
        message: oversizeMessage(fileName, bytes),
      },
    ]),
    symbolsJson: '[]',
    connections: [],
    pipelines: [],
    configsJson: '',
    configAt: new Int32Array(0),
    nodes: nodeTableOf(null),
    sinks: [],
  };
}

/** What a file over the limit is told: its size, the limit, and what to do. */
export function oversizeMessage(fileName: string, bytes: number): string {
  const base = fileName.split(/[\\/]/).pop() || fileName;
  return `${base} is ${megabytes(bytes)}; Clean Streams checks files up to ${megabytes(MAX_CONFIG_BYTES)}. Split its pipelines across several *.clean.yaml files.`;
}

/** 5.2 MB, 2 MB: one decimal, none when whole. */
function megabytes(bytes: number): string {
  const mb = Math.round((bytes / (1024 * 1024)) * 10) / 10;
  return `${mb} MB`;
}

export function nodeTableOf(root: YamlNode | null): NodeTable {
  const spans: number[] = [];
  const flags: number[] = [];
  const segments: number[] = [];
  const values: number[] = [];
  const strings: string[] = [];
  const text = (s: string) => strings.push(s) - 1;
  const add = (node: YamlNode, segment: number, flag: number): number => {
    const i = flags.length;
    spans.push(node.range![0], node.range![1], i + 1);
    flags.push(flag | (isScalar(node) ? NODE_SCALAR : 0));
    segments.push(segment);
    values.push(isScalar(node) && !(flag & NODE_KEY) ? text(String(node.value)) : -1);
    return i;
  };
  const walk = (node: YamlNode) => {
    if (isMap(node)) {
      for (const pair of node.items as Pair<YamlNode, YamlNode | null>[]) {
        const k = pair.key;
        const key = text(isScalar(k) ? String(k.value) : '');
        if (k?.range) add(k, key, NODE_KEY);
        const v = pair.value;
        if (v?.range) {
          const i = add(v, key, 0);
          walk(v);
          spans[3 * i + 2] = flags.length;
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        const n = item as YamlNode;
        if (!n?.range) return;
        const i = add(n, index, NODE_ITEM | NODE_INDEX);
        walk(n);
        spans[3 * i + 2] = flags.length;
      });
    }
  };
  if (root) walk(root);
  return { spans: Int32Array.from(spans), flags: Uint8Array.from(flags), segments: Int32Array.from(segments), values: Int32Array.from(values), stringsJson: JSON.stringify(strings) };
}

const tableStrings = new WeakMap<NodeTable, string[]>();

function stringsOf(t: NodeTable): string[] {
  let s = tableStrings.get(t);
  if (!s) tableStrings.set(t, (s = JSON.parse(t.stringsJson) as string[]));
  return s;
}

export interface NodeAt {
  /** Keys from the root, list indexes as numbers. */
  path: Array<string | number>;
  onKey: boolean;
  range: OffsetRange;
  /** The value as text when the node is a scalar value. */
  scalar?: string;
}

/** The deepest key or value node that contains an offset, with its path. */
export function nodeAt(t: NodeTable, offset: number): NodeAt | undefined {
  let found: NodeAt | undefined;
  const strings = stringsOf(t);
  const visit = (from: number, to: number, path: Array<string | number>) => {
    for (let i = from; i < to; i = t.spans[3 * i + 2]) {
      if (offset < t.spans[3 * i] || offset > t.spans[3 * i + 1]) continue;
      const f = t.flags[i];
      const at = [...path, f & NODE_INDEX ? t.segments[i] : strings[t.segments[i]]];
      found = { path: at, onKey: (f & NODE_KEY) !== 0, range: { start: t.spans[3 * i], end: t.spans[3 * i + 1] } };
      if (f & NODE_SCALAR && !(f & NODE_KEY)) found.scalar = strings[t.values[i]];
      if (f & NODE_KEY) return;
      visit(i + 1, t.spans[3 * i + 2], at);
      if (!(f & NODE_ITEM)) return;
    }
  };
  visit(0, t.flags.length, []);
  return found;
}
