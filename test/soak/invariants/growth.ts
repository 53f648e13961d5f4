import { type ReplacementBudget, budgetOf, isCause, isReplacementCause } from '../../../src/domain/causes.js';
import type { PoolPolicy } from '../../../src/domain/policy.js';
import type { NewLaunch } from './phantom-shortfall.js';
import { type Asked, type Finding, type InstanceFact, allowance, openPairs } from './types.js';

/** Replacement pairs a policy lets fleet have in flight at once, per budget (canaries: per image and region). */
export type PairBudgets = Readonly<Record<ReplacementBudget, number>>;

/**
 * Each budget against the highest desired count the cycle could have acted on, as fleet reads it by
 * a pair's cause: turnover (outdated, lifetime), on-demand swaps, moves between spot offers
 * (rebalance, spread, recommendation), and the canaries of an image in a region, whose count is
 * against the pool's size there (never above size.max), at least one.
 */
export function pairBudgets(policy: Pick<PoolPolicy, 'freshness' | 'onDemand' | 'rebalance' | 'size'>, desiredHigh: number): PairBudgets {
  return {
    retire: allowance(policy.freshness.retireBudget, desiredHigh),
    'on-demand': allowance(policy.onDemand.replaceBudget, desiredHigh),
    move: allowance(policy.rebalance.budget, desiredHigh),
    canary: Math.max(1, allowance(policy.freshness.canary, policy.size.max)),
  };
}

export interface GrowthInput {
  readonly pool: string;
  /** live before the cycle, instances on drained images and warned ones left out */
  readonly liveBefore: number;
  /** the pool's live instances when the cycle ended */
  readonly liveAfter: readonly InstanceFact[];
  readonly asked: Asked;
  /** pairs the policy allows in flight at once, per budget (`pairBudgets`) */
  readonly budgets: PairBudgets;
  /** launch slots first sent and decided this cycle (`decidedThisCycle`): a budget is held to when a pair of its own opens */
  readonly opened?: readonly NewLaunch[];
  /**
   * Images drained by now. Instances on them are on their way out and never count (SPEC: a launch
   * whose image was drained stops counting as capacity, and the shortfall is launched at once).
   */
  readonly drained?: ReadonlySet<string>;
  /**
   * Instances EC2 has warned it will reclaim, by id. They are on their way out and never count
   * (SPEC §5 Events: a warned instance's replacement is launched at once), as on drained images.
   */
  readonly warned?: ReadonlySet<string>;
  /** instances fleet asked to terminate during the cycle: a pair one of them is in holds no budget */
  readonly terminated?: ReadonlySet<string>;
  /**
   * The cycle was cut short (a process killed in it, an exception, a takeover, a termination refused):
   * a launch may have left while the termination that closed a pair, decided with it, did not. The
   * next plan sends it again.
   */
  readonly cutShort?: boolean;
}

/**
 * fleet never grows a pool beyond what was asked: live ≤ max(live before, desired) + the
 * replacement pairs in flight; instances on drained images, and those EC2 has warned, are left out
 * on both sides. And a pair opens only within its budget: in a cycle that opened a pair, the pairs
 * in flight of that pair's budget (by its cause) are within it. Pairs opened under a larger desired
 * count may outlast it (fleet opens no more of their kind until they close), and a pair on an image
 * drained, then undrained, comes back: neither is a finding until a pair of its kind opens. Budgets
 * are not judged in a cycle cut short.
 */
export function checkGrowth(input: GrowthInput): Finding[] {
  const { pool, liveBefore, asked } = input;
  const liveAfter = input.liveAfter.filter((i) => !input.drained?.has(i.ami) && !input.warned?.has(i.id));
  const pairs = openPairs(liveAfter);
  const bound = Math.max(liveBefore, asked.high) + pairs.length;
  const findings: Finding[] = [];
  if (liveAfter.length > bound) {
    findings.push({
      invariant: 'growth',
      key: pool,
      detail: `${pool}: ${liveAfter.length} live after the cycle, more than max(${liveBefore} before, desired ${asked.high}) + ${pairs.length} pairs`,
    });
  }
  if (!input.cutShort) findings.push(...overBudget(input, pairs));
  return findings;
}

type Pair = ReturnType<typeof openPairs>[number];

/**
 * The budget a pair counts against, by its replacement's cause; undefined when none is recorded. A
 * canary's is its image's in its region: fleet tries each new image on its own canaries there (a
 * canary pair of an image since superseded, or proved, is no canary of the next one).
 */
function budgetKey(pair: Pair): string | undefined {
  const cause = isCause(pair.replacement.cause) ? pair.replacement.cause : undefined;
  if (!isReplacementCause(cause)) return undefined;
  const budget = budgetOf(cause);
  return budget === 'canary' ? `canary of ${pair.replacement.ami} in ${pair.replacement.region}` : budget;
}

/**
 * The launch slots of those first sent this cycle that fleet decided this cycle: a slot its journal
 * held when the cycle began was decided earlier (a send a killed process never got out is sent again).
 */
export function decidedThisCycle(firstSent: readonly NewLaunch[], journaledAtStart: ReadonlySet<string>): NewLaunch[] {
  return firstSent.filter((l) => !journaledAtStart.has(l.name));
}

/** In-flight pairs over the budget of a pair opened this cycle; a pair with no cause recorded counts against every budget. */
function overBudget(input: GrowthInput, all: readonly Pair[]): Finding[] {
  const leaving = input.terminated ?? new Set<string>();
  const pairs = all.filter((p) => !leaving.has(p.target.id) && !leaving.has(p.replacement.id));
  const opened = new Set((input.opened ?? []).map((l) => `${l.name} ${l.replaces}`));
  const kinds = new Set<string>();
  for (const p of pairs) {
    const kind = opened.has(`${p.replacement.name} ${p.target.id}`) ? budgetKey(p) : undefined;
    if (kind !== undefined) kinds.add(kind);
  }
  const findings: Finding[] = [];
  for (const kind of kinds) {
    const budget = input.budgets[kind.startsWith('canary') ? 'canary' : (kind as ReplacementBudget)];
    const inFlight = pairs.filter((p) => [kind, undefined].includes(budgetKey(p))).length;
    if (inFlight <= budget) continue;
    findings.push({
      invariant: 'growth',
      key: `${input.pool} pairs ${kind}`,
      detail: `${input.pool}: ${inFlight} ${kind.replace(/^(\S+)/, '$1 pairs')} in flight, budget ${budget} (one opened this cycle)`,
    });
  }
  return findings;
}
