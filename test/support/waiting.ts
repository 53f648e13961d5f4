import { createServer } from 'node:net';

/** A port nothing listens on right now: the system picks it, and it is handed over at once. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Ask `probe` every 100 ms until it returns a value, or fail after `timeoutMs` naming what was
 * awaited, the probe's last error (e.g. not listening yet) and `context()`.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, context: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (${String(last)})\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
