import type { Lifecycle } from '../domain/types.js';
import { offerKey } from '../domain/types.js';
import { EPISODE_MS } from '../policy/placement.js';

type OfferRef = { lifecycle: Lifecycle; instanceType: string; az: string };

/** How long interruption episodes are remembered: longer than any horizon placement weighs them over. */
const EPISODES_KEPT_MS = 24 * 3600_000;

/**
 * What fleet learned about offers by using them, keyed capacity type : instance type : zone: those
 * that recently failed for capacity (or were interrupted), kept out of placement for a TTL, and when
 * each was interrupted lately, which placement counts against it. Held in memory: a restarted
 * service learns again.
 */
export class CapacityMemory {
  private readonly until = new Map<string, number>();
  private readonly episodes = new Map<string, number[]>();

  constructor(private readonly ttlMs: number) {}

  markUnavailable(offer: OfferRef, now: number): void {
    this.until.set(offerKey(offer), now + this.ttlMs);
  }

  /** An instance of the offer was interrupted (or warned it will be) at `at`. */
  recordInterruption(offer: OfferRef, at: number): void {
    const key = offerKey(offer);
    const times = this.episodes.get(key) ?? [];
    if (times.some((t) => Math.abs(t - at) < EPISODE_MS)) return;
    times.push(at);
    times.sort((a, b) => a - b);
    this.episodes.set(key, times);
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

  /** Interruption episodes per offer over the last day, oldest first, as the snapshot carries them. */
  interruptions(now: number): Record<string, number[]> {
    const out: Record<string, number[]> = {};
    for (const [key, times] of this.episodes) {
      const recent = times.filter((t) => t > now - EPISODES_KEPT_MS);
      if (recent.length > 0) out[key] = recent;
      else this.episodes.delete(key);
    }
    return out;
  }
}
