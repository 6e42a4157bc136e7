/** Offending records behind a detector, in a read-only virtual document (`clean-samples:`), one JSON line each. */
import * as vscode from 'vscode';
import { SamplesRequest, type DetectorName } from '../shared/protocol';
import type { Ctx } from './ctx';
import { parseSamplesQuery, samplesPath, samplesQuery, samplesText } from './model/samplesText';

export const SAMPLES_SCHEME = 'clean-samples';

export class SamplesDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly ctx: Ctx) {}

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const which = parseSamplesQuery(uri.query);
    if (!which) return '// This samples document has no pipeline in its address.\n';
    const client = await this.ctx.agent();
    const samples = await client.sendRequest(SamplesRequest.type, {
      pipeline: which.pipeline,
      detector: which.detector as DetectorName | undefined,
      limit: 200,
      ...(which.alert !== undefined ? { alert: which.alert } : {}),
    });
    return samplesText(which, samples, new Date());
  }

  /** Opens (or refreshes) the samples of one pipeline, optionally of one detector, or exactly those of one alert. */
  async show(pipeline: string, detector?: string, alert?: number): Promise<void> {
    const uri = vscode.Uri.from({ scheme: SAMPLES_SCHEME, path: samplesPath(pipeline, detector, alert), query: samplesQuery(pipeline, detector, alert) });
    this.changed.fire(uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const langs = await vscode.languages.getLanguages();
    const shown = langs.includes('jsonl') && doc.languageId !== 'jsonl' ? await vscode.languages.setTextDocumentLanguage(doc, 'jsonl') : doc;
    await vscode.window.showTextDocument(shown, { preview: true });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
