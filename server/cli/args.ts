/** Command-line parsing for `clean-agent`: every mistake becomes a UsageError that says what to fix (exit 2). */
import { parseArgs } from 'node:util';
import { DETECTORS, type DetectorName, type FieldRule, type PipelineSettings, parseInterval } from '../engine/config';
import { UsageError, parseStartPosition } from '../sources/url';
import type { StartPosition } from '../sources/types';
import { DEFAULT_MAX_MEMORY_MB, checkMaxMemoryMB } from '../engine/budget';
import { quoteName } from '../engine/names';
import { FORMATS, type Format } from '../decode/types';
import { registryUrlProblem } from '../decode/registry';
import { parseMetricsAddress, type MetricsAddress } from '../service/http';
import { LOG_FORMATS, type LogFormat } from '../service/log';
import { sinkProblems } from '../alerts';
import { DEFAULT_SESSION_TIMEOUT_MS, DEFAULT_SUMMARIES_TOPIC, checkGroupNames, defaultAgentId } from '../scale/groupNames';

export const USAGE = `clean-agent — data quality of live topics, from the terminal

Usage:
  clean-agent demo [options]               live view of the built-in demo stream (no broker needed)
  clean-agent watch <source-url> [options] watch one topic, stream or file
  clean-agent run <clean.yaml> [options]   run the pipelines of a config file
  clean-agent baseline <show|accept|undo|reset> --state <dir> [<pipeline>] [--detector D] [--field F]
                                           look at or change a saved baseline ("This is normal")
  clean-agent lsp --stdio | --node-ipc     run as a language server (the VS Code extension does this)

Source URLs:
  file:<path>                              JSON Lines replay (add --follow to tail a growing file)
  demo:[orders][?rate=500&seed=1&calm=14&episode=6]
  kafka://host:port[,host:port]/<topic>    redis://[user@]host:port/<stream>
  pulsar://host:6650/<tenant>/<ns>/<topic> pulsar+ws://host:8080/<tenant>/<ns>/<topic>
  Credentials: ?secret=<name> and the environment variable CLEAN_SECRET_<NAME>; never in the URL.

Options:
  --window N          records in the rolling window (default 1000)
  --threshold X       alert when the quality score falls below X, 0..1 (default 0.8)
  --check-every N|Ts  check every N records, or every T seconds such as 2s or 500ms (default 1s)
  --detectors a,b     of ${DETECTORS.join(', ')}
  --fields JSON       field rules, as fields: in clean.yaml, for example --fields '{"amount":{"min":0},"id":{"required":true}}'
  --from P            earliest | latest | an ISO time (default: latest for brokers, earliest for files)
  --limit N           stop after N records, then print the final events
  --follow            keep reading a file as it grows
  --json              one JSON event per line on stdout (metrics, alert, recovered, status, end)
  --fail-on-alert     exit 3 if any alert fired
  --state DIR         keep each pipeline's learned baseline in DIR: a restarted monitor resumes without
                      relearning or re-alerting (the first window is otherwise learnt, with alerts held)
  --reset-baseline    forget the saved baseline and learn afresh (the old one is kept for baseline undo)
  --max-memory MB     the memory budget of all pipelines together (default ${DEFAULT_MAX_MEMORY_MB}): a pipeline whose
                      estimated footprint does not fit is refused, with what is left
  --workers N         engine threads sharing a Kafka topic's partitions, merged into one view per check (1)
  --sample X          judge the share X of records (0 < X ≤ 1) chosen by payload hash; rates get a 95 % interval
Formats (see README, "Formats"):
  --format F          auto (default) | json | avro | protobuf | jsonschema: what the payloads are
  --registry URL      a Confluent-compatible schema registry for wire-format records (no credentials in it)
  --schemas DIR       schema files (.avsc, .proto, *.schema.json) as an offline registry
Running as a service (see README, "Running as a service"):
  --metrics-port P    serve /metrics (Prometheus), /healthz and /readyz on port P (loopback), or on
                      host:P such as 0.0.0.0:9464; 0 picks a free port (printed on stderr). With it, run
                      keeps serving after its pipelines end, until SIGTERM (or metrics: {port} in clean.yaml)
  --watch-config      run: reload clean.yaml when it changes, as SIGHUP does (unchanged pipelines keep
                      their windows, changed ones restart, removed ones stop, added ones start)
  --log-format F      text (default) or json: one JSON object a line on stderr {ts, level, msg, pipeline}
  --alert-webhook URL POST each alert and recovery as JSON to URL (repeatable; more sinks: alerts: in
                      clean.yaml, see docs/alerts.md). Delivery is queued and retried, never slowing a pipeline
Several agents (run, Kafka; see docs/scale.md, "Several agents"):
  --group NAME        share the topics' partitions with the other agents of group NAME (consumer group
                      clean-group-NAME; nothing committed) and show and alert on the group's merged view
  --summaries-topic T where the group's agents write their summaries (default clean.summaries)
  --agent-id ID       this agent's name in the group (default host-pid)
  --session-timeout D how soon a dead agent is noticed and its partitions move (default 10s; Kafka allows 6s+)
  -h, --help          this text;  --version  the version

Exit codes: 0 done, 1 failure at run time, 2 wrong argument or config, 3 an alert fired (--fail-on-alert).`;

