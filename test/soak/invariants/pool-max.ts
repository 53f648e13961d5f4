import type { Finding } from './types.js';

/** A change in a pool's live count during a cycle, in the order the cloud saw them. */
export interface LiveChange {
  readonly t: number;
  readonly pool: string;
  readonly delta: 1 | -1;
}

export interface PoolMaxInput {
  readonly max: Readonly<Record<string, number>>;
  /** live (pending + running) instances per pool when the cycle began */
  readonly liveBefore: Readonly<Record<string, number>>;
  readonly changes: readonly LiveChange[];
}

/**
 * live ≤ size.max per pool. Checked when the cycle ends ('pool-max'), and at every moment of the
 * cycle ('pool-max-peak': launches land before the terminations they were planned with, so a pool
 * at its max that launches and terminates in one cycle is over it for a moment).
 */
export function checkPoolMax(input: PoolMaxInput): Finding[] {
  const findings: Finding[] = [];
  for (const [pool, max] of Object.entries(input.max)) {
    let live = input.liveBefore[pool] ?? 0;
    // Only moments inside the cycle: a pool already above its max when it began was judged then.
    let peak = Number.NEGATIVE_INFINITY;
    let peakAt = 0;
    for (const c of input.changes) {
      if (c.pool !== pool) continue;
      live += c.delta;
      if (live > peak) {
        peak = live;
        peakAt = c.t;
      }
    }
    if (live > max) {
      findings.push({ invariant: 'pool-max', key: pool, detail: `${pool}: ${live} live instances when the cycle ended, size.max ${max}` });
    } else if (peak > max) {
      findings.push({
        invariant: 'pool-max-peak',
        key: pool,
        detail: `${pool}: ${peak} live instances at ${new Date(peakAt).toISOString()}, size.max ${max} (${live} when the cycle ended)`,
      });
    }
  }
  return findings;
}
