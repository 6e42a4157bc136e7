// Starts a throwaway code-server (a full VS Code 1.100 served to a browser) for one suite.
import { createServer } from 'node:net';
import { createWriteStream, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { codeServerBin } from './paths';
import { runCommand } from './install';
import { startTracked, stopTracked } from './processes';
import { say } from './log';

export interface RunFolders {
  root: string;
  userData: string;
  extensions: string;
  workspace: string;
  browserProfile: string;
  env: NodeJS.ProcessEnv;
}

/** Throwaway folders for one suite: VS Code's user data, extensions, XDG homes and a copy of the workspace. */
export function createRunFolders(runsDir: string, label: string, fixtureWorkspace: string): RunFolders {
  const root = path.join(runsDir, label);
  const folder = (name: string) => {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    return dir;
  };
  const userData = folder('user-data');
  const extensions = folder('extensions');
  const workspace = path.join(root, 'workspace');
  cpSync(fixtureWorkspace, workspace, { recursive: true });
  mkdirSync(path.join(userData, 'User'), { recursive: true });
  writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'extensions.ignoreRecommendations': true,
    'update.mode': 'none',
    'git.enabled': false,
    'files.watcherExclude': { '**/node_modules/**': true },
  }, null, 2));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XDG_CONFIG_HOME: folder('xdg-config'),
    XDG_DATA_HOME: folder('xdg-data'),
    XDG_CACHE_HOME: folder('xdg-cache'),
    XDG_STATE_HOME: folder('xdg-state'),
  };
  return { root, userData, extensions, workspace, browserProfile: folder('browser-profile'), env };
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('No free loopback port found.'))));
    });
  });
}

export async function installExtensionVsix(folders: RunFolders, vsix: string): Promise<void> {
  const result = await runCommand(codeServerBin, [
    '--user-data-dir', folders.userData, '--extensions-dir', folders.extensions, '--install-extension', vsix, '--force',
  ], { env: folders.env });
  if (result.code !== 0 || !/successfully installed/i.test(result.output)) {
    throw new Error(`code-server could not install ${vsix} (exit ${result.code}):\n${result.output.slice(-2000)}`);
  }
}

export interface RunningCodeServer {
  port: number;
  origin: string;
  pid: number;
  logFile: string;
  stop(): Promise<void>;
}

export async function startCodeServer(folders: RunFolders, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunningCodeServer> {
  const port = await freeLoopbackPort();
  const logFile = path.join(folders.root, 'code-server.log');
  const log = createWriteStream(logFile);
  const child = startTracked('code-server', codeServerBin, [
    '--user-data-dir', folders.userData,
    '--extensions-dir', folders.extensions,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    folders.workspace,
  ], { env: { ...folders.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const pid = child.pid!;
  const origin = `http://127.0.0.1:${port}`;
  let exitCode: number | null | undefined;
  child.on('exit', (code) => { exitCode = code; });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exitCode !== undefined) throw new Error(`code-server exited with ${exitCode} before answering; see ${logFile}`);
    try {
      const response = await fetch(`${origin}/healthz`);
      if (response.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stopTracked(pid);
      throw new Error(`code-server did not answer ${origin}/healthz within 30 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  say(`code-server ${origin} (pid ${pid})`);
  return { port, origin, pid, logFile, stop: () => stopTracked(pid) };
}
