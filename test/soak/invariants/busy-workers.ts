import type { Budget } from '../../../src/domain/policy.js';
import { type Finding, type InstanceFact, allowance, openPairs } from './types.js';

/** A TerminateInstances of one worker: when it left fleet, and what the worker was then. */
export interface WorkerEnd {
  readonly t: number;
  readonly id: string;
  readonly name: string;
  readonly ami: string;
  /** its `fleet:retire` deadline when it was terminated (epoch ms), if it had one */
  readonly retireAt?: number;
}

/**
 * What the desired copies fleet could have read say of a pool's busy workers: `surely`, the names
 * every copy lists (a copy with no list for the pool leaves none sure: fleet then knew of no busy
 * worker); `maybe`, the names any copy lists.
 */
export function reportedBusy(
  copies: readonly Readonly<Record<string, readonly string[]>>[],
  pool: string,
): { surely: Set<string>; maybe: Set<string> } {
  const lists = copies.map((c) => new Set(c[pool] ?? []));
  const maybe = new Set(lists.flatMap((l) => [...l]));
  return { surely: new Set([...maybe].filter((name) => lists.every((l) => l.has(name)))), maybe };
}

/**
 * No termination by fleet of a worker the desired document in force reported busy, before its
 * `fleet:retire` deadline, unless its image was drained. `busyAt(t)`: slot names the document in
 * force at t reported busy; `drainedAt(t)`: the drained images then.
 */
export function checkBusyTerminations(
  ends: readonly WorkerEnd[],
  busyAt: (t: number) => ReadonlySet<string>,
  drainedAt: (t: number) => ReadonlySet<string>,
): Finding[] {
  return ends
    .filter((e) => busyAt(e.t).has(e.name) && !drainedAt(e.t).has(e.ami) && (e.retireAt === undefined || e.t < e.retireAt))
    .map((e) => ({
      invariant: 'no-busy-termination',
      detail: `${e.id} (${e.name}) terminated while reported busy, ${e.retireAt === undefined ? 'never asked to leave' : `before its deadline ${new Date(e.retireAt).toISOString()}`}`,
    }));
}

/** One pool's replacements of one budget as a cycle left them: workers asked to leave for it, and open pairs whose target is not asked yet. */
export interface RetireBudgetUse {
  readonly pool: string;
  readonly budgetName: string;
  readonly budget: Budget;
  /** the highest desired size fleet could have planned with */
  readonly desired: number;
  readonly asked: number;
  readonly pairs: number;
  /** asked and pairs as the cycle began */
  readonly heldBefore: number;
  /** whether the cycle asked a worker to leave for this budget */
  readonly askedNow: boolean;
}

/**
 * What one budget holds among a pool's live instances: workers asked to leave for one of its causes,
 * and open pairs of its causes whose target is not asked (a pair whose target is asked has become
 * that request). A replacement on a drained image closes its pair. An instance EC2 warned it will
 * reclaim holds nothing: its end is EC2's, whatever fleet asked of it.
 */
export function heldForBudget(
  live: readonly InstanceFact[],
  causes: readonly string[],
  drained: ReadonlySet<string>,
  warned: ReadonlySet<string>,
): { asked: number; pairs: number } {
  const holding = live.filter((i) => !warned.has(i.id));
  const asked = holding.filter((i) => i.retireAt !== undefined && causes.includes(i.retireCause ?? '')).length;
  const pairs = openPairs(holding.filter((i) => !drained.has(i.ami))).filter(
    (pair) => pair.target.retireAt === undefined && causes.includes(pair.replacement.cause ?? ''),
  ).length;
  return { asked, pairs };
}

/**
 * Requests to leave stay within the budgets their replacements had: a cycle that asks never leaves
 * more in flight than the budget. Asking the target of a pair in flight only turns the pair into a
 * request, so a budget that shrank with desired is not exceeded by it: what was held before bounds too.
 */
export function checkRetireBudget(uses: readonly RetireBudgetUse[]): Finding[] {
  return uses
    .filter((u) => u.askedNow && u.asked + u.pairs > Math.max(u.heldBefore, allowance(u.budget, u.desired)))
    .map((u) => ({
      invariant: 'retire-within-budget',
      detail: `${u.pool}: ${u.asked} asked to leave and ${u.pairs} pair(s) in flight for ${u.budgetName}, budget ${allowance(u.budget, u.desired)} of ${u.desired}`,
      key: `${u.pool} ${u.budgetName}`,
    }));
}