export interface CliOptions {
  command: 'demo' | 'watch' | 'run' | 'baseline' | 'lsp' | 'help' | 'version';
  target?: string;
  /** baseline: its action and pipeline. */
  action?: 'show' | 'accept' | 'undo' | 'reset';
  detector?: DetectorName;
  field?: string;
  state?: string;
  resetBaseline: boolean;
  settings: PipelineSettings;
  from?: StartPosition;
  limit?: number;
  follow: boolean;
  json: boolean;
  failOnAlert: boolean;
  /** The memory budget (--max-memory), in MB. */
  maxMemoryMB: number;
  /** --metrics-port: where the Prometheus endpoint listens. */
  metrics?: MetricsAddress;
  /** --watch-config: reload the config file when it changes. */
  watchConfig: boolean;
  /** --log-format: stderr lines as text or JSON. */
  logFormat: LogFormat;
  /** --alert-webhook (repeatable): webhook sinks for every pipeline, besides clean.yaml's `alerts:`. */
  alertWebhooks?: string[];
  /** --registry, --schemas: decode settings put on every pipeline's source. */
  decode?: { registry?: { url: string }; schemas?: string[] };
  /** --group and its settings (server/scale/group.ts). */
  group?: { name: string; summariesTopic: string; agentId: string; sessionTimeoutMs: number };
  lspArgs: string[];
}

