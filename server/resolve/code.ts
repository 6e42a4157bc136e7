/**
 * Topic names in source code: the producer, consumer and XADD calls of JavaScript/TypeScript (kafkajs,
 * ioredis, node-redis), Java/Kotlin (Spring Kafka, the Kafka client, Jedis/Lettuce) and Python
 * (confluent-kafka, kafka-python, redis-py). A small tokenizer (one pass over the characters, no regex
 * that can backtrack) and a few token patterns: no parser dependency, linear in the file's length.
 * Only literal names count (a string, or a name bound once to a string in the same file); a topic built
 * at run time names nothing we could monitor.
 */
import type { OffsetRange } from '../config/index';
import type { Backend } from '../sources/types';
import { isSourceCodeFile } from '../../shared/protocol';
import type { SourceCodeExtension } from '../../shared/protocol';
import { emptyFindings, placeholderDefault } from './found';
import { RESOLVE_MAX_BYTES } from './read';
import type { Findings } from './found';

export type CodeLanguage = 'js' | 'java' | 'kotlin' | 'python';

/** Files over this size are not scanned (a lens on a generated bundle helps nobody); the limit clean/resolveTopic reads. */
export const MAX_CODE_BYTES = RESOLVE_MAX_BYTES;

const LANGUAGES: Record<SourceCodeExtension, CodeLanguage> = {
  js: 'js', jsx: 'js', mjs: 'js', cjs: 'js', ts: 'js', tsx: 'js', mts: 'js', cts: 'js',
  java: 'java', kt: 'kotlin', kts: 'kotlin', py: 'python',
};

/** The language a source file is scanned as, by its extension; undefined for anything else. */
export function codeLanguageOf(fileName: string): CodeLanguage | undefined {
  if (!isSourceCodeFile(fileName)) return undefined;
  return LANGUAGES[fileName.slice(fileName.lastIndexOf('.') + 1).toLowerCase() as SourceCodeExtension];
}

export interface CodeTopic {
  topic: string;
  backend: Extract<Backend, 'kafka' | 'redis'>;
  /** The topic's text: inside the quotes, or the constant's name where the call uses one. */
  range: OffsetRange;
  /** The call or annotation that names it ("producer.send(…)", "@KafkaListener(topics = …)"). */
  origin: string;
  /** The whole call: the cursor anywhere on it means this topic. */
  hit: OffsetRange;
}

// ---- tokens ------------------------------------------------------------------------------------

const enum Kind {
  Id,
  Str,
  Punct,
  Other,
}

interface Token {
  kind: Kind;
  start: number;
  end: number;
  /** Id/Punct: the text. Str: the literal's value, or undefined when it is not a constant (interpolation, bytes, escapes). */
  text: string | undefined;
  /** Str: where the value's text sits (inside the quotes). */
  valueStart: number;
}

const isIdStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
const isIdPart = (c: number) => isIdStart(c) || (c >= 48 && c <= 57);
const PY_PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])$/;
/** After these a `/` starts a regular expression literal in JavaScript, not a division. */
const REGEX_AFTER = new Set(['(', ',', '=', ':', '[', '!', '&', '|', '?', '{', '}', ';']);

