import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import { type Lifecycle, LIFECYCLES, isLive } from '../domain/types.js';
import { PriceBook } from '../policy/prices.js';

/** What a pool's live instances cost now, priced as `fleet status` prices them. */
export interface PoolCost {
  readonly pool: string;
  /** dollars per hour of the live instances of each lifecycle; undefined when a price is unknown */
  readonly perHour: Readonly<Record<Lifecycle, number | undefined>>;
  /** dollars per hour the same instances would cost on demand; undefined when a price is unknown */
  readonly onDemandEquivalent: number | undefined;
}

/**
 * Every pool with a policy or a live instance. A figure with any unknown price in it is undefined,
 * never a partial sum: a dashboard must not show a guess as a cost.
 */
export function poolCosts(snapshot: Snapshot, policies: readonly PoolPolicy[]): PoolCost[] {
  const prices = new PriceBook(snapshot.spotPrices, snapshot.onDemandPrices);
  const byPool = new Map(policies.map((p) => [p.pool, p]));
  const live = snapshot.instances.filter(isLive);
  const pools = [...new Set([...byPool.keys(), ...live.map((i) => i.pool)])].sort();
  return pools.map((pool) => {
    const policy = byPool.get(pool);
    const instances = live.filter((i) => i.pool === pool);
    const sum = (values: readonly (number | undefined)[]) =>
      values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v as number), 0);
    const perHour = Object.fromEntries(
      LIFECYCLES.map((lifecycle) => [
        lifecycle,
        sum(
          instances
            .filter((i) => i.lifecycle === lifecycle)
            .map((i) => (policy ? prices.price(policy, lifecycle, i.region, i.az, i.instanceType) : undefined)),
        ),
      ]),
    ) as Record<Lifecycle, number | undefined>;
    const onDemandEquivalent = sum(instances.map((i) => (policy ? prices.onDemand(policy, i.region, i.instanceType) : undefined)));
    return { pool, perHour, onDemandEquivalent };
  });
}

/** 1 - cost / on-demand cost; undefined when a price is unknown or the pool has no instance. */
export function savingsRatio(cost: PoolCost): number | undefined {
  const spent = LIFECYCLES.reduce<number | undefined>(
    (total, l) => (total === undefined || cost.perHour[l] === undefined ? undefined : total + cost.perHour[l]),
    0,
  );
  if (spent === undefined || cost.onDemandEquivalent === undefined || cost.onDemandEquivalent <= 0) return undefined;
  return 1 - spent / cost.onDemandEquivalent;
}
