import type { Instance, SpotPrice } from '../domain/types.js';
import type { Page, RegionCompute, SpotPriceQuery } from './port.js';

/** Every item of a paginated listing, one call per page. */
export async function allPages<T>(fetchPage: (next?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let next: string | undefined;
  do {
    const page = await fetchPage(next);
    items.push(...page.items);
    next = page.next;
  } while (next !== undefined);
  return items;
}

/** Every instance of this fleet in the region, in any state still listed. */
export function listInstances(compute: RegionCompute, fleet: string): Promise<Instance[]> {
  return allPages((next) => compute.listInstancesPage(fleet, next));
}

export function spotPriceHistory(compute: RegionCompute, query: SpotPriceQuery): Promise<SpotPrice[]> {
  return allPages((next) => compute.spotPriceHistoryPage(query, next));
}
