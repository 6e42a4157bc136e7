/**
 * Editor features on clean.yaml over standard LSP: completion, hover, code lenses and document symbols.
 * Keys, enums, descriptions and defaults come from the JSON Schema; connection names from the file.
 */
import { isMap, isScalar } from 'yaml';
import type { Node as YamlNode, Pair } from 'yaml';
import {
  CodeLens,
  CompletionItem,
  CompletionItemKind,
  DiagnosticSeverity,
  DocumentSymbol,
  Hover,
  InsertTextFormat,
  MarkupKind,
  SymbolKind,
} from 'vscode-languageserver';
import type { Diagnostic, Position, Range } from 'vscode-languageserver';
import type { CleanConfigModel, OffsetRange } from '../config/index';
import { configOf, nodeAt } from './configOutline';
import { schemaHoverMarkdown, type SchemaLookup } from './schemaHover';
import { describeFolder, schemaFolders } from './schemaFolders';
import type { ConfigOutline } from './configOutline';
import { LineIndex } from '../config/lines';
import { allowedTypes, deref, knownKeys, objectBranch, schemaAt, showDefault } from '../config/schema';
import type { SchemaNode } from '../config/schema';
import { CodeLensCommands } from '../../shared/protocol';
import type { PipelineInfo, StartConfiguredPipelineParams, PipelineRef } from '../../shared/protocol';

/** One line per detector, for completion details and hover on a detector name. */
export const DETECTOR_DOCS: Record<string, string> = {
  outliers: 'Numeric values far from the window\'s distribution (robust z-score on a log scale).',
  duplicates: 'The same record (by a 64-bit hash of its canonical bytes) seen earlier in the window.',
  missing: 'A field that the window normally carries is null or absent.',
  schema: 'A field changes type, an unseen field appears, or a usual field disappears.',
  parse: 'The message is not valid JSON or not a JSON object.',
  rules: 'A record breaks one of the `fields` rules (required, type, min/max, regex, enum).',
  labels: 'Inconsistent class labels in `labelField` among near-identical records.',
};

const BACKEND_DOCS: Record<string, string> = {
  kafka: 'Apache Kafka (or Redpanda): set `brokers`. The monitor reads with its own consumer group, never an application\'s.',
  redis: 'Redis Streams: set `url`. The monitor reads with XREAD, never a consumer group, and never acknowledges.',
  pulsar: 'Apache Pulsar: set `serviceUrl`. The monitor reads with a non-durable reader.',
  file: 'A JSON Lines file: set `path` (a file, or a folder that pipeline topics name files in).',
  demo: 'The built-in synthetic stream with scheduled fault episodes; needs no broker.',
};

export function toDiagnostics(model: CleanConfigModel): Diagnostic[] {
  return model.diagnostics.map((d) => ({
    range: { start: { line: d.line, character: d.character }, end: { line: d.endLine, character: d.endCharacter } },
    severity: d.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: 'clean',
    message: d.message,
  }));
}

function toRange(lines: LineIndex, r: OffsetRange): Range {
  return { start: lines.position(r.start), end: lines.position(r.end) };
}

// ---- completion ------------------------------------------------------------------------------

export interface CursorContext {
  /** Keys from the root, `0` for a list item. */
  path: Array<string | number>;
  mode: 'key' | 'value';
  /** In value mode: the key whose value is being typed. */
  key?: string;
  /** Inside a `[ ]` flow list on the key's line (or on a `- ` item of a block list). */
  inFlowList: boolean;
  /** On a new line under a list key, where an item still needs its `- `. */
  newItem?: boolean;
  /** The word being typed (replaced by a completion). */
  word: OffsetRange;
  /** Values already in the flow list, or sibling keys already in the map. */
  present: string[];
}

const WORD = /[\w.@:/-]/;