function tokenize(text: string, lang: CodeLanguage): Token[] {
  const out: Token[] = [];
  const n = text.length;
  let i = 0;
  /** Reads a quoted literal opening at `at` (`q` quotes, `triple` for """ / '''); returns the token. */
  const readString = (from: number, at: number, q: number, triple: boolean, flags: string): Token => {
    const open = triple ? 3 : 1;
    let j = at + open;
    let constant = !/[bBfF]/.test(flags);
    let depth = 0; // inside `${ … }` of a template literal
    for (; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c === 92) {
        constant = false; // an escape: the value differs from its text; not a name anyone types
        j++;
        continue;
      }
      if (depth > 0) {
        if (c === 123) depth++;
        else if (c === 125) depth--;
        continue;
      }
      if (c === 36 && (q === 96 || lang === 'kotlin')) {
        const next = text.charCodeAt(j + 1);
        if (next === 123 || (lang === 'kotlin' && isIdStart(next))) constant = false;
        if (next === 123 && q === 96) {
          depth = 1;
          j++;
          continue;
        }
      }
      if (c === q && (!triple || (text.charCodeAt(j + 1) === q && text.charCodeAt(j + 2) === q))) break;
      if ((c === 10 || c === 13) && !triple && q !== 96) break; // an unclosed string ends with its line
    }
    const valueStart = at + open;
    const valueEnd = Math.min(j, n);
    const end = Math.min(n, j < n && text.charCodeAt(j) === q ? j + open : j);
    // Java and Kotlin quote single characters with ' ; multi-line strings are never names.
    if (triple || ((lang === 'java' || lang === 'kotlin') && q === 39)) constant = false;
    return { kind: Kind.Str, start: from, end, text: constant ? text.slice(valueStart, valueEnd) : undefined, valueStart };
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11) {
      i++;
      continue;
    }
    const next = text.charCodeAt(i + 1);
    if (lang !== 'python' && c === 47 && next === 47) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (lang !== 'python' && c === 47 && next === 42) {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
      continue;
    }
    if (lang === 'python' && c === 35) {
      while (i < n && text.charCodeAt(i) !== 10) i++;
      continue;
    }
    if (c === 34 || c === 39 || (c === 96 && lang === 'js')) {
      const triple = (lang === 'python' || c === 34) && next === c && text.charCodeAt(i + 2) === c;
      const t = readString(i, i, c, triple, '');
      out.push(t);
      i = Math.max(t.end, i + 1);
      continue;
    }
    if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdPart(text.charCodeAt(j))) j++;
      const word = text.slice(i, j);
      const q = text.charCodeAt(j);
      if (lang === 'python' && (q === 34 || q === 39) && PY_PREFIX.test(word)) {
        const triple = text.charCodeAt(j + 1) === q && text.charCodeAt(j + 2) === q;
        const t = readString(i, j, q, triple, word);
        out.push(t);
        i = Math.max(t.end, j + 1);
        continue;
      }
      out.push({ kind: Kind.Id, start: i, end: j, text: word, valueStart: i });
      i = j;
      continue;
    }
    if (c === 47 && lang === 'js') {
      const prev = out[out.length - 1];
      if (!prev || (prev.kind === Kind.Punct && REGEX_AFTER.has(prev.text!)) || (prev.kind === Kind.Id && (prev.text === 'return' || prev.text === 'typeof'))) {
        let j = i + 1;
        let inClass = false;
        for (; j < n; j++) {
          const d = text.charCodeAt(j);
          if (d === 92) j++;
          else if (d === 91) inClass = true;
          else if (d === 93) inClass = false;
          else if (d === 47 && !inClass) break;
          else if (d === 10) break;
        }
        while (j + 1 < n && isIdPart(text.charCodeAt(j + 1))) j++; // flags
        out.push({ kind: Kind.Other, start: i, end: j + 1, text: undefined, valueStart: i });
        i = j + 1;
        continue;
      }
    }
    if (c >= 48 && c <= 57) {
      let j = i + 1;
      while (j < n && (isIdPart(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      out.push({ kind: Kind.Other, start: i, end: j, text: undefined, valueStart: i });
      i = j;
      continue;
    }
    out.push({ kind: Kind.Punct, start: i, end: i + 1, text: text[i], valueStart: i });
    i++;
  }
  return out;
}

/** For each opening bracket, the index of its closing one (-1 when unbalanced); one stack, linear. */
function matchBrackets(tokens: Token[]): Int32Array {
  const match = new Int32Array(tokens.length).fill(-1);
  const stack: number[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.kind !== Kind.Punct) continue;
    if (t.text === '(' || t.text === '[' || t.text === '{') stack.push(i);
    else if (pairs[t.text!] !== undefined && stack.length > 0 && tokens[stack[stack.length - 1]].text === pairs[t.text!]) {
      // Only the innermost opener can close: a stray closer is skipped (looking deeper would be quadratic).
      match[stack.pop()!] = i;
    }
  }
  return match;
}

// ---- patterns ----------------------------------------------------------------------------------

/** Lists nest at most this deep, and one call is searched for `topic:` keys over at most this many tokens. */
const MAX_DEPTH = 8;
const MAX_SPAN = 4096;
const LIST_CALLS = new Set(['arrayOf', 'listOf', 'setOf', 'mutableListOf', 'asList', 'of', 'singletonList', 'singleton']);
const KAFKA_SEND = /template|kafka|producer/i;

class CodeScan {
  readonly found: CodeTopic[] = [];
  private readonly tokens: Token[];
  private readonly match: Int32Array;
  /** Names bound exactly once to a constant string (`const ORDERS = 'orders'`, `static final String T = "t"`). */
  private readonly constants = new Map<string, string | null>();
  private readonly seen = new Set<number>();
  /** Value expressions already read: nested calls find the same `topic:` key, and a long list is read once. */
  private readonly read = new Set<number>();
  private readonly mentionsKafka: boolean;

