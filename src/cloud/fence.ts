import type { Clock } from '../domain/clock.js';
import { CloudError } from './errors.js';

/**
 * Whether this replica may change the cloud right now: the leader lease seen from the call site.
 * Every mutating call asks it just before it is sent (each retry too), so no call and no retry
 * outlives the lease; a call still in flight when the lease runs out is abandoned.
 */
export interface Fence {
  holds(): boolean;
  /** Milliseconds this replica may still act for; 0 when it may not. */
  remainingMs(): number;
}

/** For operator commands (drain --now, amis prune): they act on an operator's word, not a lease. */
export const OPEN_FENCE: Fence = { holds: () => true, remainingMs: () => Number.POSITIVE_INFINITY };

export function leaseLost(what: string): CloudError {
  return new CloudError('fenced', 'LeaseLost', `not sent: this replica no longer holds the leader lease (${what})`);
}

/**
 * Run a mutating call under the fence: refused before it is sent when the lease is gone, and abandoned
 * (its request aborted) if it is still running when the lease runs out.
 */
export async function underFence<T>(fence: Fence, clock: Clock, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (!fence.holds()) throw leaseLost(what);
  const remaining = fence.remainingMs();
  const request = new AbortController();
  if (!Number.isFinite(remaining)) return call(request.signal);
  const deadline = new AbortController();
  const expired = clock.sleep(remaining, deadline.signal).then(() => {
    if (deadline.signal.aborted) return undefined;
    request.abort();
    throw leaseLost(`${what} was still running when the lease ran out`);
  });
  try {
    return await Promise.race([call(request.signal), expired as Promise<never>]);
  } finally {
    deadline.abort();
  }
}
