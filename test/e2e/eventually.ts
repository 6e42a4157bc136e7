/**
 * Polls until check() returns a value other than undefined, or fails with the last reason.
 * Shared by the Playwright harness (Node) and the extension-host suite (bundled into the extension host).
 */
export async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message.split('\n')[0]}` : '';
      throw new Error(`${what} did not happen within ${timeoutMs} ms${reason}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
