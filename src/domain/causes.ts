// Why fleet launches or terminates an instance, as a value: what budgets, metrics and the simulator
// count by. The human `reason` of an action says the same in words, with the particulars.

export const CAUSES = [
  /** a launch for a pool short of its desired size */
  'scale-up',
  /** a termination of a lasting surplus (terminate-mode pools) */
  'scale-down',
  /** a termination of an instance on an image drained by an operator */
  'drain',
  /** a termination of an instance on an image the launch guard drained */
  'guard',
  /** a replacement of an instance on an outdated image, and the replaced instance's end */
  'outdated',
  /** a launch of a new image on trial, as a replacement or into an empty region, and the replaced instance's end */
  'canary',
  /** a spot replacement of an on-demand instance, and the replaced instance's end */
  'on-demand-swap',
  /** a move to a cheaper spot offer, and the moved instance's end */
  'rebalance',
  /** a move out of an offer that holds more than its share of the pool, and the moved instance's end */
  'spread',
  /** a replacement of a spot instance EC2 warned it will interrupt */
  'warning',
  /** a move of a spot instance EC2 recommends rebalancing, and the moved instance's end */
  'recommendation',
  /** a re-send of a journaled launch whose answer never came */
  'resume',
  /** an on-demand launch once spot has fallen short for `spot.fallbackAfter` */
  'fallback',
  /** a replacement of an instance older than `maxLifetime`, and the replaced instance's end */
  'lifetime',
] as const;

export type Cause = (typeof CAUSES)[number];

const known: ReadonlySet<string> = new Set(CAUSES);

export function isCause(value: unknown): value is Cause {
  return typeof value === 'string' && known.has(value);
}

/** The causes of a replacement pair: the replaced instance leaves with its replacement's cause. */
export const REPLACEMENT_CAUSES = [
  'outdated',
  'canary',
  'on-demand-swap',
  'rebalance',
  'spread',
  'recommendation',
  'lifetime',
] as const satisfies readonly Cause[];

export type ReplacementCause = (typeof REPLACEMENT_CAUSES)[number];

const replacements: ReadonlySet<string> = new Set(REPLACEMENT_CAUSES);

export function isReplacementCause(cause: Cause | undefined): cause is ReplacementCause {
  return cause !== undefined && replacements.has(cause);
}

/** Which of a pool's replacement budgets a replacement in flight counts against (canaries: their own count, per region). */
export type ReplacementBudget = 'retire' | 'on-demand' | 'move' | 'canary';

export function budgetOf(cause: ReplacementCause): ReplacementBudget {
  switch (cause) {
    case 'outdated':
    case 'lifetime':
      return 'retire';
    case 'on-demand-swap':
      return 'on-demand';
    case 'canary':
      return 'canary';
    case 'rebalance':
    case 'spread':
    case 'recommendation':
      return 'move';
  }
}