export function parseCli(argv: string[]): CliOptions {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') return base('help');
  if (command === '--version' || command === '-v') return base('version');
  if (command === 'lsp') return { ...base('lsp'), lspArgs: rest };
  if (command !== 'demo' && command !== 'watch' && command !== 'run' && command !== 'baseline') {
    throw new UsageError(`unknown command "${command}". Use demo, watch <source-url>, run <clean.yaml>, baseline or lsp.`);
  }
  // `--window -3` should reach the range check ("must be positive"), not a parser complaint about dashes.
  const VALUED = new Set(['--session-timeout', '--workers', '--sample', '--metrics-port', '--max-memory', '--window', '--threshold', '--check-every', '--detectors', '--from', '--limit', '--state', '--detector', '--field']);
  const args: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    if (VALUED.has(rest[i]) && i + 1 < rest.length && /^-\d/.test(rest[i + 1])) args.push(`${rest[i]}=${rest[++i]}`);
    else args.push(rest[i]);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        window: { type: 'string' },
        'max-memory': { type: 'string' },
        threshold: { type: 'string' },
        'check-every': { type: 'string' },
        detectors: { type: 'string' },
        fields: { type: 'string' },
        from: { type: 'string' },
        limit: { type: 'string' },
        follow: { type: 'boolean' },
        json: { type: 'boolean' },
        'fail-on-alert': { type: 'boolean' },
        state: { type: 'string' },
        'reset-baseline': { type: 'boolean' },
        detector: { type: 'string' },
        field: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        'metrics-port': { type: 'string' },
        'watch-config': { type: 'boolean' },
        'log-format': { type: 'string' },
        workers: { type: 'string' },
        sample: { type: 'string' },
        format: { type: 'string' },
        registry: { type: 'string' },
        schemas: { type: 'string' },
        'alert-webhook': { type: 'string', multiple: true },
        group: { type: 'string' },
        'summaries-topic': { type: 'string' },
        'agent-id': { type: 'string' },
        'session-timeout': { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '') + '.');
  }
  const { values: v, positionals } = parsed;
  if (v.help) return base('help');
  const opts: CliOptions = { ...base(command), follow: v.follow === true, json: v.json === true, failOnAlert: v['fail-on-alert'] === true, resetBaseline: v['reset-baseline'] === true };
  if (v.state !== undefined) {
    if (v.state.trim() === '') throw new UsageError('--state needs a folder, for example --state .clean-state');
    opts.state = v.state;
  }
  if (opts.resetBaseline && opts.state === undefined) throw new UsageError('--reset-baseline needs --state <dir>, the folder that holds the baseline');
  if (command === 'baseline') {
    const [action, pipeline, ...extra] = positionals;
    if (action !== 'show' && action !== 'accept' && action !== 'undo' && action !== 'reset') {
      throw new UsageError(`baseline takes show, accept, undo or reset${action ? ` (got "${action}")` : ''}, for example clean-agent baseline show --state .clean-state`);
    }
    if (opts.state === undefined) throw new UsageError(`baseline ${action} needs --state <dir>, the folder given to watch or run`);
    if (action !== 'show' && pipeline === undefined) throw new UsageError(`baseline ${action} needs the pipeline's name; clean-agent baseline show --state ${opts.state} lists them`);
    if (extra.length) throw new UsageError(`baseline ${action} takes one pipeline; got ${[pipeline, ...extra].join(' ')}`);
    if ((v.detector !== undefined || v.field !== undefined) && action !== 'accept') throw new UsageError('--detector and --field go with baseline accept');
    if (v.detector !== undefined) {
      if (!(DETECTORS as readonly string[]).includes(v.detector)) throw new UsageError(`--detector: unknown detector "${v.detector}"; use ${DETECTORS.join(', ')}`);
      opts.detector = v.detector as DetectorName;
    }
    if (v.field !== undefined) opts.field = v.field;
    opts.action = action;
    opts.target = pipeline;
    return opts;
  }
  if (v.detector !== undefined || v.field !== undefined) throw new UsageError('--detector and --field go with baseline accept');
  if (command === 'demo') {
    if (positionals.length > 1) throw new UsageError(`demo takes at most one demo: URL; got ${positionals.join(' ')}`);
    opts.target = positionals[0] ?? 'demo:orders';
    if (!opts.target.startsWith('demo:')) throw new UsageError(`demo takes a demo: URL such as demo:orders?rate=2000; to watch ${opts.target} use clean-agent watch.`);
  } else {
    if (positionals.length !== 1) throw new UsageError(command === 'watch' ? 'watch needs one source URL, for example clean-agent watch file:events.jsonl' : 'run needs one config file, for example clean-agent run clean.yaml');
    opts.target = positionals[0];
  }
  const s = opts.settings;
  if (v.window !== undefined) {
    const n = Number(v.window);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--window must be a positive whole number of records (got "${v.window}")`);
    s.windowSize = n;
  }
  if (v.threshold !== undefined) {
    const x = Number(v.threshold);
    if (v.threshold.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) throw new UsageError(`--threshold must be a number between 0 and 1 (got "${v.threshold}")`);
    s.qualityThreshold = x;
  }
  if (v['check-every'] !== undefined) {
    const ci = parseInterval(v['check-every']);
    if (!ci) throw new UsageError(`--check-every takes a record count such as 500 or a duration such as 2s or 500ms (got "${v['check-every']}")`);
    s.checkInterval = ci;
  }
  if (v.detectors !== undefined) {
    const list = v.detectors.split(',').map((d) => d.trim()).filter(Boolean);
    const unknown = list.filter((d) => !(DETECTORS as readonly string[]).includes(d));
    if (unknown.length || list.length === 0) throw new UsageError(`--detectors: unknown detector ${unknown.slice(0, 5).map(quoteName).join(', ') || '(none given)'}; use ${DETECTORS.join(', ')}`);
    s.detectors = list as DetectorName[];
  }
  if (v['max-memory'] !== undefined) {
    const m = checkMaxMemoryMB(v['max-memory']);
    if ('problem' in m) throw new UsageError(`--max-memory ${m.problem}`);
    opts.maxMemoryMB = m.mb;
  }
  if (v.fields !== undefined) s.fields = parseFieldRules(v.fields);
  // Scale (server/scale): engine threads over the topic's partitions, and hash sampling.
  if (v.workers !== undefined) {
    const n = Number(v.workers);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`--workers must be a whole number of engine threads from 1 to 64 (got "${v.workers.slice(0, 40)}")`);
    s.workers = n;
  }
  if (v.sample !== undefined) {
    const x = Number(v.sample);
    if (v.sample.trim() === '' || !(x > 0 && x <= 1)) throw new UsageError(`--sample must be the share of records to keep, above 0 and at most 1, such as 0.1 (got "${v.sample.slice(0, 40)}")`);
    s.sample = x;
  }
  // Decoding (server/decode): the format is a pipeline setting; registry and schema files go on the source.
  if (v.format !== undefined) {
    if (!(FORMATS as readonly string[]).includes(v.format)) throw new UsageError(`--format takes ${FORMATS.join(', ')} (got "${v.format.slice(0, 40)}")`);
    s.format = v.format as Format;
  }
  if (v.registry !== undefined) {
    const problem = registryUrlProblem(v.registry);
    if (problem) throw new UsageError(`--registry: ${problem}`);
    opts.decode = { ...opts.decode, registry: { url: v.registry } };
  }
  if (v.schemas !== undefined) {
    if (v.schemas.trim() === '') throw new UsageError('--schemas needs a folder of schema files, for example --schemas ./schemas');
    opts.decode = { ...opts.decode, schemas: [v.schemas] };
  }
  if (v['metrics-port'] !== undefined) {
    const address = parseMetricsAddress(v['metrics-port']);
    if ('problem' in address) throw new UsageError(`--metrics-port ${address.problem}`);
    opts.metrics = address;
  }
  if (v['watch-config'] === true) {
    if (command !== 'run') throw new UsageError('--watch-config goes with run <clean.yaml>: it reloads that file when it changes');
    opts.watchConfig = true;
  }
  if (v['log-format'] !== undefined) {
    if (!(LOG_FORMATS as readonly string[]).includes(v['log-format'])) throw new UsageError(`--log-format takes ${LOG_FORMATS.join(' or ')} (got "${v['log-format'].slice(0, 40)}")`);
    opts.logFormat = v['log-format'] as LogFormat;
  }
  if (v['alert-webhook'] !== undefined) {
    for (const url of v['alert-webhook']) {
      const problem = sinkProblems({ kind: 'webhook', url })[0];
      if (problem) throw new UsageError(`--alert-webhook: ${problem}`);
    }
    opts.alertWebhooks = v['alert-webhook'];
  }
  // Several agents (server/scale/group.ts): a consumer group of the agents' own, summaries on a topic.
  if (v.group !== undefined) {
    if (command !== 'run' && command !== 'watch') throw new UsageError('--group goes with run <clean.yaml> or watch <kafka-url>');
    const session = v['session-timeout'] === undefined ? { seconds: DEFAULT_SESSION_TIMEOUT_MS / 1000 } : parseInterval(v['session-timeout']);
    if (!session || !('seconds' in session) || session.seconds < 1 || session.seconds > 3600) {
      throw new UsageError(`--session-timeout takes a duration such as 10s or 6000ms, at least 1s (Kafka's brokers allow 6s and up by default; got "${String(v['session-timeout']).slice(0, 40)}")`);
    }
    const group = { name: v.group, summariesTopic: v['summaries-topic'] ?? DEFAULT_SUMMARIES_TOPIC, agentId: v['agent-id'] ?? defaultAgentId(), sessionTimeoutMs: Math.round(session.seconds * 1000) };
    const problem = checkGroupNames(group);
    if (problem) throw new UsageError(problem);
    opts.group = group;
  } else if (v['summaries-topic'] !== undefined || v['agent-id'] !== undefined || v['session-timeout'] !== undefined) {
    throw new UsageError('--summaries-topic, --agent-id and --session-timeout go with --group <name>');
  }
  if (v.from !== undefined) opts.from = parseStartPosition(v.from);
  if (v.limit !== undefined) {
    const n = Number(v.limit);
    if (!Number.isInteger(n) || n <= 0) throw new UsageError(`--limit must be a positive whole number of records (got "${v.limit}")`);
    opts.limit = n;
  }
  return opts;
}

function base(command: CliOptions['command']): CliOptions {
  return { command, settings: {}, follow: false, json: false, failOnAlert: false, resetBaseline: false, maxMemoryMB: DEFAULT_MAX_MEMORY_MB, watchConfig: false, logFormat: 'text', lspArgs: [] };
}

/** `--fields '<json>'`: the `fields:` map of clean.yaml as JSON (each rule is then checked as a config file's is). */
function parseFieldRules(text: string): Record<string, FieldRule> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--fields takes the field rules as JSON, for example --fields '{"amount":{"min":0}}' (${(err as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`--fields takes a JSON object of field names to rules, for example --fields '{"amount":{"min":0}}'`);
  }
  for (const [name, rule] of Object.entries(parsed)) {
    if (rule === null || typeof rule !== 'object' || Array.isArray(rule)) {
      throw new UsageError(`--fields: the rule for "${name}" must be an object such as {"required":true} or {"min":0,"max":100}`);
    }
  }
  return parsed as Record<string, FieldRule>;
}
