import { pino, type Logger } from 'pino';

/** JSON lines on stderr, so that stdout stays the command's own output. */
export function createLogger(level: string): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
