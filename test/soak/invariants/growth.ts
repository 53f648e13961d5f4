import { type Asked, type Finding, type InstanceFact, openPairs } from './types.js';

export interface GrowthInput {
  readonly pool: string;
  /** live before the cycle, instances on drained images and warned ones left out */
  readonly liveBefore: number;
  /** the pool's live instances when the cycle ended */
  readonly liveAfter: readonly InstanceFact[];
  readonly asked: Asked;
  /** replacement pairs the policy allows in flight at once (retire, on-demand replacement, rebalance budgets and canaries) */
  readonly pairBudget: number;
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
}

/**
 * fleet never grows a pool beyond what was asked: live ≤ max(live before, desired) + the
 * replacement pairs in flight, and those pairs within the policy's budgets; instances on drained
 * images, and those EC2 has warned, are left out on both sides.
 */
export function checkGrowth(input: GrowthInput): Finding[] {
  const { pool, liveBefore, asked, pairBudget } = input;
  const liveAfter = input.liveAfter.filter((i) => !input.drained?.has(i.ami) && !input.warned?.has(i.id));
  const pairs = openPairs(liveAfter).length;
  const bound = Math.max(liveBefore, asked.high) + pairs;
  const findings: Finding[] = [];
  if (liveAfter.length > bound) {
    findings.push({
      invariant: 'growth',
      key: pool,
      detail: `${pool}: ${liveAfter.length} live after the cycle, more than max(${liveBefore} before, desired ${asked.high}) + ${pairs} pairs`,
    });
  }
  if (pairs > pairBudget) {
    findings.push({
      invariant: 'growth',
      key: `${pool} pairs`,
      detail: `${pool}: ${pairs} replacement pairs in flight, budget ${pairBudget}`,
    });
  }
  return findings;
}
