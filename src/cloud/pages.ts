import type { Instance, SpotPrice } from '../domain/types.js';
import { CloudError } from './errors.js';
import type { Page, RegionCompute, SpotPriceQuery } from './port.js';

/**
 * Every item of a paginated listing, one call per page. A page token that comes back a second time
 * would loop for ever: the listing stops with an error instead (a listing that is not whole is no listing).
 */
export async function allPages<T>(fetchPage: (next?: string) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  const seen = new Set<string>();
  let next: string | undefined;
  do {
    const page = await fetchPage(next);
    items.push(...page.items);
    next = page.next;
    if (next !== undefined && seen.has(next))
      throw new CloudError(
        'invalid',
        'RepeatedPageToken',
        `a listing returned the same page token twice after ${seen.size} page(s): stopped`,
      );
    if (next !== undefined) seen.add(next);
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
