/** The headless commands: demo, watch and run. Returns the process exit code. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseCli, USAGE, type CliOptions } from './args';
import { TerminalView } from './terminal';
import { ConfigError, resolvePipelineConfig, type PipelineSettings } from '../engine/config';
import { RealtimePipeline, secretFromEnv } from '../engine/pipeline';
import { KnownSecretValues, redact, redactDeep } from '../secrets/redact';
import { BaselineStore } from '../engine/baselineStore';
import { BudgetError, MemoryBudget } from '../engine/budget';
import { nameTooLong } from '../engine/names';
import type { PipelineEvent } from '../engine/events';
import { parseSourceUrl, UsageError } from '../sources/url';
import { createSource } from '../sources/index';
import { DEMO_RULES } from '../sources/demo';
import type { Logger, SourceSpec } from '../sources/types';
import { SourceError } from '../sources/types';

declare const CLEAN_VERSION: string | undefined;

interface Planned {
  name: string;
  spec: SourceSpec;
  settings: PipelineSettings;
}

/** Secret values read from CLEAN_SECRET_*, masked in everything the CLI prints should a library quote one. */
const knownSecrets = new KnownSecretValues();
const safe = (m: string) => redact(m, knownSecrets);

const stderrLogger = (json: boolean): Logger => ({
  debug: () => {},
  info: (m) => !json && process.stderr.write(`${safe(m)}\n`),
  warn: (m) => process.stderr.write(`warning: ${safe(m)}\n`),
  error: (m) => process.stderr.write(`error: ${safe(m)}\n`),
});

async function secretOf(name: string): Promise<string | undefined> {
  const value = await secretFromEnv(name);
  knownSecrets.remember(value);
  return value;
}

export async function runCli(argv: string[]): Promise<number> {
  let opts: CliOptions;
  let planned: Planned[];
  try {
    opts = parseCli(argv);
    if (opts.command === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (opts.command === 'version') {
      process.stdout.write(`${typeof CLEAN_VERSION === 'string' ? CLEAN_VERSION : 'dev'}\n`);
      return 0;
    }
    if (opts.command === 'baseline') {
      const { runBaselineCommand } = await import('./baseline');
      return runBaselineCommand(opts);
    }
    if (opts.command === 'lsp') {
      const { startLanguageServer } = await import('../lsp/index');
      const server = await startLanguageServer(opts.lspArgs);
      onStopSignals(() => server.stopAll(), () => process.exit(0));
      return -1; // the server keeps the process alive and exits on its own
    }
    planned = await plan(opts);
  } catch (err) {
    return usageFailure(err);
  }

  const log = stderrLogger(opts.json);
  const pipelines: RealtimePipeline[] = [];
  const baseline = opts.state !== undefined ? new BaselineStore(opts.state) : undefined;
  // Every pipeline's footprint is reserved before any is built: a config over the budget starts nothing (exit 2).
  const budget = new MemoryBudget(opts.maxMemoryMB, '--max-memory');
  try {
    const configs = planned.map((p) => {
      const tooLong = nameTooLong('Secret name', p.spec.auth?.secret);
      if (tooLong) throw new UsageError(tooLong);
      const config = resolvePipelineConfig(p.settings);
      budget.reserve(p.name, p.name, config);
      return config;
    });
    for (const [i, p] of planned.entries()) {
      const config = configs[i];
      pipelines.push(new RealtimePipeline(p.name, (ctx) => createSource(p.spec, ctx), config, { log, secret: secretOf, limit: opts.limit, baseline, resetBaseline: opts.resetBaseline, overBudget: 'fail' }));
    }
  } catch (err) {
    return usageFailure(err);
  }

  const live = !opts.json && process.stdout.isTTY === true;
  const view = opts.json ? null : new TerminalView(process.stdout, live);
  let alerts = 0;
  const write = (e: PipelineEvent) => {
    // Status texts come from sources and libraries: they pass the one redaction; numbers need none.
    process.stdout.write(JSON.stringify(e.type === 'status' ? redactDeep(e, knownSecrets) : e) + '\n');
  };
  for (const p of pipelines) {
    if (view) {
      view.add(p.name, p.config.qualityThreshold);
      p.on('metrics', (m) => view.metrics(m));
      p.on('status', (s) => view.status(redactDeep(s, knownSecrets)));
      p.addAlertHandler((e) => view.alert(e));
    } else {
      p.on('status', write);
      p.on('metrics', write);
      p.on('alert', write);
      p.on('recovered', write);
      p.on('end', write);
    }
    p.on('alert', () => alerts++);
  }
  process.stdout.on('error', () => undefined); // a closed pipe (| head) must not crash the agent

  const offSignals = onStopSignals(() => Promise.all(pipelines.map((p) => p.stop())));
  view?.start();
  const results = await Promise.allSettled(pipelines.map((p) => p.run()));
  view?.stop();
  offSignals();

  let code = 0;
  results.forEach((r, i) => {
    if (r.status === 'rejected') {
      const err = r.reason;
      process.stderr.write(`clean-agent: ${pipelines[i].name}: ${safe(err instanceof Error ? err.message : String(err))}\n`);
      if (code === 0) code = err instanceof SourceError && (err.code === 'usage' || err.code === 'unsupported' || err.code === 'not-found') ? 2 : 1;
    }
  });
  if (code === 0 && opts.failOnAlert && alerts > 0) code = 3;
  return code;
}

/** After a stop signal the process ends within this long, even when a source will not close. */
export const EXIT_DEADLINE_MS = 3000;

/**
 * SIGTERM and SIGINT stop the work (`stop`, then `stopped` when given); a deadline timer exits anyway
 * (unref'd: it never keeps a finished process alive), and a second signal exits at once. Returns the
 * function that removes the handlers.
 */
export function onStopSignals(stop: () => Promise<unknown>, stopped?: () => void): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (signalled) process.exit(code);
    signalled = true;
    setTimeout(() => process.exit(code), EXIT_DEADLINE_MS).unref();
    stop().then(stopped, (err) => {
      process.stderr.write(`clean-agent: stopping on ${signal}: ${safe(err instanceof Error ? err.message : String(err))}\n`);
      process.exit(code);
    });
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
}

