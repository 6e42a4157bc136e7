/**
 * The Marketplace manifest: what `vsce ls` would package (the walkthrough's pages, LICENSE, CHANGELOG, no tests),
 * every command the walkthrough names is contributed, and packaging can never stop at a prompt.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

interface Step {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string | Record<string, string>; svg?: string };
  completionEvents?: string[];
}

/** Every `command:` link in a markdown text, and every `onCommand:` completion event. */
function commandsOf(step: Step): string[] {
  const links = [...step.description.matchAll(/\(command:([\w.]+)[^)]*\)/g)].map((m) => m[1]!);
  const events = (step.completionEvents ?? []).filter((e) => e.startsWith('onCommand:')).map((e) => e.slice('onCommand:'.length));
  return [...links, ...events];
}

describe('manifest', () => {
  let packaged: string[];
  before(() => {
    // `vsce ls` lists what `vsce package` would put in the .vsix (through .vscodeignore) without writing one.
    const vsce = path.join(ROOT, 'node_modules', '.bin', 'vsce');
    packaged = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .split('\n').map((l) => l.trim()).filter(Boolean);
  });

  it('the "Get started" walkthrough: four steps, each with its page packaged and its commands contributed', () => {
    const walkthroughs = manifest.contributes.walkthroughs as Array<{ id: string; steps: Step[] }>;
    assert.deepEqual(walkthroughs.map((w) => w.id), ['cleanStreams.getStarted']);
    const steps = walkthroughs[0]!.steps;
    assert.deepEqual(steps.map((s) => [s.id, s.media.markdown]), [
      ['runDemo', 'media/walkthrough/demo.md'],
      ['monitorTopic', 'media/walkthrough/monitor.md'],
      ['setSecret', 'media/walkthrough/secret.md'],
      ['readAlert', 'media/walkthrough/alert.md'],
    ]);
    const contributed = new Set((manifest.contributes.commands as Array<{ command: string }>).map((c) => c.command));
    for (const step of steps) {
      const media = step.media.markdown ?? step.media.svg ?? (typeof step.media.image === 'string' ? step.media.image : undefined);
      assert.ok(media && packaged.includes(media), `${step.id}: ${media} is not in the packaged files`);
      assert.ok(existsSync(path.join(ROOT, media)), `${step.id}: ${media} does not exist`);
      const missing = commandsOf(step).filter((c) => !contributed.has(c));
      assert.deepEqual(missing, [], `${step.id} names commands that package.json does not contribute`);
    }
    assert.deepEqual(steps.map((s) => commandsOf(s)[0]), ['clean.startDemo', 'clean.monitorTopic', 'clean.setSecret', 'clean.openChart']);
  });

  it('ships LICENSE, CHANGELOG, the icon and every bundle the build writes; never tests, sources or fixtures', () => {
    // Every outfile of scripts/build.mjs: the agent starts its threads (Kafka fetch, engine shards, config checks) from files beside it.
    const bundles = [...readFileSync(path.join(ROOT, 'scripts/build.mjs'), 'utf8').matchAll(/outfile: '([^']+)'/g)].map((m) => m[1]!);
    assert.deepEqual(bundles.sort(), ['dist/agent.js', 'dist/config-check.js', 'dist/extension.js', 'dist/kafka-fetcher.js', 'dist/scale-worker.js']);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', manifest.icon, ...bundles]) {
      assert.ok(packaged.includes(f), `${f} is not packaged`);
    }
    assert.deepEqual(packaged.filter((f) => /^(test|server|client|shared|bench|scripts)\//.test(f) || f.endsWith('.ts')), []);
  });

  it('says what the Marketplace shows: keywords, repository, homepage, bugs, a 128 px icon, an MIT LICENSE of 2026', () => {
    assert.equal(manifest.license, 'MIT');
    assert.ok(Array.isArray(manifest.keywords) && manifest.keywords.length >= 5 && manifest.keywords.length <= 30, 'keywords');
    assert.ok(manifest.keywords.includes('kafka') && manifest.keywords.includes('data quality'));
    assert.deepEqual(manifest.repository, { type: 'git', url: 'https://github.com/clean-streams/clean-streams' });
    assert.equal(manifest.homepage, 'https://github.com/clean-streams/clean-streams#readme');
    assert.deepEqual(manifest.bugs, { url: 'https://github.com/clean-streams/clean-streams/issues' });
    const png = readFileSync(path.join(ROOT, manifest.icon));
    assert.deepEqual([png.subarray(1, 4).toString('latin1'), png.readUInt32BE(16), png.readUInt32BE(20)], ['PNG', 128, 128]);
    const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    assert.deepEqual(license.split('\n').slice(0, 3), ['MIT License', '', 'Copyright (c) 2026 Clean Streams']);
    assert.match(readFileSync(path.join(ROOT, 'CHANGELOG.md'), 'utf8'), new RegExp(`^## ${manifest.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('packaging never prompts: every vsce question is answered by a flag, and nothing asks it about * activation', () => {
    const script: string = manifest.scripts.package;
    for (const flag of ['--skip-license', '--allow-missing-repository', '--allow-star-activation']) assert.ok(script.includes(` ${flag}`), `npm run package lacks ${flag}`);
    assert.deepEqual((manifest.activationEvents as string[]).filter((e) => e === '*'), []);
  });

  it('vsce package, as npm run package calls it, finishes with stdin closed (no question waits for an answer)', () => {
    for (const bundle of ['dist/extension.js', 'dist/agent.js']) assert.ok(existsSync(path.join(ROOT, bundle)), `${bundle} is missing: run npm run build first`);
    const args = (manifest.scripts.package as string).split('&&').pop()!.trim().split(/\s+/);
    assert.equal(args.shift(), 'vsce');
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'clean-manifest-')), 'clean-streams.vsix');
    args[args.indexOf('-o') + 1] = out;
    try {
      const log = execFileSync(path.join(ROOT, 'node_modules', '.bin', 'vsce'), args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
      assert.match(log, /DONE {2}Packaged: .*clean-streams\.vsix/);
      assert.ok(existsSync(out));
    } finally {
      rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});
