import type { Lifecycle } from '../domain/types.js';
import { offerKey } from '../domain/types.js';

/**
 * Offers that recently failed for capacity (or were interrupted), kept out of placement for a TTL,
 * keyed capacity type : instance type : zone.
 */
export class CapacityMemory {
  private readonly until = new Map<string, number>();

  constructor(private readonly ttlMs: number) {}

  markUnavailable(offer: { lifecycle: Lifecycle; instanceType: string; az: string }, now: number): void {
    this.until.set(offerKey(offer), now + this.ttlMs);
  }

  /** Offers still kept out at `now`, as the snapshot carries them. */
  active(now: number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [key, until] of this.until) {
      if (until > now) out[key] = until;
      else this.until.delete(key);
    }
    return out;
  }
}
