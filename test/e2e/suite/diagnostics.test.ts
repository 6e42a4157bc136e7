import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { eventually, workspaceFile } from './api';

const BROKEN_CONFIG = [
  'pipelines:',
  '  - name: broken',
  '    source: demo:orders',
  '    windowSize: lots',
  '    detectorz: [duplicates]',
  '',
].join('\n');

describe('diagnostics on a broken clean.yaml', () => {
  it('flags the exact keys that are wrong, where they are', async () => {
    const uri = workspaceFile('broken.clean.yaml');
    await vscode.workspace.fs.writeFile(uri, Buffer.from(BROKEN_CONFIG));
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const diagnostics = await eventually('diagnostics on broken.clean.yaml', () => {
      const found = vscode.languages.getDiagnostics(uri);
      return found.length >= 2 ? found : undefined;
    });
    const lines = diagnostics.map((d) => d.range.start.line).sort();
    assert.deepEqual(lines, [3, 4]);
    const unknownKey = diagnostics.find((d) => d.range.start.line === 4)!;
    assert.equal(document.getText(unknownKey.range), 'detectorz');
    assert.equal(unknownKey.message, 'Unknown key "detectorz" in a pipeline. Did you mean "detectors"?');
    assert.equal(unknownKey.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(unknownKey.source, 'clean');
    const badValue = diagnostics.find((d) => d.range.start.line === 3)!;
    assert.equal(document.getText(badValue.range), 'lots');
    assert.equal(badValue.message, 'windowSize must be a whole number (got "lots")');
  });
});
