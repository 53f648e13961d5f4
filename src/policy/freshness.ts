import { createHash } from 'node:crypto';
import type { PoolPolicy } from '../domain/policy.js';
import { groupBy } from '../domain/group-by.js';
import type { Instance } from '../domain/types.js';

/** A stable number in [0, 1) per instance, so retirements spread without randomness. */
export function spreadFraction(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * When an instance on an outdated AMI is due for retirement: once the image it should run has been
 * published for the grace period. The retire budget then spreads the turnover (so many pairs in
 * flight at a time, each waiting for its replacement to bake).
 */
export function retirementDueAt(currentImageCreated: number, graceSeconds: number): number {
  return currentImageCreated + graceSeconds * 1000;
}

export interface GuardTrip {
  readonly ami: string;
  readonly pool: string;
  readonly region: string;
  readonly failures: number;
  /** the instances whose early end tripped it */
  readonly instances: readonly string[];
  readonly reason: string;
}

const ENDED = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

export interface GuardInput {
  readonly policy: PoolPolicy;
  readonly region: string;
  /** the images the guard watches here: those fleet launches now */
  readonly watched: ReadonlySet<string>;
  /** this pool's instances in the region, every state, with end times (see observe's dateEnds) */
  readonly instances: readonly Instance[];
  readonly terminatedByFleet: ReadonlySet<string>;
  /** AMI → epoch ms of its last undrain */
  readonly undrainedAt: Readonly<Record<string, number>>;
  readonly now: number;
}

/**
 * The launch guard: when `failures` instances launched from an image fleet launches ended within
 * `window` seconds of their launch, by anything but fleet, and those ends all fall within the last
 * `window` seconds (and after the image's last undrain), the image is bad and is drained. Spot
 * interruptions are the market's doing, not the image's, and never count.
 */
export function guardTrips(input: GuardInput): GuardTrip[] {
  const { policy, now } = input;
  const { window, failures } = policy.freshness.guard;
  const windowMs = window * 1000;
  const early = input.instances.filter((i) => {
    if (!input.watched.has(i.ami) || !ENDED.has(i.state) || i.endedAt === undefined) return false;
    if (i.endCause === 'spot-interruption' || input.terminatedByFleet.has(i.id)) return false;
    return i.endedAt - i.launchTime <= windowMs && now - i.endedAt <= windowMs && i.endedAt > (input.undrainedAt[i.ami] ?? Number.NEGATIVE_INFINITY);
  });
  const trips: GuardTrip[] = [];
  for (const [ami, failed] of groupBy(early, (i) => i.ami)) {
    if (failed.length < failures) continue;
    const ids = failed.map((i) => i.id).sort();
    trips.push({
      ami,
      pool: policy.pool,
      region: input.region,
      failures: failed.length,
      instances: ids,
      reason: `guard: ${failed.length} instances of ${policy.pool} on ${ami} ended within ${window}s of launch (${ids.join(', ')})`,
    });
  }
  return trips;
}
