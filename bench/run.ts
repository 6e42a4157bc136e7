/**
 * `npm run bench -- <name> [--json]`: runs bench/<name>.ts. Each benchmark measures the project against
 * a baseline in the same run and prints ratios (detection scores the alerts on real data with injected
 * faults against its goals instead); with --json its last line is one JSON object.
 */
const BENCHES = ['engine', 'redis', 'kafka', 'pulsar', 'detection', 'regex', 'config', 'workers', 'sinks', 'decode'] as const;

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || !(BENCHES as readonly string[]).includes(name)) {
    process.stderr.write(`usage: npm run bench -- <${BENCHES.join('|')}> [--json] [--format json|avro (engine, kafka)]\n`);
    process.exit(2);
  }
  const mod = (await import(`./${name}.ts`)) as { run(argv: string[]): Promise<void> };
  await mod.run(rest);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
