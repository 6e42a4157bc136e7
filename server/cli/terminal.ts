/** The live terminal view of `clean-agent demo` / `watch`: score, throughput, detector rates, a sparkline, alerts. */
import type { AlertEvent, MetricsEvent, RecoveredEvent, StatusEvent } from '../engine/events';

const SPARK = '▁▂▃▄▅▆▇█';
const HISTORY = 60;

interface PipelineView {
  metrics?: MetricsEvent;
  scores: number[];
  status?: StatusEvent;
  threshold: number;
}

export class TerminalView {
  private readonly views = new Map<string, PipelineView>();
  private readonly alerts: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly color: boolean;

  constructor(private readonly out: NodeJS.WriteStream, private readonly live: boolean) {
    this.color = live && !process.env.NO_COLOR;
  }

  start(): void {
    if (this.live) {
      this.out.write('\x1b[?25l');
      this.timer = setInterval(() => this.render(), 250);
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.live) {
      this.render();
      this.out.write('\x1b[?25h');
    }
  }

  add(pipeline: string, threshold: number): void {
    this.views.set(pipeline, { scores: [], threshold });
  }

  metrics(m: MetricsEvent): void {
    const v = this.views.get(m.pipeline);
    if (!v) return;
    const prev = v.metrics;
    v.metrics = m;
    v.scores.push(m.score);
    if (v.scores.length > HISTORY) v.scores.shift();
    // Without a terminal to redraw, one line a check (at most one a second) tells the same story.
    if (!this.live && (!prev || m.time - prev.time >= 1000 || m.records === prev.records)) this.out.write(this.summaryLine(m) + '\n');
  }

  alert(e: AlertEvent | RecoveredEvent): void {
    const t = new Date(e.time).toISOString().slice(11, 19);
    const line = e.type === 'alert' ? `${t} ${e.severity.toUpperCase()} [${e.pipeline}] ${e.message}` : `${t} recovered [${e.pipeline}] ${e.message}`;
    this.alerts.push(line);
    if (this.alerts.length > 8) this.alerts.shift();
    if (!this.live) this.out.write(line + '\n');
  }

  status(e: StatusEvent): void {
    const v = this.views.get(e.pipeline);
    if (v) v.status = e;
    if (!this.live && (e.state === 'reconnecting' || e.state === 'waiting')) this.out.write(`[${e.pipeline}] ${e.state}: ${e.message}\n`);
  }

  private paint(text: string, code: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private summaryLine(m: MetricsEvent): string {
    const rates = Object.entries(m.detectors)
      .map(([d, x]) => `${d} ${(x!.rate * 100).toFixed(1)}%`)
      .join('  ');
    return `[${m.pipeline}] score ${m.score.toFixed(3)}  ${m.records} records  ${m.throughput}/s  ${rates}${learningNote(m) ? `  (${learningNote(m)})` : ''}`;
  }

  private render(): void {
    const lines: string[] = ['Clean Streams — live data quality   (Ctrl-C to exit)', ''];
    for (const [name, v] of this.views) {
      const m = v.metrics;
      const state = v.status ? `${v.status.state}${v.status.state !== 'running' ? `: ${v.status.message}` : ''}` : 'starting';
      lines.push(this.paint(name, '1') + `  ${state}`);
      if (m) {
        const low = m.score < v.threshold;
        const score = this.paint(m.score.toFixed(3), low ? '31;1' : '32;1');
        lines.push(`  score ${score}  (threshold ${v.threshold})   ${m.records.toLocaleString('en')} records   ${m.throughput.toLocaleString('en')} records/s`);
        lines.push(`  ${this.sparkline(v.scores)}`);
        const note = learningNote(m);
        if (note) lines.push(`  ${this.paint(note, '36')}`);
        for (const [d, x] of Object.entries(m.detectors)) {
          const over = x!.out === true;
          const bar = '█'.repeat(Math.min(20, Math.round(x!.rate * 40))).padEnd(20, '·');
          lines.push(`  ${d.padEnd(11)} ${this.paint(bar, over ? '31' : '2')} ${(x!.rate * 100).toFixed(1).padStart(5)}%  ${over ? this.paint('stands out', '31') : 'normal'}`);
        }
      }
      lines.push('');
    }
    lines.push(this.paint('Alerts', '1'));
    if (this.alerts.length === 0) lines.push('  none so far');
    const width = Math.max(40, (this.out.columns ?? 100) - 3);
    for (const full of this.alerts) {
      const a = full.length > width ? full.slice(0, width - 1) + '…' : full;
      lines.push('  ' + (a.includes('recovered') ? this.paint(a, '32') : a.includes('CRITICAL') ? this.paint(a, '31') : this.paint(a, '33')));
    }
    this.out.write('\x1b[H' + lines.map((l) => l + '\x1b[K').join('\n') + '\n\x1b[J');
  }

  private sparkline(scores: number[]): string {
    return scores.map((s) => SPARK[Math.max(0, Math.min(7, Math.floor(s * 8 - 0.0001)))]).join('');
  }
}

/** While the first window is learnt: how far, and that baseline alerts are held. */
export function learningNote(m: MetricsEvent): string {
  const b = m.baseline;
  if (!b || b.state !== 'learning') return '';
  return `learning the baseline: ${b.records.toLocaleString('en')} / ${b.needed.toLocaleString('en')} records, alerts held`;
}
