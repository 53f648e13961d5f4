import type { Budget, PoolPolicy, ScaleDown, Spread } from '../../../src/domain/policy.js';
import { type Finding, type InstanceFact, openPairs } from './types.js';

/** What the judge knows of one cycle of a pool, to tell whether fleet could have acted on its spread. */
export interface CycleQuiet {
  readonly live: number;
  readonly desired: number;
  /** a replica ran a whole cycle (one that stopped early, or was killed, could not act on the spread) */
  readonly acted: boolean;
  /** fleet sent a launch for the pool */
  readonly launched: boolean;
  /** fleet's journal holds a launch of the pool when the cycle ends */
  readonly journaled: boolean;
  /** the pool's spot offers may have been closed to fleet for want of an on-demand price (`spotUnpriced`) */
  readonly unpriced: boolean;
}

/**
 * A quiet cycle, towards a settled pool: fleet ran a whole cycle, launched nothing for the pool, and
 * the cloud shows it at desired. Nor is it quiet while the pool's spot offers may have been closed
 * to fleet (no spot offer is open then, whatever the cloud's), or while fleet's journal holds a launch
 * of the pool: that counts as capacity until it is seen or times out (SPEC), so a pool the cloud shows
 * whole may be above desired to fleet, which moves nothing then.
 */
export function quietCycle(c: CycleQuiet): boolean {
  return c.acted && !c.launched && !c.journaled && !c.unpriced && c.live === c.desired;
}

export interface SpreadInput {
  readonly pool: string;
  readonly spread: Spread;
  readonly scaleDown: ScaleDown;
  readonly desired: number;
  readonly live: readonly InstanceFact[];
  /** no launch for a while, and live == desired throughout */
  readonly settled: boolean;
  /** how many of the pool's offers could take a spot launch now */
  readonly offers: number;
  /** the pool's size.max: a pool at it has no room to move an instance launch first */
  readonly max: number;
  /** live instances taking room, those asked to leave too (they hold it until they end); `live` by default */
  readonly occupying?: number;
  /** slot names a desired copy fleet could have read reported busy: spread repair never moves those */
  readonly busy?: ReadonlySet<string>;
  /**
   * Workers asked to leave for a move (rebalance, spread, recommendation) and still live: each holds
   * the move budget until it is gone (docs/work.md), which a repair move needs too.
   */
  readonly movesAsked?: number;
  /** moves the policy lets fleet have in flight at once (`rebalance.budget` against desired) */
  readonly moveBudget?: number;
}

/**
 * Most instances one offer may hold: the policy's share of the desired size, at least one, and at
 * least an even share over the offers open now (SPEC: a spread the open offers cannot honour would
 * leave the pool short).
 */
export function spreadLimit(spread: Budget, desired: number, offers: number): number {
  const share = spread.kind === 'count' ? spread.value : Math.ceil((spread.value / 100) * desired);
  return Math.max(1, share, Math.ceil(desired / Math.max(1, offers)));
}

/**
 * Spread is respected once settled: no offer (zone × instance type) holds more than the spread cap,
 * a replaced instance and its replacement counting once. Pools whose workers leave by themselves
 * (`scaleDown: none`) are not held to it: fleet cannot choose who leaves. Nor a pool at its size.max,
 * or whose live instances fill it (a worker asked to leave holds its room until it ends): a crowded
 * offer (filled while others were out) is left launch first, which takes room. Nor a pool whose
 * move budget is held by workers asked to leave for a move, finishing their jobs. Nor an
 * automatic spread: it yields to price, which the cloud's view alone cannot judge.
 */
export function checkSpread(input: SpreadInput): Finding[] {
  const room = input.max - (input.occupying ?? input.live.length);
  if (
    input.spread.auto ||
    !input.settled ||
    input.scaleDown !== 'terminate' ||
    input.desired === 0 ||
    input.desired >= input.max ||
    room <= 0 ||
    (input.movesAsked ?? 0) >= (input.moveBudget ?? Number.POSITIVE_INFINITY)
  )
    return [];
  const replacedTargets = new Set(openPairs(input.live).map((p) => p.target.id));
  const perOffer = new Map<string, number>();
  const idleIn = new Set<string>();
  for (const i of input.live) {
    if (replacedTargets.has(i.id)) continue;
    const offer = `${i.az}/${i.instanceType}`;
    perOffer.set(offer, (perOffer.get(offer) ?? 0) + 1);
    if (!input.busy?.has(i.name ?? '')) idleIn.add(offer);
  }
  const cap = spreadLimit(input.spread, input.desired, input.offers);
  // An offer crowded with busy workers only waits for one to be idle.
  const crowded = [...perOffer].filter(([offer, n]) => n > cap && idleIn.has(offer)).sort((a, b) => b[1] - a[1]);
  if (crowded.length === 0) return [];
  const [offer, n] = crowded[0] as [string, number];
  return [
    {
      invariant: 'spread',
      key: input.pool,
      detail: `${input.pool}: ${n} of ${input.live.length} live in ${offer}, spread cap ${cap} (desired ${input.desired}, spread ${describe(input.spread)}, ${input.offers} offers open)`,
    },
  ];
}

function describe(b: Budget): string {
  return b.kind === 'count' ? String(b.value) : `${b.value}%`;
}

/**
 * How long after a failed Price List call fleet may still lack on-demand prices: a process asks again
 * only after 15 minutes (src/service/price-cache.ts), and one that started in the outage has none.
 */
export const LIST_PRICE_GAP_MS = 16 * 60_000;

/**
 * Whether fleet may have had no spot offer to launch in at `now`: the pool's spot max price is a share
 * of the on-demand price, the policy names no `onDemandPrice`, and the Price List API failed lately
 * (SPEC: such offers are skipped). The spread cannot be repaired then; only on-demand can launch.
 */
export function spotUnpriced(
  policy: { readonly spot: Pick<PoolPolicy['spot'], 'maxPrice'>; readonly onDemandPrice?: number },
  listPriceFailedAt: number,
  now: number,
): boolean {
  const max = policy.spot.maxPrice;
  const needsListPrice = max.kind === 'percent' && max.value < 100 && policy.onDemandPrice === undefined;
  return needsListPrice && now - listPriceFailedAt < LIST_PRICE_GAP_MS;
}
