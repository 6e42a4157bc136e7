// One prefix for every harness line so they stand out from suite output.
export function say(message: string): void {
  process.stdout.write(`[e2e] ${message}\n`);
}
