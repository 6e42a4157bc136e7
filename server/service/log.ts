/**
 * The headless agent's log on stderr: the familiar text lines, or with `--log-format json` one JSON object a
 * line ({ts, level, msg, pipeline?}) that journald, Loki or Elasticsearch can take as it is. Every message,
 * in either form, passes the one redaction (server/secrets/redact.ts) with the secret values looked up so far.
 */
import { redact } from '../secrets/redact';
import type { Logger } from '../sources/types';

export type LogFormat = 'text' | 'json';
export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One JSON log line. */
export interface JsonLogLine {
  /** ISO 8601 time, UTC. */
  ts: string;
  level: LogLevel;
  msg: string;
  /** The pipeline the line is about, when it is about one. */
  pipeline?: string;
}

export interface ServiceLogOptions {
  format: LogFormat;
  /** Secret values to mask should a library quote one (the CLI's KnownSecretValues). */
  known: Iterable<string>;
  /** Text form only: leave out info lines (with --json, stdout carries the events and stderr stays for problems). */
  quietInfo?: boolean;
  /** Where lines go (stderr; a test may collect them). */
  write?: (line: string) => void;
}

/**
 * The CLI's log. As a Logger it writes what pipelines and sources say (text: `warning: …`, `error: …`);
 * `report` writes the CLI's own messages (text: `clean-agent: …`, as before JSON logs existed).
 */
export class ServiceLog implements Logger {
  private readonly write: (line: string) => void;

  constructor(private readonly options: ServiceLogOptions) {
    this.write = options.write ?? ((line) => void process.stderr.write(line));
  }

  get format(): LogFormat {
    return this.options.format;
  }

  debug(): void {}

  info(msg: string): void {
    this.line('info', msg);
  }

  warn(msg: string): void {
    this.line('warn', msg);
  }

  error(msg: string): void {
    this.line('error', msg);
  }

  /** The CLI's own message (a pipeline that failed, the endpoint it serves, a reload): `clean-agent: …` in text. */
  report(level: LogLevel, msg: string, pipeline?: string): void {
    if (this.options.format === 'json') this.json(level, msg, pipeline);
    else this.write(`clean-agent: ${pipeline !== undefined ? `${pipeline}: ` : ''}${redact(msg, this.options.known)}\n`);
  }

  /**
   * The logger a pipeline (and its source) gets: its lines carry `pipeline`, and the `[name] ` prefix the
   * engine puts on them is dropped from `msg` in JSON (the field says it).
   */
  forPipeline(name: string): Logger {
    const prefix = `[${name}] `;
    const strip = (msg: string) => (msg.startsWith(prefix) ? msg.slice(prefix.length) : msg);
    return {
      debug: () => {},
      info: (msg) => this.line('info', msg, name, strip),
      warn: (msg) => this.line('warn', msg, name, strip),
      error: (msg) => this.line('error', msg, name, strip),
    };
  }

  private line(level: LogLevel, msg: string, pipeline?: string, strip?: (msg: string) => string): void {
    if (this.options.format === 'json') {
      this.json(level, strip ? strip(msg) : msg, pipeline);
      return;
    }
    if (level === 'info' && this.options.quietInfo) return;
    const safe = redact(msg, this.options.known);
    this.write(level === 'warn' ? `warning: ${safe}\n` : level === 'error' ? `error: ${safe}\n` : `${safe}\n`);
  }

  private json(level: LogLevel, msg: string, pipeline?: string): void {
    const line: JsonLogLine = { ts: new Date().toISOString(), level, msg: redact(msg, this.options.known) };
    if (pipeline !== undefined) line.pipeline = redact(pipeline, this.options.known);
    this.write(JSON.stringify(line) + '\n');
  }
}
