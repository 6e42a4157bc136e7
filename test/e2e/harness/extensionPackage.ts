// Packages the extension the way users get it: `npm run package` -> dist/clean-streams.vsix.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { extensionVsix, e2eCacheDir, repoRoot } from './paths';
import { runCommand } from './install';
import { say } from './log';

/** The .vsix under test: CLEAN_E2E_VSIX when set (e.g. a deliberately broken copy), else a fresh package. */
export async function extensionUnderTest(): Promise<string> {
  const override = process.env.CLEAN_E2E_VSIX;
  if (override) {
    const vsix = path.resolve(override);
    if (!existsSync(vsix)) throw new Error(`CLEAN_E2E_VSIX points at ${vsix}, which does not exist.`);
    say(`testing ${vsix} (CLEAN_E2E_VSIX)`);
    return vsix;
  }
  const logFile = path.join(e2eCacheDir, 'package.log');
  say('packaging the extension: npm run package');
  const result = await runCommand('npm', ['run', 'package'], { cwd: repoRoot, logFile });
  if (result.code !== 0 || !existsSync(extensionVsix)) {
    throw new Error(`npm run package failed (exit ${result.code}); see ${logFile}:\n${result.output.slice(-2500)}`);
  }
  return extensionVsix;
}

/** publisher.name from the repo's manifest: the folder name prefix --install-extension uses. */
export function extensionId(): string {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { publisher: string; name: string };
  return `${manifest.publisher}.${manifest.name}`;
}
