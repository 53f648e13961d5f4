import type { PoolDemand } from '../domain/demand.js';

/**
 * A pool's desired count from what the desired document says about it, before clamping to the
 * policy's size: a count is used as given; queue facts alone ask for one worker per pending or
 * running job (the default for a pool with no demand policy).
 */
export function desiredFromDemand(demand: PoolDemand): number {
  if (demand.desired !== undefined) return demand.desired;
  return (demand.pending ?? 0) + (demand.running ?? 0);
}
