// Deterministic demand for the cost replay, and the nightly image's schedule. Demand is constant
// over each five-minute slot (UTC), as `fleet sim` publishes desired counts every five minutes, so
// fleet and the baselines see exactly the same numbers.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const SLOT = 5 * MINUTE;

export type DemandName = 'constant' | 'daily';

export const CONSTANT_WORKERS = 10;
export const DAILY_TROUGH = 2;
export const DAILY_PEAK = 20;

/** Wanted workers at `t`: 10 all the time, or a CI day from 2 at 04:00 UTC to 20 at 16:00 UTC. */
export function demandAt(name: DemandName, t: number): number {
  if (name === 'constant') return CONSTANT_WORKERS;
  const slot = Math.floor(t / SLOT) * SLOT;
  const hour = (((slot % DAY) + DAY) % DAY) / HOUR;
  const day = 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24);
  return Math.round(DAILY_TROUGH + (DAILY_PEAK - DAILY_TROUGH) * day);
}

/** `fleet sim`'s image pipeline bakes at 04:00 UTC; the latest bake at or before `t`. */
export function latestBake(t: number): number {
  return Math.floor((t - 4 * HOUR) / DAY) * DAY + 4 * HOUR;
}
