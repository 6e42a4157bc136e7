/**
 * Real brokers for integration tests. `scripts/test.sh` starts each broker once and exports its URL
 * (CLEAN_TEST_REDIS_URL, CLEAN_TEST_KAFKA_URL, CLEAN_TEST_PULSAR_URL, and for the servers beside them
 * CLEAN_TEST_REGISTRY_URL, CLEAN_TEST_PROMETHEUS_URL, CLEAN_TEST_ALERTMANAGER_URL); a test file or benchmark run on
 * its own uses a broker already running through `scripts/broker`, or starts one and stops it afterwards.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = path.resolve(__dirname, '..', '..');
const script = path.join(repoRoot, 'scripts', 'broker');

/** registry: Apicurio Registry, its URL the Confluent-compatible API (http://127.0.0.1:<port>/apis/ccompat/v7). */
export type BrokerName = 'redis' | 'kafka' | 'pulsar' | 'registry' | 'prometheus' | 'alertmanager';

export interface Broker {
  /** The URL `scripts/broker start` printed (redis://…, kafka://…, pulsar+ws://…, http://…). */
  url: string;
  /** Stops the broker if this test started it; a no-op for a broker the suite shares. */
  release(): Promise<void>;
}

/** Runs `scripts/broker <action> <name>` and returns its last line of output. */
export async function brokerCommand(action: 'start' | 'stop' | 'url', name: BrokerName): Promise<string> {
  const { stdout } = await run('bash', [script, action, name], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024, timeout: 15 * 60 * 1000 });
  const lines = stdout.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

/**
 * The suite's broker (its URL exported by scripts/test.sh), else one already running through
 * scripts/broker, else one started here; only the last is stopped on release.
 */
export async function useBroker(name: BrokerName): Promise<Broker> {
  const shared = process.env[`CLEAN_TEST_${name.toUpperCase()}_URL`];
  if (shared) return { url: shared, release: async () => {} };
  const running = await brokerCommand('url', name).catch(() => '');
  if (running) return { url: running, release: async () => {} };
  const url = await brokerCommand('start', name);
  return { url, release: async () => void (await brokerCommand('stop', name)) };
}

/**
 * The folder the Prometheus of `useBroker('prometheus')` reads scrape targets from (file_sd, re-read every second):
 * a test writes `<unique name>.json` there ([{"targets": ["127.0.0.1:<port>"]}]) and removes it afterwards.
 */
export function prometheusTargetsDir(): string {
  if (process.env.CLEAN_TEST_PROMETHEUS_URL) {
    const dir = process.env.CLEAN_TEST_PROMETHEUS_TARGETS;
    if (!dir) throw new Error('CLEAN_TEST_PROMETHEUS_URL is set but CLEAN_TEST_PROMETHEUS_TARGETS is not');
    return dir;
  }
  const home = process.env.CLEAN_BROKER_HOME ?? path.join(repoRoot, '.cache', 'brokers');
  return path.join(home, 'prometheus', 'targets');
}
