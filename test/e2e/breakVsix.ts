/**
 * Makes a deliberately broken COPY of the packaged extension, to show that the e2e suites catch a break:
 *   node --import tsx test/e2e/breakVsix.ts [commandId] [renamedId] [--manifest-only]
 *   (default clean.startDemo -> clean.startDemoRenamed; --manifest-only renames it in package.json alone, so the
 *   menus point at a command the code never registers)
 *   CLEAN_E2E_VSIX=.cache/e2e/broken/clean-streams-broken.vsix npm run test:e2e
 * The source tree and dist/clean-streams.vsix stay untouched. Needs zip and unzip. With CLEAN_E2E_VSIX set, breaks a
 * copy of that .vsix instead of dist/clean-streams.vsix.
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from './harness/install';
import { e2eCacheDir, extensionVsix } from './harness/paths';

async function main(): Promise<void> {
  const manifestOnly = process.argv.includes('--manifest-only');
  const [from = 'clean.startDemo', to = `${from}Renamed`] = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const workDir = path.join(e2eCacheDir, 'broken');
  rmSync(workDir, { recursive: true, force: true });
  const unpacked = path.join(workDir, 'unpacked');
  mkdirSync(unpacked, { recursive: true });
  const copy = path.join(workDir, 'clean-streams-broken.vsix');
  cpSync(process.env.CLEAN_E2E_VSIX ?? extensionVsix, copy);
  const unzip = await runCommand('unzip', ['-q', copy, '-d', unpacked]);
  if (unzip.code !== 0) throw new Error(`unzip failed: ${unzip.output}`);
  let replaced = 0;
  const files = manifestOnly ? ['extension/package.json'] : ['extension/package.json', 'extension/dist/extension.js'];
  for (const file of files) {
    const full = path.join(unpacked, file);
    const text = readFileSync(full, 'utf8');
    const parts = text.split(`'${from}'`).length - 1 + text.split(`"${from}"`).length - 1;
    replaced += parts;
    writeFileSync(full, text.split(`'${from}'`).join(`'${to}'`).split(`"${from}"`).join(`"${to}"`));
  }
  if (replaced === 0) throw new Error(`${from} does not occur in the packaged extension.`);
  rmSync(copy);
  const zip = await runCommand('zip', ['-q', '-r', copy, '.'], { cwd: unpacked });
  if (zip.code !== 0) throw new Error(`zip failed: ${zip.output}`);
  process.stdout.write(`${copy}: ${replaced} occurrence(s) of ${from} renamed to ${to}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
