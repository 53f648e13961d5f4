import { pino, type Logger } from 'pino';

/** A pino logger whose JSON lines are kept for the test to read. */
export function capturedLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const log = pino({ level: 'debug', base: undefined }, { write: (line: string) => out.push(line) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}
