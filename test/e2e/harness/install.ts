// Installs on first use what a real VS Code needs here: Debian packages and code-server from npm.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import { codeServerBin, codeServerInstallDir, codeServerVersion, e2eCacheDir, repoRoot } from './paths';
import { say } from './log';

/** Debian packages: Kerberos headers and pkg-config for code-server's native modules, rg for search, the browser. */
const systemPackages = ['libkrb5-dev', 'pkg-config', 'ripgrep', 'chromium'];
/** @vscode/ripgrep looks for this tarball before trying to download rg from the internet. */
const ripgrepCacheName = 'vscode-ripgrep-cache-1.15.11';
const ripgrepTarball = 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz';

export interface CommandResult { code: number; output: string }

/** Runs a command to completion, keeping its output in a log file and the last lines in memory. */
export function runCommand(
  command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; logFile?: string } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
    let output = '';
    const collect = (chunk: Buffer) => {
      log?.write(chunk);
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('close', (code) => {
      log?.end();
      resolve({ code: code ?? 1, output });
    });
  });
}

async function missingSystemPackages(): Promise<string[]> {
  const missing: string[] = [];
  for (const name of systemPackages) {
    const status = await runCommand('dpkg-query', ['-W', '-f=${Status}', name]);
    if (!status.output.includes('install ok installed')) missing.push(name);
  }
  return missing;
}

export async function ensureSystemPackages(): Promise<void> {
  const missing = await missingSystemPackages();
  if (missing.length === 0) return;
  say(`installing Debian packages: ${missing.join(' ')}`);
  const logFile = path.join(e2eCacheDir, 'apt.log');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // scripts/apt-install takes the machine-wide lock the broker scripts also take (they may be installing now).
  const install = await runCommand('bash', [path.join(repoRoot, 'scripts', 'apt-install'), ...missing], { env, logFile });
  if (install.code !== 0) {
    throw new Error(`apt-get install ${missing.join(' ')} failed (exit ${install.code}); see ${logFile}:\n${install.output.slice(-2000)}`);
  }
}

function installedCodeServerVersion(): string | undefined {
  const manifest = path.join(codeServerInstallDir, 'node_modules', 'code-server', 'package.json');
  const marker = path.join(codeServerInstallDir, 'install-complete');
  if (!existsSync(manifest) || !existsSync(marker) || !existsSync(codeServerBin)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

export async function ensureCodeServer(): Promise<void> {
  if (installedCodeServerVersion() === codeServerVersion) return;
  say(`installing code-server ${codeServerVersion} into ${path.relative(process.cwd(), codeServerInstallDir)} (about a minute)`);
  mkdirSync(codeServerInstallDir, { recursive: true });
  const tmpDir = path.join(e2eCacheDir, 'tmp');
  const ripgrepDir = path.join(tmpDir, ripgrepCacheName);
  mkdirSync(ripgrepDir, { recursive: true });
  const tarball = path.join(ripgrepDir, ripgrepTarball);
  if (!existsSync(tarball)) {
    const tar = await runCommand('tar', ['-czf', tarball, '-C', '/usr/bin', 'rg']);
    if (tar.code !== 0) throw new Error(`Could not pack /usr/bin/rg into ${tarball}: ${tar.output}`);
  }
  writeFileSync(path.join(codeServerInstallDir, 'package.json'), JSON.stringify({
    name: 'e2e-code-server',
    private: true,
    // code-server builds its native modules (node-pty, kerberos, argon2) in these scripts.
    allowScripts: { 'code-server': true, argon2: true },
  }, null, 2));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TMPDIR: tmpDir,
    npm_config_unsafe_perm: 'true', // its postinstall refuses to run as root otherwise
    npm_config_nodedir: '/usr', // node-gyp cannot download headers here; Debian's are in /usr/include/node
    npm_config_yes: 'true', // node-pty's postinstall runs npx node-gyp, which would wait for a yes
  };
  const logFile = path.join(e2eCacheDir, 'code-server-install.log');
  const install = await runCommand('npm', ['install', '--no-audit', '--no-fund', `code-server@${codeServerVersion}`],
    { cwd: codeServerInstallDir, env, logFile });
  if (install.code !== 0 || !existsSync(codeServerBin)) {
    throw new Error(`Installing code-server ${codeServerVersion} failed (exit ${install.code}); see ${logFile}:\n${install.output.slice(-3000)}`);
  }
  writeFileSync(path.join(codeServerInstallDir, 'install-complete'), new Date().toISOString());
}

export async function ensureE2eTools(): Promise<void> {
  mkdirSync(e2eCacheDir, { recursive: true });
  await ensureSystemPackages();
  await ensureCodeServer();
}
