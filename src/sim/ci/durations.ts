// How long a CI job runs: lognormal per pool (most jobs near the median, a long tail of slow ones),
// capped at the CI's own run-time limit, as real CI queues look.

import type { Prng } from '../../fake-cloud/prng.js';

export interface DurationModel {
  readonly medianMinutes: number;
  /** spread of the logarithm: 0.8 puts the 95th percentile near 3.7 × the median */
  readonly sigma: number;
  /** a job still running after this long is cut off by the CI (its max run time) */
  readonly maxMinutes: number;
}

const SIGMA = 0.8;
const MAX_MINUTES = 240;
const MIN_MINUTES = 0.5;

/** Defaults near real CI: builds (`bld-*`, `try-*`) about 20 minutes at the median, tests (`tst-*`) about 8. */
export function defaultDurations(pool: string): DurationModel {
  const median = pool.startsWith('tst-') ? 8 : pool.startsWith('bld-') || pool.startsWith('try-') ? 20 : 10;
  return { medianMinutes: median, sigma: SIGMA, maxMinutes: MAX_MINUTES };
}

/** One job's run time in milliseconds. */
export function drawDurationMs(model: DurationModel, rng: Prng): number {
  const minutes = model.medianMinutes * Math.exp(model.sigma * rng.normal());
  return Math.round(Math.min(model.maxMinutes, Math.max(MIN_MINUTES, minutes)) * 60_000);
}

/** The mean run time in minutes (the lognormal's mean, ignoring the cap). */
export function meanMinutes(model: DurationModel): number {
  return model.medianMinutes * Math.exp((model.sigma * model.sigma) / 2);
}
