/** The quality chart: one webview panel (media/chart.js + uPlot), restored after a reload by a serializer. */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { HistoryRequest, type MetricsEvent } from '../shared/protocol';
import type { Ctx } from './ctx';
import { formatClock } from './model/format';
import { inert } from './model/inertText';
import { chartStatusOf } from './model/pipelineHealth';
import { chartPipelineOf, chartStateFrom, isFromChart, type ChartPipeline, type ChartState, type ToChart } from './model/chartMessages';

export const CHART_VIEW_TYPE = 'cleanStreams.chart';
/** Metrics are forwarded to the webview at most this often. */
const FORWARD_MS = 250;

export class ChartPanel implements vscode.Disposable {
  private static current: ChartPanel | undefined;

  private readonly disposables: vscode.Disposable[] = [];
  private pendingMetrics: MetricsEvent[] = [];
  private forwardTimer: ReturnType<typeof setTimeout> | undefined;
  private ready = false;
  private state: ChartState;

  /** Opens the chart (or focuses it) on one pipeline, or on all with `null`. */
  static show(ctx: Ctx, focus: string | null): ChartPanel {
    if (ChartPanel.current) {
      ChartPanel.current.focus(focus);
      ChartPanel.current.panel.reveal(undefined, false);
      return ChartPanel.current;
    }
    const panel = vscode.window.createWebviewPanel(CHART_VIEW_TYPE, 'Clean Streams: Quality', vscode.ViewColumn.Active, ChartPanel.webviewOptions(ctx));
    ChartPanel.current = new ChartPanel(ctx, panel, { focus, hidden: [] });
    return ChartPanel.current;
  }

  static registerSerializer(ctx: Ctx): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(CHART_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, saved) => {
        panel.webview.options = ChartPanel.webviewOptions(ctx);
        ChartPanel.current?.dispose();
        ChartPanel.current = new ChartPanel(ctx, panel, chartStateFrom(saved));
      },
    });
  }

  static get isOpen(): boolean {
    return ChartPanel.current !== undefined;
  }

  private static webviewOptions(ctx: Ctx): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(ctx.extension.extensionUri, 'media')] };
  }

  private constructor(
    private readonly ctx: Ctx,
    private readonly panel: vscode.WebviewPanel,
    initial: ChartState,
  ) {
    this.state = initial;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'activity-bar.svg');
    this.updateTitle();
    panel.webview.html = this.html();
    this.disposables.push(
      panel.onDidDispose(() => this.dispose()),
      panel.webview.onDidReceiveMessage((msg: unknown) => this.receive(msg)),
      ctx.onMetrics((events) => this.queueMetrics(events)),
      ctx.onAlert((event) => this.post({ type: 'alert', event })),
      ctx.store.onChange(() => this.postPipelinesSoon()),
      ctx.onAgentReady(() => {
        if (this.ready) void this.sendInit();
      }),
    );
  }

  private focus(pipeline: string | null): void {
    this.state = { ...this.state, focus: pipeline };
    this.updateTitle();
    this.post({ type: 'focus', pipeline });
  }

  private updateTitle(): void {
    this.panel.title = this.state.focus ? `Quality: ${this.state.focus}` : 'Clean Streams: Quality';
  }

  private receive(msg: unknown): void {
    if (!isFromChart(msg)) return;
    switch (msg.type) {
      case 'ready':
        this.ready = true;
        // The webview's own saved state wins over the serializer's copy: it is the newer one.
        if (msg.state) this.state = { ...chartStateFrom(msg.state), focus: this.state.focus ?? chartStateFrom(msg.state).focus };
        void this.sendInit();
        return;
      case 'focus':
        this.state = { ...this.state, focus: msg.pipeline };
        this.updateTitle();
        return;
      case 'showSamples':
        void vscode.commands.executeCommand('clean.showSamples', { pipeline: msg.pipeline, detector: msg.detector ?? undefined, alert: typeof msg.alert === 'number' ? msg.alert : undefined });
        return;
      case 'error':
        this.ctx.output.error(`Chart: ${msg.message}`);
        return;
    }
  }

  /** The header says which pipelines are not live (down, stale, agent stopped), made inert: names come from outside. */
  private pipelines(): ChartPipeline[] {
    const stoppedAt = this.ctx.store.agentStoppedAt;
    return this.ctx.store.list().map((entry) => {
      const p = chartPipelineOf(entry.info);
      const status = chartStatusOf(entry, stoppedAt, formatClock);
      return status ? { ...p, status: inert(status) } : p;
    });
  }

  /** Draws from scratch: the agent's history of every pipeline (six hours at most, also from before an agent restart), then live checks. */
  private async sendInit(): Promise<void> {
    this.pendingMetrics = [];
    try {
      const client = await this.ctx.agent();
      const { pipelines: history } = await client.sendRequest(HistoryRequest.type, {});
      this.post({ type: 'init', pipelines: this.pipelines(), history, focus: this.state.focus });
    } catch (err) {
      this.ctx.output.error(`Chart: could not fetch the history: ${(err as Error).message}`);
      this.post({ type: 'init', pipelines: this.pipelines(), history: [], focus: this.state.focus });
    }
  }

  private queueMetrics(events: MetricsEvent[]): void {
    if (!this.ready) return;
    for (const e of events) this.pendingMetrics.push(e);
    this.scheduleForward();
  }

  private pipelinesDirty = false;

  private postPipelinesSoon(): void {
    if (!this.ready) return;
    this.pipelinesDirty = true;
    this.scheduleForward();
  }

  private scheduleForward(): void {
    if (this.forwardTimer !== undefined) return;
    this.forwardTimer = setTimeout(() => {
      this.forwardTimer = undefined;
      if (this.pipelinesDirty) {
        this.pipelinesDirty = false;
        this.post({ type: 'pipelines', pipelines: this.pipelines() });
      }
      if (this.pendingMetrics.length) {
        const events = this.pendingMetrics;
        this.pendingMetrics = [];
        this.post({ type: 'metrics', events });
      }
    }, FORWARD_MS);
  }

  private post(message: ToChart): void {
    if (!this.ready) return;
    void this.panel.webview.postMessage(message);
  }

  private html(): string {
    const webview = this.panel.webview;
    const media = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', ...p));
    const nonce = randomBytes(16).toString('base64');
    const csp = [
      "default-src 'none'",
      `img-src ${webview.cspSource} data:`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
      `script-src 'nonce-${nonce}'`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('vendor', 'uPlot.min.css')}">
<link rel="stylesheet" href="${media('chart.css')}">
<title>Clean Streams: Quality</title>
</head>
<body>
<header class="toolbar">
  <label for="pipeline-select">Pipeline</label>
  <select id="pipeline-select"></select>
  <span id="summary" class="summary" aria-live="polite"></span>
</header>
<p id="status" class="status" role="status" hidden></p>
<p id="learning" class="learning" role="status" hidden></p>
<div id="chart" class="chart" role="img" aria-label="Rolling quality score over time"></div>
<div id="alert-tip" class="alert-tip" role="tooltip" hidden></div>
<p id="empty" class="empty" hidden>No pipeline is running. Start the demo or monitor a topic, and its quality score appears here.</p>
<pre id="chart-data" hidden></pre>
<script nonce="${nonce}" src="${media('vendor', 'uPlot.iife.min.js')}"></script>
<script nonce="${nonce}" src="${media('chartAxes.js')}"></script>
<script nonce="${nonce}" src="${media('chart.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    if (ChartPanel.current === this) ChartPanel.current = undefined;
    if (this.forwardTimer !== undefined) clearTimeout(this.forwardTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
    this.panel.dispose();
  }
}
