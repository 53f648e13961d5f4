import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { Instance } from '../domain/types.js';

/**
 * Seconds each pool spends with on-demand fallback active: its shortfall timer older than
 * `spot.fallbackAfter`, as the planner reads it. Measured from one cycle's snapshot to the next, so
 * it is as precise as the interval. The first cycle only sets the starting point: a restarted
 * process (or a standby that takes the lease over) never counts again time counted before.
 */
export class FallbackTime {
  private previous: number | undefined;

  /** Seconds to add per pool since the previous snapshot (0 for a pool not in fallback). */
  observe(snapshot: Snapshot, policies: readonly PoolPolicy[]): Map<string, number> {
    const from = this.previous;
    this.previous = snapshot.now;
    const added = new Map<string, number>();
    for (const policy of policies) {
      const since = snapshot.timers[policy.pool]?.shortfallSince;
      let seconds = 0;
      if (from !== undefined && since !== undefined) {
        const activeFrom = since + policy.spot.fallbackAfter * 1000;
        if (snapshot.now >= activeFrom) seconds = Math.max(0, snapshot.now - Math.max(from, activeFrom)) / 1000;
      }
      added.set(policy.pool, seconds);
    }
    return added;
  }
}

/**
 * Spot interruptions, each instance once: an ended instance stays in the instance list for a while
 * (EC2 lists terminated instances for about an hour), so ids are remembered across cycles, the
 * newest `limit` of them. The first cycle only learns the interruptions already listed: a
 * restarted process does not count again what the previous one counted.
 */
export class InterruptionTally {
  private readonly seen = new Set<string>();
  private first = true;

  constructor(private readonly limit = 10_000) {}

  /** The interrupted instances not seen before. */
  observe(instances: readonly Instance[]): Instance[] {
    const fresh: Instance[] = [];
    for (const i of instances) {
      if (i.endCause !== 'spot-interruption' || this.seen.has(i.id)) continue;
      this.seen.add(i.id);
      if (!this.first) fresh.push(i);
    }
    this.first = false;
    // A Set iterates in insertion order: the oldest ids go first.
    for (const id of this.seen) {
      if (this.seen.size <= this.limit) break;
      this.seen.delete(id);
    }
    return fresh;
  }
}