  constructor(text: string, private readonly lang: CodeLanguage) {
    this.tokens = tokenize(text, lang);
    this.match = matchBrackets(this.tokens);
    this.mentionsKafka = /kafka/i.test(text);
    this.collectConstants();
  }

  private is(i: number, text: string): boolean {
    const t = this.tokens[i];
    return t !== undefined && t.kind !== Kind.Str && t.text === text;
  }

  private collectConstants(): void {
    const tk = this.tokens;
    const open: string[] = [];
    for (let i = 0; i + 2 < tk.length; i++) {
      const t = tk[i];
      if (t.kind === Kind.Punct) {
        if (t.text === '(' || t.text === '[' || t.text === '{') open.push(t.text);
        else if (t.text === ')' || t.text === ']' || t.text === '}') open.pop();
        continue;
      }
      if (t.kind !== Kind.Id) continue;
      // Keyword arguments and default parameters (`f(topic="x")`) bind nothing file-wide; nor do members of other objects.
      if (open[open.length - 1] === '(' || this.is(i - 1, '.')) continue;
      let j = i + 1;
      if (this.is(j, ':') && tk[j + 1]?.kind === Kind.Id) j += 2; // TypeScript / Kotlin / Python type annotation
      if (!this.is(j, '=') || this.is(j + 1, '=')) continue;
      const v = tk[j + 1];
      const after = tk[j + 2];
      if (!v || v.kind !== Kind.Str || v.text === undefined) continue;
      if (after && after.kind === Kind.Punct && (after.text === '+' || after.text === '.' || after.text === '%' || after.text === '[')) continue;
      const name = tk[i].text!;
      const prior = this.constants.get(name);
      this.constants.set(name, prior === undefined || prior === v.text ? v.text : null);
    }
  }

  /** The topic(s) of the expression at `i`: a string, a constant's name, or a list of them. */
  private values(i: number, depth = 0): Array<{ topic: string; range: OffsetRange }> {
    const tk = this.tokens;
    const t = tk[i];
    if (!t || depth > MAX_DEPTH) return [];
    if (t.kind === Kind.Punct && (t.text === '[' || t.text === '{' || t.text === '(')) return this.listItems(i, depth + 1);
    if (t.kind === Kind.Id && this.is(i + 1, '(') && LIST_CALLS.has(t.text!)) return this.listItems(i + 1, depth + 1);
    if (t.kind === Kind.Id) {
      // `List.of("a")`, `Arrays.asList("a")`, `Collections.singletonList("a")`: the call after the dots.
      let j = i;
      while (this.is(j + 1, '.') && tk[j + 2]?.kind === Kind.Id) j += 2;
      if (j > i && this.is(j + 1, '(') && LIST_CALLS.has(tk[j].text!)) return this.listItems(j + 1, depth + 1);
      if (this.is(j + 1, '(')) return []; // a call: computed at run time
      const v = this.constants.get(tk[j].text!);
      return v ? [{ topic: v, range: { start: tk[j].start, end: tk[j].end } }] : [];
    }
    if (t.kind === Kind.Str && t.text !== undefined) {
      const next = tk[i + 1];
      if (next && next.kind === Kind.Punct && (next.text === '+' || next.text === '.' || next.text === '%')) return []; // concatenated or formatted
      return this.literal(t);
    }
    return [];
  }

  /** values(), once per expression. */
  private valuesAt(i: number): Array<{ topic: string; range: OffsetRange }> {
    if (this.read.has(i)) return [];
    this.read.add(i);
    return this.values(i);
  }

  /** A string literal as a topic: itself, or a Spring placeholder's default (`${app.topic:orders}`). */
  private literal(t: Token): Array<{ topic: string; range: OffsetRange }> {
    let value = t.text!;
    let start = t.valueStart;
    if (value.startsWith('${')) {
      const d = placeholderDefault(value);
      if (!d) return [];
      start += value.lastIndexOf(d);
      value = d;
    }
    const trimmed = value.trim();
    if (!trimmed || /[\s,*]/.test(trimmed) || trimmed.startsWith('#{')) return []; // patterns and lists in one string are not one topic
    return [{ topic: trimmed, range: { start: start + value.indexOf(trimmed), end: start + value.indexOf(trimmed) + trimmed.length } }];
  }