async function plan(opts: CliOptions): Promise<Planned[]> {
  const target = opts.target!;
  if (opts.command === 'run') {
    if (!existsSync(target)) throw new UsageError(`config file not found: ${target}`);
    const problems: string[] = [];
    const { loadCleanConfig } = await import('../config/index');
    const { pipelines, problems: found } = loadCleanConfig(readFileSync(target, 'utf8'), target);
    for (const p of found) if (p.severity === 'error') problems.push(`${target}:${p.line + 1}:${p.character + 1}: ${p.message}`);
    if (problems.length) throw new UsageError(`${target} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
    if (pipelines.length === 0) throw new UsageError(`${target} defines no pipelines; add one under pipelines:`);
    return pipelines.map((p) => ({
      name: p.name,
      spec: opts.from ? { ...p.spec, from: opts.from } : p.spec,
      settings: { ...p.settings, ...opts.settings },
    }));
  }
  const isFile = target.startsWith('file:');
  const spec = parseSourceUrl(target, opts.from ?? (isFile || target.startsWith('demo:') ? { kind: 'earliest' } : { kind: 'latest' }));
  if (opts.follow) {
    if (spec.backend !== 'file') throw new UsageError('--follow applies to file: sources only');
    spec.options = { ...spec.options, follow: true };
  }
  if (spec.backend === 'file') {
    if (!existsSync(spec.topic)) throw new UsageError(`file not found: ${spec.topic} (relative paths start from ${process.cwd()})`);
    if (statSync(spec.topic).isDirectory()) throw new UsageError(`${spec.topic} is a folder; give a JSON Lines file`);
  }
  const settings = { ...opts.settings };
  if (spec.backend === 'demo' && settings.fields === undefined) settings.fields = DEMO_RULES;
  const name = spec.backend === 'file' ? path.basename(spec.topic) : spec.backend === 'demo' ? 'demo' : spec.topic;
  return [{ name, spec, settings }];
}

function usageFailure(err: unknown): number {
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof BudgetError || (err instanceof SourceError && (err.code === 'usage' || err.code === 'unsupported'))) {
    process.stderr.write(`clean-agent: ${safe(err.message)}\n`);
    if (err instanceof UsageError && !err.message.includes('\n')) process.stderr.write('Run clean-agent --help for the options.\n');
    return 2;
  }
  process.stderr.write(`clean-agent: ${safe(err instanceof Error ? err.message : String(err))}\n`);
  return 1;
}
