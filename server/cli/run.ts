/** The headless commands: demo, watch and run. Returns the process exit code. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseCli, USAGE, type CliOptions } from './args';
import { TerminalView } from './terminal';
import { ConfigError, type PipelineSettings } from '../engine/config';
import { RealtimePipeline, secretFromEnv } from '../engine/pipeline';
import { ShardedPipeline } from '../scale/shardedPipeline';
import { decodeSettingsOf } from '../decode';
import { KnownSecretValues, redact, redactDeep } from '../secrets/redact';
import { BaselineStore } from '../engine/baselineStore';
import { BudgetError, MemoryBudget } from '../engine/budget';
import type { PipelineEvent } from '../engine/events';
import { parseSourceUrl, UsageError } from '../sources/url';
import { createSource } from '../sources/index';
import { DEMO_RULES } from '../sources/demo';
import type { SourceSpec } from '../sources/types';
import { SourceError } from '../sources/types';
import { ServiceLog, type LogFormat } from '../service/log';
import { PipelineRoster } from '../service/roster';
import { meteredAs } from '../service/metered';
import { describeReload, watchConfigFile } from '../service/reload';
import { DEFAULT_METRICS_HOST, startServiceEndpoint, type MetricsAddress, type ServiceEndpoint } from '../service/http';
import { SinkSet, type SinkConfig } from '../alerts';
import type { MergedEvents } from '../scale/group';
import { DEFAULT_SESSION_TIMEOUT_MS, defaultAgentId } from '../scale/groupNames';

declare const CLEAN_VERSION: string | undefined;

interface Planned {
  name: string;
  spec: SourceSpec;
  settings: PipelineSettings;
  /** clean.yaml's `group:`: the group of agents this pipeline joins. */
  group?: { name: string; summariesTopic: string };
}

/** What a command runs: its pipelines and, from a config file, its `metrics:` endpoint. */
interface Plan {
  pipelines: Planned[];
  metrics?: { port: number; host?: string };
  /** Alert sinks: clean.yaml's `alerts:` (top level and per pipeline) and --alert-webhook. */
  alerts: SinkConfig[];
}

/** Secret values read from CLEAN_SECRET_*, masked in everything the CLI prints should a library quote one. */
const knownSecrets = new KnownSecretValues();
const safe = (m: string) => redact(m, knownSecrets);
const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

async function secretOf(name: string): Promise<string | undefined> {
  const value = await secretFromEnv(name);
  knownSecrets.remember(value);
  return value;
}

