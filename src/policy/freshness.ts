import type { PoolPolicy } from '../domain/policy.js';
import { groupBy } from '../domain/group-by.js';
import type { Instance } from '../domain/types.js';

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
  /** judged on every early end of its trial (trialTrip), not only those within the window */
  readonly trial: boolean;
  readonly reason: string;
}

const amiOf = (i: Instance) => i.ami;

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
 * An end the launch guard counts against an image: within `windowMs` of the launch, after the image's
 * last undrain, by anything but fleet (or a worker fleet asked to leave). Spot interruptions are the
 * market's doing, not the image's.
 */
export function endedEarly(
  i: Instance,
  windowMs: number,
  terminatedByFleet: ReadonlySet<string>,
  undrainedAt = Number.NEGATIVE_INFINITY,
): boolean {
  if (!ENDED.has(i.state) || i.endedAt === undefined) return false;
  // A worker fleet asked to leave (fleet:retire) that powers itself off left as asked: no failure.
  if (i.endCause === 'spot-interruption' || terminatedByFleet.has(i.id) || i.retireAt !== undefined) return false;
  return i.endedAt - i.launchTime <= windowMs && i.endedAt > undrainedAt;
}

/**
 * The launch guard: when `failures` instances launched from an image fleet launches ended early
 * (endedEarly) and those ends all fall within the last `window` seconds, the image is bad and is
 * drained. (An image on trial is judged on every early end of its trial: see trialTrip.)
 */
export function guardTrips(input: GuardInput): GuardTrip[] {
  const { policy, now } = input;
  const windowMs = policy.freshness.guard.window * 1000;
  // A loop, not a callback made per call: this runs for every instance of every pool and region.
  const early: Instance[] = [];
  for (const i of input.instances) {
    if (
      input.watched.has(i.ami) &&
      endedEarly(i, windowMs, input.terminatedByFleet, input.undrainedAt[i.ami]) &&
      now - (i.endedAt as number) <= windowMs
    )
      early.push(i);
  }
  const trips: GuardTrip[] = [];
  for (const [ami, failed] of groupBy(early, amiOf)) {
    const trip = tripOf(
      policy,
      input.region,
      ami,
      failed.map((i) => i.id),
      false,
    );
    if (trip) trips.push(trip);
  }
  return trips;
}

/**
 * An image on trial trips the guard once `failures` of the workers that booted it during the trial
 * ended early, however far apart: its canaries are few (max(canary, failures) at most), so a slow
 * trial must not escape the guard by spreading its failures beyond the window.
 */
export function trialTrip(policy: PoolPolicy, region: string, ami: string, failed: readonly string[]): GuardTrip | undefined {
  return tripOf(policy, region, ami, failed, true);
}

function tripOf(policy: PoolPolicy, region: string, ami: string, failed: readonly string[], trial: boolean): GuardTrip | undefined {
  const { window, failures } = policy.freshness.guard;
  if (failed.length < failures) return undefined;
  const ids = [...failed].sort();
  return {
    ami,
    pool: policy.pool,
    region,
    failures: ids.length,
    instances: ids,
    trial,
    reason: `guard: ${ids.length} instances of ${policy.pool} on ${ami} ended within ${window}s of launch${trial ? ' while on trial' : ''} (${ids.join(', ')})`,
  };
}
