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
): Instance[] {
  const chosen: Instance[] = [];
  for (const instance of terminationOrder(candidates, unitPrice)) {
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