export async function runCli(argv: string[]): Promise<number> {
  let opts: CliOptions;
  let planned: Plan;
  let logFormat: LogFormat = 'text';
  try {
    opts = parseCli(argv);
    logFormat = opts.logFormat;
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
    return usageFailure(err, logFormat);
  }

  const log = new ServiceLog({ format: opts.logFormat, known: knownSecrets, quietInfo: opts.json });
  // Alert sinks deliver off the record path (server/alerts): a pipeline's handler only queues. A reload swaps the set.
  let sinkConfigs = planned.alerts;
  let sinks = SinkSet.fromConfig(sinkConfigs, { log, secret: secretOf });
  const baseline = opts.state !== undefined ? new BaselineStore(opts.state) : undefined;
  const metricsAt: MetricsAddress | undefined = opts.metrics ?? (planned.metrics && { host: planned.metrics.host ?? DEFAULT_METRICS_HOST, port: planned.metrics.port });
  // A service (an endpoint to scrape, a config to watch) stays up after its pipelines end, until a stop signal.
  const service = metricsAt !== undefined || opts.watchConfig;
  const metrics = metricsAt ? new (await import('../service/metrics')).ServiceMetrics() : undefined;
  metrics?.setSinks(() => sinks.stats());

  const live = !opts.json && process.stdout.isTTY === true;
  const view = opts.json ? null : new TerminalView(process.stdout, live);
  let alerts = 0;
  const write = (e: PipelineEvent) => {
    // Status texts come from sources and libraries: they pass the one redaction; numbers need none.
    process.stdout.write(JSON.stringify(e.type === 'status' ? redactDeep(e, knownSecrets) : e) + '\n');
  };
  // --group (server/scale/group.ts): the Kafka pipelines share their partitions with the group's other agents, and
  // what is shown and alerted on is the group's merged view: `shown` stands in for the pipeline's own metrics and alerts.
  // clean.yaml's `group:` joins that group as --group does (one file serves the group's agents and the editor, which
  // watches the group); --group on the command line wins and takes every pipeline in.
  const joined = opts.group ?? fileGroup(planned.pipelines);
  const group = joined ? new (await import('../scale/group')).GroupAgent({ ...joined, log }) : null;
  const inGroup = (p: Planned) => group !== null && (opts.group !== undefined || p.group !== undefined);
  /** Everything that listens to a pipeline: the terminal view or NDJSON, the alert count, the metrics. */
  const wire = (p: RealtimePipeline, planned: Planned) => {
    const shown: MergedEvents = inGroup(planned) ? group!.attach(p) : p;
    if (inGroup(planned) && !view) group!.onState(p.name, (e) => process.stdout.write(JSON.stringify(e) + '\n'));
    if (view) {
      view.add(p.name, p.config.qualityThreshold);
      shown.on('metrics', (m) => view.metrics(m));
      p.on('status', (s) => view.status(redactDeep(s, knownSecrets)));
      shown.addAlertHandler((e) => view.alert(e));
    } else {
      p.on('status', write);
      shown.on('metrics', write);
      shown.on('alert', write);
      shown.on('recovered', write);
      p.on('end', write);
    }
    shown.on('alert', () => alerts++);
    shown.addAlertHandler((e) => sinks.deliver(e));
    // In a group the endpoint reports what the agent shows: the group's merged view.
    metrics?.track(inGroup(planned) ? meteredAs(p, shown) : p);
  };
  // --reset-baseline applies to the first start only, never again to a pipeline a reload restarts.
  let resetBaseline = opts.resetBaseline;
  // Every pipeline's footprint is reserved before any is built: a config over the budget starts nothing (exit 2).
  const roster = new PipelineRoster(new MemoryBudget(opts.maxMemoryMB, '--max-memory'), {
    create: (p, config) =>
      inGroup(p) ? group!.pipeline(p, config, { log: log.forPipeline(p.name), secret: secretOf, limit: opts.limit, baseline, resetBaseline, overBudget: 'fail', decode: decodeSettingsOf(p.spec, config.format) }) :
      // `workers: N` (--workers): N engine threads over the topic's partitions, merged per check (server/scale).
      // It emits the same events and has what the roster, the view and the metrics use of a pipeline.
      (config.workers ?? 1) > 1
        ? (new ShardedPipeline(p.name, p.spec, config, { log: log.forPipeline(p.name), secret: secretOf, limit: opts.limit, baseline, resetBaseline }) as unknown as RealtimePipeline)
        : new RealtimePipeline(p.name, (ctx) => createSource(p.spec, ctx), config, { log: log.forPipeline(p.name), secret: secretOf, limit: opts.limit, baseline, resetBaseline, overBudget: 'fail', decode: decodeSettingsOf(p.spec, config.format) }),
    starting: wire,
    stopped: (name, removed) => metrics?.untrack(name, !removed),
    failed: (p, err) => log.report('error', messageOf(err), p.name),
  });
  try {
    roster.prepare(planned.pipelines);
  } catch (err) {
    return usageFailure(err, opts.logFormat);
  }
  resetBaseline = false;
  process.stdout.on('error', () => undefined); // a closed pipe (| head) must not crash the agent

  let endpoint: ServiceEndpoint | undefined;
  if (metrics && metricsAt) {
    try {
      endpoint = await startServiceEndpoint(metrics, metricsAt);
    } catch (err) {
      log.report('error', `cannot serve metrics on ${metricsAt.host}:${metricsAt.port} (${messageOf(err)}). Choose another port with --metrics-port (0 picks a free one).`);
      return 2;
    }
    log.report('info', `serving metrics on ${endpoint.url} (health on /healthz, readiness on /readyz)`);
  }

  // Reloads (SIGHUP, --watch-config) run one at a time; none starts once a stop signal came.
  let stopping = false;
  let reloading: Promise<void> = Promise.resolve();
  const reload = (why: string) => {
    if (stopping) return;
    reloading = reloading.then(async () => {
      if (stopping) return;
      try {
        const next = await plan(opts);
        // The group the agent joined stays: a reload that names another (or a first, or no) group is refused.
        const nextGroup = opts.group ? undefined : fileGroup(next.pipelines);
        if (!opts.group && (nextGroup?.name !== joined?.name || nextGroup?.summariesTopic !== joined?.summariesTopic)) {
          throw new UsageError(`group: changes take effect at the next start (this agent ${joined ? `is in group "${joined.name}", summaries in "${joined.summariesTopic}"` : 'joined no group'})`);
        }
        if (next.metrics?.port !== planned.metrics?.port || next.metrics?.host !== planned.metrics?.host) log.report('warn', `${why}: metrics: takes effect at the next start; the endpoint stays where it is`);
        // apply() throws, changing nothing, on a pipeline or budget problem: the sinks are swapped only after it.
        const done = await roster.apply(next.pipelines);
        if (JSON.stringify(next.alerts) !== JSON.stringify(sinkConfigs)) {
          // New sinks take the next alert; the old ones deliver what they hold, then close.
          const old = sinks;
          sinks = SinkSet.fromConfig((sinkConfigs = next.alerts), { log, secret: secretOf });
          void old.flush(SINK_FLUSH_DEADLINE_MS).then(() => old.close());
        }
        log.report('info', `${why}: reloaded ${opts.target}: ${describeReload(done)}`);
      } catch (err) {
        log.report('error', `${why}: ${opts.target} was not reloaded, the running pipelines go on as they were. ${messageOf(err)}`);
      }
    });
  };
  const onHangup = () => reload('SIGHUP');
  if (opts.command === 'run') process.on('SIGHUP', onHangup);
  const unwatch = opts.watchConfig ? watchConfigFile(opts.target!, () => reload('config file changed')) : () => undefined;

  let stopSignalled: () => void = () => undefined;
  const stopRequested = new Promise<void>((resolve) => (stopSignalled = resolve));
  const offSignals = onStopSignals(async () => {
    stopping = true;
    stopSignalled();
    await reloading;
    await roster.stopAll();
  }, undefined, EXIT_DEADLINE_MS + SINK_FLUSH_DEADLINE_MS);
  view?.start();
  roster.run();
  await roster.idle();
  if (service) {
    await stopRequested;
    await reloading;
    await roster.idle();
  }
  await group?.close();
  view?.stop();
  // What the pipelines alerted last is still queued: it gets SINK_FLUSH_DEADLINE_MS to reach its sinks.
  const flushed = await sinks.flush(SINK_FLUSH_DEADLINE_MS);
  if (flushed.left > 0) log.report('warn', `${flushed.left} alert event${flushed.left === 1 ? '' : 's'} not delivered before the deadline (${SINK_FLUSH_DEADLINE_MS} ms)`);
  await sinks.close();
  unwatch();
  process.off('SIGHUP', onHangup);
  await endpoint?.close();
  offSignals();

  let code = 0;
  for (const { error } of roster.failures()) {
    if (code === 0) code = error instanceof SourceError && (error.code === 'usage' || error.code === 'unsupported' || error.code === 'not-found') ? 2 : 1;
  }
  if (code === 0 && opts.failOnAlert && alerts > 0) code = 3;
  return code;
}