/** Where the cursor is in the YAML structure, judged from the text (so it works on half-typed lines too). */
export function cursorContext(text: string, offset: number, lines = new LineIndex(text)): CursorContext {
  const pos = lines.position(offset);
  const lineText = lines.lineText(pos.line);
  const before = lineText.slice(0, pos.character);
  let ws = offset;
  while (ws > 0 && WORD.test(text[ws - 1]) && text[ws - 1] !== ':' ) ws--;
  let we = offset;
  while (we < text.length && WORD.test(text[we]) && text[we] !== ':') we++;
  const word = { start: ws, end: we };

  // The column where this line's key starts, and whether the line opens a list item.
  const indent = before.length - before.trimStart().length;
  let content = before.slice(indent);
  let col = indent;
  let listItem = false;
  while (/^-(\s|$)/.test(content)) {
    listItem = true;
    const m = /^-\s*/.exec(content)!;
    col += m[0].length;
    content = content.slice(m[0].length);
  }
  const path = parentPath(lines, pos.line, col, listItem);

  // Flow collections on this line: `detectors: [outliers, du|` or `thresholds: { dup|`.
  const flow = openFlow(content);
  if (flow) {
    const keyPath = [...path, ...flow.keys];
    if (flow.kind === '[') {
      return { path: keyPath.slice(0, -1), mode: 'value', key: String(keyPath[keyPath.length - 1]), inFlowList: true, word, present: flow.items };
    }
    if (flow.pendingKey !== undefined) return { path: keyPath, mode: 'value', key: flow.pendingKey, inFlowList: false, word, present: [] };
    return { path: keyPath, mode: 'key', inFlowList: false, word, present: flow.items };
  }
  const colon = /^("[^"]*"|'[^']*'|[^:#]+?)\s*:(\s+|$)/.exec(content);
  if (colon) return { path, mode: 'value', key: unquote(colon[1].trim()), inFlowList: false, word, present: [] };
  if (listItem && scalarItems(path)) {
    // `- out|` under `detectors:` is a value of the list, not a key.
    return { path: path.slice(0, -2), mode: 'value', key: String(path[path.length - 2]), inFlowList: true, word, present: siblingsOf(lines, pos.line, col, true) };
  }
  if (!listItem && scalarList(path)) {
    // A new line under `detectors:`: an item of its block list, which needs its dash.
    return { path: path.slice(0, -1), mode: 'value', key: String(path[path.length - 1]), inFlowList: false, newItem: true, word, present: siblingsOf(lines, pos.line, col + 2, true) };
  }
  return { path: listItem ? path : path, mode: 'key', inFlowList: false, word, present: siblingsOf(lines, pos.line, col, false) };
}

/** A key whose value can only be a list of scalars (such as detectors). */
function scalarList(path: Array<string | number>): boolean {
  if (typeof path[path.length - 1] !== 'string') return false;
  const s = schemaAt(path);
  return listOnly(s) && !objectBranch(deref(s?.items));
}

/** The schema accepts a list and nothing else: a bare scalar there is an error. */
function listOnly(s: SchemaNode | undefined): boolean {
  const types = allowedTypes(s);
  return types.length > 0 && types.every((t) => t === 'array') && !s?.anyOf;
}

function scalarItems(path: Array<string | number>): boolean {
  if (typeof path[path.length - 1] !== 'number') return false;
  const s = schemaAt(path);
  return !!s && !objectBranch(s);
}

