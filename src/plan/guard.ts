import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import { groupBy } from '../domain/group-by.js';
import type { Instance } from '../domain/types.js';
import { type GuardTrip, guardTrips, trialTrip } from '../policy/freshness.js';
import { poolRegionKey } from '../policy/images.js';
import { launchableImages } from '../policy/rollout.js';
import { rolloutsOf } from './rollouts.js';

/** Defined once, not per call: V8 keeps a living function's compiled code (see src/plan/pool.ts). */
const poolRegionOf = (i: Instance) => poolRegionKey(i.pool, i.region);

/**
 * The snapshot with every image the launch guard condemns treated as drained, and the trips
 * themselves: the service records them in the state store, `fleet plan` only shows them. The guard
 * watches the images fleet launches now in each pool and region; a candidate on trial is judged on
 * every early end of its trial, the journal's memory included.
 */
export function applyGuard(snapshot: Snapshot, policies: readonly PoolPolicy[]): { snapshot: Snapshot; trips: GuardTrip[] } {
  if (snapshot.images === undefined) return { snapshot, trips: [] };
  const rollouts = rolloutsOf(snapshot, policies);
  const byPoolRegion = groupBy(snapshot.instances, poolRegionOf);
  const trips: GuardTrip[] = [];
  for (const policy of policies) {
    for (const [region, rollout] of rollouts.get(policy.pool) ?? []) {
      const onTrial =
        rollout.candidate && rollout.trial ? trialTrip(policy, region, rollout.candidate.id, rollout.trial.failed) : undefined;
      if (onTrial) trips.push(onTrial);
      trips.push(
        ...guardTrips({
          policy,
          region,
          watched: new Set(launchableImages(rollout).map((i) => i.id)),
          instances: byPoolRegion.get(poolRegionKey(policy.pool, region)) ?? [],
          terminatedByFleet: snapshot.terminatedByFleet,
          undrainedAt: snapshot.undrainedAt ?? {},
          now: snapshot.now,
        }).filter((t) => t.ami !== onTrial?.ami),
      );
    }
  }
  if (trips.length === 0) return { snapshot, trips };
  const tripped = trips.map((t) => t.ami);
  return {
    snapshot: {
      ...snapshot,
      drained: new Set([...snapshot.drained, ...tripped]),
      guardDrained: new Set([...(snapshot.guardDrained ?? []), ...tripped]),
    },
    trips,
  };
}
