import type { Lookup } from '../domain/lookup.js';
import type { Instance } from '../domain/types.js';
import { spreadKey } from './placement.js';

/**
 * Order in which surplus instances leave: idle ones before `busy` ones (running a job), on-demand first, then by `rank` (lower first: e.g. those on
 * an outdated image, then those crowding an offer past the spread cap; 0 for one it does not hold),
 * then the most expensive per unit of weight (unknown prices last), then the newest. Rank and price
 * are looked up once per instance, not once per comparison.
 */
export function terminationOrder(
  instances: readonly Instance[],
  unitPrice: Lookup<Instance, number | undefined>,
  rank?: Lookup<Instance, number | undefined>,
  busy?: ReadonlySet<Instance>,
): Instance[] {
  const keyed: LeaveKeys[] = [];
  for (const instance of instances)
    keyed.push({
      instance,
      busy: busy?.has(instance) ?? false,
      rank: rank?.get(instance) ?? 0,
      price: unitPrice.get(instance) ?? Number.NEGATIVE_INFINITY,
    });
  keyed.sort(leavesFirst);
  const order: Instance[] = [];
  for (const k of keyed) order.push(k.instance);
  return order;
}

/** What the termination order compares, computed once per instance. */
interface LeaveKeys {
  readonly instance: Instance;
  /** running a job, as the CI reports: leaves after every idle one */
  readonly busy: boolean;
  readonly rank: number;
  /** per unit of weight; unknown is -Infinity, so it leaves last */
  readonly price: number;
}

function leavesFirst(a: LeaveKeys, b: LeaveKeys): number {
  if (a.busy !== b.busy) return a.busy ? 1 : -1;
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
  unitPrice: Lookup<Instance, number | undefined>,
  rank?: Lookup<Instance, number | undefined>,
  busy?: ReadonlySet<Instance>,
): Instance[] {
  const chosen: Instance[] = [];
  for (const instance of terminationOrder(candidates, unitPrice, rank, busy)) {
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
 * the ones that would leave first by the usual order (by `rank` first, where given). Scale-down takes
 * them first, so a pool that shrinks also spreads again. `offerOf` holds an instance's offer (zone ×
 * type) where it is known.
 */
export function crowdingInstances(
  instances: readonly Instance[],
  occupancy: ReadonlyMap<string, number>,
  cap: number,
  offerOf: ReadonlyMap<Instance, string>,
  unitPrice: Lookup<Instance, number | undefined>,
  rank?: Lookup<Instance, number | undefined>,
): Set<string> {
  const crowding = new Set<string>();
  const byOffer = new Map<string, Instance[]>();
  for (const i of instances) {
    const offer = offerOf.get(i) ?? spreadKey(i);
    const group = byOffer.get(offer);
    if (group) group.push(i);
    else byOffer.set(offer, [i]);
  }
  for (const [offer, group] of byOffer) {
    const excess = (occupancy.get(offer) ?? group.length) - cap;
    if (excess <= 0) continue;
    for (const i of terminationOrder(group, unitPrice, rank).slice(0, excess)) crowding.add(i.id);
  }
  return crowding;
}