/** Keys (and `0` for list items) from the root down to the map that holds a key at `col` on `line`. */
function parentPath(lines: LineIndex, line: number, col: number, listItem: boolean): Array<string | number> {
  const out: Array<string | number> = [];
  let keyCol = col; // column of the key being placed
  let itemCol = -1; // when placing a list item: the column of its dash
  if (listItem) {
    out.push(0);
    itemCol = leadingSpaces(lines.lineText(line));
  }
  for (let l = line - 1; l >= 0 && (keyCol > 0 || itemCol > 0); l--) {
    // A cheap look first, without slicing: in a list of ten thousand pipelines nearly every line above the
    // cursor is deeper than the column sought, or another item of the same list.
    const first = lines.firstNonSpace(l);
    if (first < 0) continue;
    const shallow = first - lines.lineStart(l);
    const dash = lines.text.charCodeAt(first) === 45 && lines.text.charCodeAt(first + 1) === 32;
    if (itemCol >= 0 ? shallow > itemCol || (dash && shallow === itemCol) : shallow >= keyCol && lines.text.charCodeAt(first) !== 45) continue;
    const raw = lines.lineText(l);
    const t = raw.trim();
    if (!t || t.startsWith('#')) continue;
    const ind = leadingSpaces(raw);
    const isItem = t === '-' || t.startsWith('- ');
    if (itemCol >= 0) {
      // Looking for the key that owns the list; a list may sit at its key's own column.
      if (ind > itemCol || (isItem && ind === itemCol)) continue;
    } else {
      if (isItem) {
        const c = raw.length - raw.slice(ind).replace(/^(-(\s+|$))+/, '').length;
        if (c === keyCol) {
          out.unshift(0);
          itemCol = ind;
          continue;
        }
      }
      if (ind >= keyCol) continue;
    }
    const m = /^("[^"]*"|'[^']*'|[^:#]+?)\s*:\s*(#.*)?$/.exec(t);
    if (!m || isItem) break; // `key: value` cannot hold children; the text is not a structure we understand
    out.unshift(unquote(m[1].trim()));
    keyCol = ind;
    itemCol = -1;
  }
  return out;
}

