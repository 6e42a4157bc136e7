// Where the end-to-end harness keeps its installs, throwaway folders and results.
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '../../..');
/** Git-ignored: code-server install, bundled suites, per-run scratch folders. */
export const e2eCacheDir = path.join(repoRoot, '.cache', 'e2e');
export const codeServerVersion = '4.100.3';
export const codeServerInstallDir = path.join(e2eCacheDir, `code-server-${codeServerVersion}`);
export const codeServerBin = path.join(codeServerInstallDir, 'node_modules', '.bin', 'code-server');
export const bundledSuiteDir = path.join(e2eCacheDir, 'suite');
export const fixtureWorkspaceDir = path.join(repoRoot, 'test', 'e2e', 'workspace');
export const resultsDir = path.join(repoRoot, 'test-results', 'e2e');
export const extensionVsix = path.join(repoRoot, 'dist', 'clean-streams.vsix');
export const chromiumPath = '/usr/bin/chromium';
