import { InvalidArgumentError } from 'commander';

/** Option bounds: past them a value is a mistake (a simulated century grows memory without end). */
export const OPTION_BOUNDS = {
  hours: { min: 1, max: 24 * 366 },
  seed: { min: 1, max: 2 ** 32 - 1 },
  days: { min: 1, max: 90 },
  badImage: { min: 1, max: 24 * 366 },
  visibilityDelay: { min: 0, max: 3600 },
  crunches: { min: 0, max: 100 },
  capacity: { min: 1, max: 100_000 },
  interruptions: { min: 0, max: 1 },
  keep: { min: 0, max: 1000 },
} as const;

/** An integer option in [min, max], as a commander argument parser. */
export function intIn(flag: string, { min, max }: { min: number; max: number }): (value: string) => number {
  return (value) => {
    const n = /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag}: expected an integer from ${min} to ${max} (got ${JSON.stringify(value)})`);
    return n;
  };
}

/** A number option in [min, max], as a commander argument parser. */
export function numberIn(flag: string, { min, max }: { min: number; max: number }): (value: string) => number {
  return (value) => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${flag}: expected a number from ${min} to ${max} (got ${JSON.stringify(value)})`);
    return n;
  };
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/**
 * Epoch ms of an ISO 8601 date (UTC) or date-time with its offset; undefined for anything else,
 * including dates that do not exist (2026-02-30 is not March 2) and times without an offset.
 */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) return undefined;
  const at = Date.parse(m[4] === undefined ? `${text}T00:00:00Z` : text);
  return Number.isFinite(at) ? at : undefined;
}
