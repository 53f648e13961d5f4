import { groupBy } from '../domain/group-by.js';
import type { Instance } from '../domain/types.js';

/**
 * Order in which surplus instances leave: on-demand first, then by `rank` (lower first: e.g. those on
 * an outdated image, then those crowding an offer past the spread cap), then the most expensive per
 * unit of weight (unknown prices last), then the newest. Rank and price are looked up once per
 * instance, not once per comparison.
 */
export function terminationOrder(instances: readonly Instance[], unitPrice: (i: Instance) => number | undefined, rank: (i: Instance) => number = () => 0): Instance[] {
  const keyed = instances.map((instance): LeaveKeys => ({ instance, rank: rank(instance), price: unitPrice(instance) ?? Number.NEGATIVE_INFINITY }));
  return keyed.sort(leavesFirst).map((k) => k.instance);
}

/** What the termination order compares, computed once per instance. */
interface LeaveKeys {
  readonly instance: Instance;
  readonly rank: number;
  /** per unit of weight; unknown is -Infinity, so it leaves last */
  readonly price: number;
}

function leavesFirst(a: LeaveKeys, b: LeaveKeys): number {
  if (a.instance.lifecycle !== b.instance.lifecycle) return a.instance.lifecycle === 'on-demand' ? -1 : 1;
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.price !== b.price) return b.price - a.price;
  return b.instance.launchTime - a.instance.launchTime || a.instance.id.localeCompare(b.instance.id);
}

/**
 * Which of `candidates` to terminate to remove `excess` instances, in termination order.
 * Running capacity never drops below the desired count: `spareRunning` is how many running
 * instances can go; when the next one in order is running and none can be spared (its
 * replacement is still pending), the walk stops and waits for a later cycle.
 */
export function chooseSurplus(
  candidates: readonly Instance[],
  excess: number,
  spareRunning: number,
  unitPrice: (i: Instance) => number | undefined,
  rank: (i: Instance) => number = () => 0,
): Instance[] {
  const chosen: Instance[] = [];
  for (const instance of terminationOrder(candidates, unitPrice, rank)) {
    if (excess <= 0) break;
    if (instance.state === 'running') {
      if (spareRunning <= 0) break;
      spareRunning--;
    }
    chosen.push(instance);
    excess--;
  }
  return chosen;
}

/**
 * The instances that crowd their offer past the spread cap: in each offer holding more than `cap`,
 * the ones that would leave first by the usual order. Scale-down takes them first, so a pool that
 * shrinks also spreads again.
 */
export function crowdingInstances(instances: readonly Instance[], occupancy: ReadonlyMap<string, number>, cap: number, offerOf: (i: Instance) => string, unitPrice: (i: Instance) => number | undefined): Set<string> {
  const crowding = new Set<string>();
  for (const group of groupBy(instances, offerOf).values()) {
    const excess = (occupancy.get(offerOf(group[0] as Instance)) ?? group.length) - cap;
    if (excess <= 0) continue;
    for (const i of terminationOrder(group, unitPrice).slice(0, excess)) crowding.add(i.id);
  }
  return crowding;
}
