// Launches and ends of workers by cause, over a simulated run: fleet's own by the cause of the action
// that launched or ended them, the rest by how EC2 says they ended (`spot-interruption` for the market's).

import { endCauseOf } from '../cloud/state-reason.js';
import type { Cause } from '../domain/causes.js';
import type { Outcome } from '../domain/outcome.js';
import type { EndCause } from '../domain/types.js';
import type { SimInstance } from '../fake-cloud/world.js';

/** Why a worker ended: fleet's cause when fleet ended it, else EC2's. */
export type EndKey = Cause | EndCause;

export interface CauseCounts {
  readonly launched: Readonly<Partial<Record<Cause, number>>>;
  readonly ended: Readonly<Partial<Record<EndKey, number>>>;
}

export class CauseTally {
  /** pool → cause → launches the cloud made */
  private readonly launches = new Map<string, Partial<Record<Cause, number>>>();
  /** instance id → the cause of fleet's termination of it */
  private readonly terminated = new Map<string, Cause>();

  /** What one cycle carried out. */
  observe(outcomes: readonly Outcome[]): void {
    for (const o of outcomes) {
      for (const l of o.launches) if (l.instance && !l.failure) bump(this.launchesOf(l.action.pool), l.action.cause);
      for (const t of o.terminations) if (t.terminated && !t.failure) this.terminated.set(t.action.instanceId, t.action.cause);
      // A worker asked to leave ends by fleet's cause, whether it powers itself off or fleet ends it.
      for (const r of o.retirements ?? []) if (r.asked) this.terminated.set(r.action.instanceId, r.action.cause);
    }
  }

  /** One pool's counts, its ended workers read from the cloud. */
  counts(pool: string, instances: readonly SimInstance[]): CauseCounts {
    const ended: Partial<Record<EndKey, number>> = {};
    for (const i of instances) {
      if (i.state === 'pending' || i.state === 'running') continue;
      const cause = this.terminated.get(i.id) ?? endCauseOf(i.stateReason);
      if (cause) bump(ended, cause);
    }
    return { launched: sorted(this.launches.get(pool) ?? {}), ended: sorted(ended) };
  }

  private launchesOf(pool: string): Partial<Record<Cause, number>> {
    let counts = this.launches.get(pool);
    if (!counts) this.launches.set(pool, (counts = {}));
    return counts;
  }
}

/** The sum of several pools' counts. */
export function totalCounts(all: readonly CauseCounts[]): CauseCounts {
  const launched: Partial<Record<Cause, number>> = {};
  const ended: Partial<Record<EndKey, number>> = {};
  for (const c of all) {
    for (const [cause, n] of Object.entries(c.launched) as [Cause, number][]) bump(launched, cause, n);
    for (const [cause, n] of Object.entries(c.ended) as [EndKey, number][]) bump(ended, cause, n);
  }
  return { launched: sorted(launched), ended: sorted(ended) };
}

/** "scale-up 12, outdated 3" */
export function countsText(counts: Readonly<Partial<Record<string, number>>>): string {
  return (
    Object.entries(counts)
      .map(([cause, n]) => `${cause} ${n}`)
      .join(', ') || 'none'
  );
}

function bump<K extends string>(counts: Partial<Record<K, number>>, key: K, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

function sorted<K extends string>(counts: Partial<Record<K, number>>): Partial<Record<K, number>> {
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))) as Partial<Record<K, number>>;
}
