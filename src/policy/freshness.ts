import { createHash } from 'node:crypto';
import type { PoolPolicy } from '../domain/policy.js';
import { groupBy } from '../domain/group-by.js';
import type { Instance } from '../domain/types.js';
import type { ImageIndex } from './images.js';

/** A stable number in [0, 1) per instance, so retirements spread without randomness. */
export function spreadFraction(id: string): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * When an instance on an outdated AMI is due for retirement: the grace period after the current
 * image appeared, then spread over one more grace window, so that a new image does not retire a
 * whole pool in the same minute.
 */
export function retirementDueAt(instanceId: string, currentImageCreated: number, graceSeconds: number): number {
  return currentImageCreated + graceSeconds * 1000 * (1 + spreadFraction(instanceId));
}

export interface GuardTrip {
  readonly ami: string;
  readonly pool: string;
  readonly region: string;
  readonly failures: number;
  readonly reason: string;
}

const ENDED = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

/**
 * The launch guard: when `failures` instances launched from a pool's current AMI ended within
 * `window` seconds of their launch, by anything but fleet, the image is bad and is drained.
 * Spot interruptions are the market's doing, not the image's, and never count.
 */
export function guardTrips(
  instances: readonly Instance[],
  images: ImageIndex,
  policies: readonly PoolPolicy[],
  terminatedByFleet: ReadonlySet<string>,
  now: number,
): GuardTrip[] {
  const trips: GuardTrip[] = [];
  for (const policy of policies) {
    const { window, failures } = policy.freshness.guard;
    const failedEarly = instances.filter(
      (i) =>
        i.pool === policy.pool &&
        ENDED.has(i.state) &&
        i.endCause !== 'spot-interruption' &&
        !terminatedByFleet.has(i.id) &&
        images.currentImage(policy.pool, i.region)?.id === i.ami &&
        (i.endedAt ?? now) - i.launchTime <= window * 1000,
    );
    for (const failed of groupBy(failedEarly, (i) => `${i.region} ${i.ami}`).values()) {
      const first = failed[0] as Instance;
      if (failed.length < failures) continue;
      trips.push({
        ami: first.ami,
        pool: policy.pool,
        region: first.region,
        failures: failed.length,
        reason: `guard: ${failed.length} instances of ${policy.pool} on ${first.ami} ended within ${window}s of launch (${failed.map((i) => i.id).join(', ')})`,
      });
    }
  }
  return trips;
}