/** After a stop signal the process ends within this long, even when a source will not close. */
export const EXIT_DEADLINE_MS = 3000;

/** On a stop signal, queued alerts get this long to reach their sinks (after the pipelines stopped and saved their state). */
export const SINK_FLUSH_DEADLINE_MS = 5000;

/**
 * SIGTERM and SIGINT stop the work (`stop`, then `stopped` when given); a deadline timer exits anyway after
 * `deadlineMs` (unref'd: it never keeps a finished process alive), and a second signal exits at once. Returns
 * the function that removes the handlers.
 */
export function onStopSignals(stop: () => Promise<unknown>, stopped?: () => void, deadlineMs = EXIT_DEADLINE_MS): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    const code = signal === 'SIGINT' ? 130 : 143;
    if (signalled) process.exit(code);
    signalled = true;
    setTimeout(() => process.exit(code), deadlineMs).unref();
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

async function plan(opts: CliOptions): Promise<Plan> {
  const target = opts.target!;
  if (opts.command === 'run') {
    if (!existsSync(target)) throw new UsageError(`config file not found: ${target}`);
    const problems: string[] = [];
    const { loadCleanConfig } = await import('../config/index');
    const { pipelines, problems: found, metrics, alerts } = loadCleanConfig(readFileSync(target, 'utf8'), target);
    for (const p of found) if (p.severity === 'error') problems.push(`${target}:${p.line + 1}:${p.character + 1}: ${p.message}`);
    if (problems.length) throw new UsageError(`${target} has ${problems.length} problem${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
    if (pipelines.length === 0) throw new UsageError(`${target} defines no pipelines; add one under pipelines:`);
    // Pipelines naming different groups are refused here, at the start and at a reload alike.
    if (!opts.group) fileGroup(pipelines.map((p) => ({ name: p.name, spec: p.spec, settings: p.settings, group: p.group })));
    return {
      metrics,
      alerts: [...alerts, ...cliSinks(opts)],
      pipelines: pipelines.map((p) => ({
        name: p.name,
        spec: withCliDecode(opts.from ? { ...p.spec, from: opts.from } : p.spec, opts),
        settings: { ...p.settings, ...opts.settings },
        ...(p.group ? { group: p.group } : {}),
      })),
    };
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
  return { pipelines: [{ name, spec: withCliDecode(spec, opts), settings }], alerts: cliSinks(opts) };
}

/**
 * The group the file's pipelines declare (`group:`), with this agent's defaults (`<host>-<pid>`, a 10 s session);
 * an agent joins one group, so pipelines naming different ones are refused.
 */
function fileGroup(pipelines: Planned[]): { name: string; summariesTopic: string; agentId: string; sessionTimeoutMs: number } | undefined {
  const named = pipelines.filter((p) => p.group !== undefined);
  const first = named[0]?.group;
  if (!first) return undefined;
  const other = named.find((p) => p.group!.name !== first.name || p.group!.summariesTopic !== first.summariesTopic);
  if (other) throw new UsageError(`an agent joins one group: pipeline "${named[0].name}" names group "${first.name}" (summaries in "${first.summariesTopic}"), pipeline "${other.name}" group "${other.group!.name}" (summaries in "${other.group!.summariesTopic}"); run one agent per group, or give --group`);
  return { ...first, agentId: defaultAgentId(), sessionTimeoutMs: DEFAULT_SESSION_TIMEOUT_MS };
}

/** --registry and --schemas (server/decode) over what the URL or the file says. */
function withCliDecode(spec: SourceSpec, opts: CliOptions): SourceSpec {
  if (!opts.decode) return spec;
  return { ...spec, decode: { ...spec.decode, ...opts.decode } };
}

/** --alert-webhook URL, each a webhook sink for every pipeline. */
function cliSinks(opts: CliOptions): SinkConfig[] {
  return (opts.alertWebhooks ?? []).map((url) => ({ kind: 'webhook' as const, url }));
}

/** A wrong argument or config (exit 2) or a failure to start (exit 1), said on stderr: JSON too with --log-format json. */
function usageFailure(err: unknown, format: LogFormat = 'text'): number {
  const usage = err instanceof UsageError || err instanceof ConfigError || err instanceof BudgetError || (err instanceof SourceError && (err.code === 'usage' || err.code === 'unsupported'));
  if (format === 'json') {
    new ServiceLog({ format, known: knownSecrets }).report('error', messageOf(err));
    return usage ? 2 : 1;
  }
  if (usage) {
    process.stderr.write(`clean-agent: ${safe((err as Error).message)}\n`);
    if (err instanceof UsageError && !err.message.includes('\n')) process.stderr.write('Run clean-agent --help for the options.\n');
    return 2;
  }
  process.stderr.write(`clean-agent: ${safe(messageOf(err))}\n`);
  return 1;
}