  private listItems(open: number, depth: number): Array<{ topic: string; range: OffsetRange }> {
    const close = this.match[open];
    if (close < 0) return [];
    const out: Array<{ topic: string; range: OffsetRange }> = [];
    let itemStart = open + 1;
    for (let k = open + 1; k <= close; k++) {
      const t = this.tokens[k];
      if (t.kind === Kind.Punct && (t.text === '(' || t.text === '[' || t.text === '{') && this.match[k] > k) {
        k = this.match[k];
        continue;
      }
      if (k === close || this.is(k, ',')) {
        if (k > itemStart) out.push(...this.values(itemStart, depth));
        itemStart = k + 1;
      }
    }
    return out;
  }

  /** The value after `key =` / `key:` among the top-level arguments of the call opened at `open`. */
  private keyed(open: number, keys: string[], sep: string, anyDepth: boolean): number[] {
    const close = Math.min(this.match[open], open + MAX_SPAN);
    const at: number[] = [];
    for (let k = open + 1; k < close; k++) {
      const t = this.tokens[k];
      if (!anyDepth && t.kind === Kind.Punct && (t.text === '(' || t.text === '[' || t.text === '{') && this.match[k] > k) {
        k = this.match[k];
        continue;
      }
      const name = t.kind === Kind.Id ? t.text : t.kind === Kind.Str ? t.text : undefined;
      if (name !== undefined && keys.includes(name) && this.is(k + 1, sep) && !this.is(k + 2, sep)) at.push(k + 2);
    }
    return at;
  }

  private add(values: Array<{ topic: string; range: OffsetRange }>, backend: CodeTopic['backend'], origin: string, hit: OffsetRange): void {
    for (const v of values) {
      if (this.seen.has(v.range.start)) continue;
      this.seen.add(v.range.start);
      this.found.push({ topic: v.topic, backend, range: v.range, origin, hit });
    }
  }

  /** The first argument of the call opened at `open`, when it is followed by `,` or `)`. */
  private firstArg(open: number): number | undefined {
    const first = open + 1;
    const t = this.tokens[first];
    if (!t || this.match[open] <= first) return undefined;
    return first;
  }

  scan(): CodeTopic[] {
    const tk = this.tokens;
    for (let i = 0; i < tk.length; i++) {
      const t = tk[i];
      if (t.kind === Kind.Str) {
        this.xaddString(i);
        continue;
      }
      if (t.kind !== Kind.Id) continue;
      if (this.is(i - 1, '@') && t.text === 'KafkaListener' && this.is(i + 1, '(')) {
        this.kafkaListener(i);
        continue;
      }
      if (t.text === 'ProducerRecord' && (this.lang === 'java' || this.lang === 'kotlin')) {
        let open = i + 1;
        if (this.is(open, '<')) {
          let depth = 0;
          for (; open < tk.length && open < i + 64; open++) {
            if (this.is(open, '<')) depth++;
            else if (this.is(open, '>') && --depth === 0) break;
          }
          open++;
        }
        if (this.is(open, '(') && this.match[open] > 0) {
          const first = this.firstArg(open);
          if (first !== undefined) this.add(this.valuesAt(first), 'kafka', 'new ProducerRecord(…)', { start: t.start, end: tk[this.match[open]].end });
        }
        continue;
      }
      if (t.text === 'KafkaConsumer' && this.lang === 'python' && this.is(i + 1, '(') && this.match[i + 1] > 0) {
        // kafka-python: KafkaConsumer('orders', 'payments', bootstrap_servers=…): positional topics.
        const open = i + 1;
        const close = this.match[open];
        let k = open + 1;
        const values: Array<{ topic: string; range: OffsetRange }> = [];
        while (k < close && tk[k].kind === Kind.Str && (this.is(k + 1, ',') || k + 1 === close)) {
          values.push(...this.values(k));
          k += 2;
        }
        this.add(values, 'kafka', 'KafkaConsumer(…)', { start: t.start, end: tk[close].end });
        continue;
      }
      if (this.is(i - 1, '.') && this.is(i + 1, '(') && this.match[i + 1] > 0) this.methodCall(i);
    }
    return this.found.sort((a, b) => a.range.start - b.range.start);
  }

