import { type Asked, type Finding, type InstanceFact, openPairs } from './types.js';

export interface GrowthInput {
  readonly pool: string;
  readonly liveBefore: number;
  /** the pool's live instances when the cycle ended */
  readonly liveAfter: readonly InstanceFact[];
  readonly asked: Asked;
  /** replacement pairs the policy allows in flight at once (retireBudget + onDemand.replaceBudget) */
  readonly pairBudget: number;
}

/**
 * fleet never grows a pool beyond what was asked: live ≤ max(live before, desired) + the
 * replacement pairs in flight, and those pairs within the policy's budgets.
 */
export function checkGrowth(input: GrowthInput): Finding[] {
  const { pool, liveBefore, liveAfter, asked, pairBudget } = input;
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
    findings.push({ invariant: 'growth', key: `${pool} pairs`, detail: `${pool}: ${pairs} replacement pairs in flight, budget ${pairBudget}` });
  }
  return findings;
}
