// Bundles the agent (server/) and the extension (client/) into dist/ with esbuild.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { kafkajsRecords } from './kafkajs-records.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
  // pulsar-client is an optional native addon, loaded lazily where it is installed.
  external: ['vscode', 'pulsar-client'],
  // kafkajs's record decoder is replaced by server/sources/kafka/recordDecoder.ts.
  plugins: [kafkajsRecords],
};

const entries = [
  { entryPoints: ['server/main.ts'], outfile: 'dist/agent.js' },
  // The Kafka source fetches and decodes in a worker thread that runs this bundle (kafka/worker.ts) beside agent.js.
  { entryPoints: ['server/sources/kafka/worker.ts'], outfile: 'dist/kafka-fetcher.js' },
  // Engine threads (`workers: N`, server/scale) run this bundle beside agent.js, one per share of a topic's partitions.
  { entryPoints: ['server/scale/worker.ts'], outfile: 'dist/scale-worker.js' },
  // clean.yaml files are parsed and validated in a worker thread that runs this bundle beside agent.js.
  { entryPoints: ['server/lsp/configChecker.ts'], outfile: 'dist/config-check.js' },
];
if (await exists(path.join(root, 'client/extension.ts'))) {
  entries.push({ entryPoints: ['client/extension.ts'], outfile: 'dist/extension.js' });
}

async function exists(p) {
  try { await import('node:fs').then((fs) => fs.promises.access(p)); return true; } catch { return false; }
}

await Promise.all(entries.map((e) => build({ ...common, ...e })));
if (watch) console.log('esbuild: built', entries.map((e) => e.outfile).join(', '));
