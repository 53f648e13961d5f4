import type { Instance } from '../domain/types.js';

/**
 * Order in which surplus instances leave: on-demand first, then the most expensive per unit
 * of weight (unknown prices last), then the newest.
 */
export function terminationOrder(instances: readonly Instance[], unitPrice: (i: Instance) => number | undefined): Instance[] {
  return [...instances].sort((a, b) => {
    if (a.lifecycle !== b.lifecycle) return a.lifecycle === 'on-demand' ? -1 : 1;
    const pa = unitPrice(a) ?? Number.NEGATIVE_INFINITY;
    const pb = unitPrice(b) ?? Number.NEGATIVE_INFINITY;
    if (pa !== pb) return pb - pa;
    return b.launchTime - a.launchTime || a.id.localeCompare(b.id);
  });
}

/**
 * Which live instances to terminate so the pool comes down to `desired`.
 * `liveCount` also counts launches not yet visible. Running capacity never drops below the
 * desired count: when the next instance in order is running and no running one can be spared
 * (its replacement is still pending), the walk stops and waits for a later cycle.
 */
export function chooseSurplus(
  live: readonly Instance[],
  liveCount: number,
  desired: number,
  unitPrice: (i: Instance) => number | undefined,
): Instance[] {
  let excess = liveCount - desired;
  let spareRunning = live.filter((i) => i.state === 'running').length - desired;
  const chosen: Instance[] = [];
  for (const instance of terminationOrder(live, unitPrice)) {
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
