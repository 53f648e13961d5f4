import type { PoolPolicy } from '../domain/policy.js';
import type { Snapshot } from '../domain/snapshot.js';
import { type GuardTrip, guardTrips } from '../policy/freshness.js';
import { ImageIndex } from '../policy/images.js';

/**
 * The snapshot with every image the launch guard condemns treated as drained, and the trips
 * themselves: the service records them in the state store, `fleet plan` only shows them.
 */
export function applyGuard(snapshot: Snapshot, policies: readonly PoolPolicy[]): { snapshot: Snapshot; trips: GuardTrip[] } {
  if (snapshot.images === undefined) return { snapshot, trips: [] };
  const trips = guardTrips(snapshot.instances, new ImageIndex(snapshot.images, snapshot.drained), policies, snapshot.terminatedByFleet, snapshot.now);
  if (trips.length === 0) return { snapshot, trips };
  return { snapshot: { ...snapshot, drained: new Set([...snapshot.drained, ...trips.map((t) => t.ami)]) }, trips };
}