  private methodCall(i: number): void {
    const tk = this.tokens;
    const method = tk[i].text!;
    const open = i + 1;
    const close = this.match[open];
    const recvToken = tk[i - 2];
    const receiver = recvToken && recvToken.kind === Kind.Id ? recvToken.text! : '';
    const origin = `${receiver ? `${receiver}.` : ''}${method}(…)`;
    const hit = { start: receiver ? recvToken!.start : tk[i].start, end: tk[close].end };
    const first = this.firstArg(open);
    const lower = method.toLowerCase();

    if (lower === 'xadd') {
      if (first !== undefined) this.add(this.valuesAt(first), 'redis', origin, hit);
      if (this.lang === 'python') for (const k of this.keyed(open, ['name'], '=', false)) this.add(this.valuesAt(k), 'redis', origin, hit);
      return;
    }
    if (this.lang === 'js') {
      // kafkajs: send({ topic }), sendBatch({ topicMessages: [{ topic }] }), subscribe({ topic | topics }).
      if ((method === 'send' || method === 'sendBatch' || method === 'subscribe') && first !== undefined && this.is(first, '{')) {
        for (const k of this.keyed(open, ['topic', 'topics'], ':', true)) this.add(this.valuesAt(k), 'kafka', origin, hit);
      }
      return;
    }
    if (method === 'subscribe' && first !== undefined && this.mentionsKafka) {
      // confluent-kafka consumer.subscribe(['orders']); the Java client's subscribe(List.of("orders")).
      if (this.tokens[first].kind !== Kind.Str) this.add(this.valuesAt(first), 'kafka', origin, hit);
      return;
    }
    if (method === 'send' || (method === 'produce' && this.lang === 'python')) {
      if (!(KAFKA_SEND.test(receiver) || this.mentionsKafka)) return;
      if (first !== undefined && (this.is(first + 1, ',') || (this.lang === 'python' && first + 1 === close))) {
        if (this.tokens[first].kind === Kind.Str || (this.tokens[first].kind === Kind.Id && !this.is(first + 1, '='))) this.add(this.valuesAt(first), 'kafka', origin, hit);
      }
      if (this.lang === 'python') for (const k of this.keyed(open, ['topic'], '=', false)) this.add(this.valuesAt(k), 'kafka', origin, hit);
    }
  }

  /** @KafkaListener(topics = "a"), topics = {"a", "b"} (Java), topics = ["a"] (Kotlin), @TopicPartition(topic = "a"). */
  private kafkaListener(i: number): void {
    const open = i + 1;
    const close = this.match[open];
    if (close < 0) return;
    const hit = { start: this.tokens[i - 1].start, end: this.tokens[close].end };
    for (const k of this.keyed(open, ['topics', 'topic'], '=', true)) this.add(this.valuesAt(k), 'kafka', '@KafkaListener(topics = …)', hit);
  }

  /** `"XADD orders * …"` as one command string, or `'XADD', 'orders'` as a command's parts. */
  private xaddString(i: number): void {
    const t = this.tokens[i];
    const v = t.text;
    if (v === undefined || v.length < 4 || (v.charCodeAt(0) | 32) !== 120 || v.slice(0, 4).toUpperCase() !== 'XADD') return;
    const hit = { start: t.start, end: t.end };
    if (v.length === 4) {
      if (this.is(i + 1, ',')) this.add(this.valuesAt(i + 2), 'redis', 'XADD command', { start: t.start, end: this.tokens[i + 2]?.end ?? t.end });
      return;
    }
    const c = v.charCodeAt(4);
    if (c !== 32 && c !== 9) return;
    let s = 4;
    while (s < v.length && (v.charCodeAt(s) === 32 || v.charCodeAt(s) === 9)) s++;
    let e = s;
    while (e < v.length && v.charCodeAt(e) !== 32 && v.charCodeAt(e) !== 9) e++;
    if (e === s) return;
    this.add([{ topic: v.slice(s, e), range: { start: t.valueStart + s, end: t.valueStart + e } }], 'redis', '"XADD …" command', hit);
  }
}

/** A file without one of these words has no call or annotation the patterns below look for. */
const TRIGGERS = /send|subscribe|produce|xadd|KafkaListener|ProducerRecord|KafkaConsumer/i;

/** Every topic and stream a source file names, in document order. */
export function findCodeTopics(text: string, lang: CodeLanguage): CodeTopic[] {
  if (text.length > MAX_CODE_BYTES || !TRIGGERS.test(text)) return []; // most source files name no topic: skip tokenizing them
  return new CodeScan(text, lang).scan();
}

/** The same as a resolver's findings (connections come from the files around it, see nearby.ts). */
export function readCode(text: string, fileName: string): Findings {
  const out = emptyFindings();
  const lang = codeLanguageOf(fileName);
  if (!lang) return out;
  for (const t of findCodeTopics(text, lang)) out.topics.push({ topic: t.topic, backend: t.backend, range: t.range, origin: t.origin, hit: t.hit });
  return out;
}