/** Keys already present in the map the cursor line belongs to (or items already in a block list). */
function siblingsOf(lines: LineIndex, line: number, col: number, items: boolean): string[] {
  const out: string[] = [];
  const scan = (from: number, step: number) => {
    for (let l = from; l >= 0 && l < lines.lineCount; l += step) {
      const raw = lines.lineText(l);
      const t = raw.trim();
      if (!t || t.startsWith('#')) continue;
      const ind = leadingSpaces(raw);
      if (items) {
        if (ind < col - 2) break;
        const m = /^-\s+([^#\s]+)/.exec(t);
        if (m && ind === col - 2) out.push(m[1]);
        continue;
      }
      const stripped = raw.slice(ind).replace(/^(-\s+)+/, '');
      const c = raw.length - stripped.length;
      if (c < col || (ind < col && step > 0 && !raw.slice(ind).startsWith('-'))) break;
      if (c === col) {
        const m = /^("[^"]*"|'[^']*'|[^:#]+?)\s*:/.exec(stripped);
        if (m) out.push(unquote(m[1].trim()));
        if (raw.slice(ind).startsWith('-') && ind < col) break; // the item's first line
      }
    }
  };
  scan(line - 1, -1);
  scan(line + 1, 1);
  return out;
}

interface OpenFlow {
  kind: '[' | '{';
  /** Keys from the line's block key down to the innermost open collection. */
  keys: string[];
  items: string[];
  /** Inside `{ key: |`. */
  pendingKey?: string;
}

/** The innermost unclosed `[` or `{` on a line's text before the cursor, with its key path. */
function openFlow(content: string): OpenFlow | undefined {
  type Frame = { kind: '[' | '{'; key?: string; items: string[]; token: string; pendingKey?: string };
  const stack: Frame[] = [];
  let blockKey: string | undefined;
  let token = '';
  let quote: string | null = null;
  for (let i = 0; i < content.length; i++) {
    const ch = content[i];
    if (quote) {
      if (ch === quote) quote = null;
      token += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      token += ch;
      continue;
    }
    const top = stack[stack.length - 1];
    if (ch === '[' || ch === '{') {
      const key = top ? top.pendingKey : blockKey;
      stack.push({ kind: ch, key, items: [], token: '' });
      token = '';
    } else if (ch === ']' || ch === '}') {
      stack.pop();
      token = '';
    } else if (ch === ',') {
      if (top) {
        const t = top.kind === '{' && top.pendingKey !== undefined ? top.pendingKey : (top.token + token).trim();
        if (t) top.items.push(unquote(t.split(':')[0].trim()));
        top.token = '';
        top.pendingKey = undefined;
      }
      token = '';
    } else if (ch === ':' && (content[i + 1] === ' ' || i + 1 === content.length)) {
      if (top) top.pendingKey = unquote(token.trim());
      else blockKey = unquote(token.trim());
      token = '';
    } else token += ch;
  }
  if (stack.length === 0) return undefined;
  const inner = stack[stack.length - 1];
  const keys = stack.map((f) => f.key).filter((k): k is string => k !== undefined);
  const first = stack[0];
  if (first.key === undefined && blockKey !== undefined) keys.unshift(blockKey);
  return { kind: inner.kind, keys, items: inner.items, pendingKey: inner.kind === '{' ? inner.pendingKey : undefined };
}

function leadingSpaces(s: string): number {
  return s.length - s.trimStart().length;
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s;
}

export function completions(text: string, offset: number, model: Pick<ConfigOutline, 'connections'> | undefined): CompletionItem[] {
  const lines = new LineIndex(text);
  const ctx = cursorContext(text, offset, lines);
  const range = toRange(lines, ctx.word);
  const items: CompletionItem[] = [];
  // Right after `key:` a value needs its space (`backend:kafka` would be one plain scalar).
  const pad = ctx.mode === 'value' && text[ctx.word.start - 1] === ':' ? ' ' : '';
  const add = (label: string, kind: CompletionItemKind, detail?: string, doc?: string, insert?: string, snippet = false) => {
    if (items.some((i) => i.label === label)) return;
    const item: CompletionItem = { label, kind, textEdit: { range, newText: pad + (insert ?? label) } };
    if (detail) item.detail = detail;
    if (doc) item.documentation = { kind: MarkupKind.Markdown, value: doc };
    if (snippet) item.insertTextFormat = InsertTextFormat.Snippet;
    items.push(item);
  };

  if (ctx.mode === 'key') {
    const schema = schemaAt(ctx.path);
    for (const key of knownKeys(schema)) {
      if (ctx.present.includes(key)) continue;
      const child = deref(objectBranch(schema)?.properties?.[key]);
      const types = allowedTypes(child);
      const isBlock = types.length > 0 && types.every((t) => t === 'object' || t === 'array') && !child?.anyOf;
      const insert = isBlock && !ctx.inFlowList && !isInFlowMap(text, offset) ? `${key}:` : `${key}: `;
      add(key, CompletionItemKind.Property, typeLine(child), docOf(child), insert);
    }
    return items;
  }

  const key = ctx.key ?? '';
  const valueSchema = schemaAt([...ctx.path, key]);
  if (key === 'connection' && ctx.path[0] === 'pipelines') {
    for (const c of model?.connections ?? []) add(c.name, CompletionItemKind.Reference, c.backend ? `${c.backend} connection` : 'connection', connectionDoc(c.value));
    return items;
  }
  const itemSchema = deref(valueSchema?.items);
  const enumSource = ctx.inFlowList || (itemSchema?.enum && allowedTypes(valueSchema).includes('array')) ? itemSchema : valueSchema;
  const values = enumSource?.enum ?? enumSource?.examples ?? valueSchema?.examples;
  if (values) {
    // What validation accepts: a list value is written as a flow list `[x]` on the key's line, or as a
    // `- x` item on a new line; inside a list already, the bare value.
    const wrap = ctx.inFlowList ? (v: string) => v : ctx.newItem ? (v: string) => `- ${v}` : listOnly(valueSchema) ? (v: string) => `[${v}]` : (v: string) => v;
    for (const v of values) {
      const label = String(v);
      if (ctx.present.includes(label)) continue;
      const doc = key === 'backend' ? BACKEND_DOCS[label] : key === 'detectors' ? DETECTOR_DOCS[label] : undefined;
      add(label, CompletionItemKind.EnumMember, key === 'detectors' ? 'detector' : key, doc, wrap(label));
    }
    return items;
  }
  if (allowedTypes(valueSchema).includes('boolean')) {
    add('true', CompletionItemKind.Value);
    add('false', CompletionItemKind.Value);
  }
  if (valueSchema?.default !== undefined && !ctx.inFlowList) add(showDefault(valueSchema.default), CompletionItemKind.Value, 'the default');
  return items;
}

function isInFlowMap(text: string, offset: number): boolean {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  return (before.match(/\{/g)?.length ?? 0) > (before.match(/\}/g)?.length ?? 0);
}

function typeLine(s: SchemaNode | undefined): string | undefined {
  if (!s) return undefined;
  const types = allowedTypes(s);
  const t = types.length ? types.join(' | ') : undefined;
  const d = s.default !== undefined ? `default ${showDefault(s.default)}` : undefined;
  return [t, d].filter(Boolean).join(' · ') || undefined;
}

function docOf(s: SchemaNode | undefined): string | undefined {
  return s?.description;
}

/** Text from the file (and it may come from anywhere) as inert markdown: never a link, an image, an icon or raw HTML. */
function esc(text: unknown): string {
  return String(text).replace(/[\\`[\]()<>$!]/g, '\\$&');
}

function connectionDoc(c: Record<string, unknown>): string {
  const where = c.brokers ?? c.url ?? c.serviceUrl ?? c.path;
  return `**${esc(c.backend ?? '?')}**${where !== undefined ? ` · ${esc(Array.isArray(where) ? where.join(', ') : where)}` : ''}`;
}

// ---- hover -----------------------------------------------------------------------------------

/** Hover from the checked outline; `positionAt` maps offsets of the version the outline was checked from. */
export function hover(model: ConfigOutline, offset: number, positionAt: (offset: number) => Position): Hover | null {
  const at = nodeAt(model.nodes, offset);
  if (!at) return null;
  const range = { start: positionAt(at.range.start), end: positionAt(at.range.end) };
  const path = at.path;
  const last = path[path.length - 1];
  const md = (value: string): Hover => ({ contents: { kind: MarkupKind.Markdown, value }, range });

  if (!at.onKey && at.scalar !== undefined) {
    const value = at.scalar;
    const parentKey = typeof last === 'number' ? path[path.length - 2] : last;
    if (parentKey === 'detectors' && DETECTOR_DOCS[value]) return md(`**${value}** detector\n\n${DETECTOR_DOCS[value]}`);
    if (parentKey === 'backend' && BACKEND_DOCS[value]) return md(`**${value}** backend\n\n${BACKEND_DOCS[value]}`);
    if (parentKey === 'connection' && path[0] === 'pipelines') {
      const c = model.connections.find((x) => x.name === value);
      return md(c ? `Connection **${esc(value)}**: ${connectionDoc(c.value)}` : `No connection named **${esc(value)}** in this file.`);
    }
  }
  if (path[0] === 'connections' && path.length === 2 && at.onKey) {
    const c = model.connections.find((x) => x.name === last);
    return md(`Connection **${esc(last)}**${c ? `: ${connectionDoc(c.value)}` : ''}\n\nPipelines use it with **connection: ${esc(last)}**.`);
  }
  if (path[0] === 'fields' || path[path.length - 2] === 'fields') {
    if (at.onKey && path[path.length - 2] === 'fields') return md(`Rules for the field **${esc(last)}**: \`required\`, \`type\`, \`min\`, \`max\`, \`regex\`, \`enum\`.`);
  }
  const keyPath = typeof last === 'number' ? path.slice(0, -1) : path;
  const schema = schemaAt(keyPath);
  if (!schema) return null;
  const name = String(keyPath[keyPath.length - 1] ?? 'clean.yaml');
  const parts = [`**${esc(name)}**${typeLine(schema) ? ` · ${typeLine(schema)}` : ''}`];
  if (schema.description) parts.push(schema.description);
  const e = deref(schema.items)?.enum ?? schema.enum;
  if (e) parts.push(`One of: ${e.map((x) => `\`${String(x)}\``).join(', ')}`);
  return md(parts.join('\n\n'));
}

// ---- code lenses and symbols -----------------------------------------------------------------

/** The lenses of pipelines that never ran, per outline: most of a large file's lenses, built once per version. */
const idleLenses = new WeakMap<ConfigOutline, { configUri: string; lenses: Array<CodeLens | undefined> }>();

export function codeLenses(model: ConfigOutline, configUri: string, running: (name: string) => PipelineInfo | undefined): CodeLens[] {
  const out: CodeLens[] = [];
  let idle = idleLenses.get(model);
  if (idle?.configUri !== configUri) idleLenses.set(model, (idle = { configUri, lenses: [] }));
  for (let i = 0; i < model.pipelines.length; i++) {
    const p = model.pipelines[i];
    if (p.name === undefined) continue;
    const info = running(p.name);
    const known = info ? undefined : idle.lenses[i];
    if (known) {
      out.push(known);
      continue;
    }
    const line = p.line;
    const range = { start: { line, character: 0 }, end: { line, character: 0 } };
    const active = info && (info.state === 'connecting' || info.state === 'waiting' || info.state === 'running' || info.state === 'reconnecting' || info.state === 'paused');
    if (info && active) {
      const score = info.score !== undefined ? ` · score ${info.score.toFixed(2)}` : ` · ${info.state}`;
      const args: PipelineRef[] = [{ pipeline: info.id }];
      out.push({ range, command: { title: `■ Stop${score}`, command: CodeLensCommands.stopPipeline, arguments: args } });
    } else {
      const args: StartConfiguredPipelineParams[] = [{ configUri, pipelineName: p.name }];
      const title = p.error ? '▶ Monitor (fix the errors first)' : info?.state === 'error' ? '▶ Monitor (last run failed)' : '▶ Monitor';
      out.push({ range, command: { title, command: CodeLensCommands.startPipeline, arguments: args } });
      if (!info) idle.lenses[i] = out[out.length - 1];
    }
  }
  return out;
}

export function documentSymbols(model: CleanConfigModel): DocumentSymbol[] {
  const out: DocumentSymbol[] = [];
  const root = model.doc.contents;
  if (!isMap(root)) return out;
  const section = (name: string) => (root.items as Pair<YamlNode, YamlNode | null>[]).find((p) => isScalar(p.key) && p.key.value === name);
  const span = (pair: Pair<YamlNode, YamlNode | null>): Range =>
    toRange(model.lines, { start: pair.key!.range![0], end: pair.value?.range ? pair.value.range[1] : pair.key!.range![1] });
  const conns = section('connections');
  if (conns?.key) {
    const children: DocumentSymbol[] = model.connections.map((c) => ({
      name: c.name,
      detail: c.backend ?? '',
      kind: SymbolKind.Interface,
      range: toRange(model.lines, c.range),
      selectionRange: toRange(model.lines, c.keyRange),
    }));
    out.push({ name: 'connections', kind: SymbolKind.Namespace, range: span(conns), selectionRange: toRange(model.lines, rangeOfKey(conns)), children });
  }
  const pipes = section('pipelines');
  if (pipes?.key) {
    const children: DocumentSymbol[] = model.pipelines.map((p) => {
      const range = toRange(model.lines, p.range);
      const sel = p.nameRange ? toRange(model.lines, p.nameRange) : { start: range.start, end: range.start };
      const detail = p.source ?? [p.connection, p.topic].filter(Boolean).join(' · ');
      return { name: p.name ?? `pipeline ${p.index + 1}`, detail, kind: SymbolKind.Event, range, selectionRange: sel };
    });
    out.push({ name: 'pipelines', kind: SymbolKind.Namespace, range: span(pipes), selectionRange: toRange(model.lines, rangeOfKey(pipes)), children });
  }
  return out;
}

function rangeOfKey(pair: Pair<YamlNode, YamlNode | null>): OffsetRange {
  return { start: pair.key!.range![0], end: pair.key!.range![1] };
}

export type { Position };

// ---- schemas (issue 13): hover a topic for its schema; complete `schemas:` with folders holding schema files ----

/**
 * Hover, plus the schema of the topic under the cursor (a pipeline's `topic:` or `source:` value), fetched through
 * the sources its pipeline would decode with (server/lsp/schemaHover.ts: short timeout, cached).
 */
export async function hoverWithSchema(model: ConfigOutline, offset: number, positionAt: (offset: number) => Position, schemas: SchemaLookup): Promise<Hover | null> {
  const base = hover(model, offset, positionAt);
  const at = nodeAt(model.nodes, offset);
  const path = at?.path ?? [];
  if (!at || at.onKey || at.scalar === undefined || path[0] !== 'pipelines' || typeof path[1] !== 'number' || (path[2] !== 'topic' && path[2] !== 'source') || path.length !== 3) return base;
  const pipeline = configOf(model, path[1]);
  if (!pipeline || pipeline.spec.backend === 'demo' || pipeline.spec.backend === 'file' || pipeline.spec.backend === 'memory') return base;
  const found = await schemas.lookup(pipeline.spec);
  if ('unset' in found) return base;
  const schema = schemaHoverMarkdown(found);
  const value = base && typeof base.contents === 'object' && 'value' in base.contents ? `${base.contents.value}\n\n---\n\n${schema}` : schema;
  return { contents: { kind: MarkupKind.Markdown, value }, range: base?.range ?? { start: positionAt(at.range.start), end: positionAt(at.range.end) } };
}

/** Completion, with the folders under `configDir` that hold schema files offered for `schemas:`. */
export async function completionsWithSchemas(
  text: string,
  offset: number,
  model: Pick<ConfigOutline, 'connections'> | undefined,
  configDir: string | undefined,
): Promise<CompletionItem[]> {
  const items = completions(text, offset, model);
  if (configDir === undefined) return items;
  const lines = new LineIndex(text);
  const ctx = cursorContext(text, offset, lines);
  // `schemas:` takes a folder or a list of them; a new line under it is an item of its block list.
  const blockItem = ctx.mode === 'key' && ctx.path.length === 1 && ctx.path[0] === 'schemas';
  if (!blockItem && (ctx.mode !== 'value' || ctx.key !== 'schemas' || ctx.path.length !== 0)) return items;
  const present = blockItem ? schemaItemsAround(lines, lines.position(offset).line) : ctx.present;
  const folders = (await schemaFolders(configDir)).filter((f) => !present.includes(f.path));
  if (folders.length === 0) return items;
  const range = toRange(lines, ctx.word);
  const pad = text[ctx.word.start - 1] === ':' ? ' ' : '';
  return folders.map((f, i) => ({
    label: f.path,
    kind: CompletionItemKind.Folder,
    detail: describeFolder(f),
    sortText: String(i).padStart(4, '0'),
    textEdit: { range, newText: pad + (ctx.newItem || blockItem ? `- ${f.path}` : f.path) },
  }));
}

/** The `- item` values of the block list the cursor line sits in (the lines above and below it, up to its key). */
function schemaItemsAround(lines: LineIndex, line: number): string[] {
  const out: string[] = [];
  for (const step of [-1, 1]) {
    for (let l = line + step; l >= 0 && l < lines.lineCount; l += step) {
      const t = lines.lineText(l);
      const m = /^\s+-\s+(\S+)/.exec(t);
      if (m) out.push(unquote(m[1]));
      else if (t.trim() !== '') break;
    }
  }
  return out;
}
