/**
 * Code lenses on topics named in source code: the live score when a running pipeline watches the
 * topic ("orders · 0.97 · 1,204 rec/s", opening its chart), "Monitor this topic" otherwise.
 */
import type { CodeLens } from 'vscode-languageserver';
import { LineIndex } from '../config/lines';
import { codeLanguageOf, findCodeTopics } from '../resolve/code';
import type { CodeTopic } from '../resolve/code';
import { CodeLensCommands } from '../../shared/protocol';
import type { PipelineInfo, PipelineRef, TestSinkParams } from '../../shared/protocol';

/** What a lens that starts monitoring hands clean.monitorThisTopic: the document and the topic's place. */
export interface MonitorTopicAt {
  uri: string;
  position: { line: number; character: number };
}

/** The pipeline watching a topic: same backend and topic, not stopped or failed; one with this URL first. */
export function watcherOf(t: Pick<CodeTopic, 'topic' | 'backend'>, pipelines: readonly PipelineInfo[]): PipelineInfo | undefined {
  const live = pipelines.filter((p) => p.backend === t.backend && p.topic === t.topic && p.state !== 'stopped' && p.state !== 'error');
  return live.find((p) => p.state === 'running') ?? live[0];
}

/** `1,204 rec/s`; one decimal under 10. */
export function lensRate(perSecond: number): string {
  const n = perSecond < 10 ? Math.round(perSecond * 10) / 10 : Math.round(perSecond);
  return `${n.toLocaleString('en-US')} rec/s`;
}

export function lensTitle(topic: string, p: PipelineInfo): string {
  if (p.score === undefined) return `${topic} · ${p.state}`;
  const score = p.score.toFixed(2);
  if (p.state !== 'running') return `${topic} · ${score} · ${p.state}`;
  return `${topic} · ${score} · ${lensRate(p.throughput ?? 0)}`;
}

export class CodeTopicLenses {
  /** The last scan per document version: lenses are asked again on every score change. */
  private readonly cache = new Map<string, { version: number; topics: CodeTopic[]; lines: LineIndex }>();

  lenses(uri: string, fileName: string, version: number, text: string, pipelines: readonly PipelineInfo[]): CodeLens[] {
    const lang = codeLanguageOf(fileName);
    if (!lang) return [];
    let scan = this.cache.get(uri);
    if (!scan || scan.version !== version) {
      scan = { version, topics: findCodeTopics(text, lang), lines: new LineIndex(text) };
      this.cache.set(uri, scan);
    }
    const perLine = new Map<number, number>();
    const ranges = scan.topics.map((t) => ({ start: scan.lines.position(t.range.start), end: scan.lines.position(t.range.end) }));
    for (const r of ranges) perLine.set(r.start.line, (perLine.get(r.start.line) ?? 0) + 1);
    return scan.topics.map((t, i): CodeLens => {
      const range = ranges[i];
      const watcher = watcherOf(t, pipelines);
      if (watcher) {
        const args: PipelineRef[] = [{ pipeline: watcher.id }];
        return { range, command: { title: lensTitle(t.topic, watcher), command: CodeLensCommands.openChart, arguments: args } };
      }
      const args: MonitorTopicAt[] = [{ uri, position: range.start }];
      const title = perLine.get(range.start.line)! > 1 ? `Monitor ${t.topic}` : 'Monitor this topic';
      return { range, command: { title, command: CodeLensCommands.monitorThisTopic, arguments: args } };
    });
  }

  forget(uri: string): void {
    this.cache.delete(uri);
  }
}

/**
 * "Send test alert" on each valid alert sink of a config file (at the line its entry starts): it asks the agent
 * (clean/testSink) to send one test event straight to that sink, and shows the receiver's answer.
 */
export function sinkLenses(sinks: ReadonlyArray<{ name?: string; kind: string; line?: number }>, configUri: string): CodeLens[] {
  return sinks.flatMap((s): CodeLens[] => {
    if (s.line === undefined || !s.name) return [];
    const range = { start: { line: s.line, character: 0 }, end: { line: s.line, character: 0 } };
    const args: TestSinkParams[] = [{ configUri, sink: s.name }];
    return [{ range, command: { title: `Send test alert (${s.name})`, command: CodeLensCommands.testSink, arguments: args } }];
  });
}
