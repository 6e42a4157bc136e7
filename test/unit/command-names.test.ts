/**
 * Issue 17.9: a diagnostic told users to run "Clean Streams: Set Secret", a command that does not exist (it is
 * "Clean: Set Secret…"). Every place a message, a doc page, the schema or the walkthrough names a command must name
 * one that package.json contributes, as the Command Palette shows it: `<category>: <title>`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  contributes: { commands: Array<{ command: string; title: string; category?: string }> };
};

/** What the Command Palette lists for each contributed command. */
const PALETTE = manifest.contributes.commands.map((c) => `${c.category ? `${c.category}: ` : ''}${c.title}`);

/** Text a user reads: agent and extension messages, the webview and walkthrough, docs, the schema, the manifest. */
function userTextFiles(): string[] {
  const walk = (dir: string, out: string[] = []): string[] => {
    for (const e of readdirSync(dir)) {
      const p = path.join(dir, e);
      if (statSync(p).isDirectory()) {
        if (e !== 'vendor') walk(p, out); // third-party bundles
      } else if (/\.(ts|js|md|json|html)$/.test(e)) out.push(p);
    }
    return out;
  };
  return [
    ...['server', 'client', 'shared', 'media', 'docs', 'schema'].flatMap((d) => walk(path.join(ROOT, d))),
    ...['README.md', 'CHANGELOG.md', 'package.json'].map((f) => path.join(ROOT, f)),
  ];
}

/** Each `Clean: X` / `Clean Streams: X` (X capitalised) with the rest of its line, markdown bold removed. */
function mentions(): Array<{ file: string; line: number; prefix: string; text: string }> {
  const out: Array<{ file: string; line: number; prefix: string; text: string }> = [];
  for (const file of userTextFiles()) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/\b(Clean(?: Streams)?): (?=[A-Z])/g)) {
        out.push({ file: path.relative(ROOT, file), line: i + 1, prefix: m[1]!, text: line.slice(m.index).replace(/\*\*/g, '') });
      }
    });
  }
  return out;
}

test('every "Clean: …" a message, doc or page names is a command package.json contributes, as the palette shows it', () => {
  const found = mentions().filter((m) => m.prefix === 'Clean');
  assert.ok(found.length >= 30, `only ${found.length} mentions found: the scan missed files`);
  const unknown = found.filter((m) => !PALETTE.some((t) => m.text.startsWith(t))).map((m) => `${m.file}:${m.line}: ${m.text.slice(0, 60)}`);
  assert.deepEqual(unknown, []);
  // The one the issue found, as users are told to run it.
  assert.ok(found.some((m) => m.text.startsWith('Clean: Set Secret…') && m.file === 'server/secrets/credentials.ts'));
  assert.ok(PALETTE.includes('Clean: Set Secret…'));
});

test('no command is named under the product name ("Clean Streams: Set Secret"); that prefix is only the chart\'s title', () => {
  const product = mentions().filter((m) => m.prefix === 'Clean Streams');
  assert.deepEqual([...new Set(product.map((m) => m.text.slice('Clean Streams: '.length).split(/['<]/)[0]))], ['Quality']);
  const titles = manifest.contributes.commands.map((c) => c.title.replace(/…$/, ''));
  assert.deepEqual(product.filter((m) => titles.some((t) => m.text.startsWith(`Clean Streams: ${t}`))), []);
});
