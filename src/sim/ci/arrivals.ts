// When jobs arrive: a Poisson process per pool whose rate follows a curve of workers wanted (the
// workload's daily curve and bursts). By Little's law, jobs in flight = arrival rate × mean run
// time, so a rate of wanted / mean run time keeps the day's load where the curve put it.

import type { Prng } from '../../fake-cloud/prng.js';

/** Arrival times in (from, to], sorted, for a rate constant over the interval. */
export function arrivalsBetween(from: number, to: number, perMinute: number, rng: Prng): number[] {
  const minutes = (to - from) / 60_000;
  if (minutes <= 0 || perMinute <= 0) return [];
  const n = poisson(perMinute * minutes, rng);
  const times: number[] = [];
  for (let k = 0; k < n; k++) times.push(to - Math.floor(rng.next() * (to - from)));
  return times.sort((a, b) => a - b);
}

/** A Poisson draw: Knuth's product of uniforms for small means, a rounded normal for large ones. */
export function poisson(mean: number, rng: Prng): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const limit = Math.exp(-mean);
  let n = 0;
  let product = rng.next();
  while (product > limit) {
    n++;
    product *= rng.next();
  }
  return n;
}
