// What the soak's invariant checkers read: the simulated cloud's own view of instances and calls,
// reduced to plain data so that each checker is a small pure function with its own tests.

import type { Budget } from '../../../src/domain/policy.js';
import type { InstanceState } from '../../../src/domain/types.js';

/** An instance as the simulated EC2 holds it (tags included), fleet's or anyone's. */
export interface InstanceFact {
  readonly id: string;
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly ami: string;
  readonly state: InstanceState;
  /** tag fleet:managed-by */
  readonly managedBy?: string;
  /** tag fleet:pool */
  readonly pool?: string;
  /** tag Name */
  readonly name?: string;
  /** tag fleet:replaces */
  readonly replaces?: string;
  /** tag fleet:cause: why fleet launched it */
  readonly cause?: string;
  /** tag fleet:retire: the deadline fleet asked it to leave by (epoch ms) */
  readonly retireAt?: number;
  /** tag fleet:retire-cause */
  readonly retireCause?: string;
}

/** One finding of a checker. `key` names a condition that may last: the same key on consecutive cycles is one occurrence. */
export interface Finding {
  readonly invariant: string;
  readonly detail: string;
  readonly key?: string;
}

export function isLiveState(state: InstanceState): boolean {
  return state === 'pending' || state === 'running';
}

/** The live instances of one pool of one fleet. */
export function livePool(instances: readonly InstanceFact[], fleet: string, pool: string): InstanceFact[] {
  return instances.filter((i) => i.managedBy === fleet && i.pool === pool && isLiveState(i.state));
}

/** Replacement pairs in flight: live instances tagged fleet:replaces whose target is live too. */
export function openPairs(live: readonly InstanceFact[]): { readonly replacement: InstanceFact; readonly target: InstanceFact }[] {
  const byId = new Map(live.map((i) => [i.id, i]));
  return live.flatMap((replacement) => {
    const target = replacement.replaces !== undefined ? byId.get(replacement.replaces) : undefined;
    return target ? [{ replacement, target }] : [];
  });
}

/** The desired count a cycle may have acted on: every copy fleet could have been using, lowest and highest. */
export interface Asked {
  readonly low: number;
  readonly high: number;
}

// The judge restates the few rules it needs rather than calling the code it judges.

/** A pool's desired size as the specification defines it: its count clamped to [min, max], min when missing. */
export function clampedDesired(
  policy: { readonly pool: string; readonly size: { readonly min: number; readonly max: number } },
  counts: Readonly<Record<string, number>>,
): number {
  return Math.min(policy.size.max, Math.max(policy.size.min, Math.floor(counts[policy.pool] ?? policy.size.min)));
}

/** A budget against a pool size: a count, or a share of the size (at least one of a non-empty pool). */
export function allowance(budget: Budget, size: number): number {
  if (budget.kind === 'count') return budget.value;
  return size <= 0 || budget.value <= 0 ? 0 : Math.max(1, Math.floor((budget.value / 100) * size));
}
