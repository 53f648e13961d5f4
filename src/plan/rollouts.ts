import type { PoolPolicy } from '../domain/policy.js';
import type { PendingLaunch, Snapshot, Trial } from '../domain/snapshot.js';
import { groupBy } from '../domain/group-by.js';
import type { Instance } from '../domain/types.js';
import { ImageIndex } from '../policy/images.js';
import { type Provenance, type Rollout, type RolloutInput, provenance, rolloutKey, rolloutOf } from '../policy/rollout.js';

/** A snapshot's instances and unconfirmed launches grouped by pool, once per plan. */
export interface PoolGroups {
  readonly instances: ReadonlyMap<string, readonly Instance[]>;
  readonly pending: ReadonlyMap<string, readonly PendingLaunch[]>;
}

export function poolGroups(snapshot: Snapshot): PoolGroups {
  return { instances: groupBy(snapshot.instances, poolOf), pending: groupBy(snapshot.pendingLaunches, poolOf) };
}

// Key functions defined once, not made anew for every call: see src/plan/pool.ts.
const poolOf = (x: { pool: string }) => x.pool;
const regionOf = (x: { region: string }) => x.region;

/** Every pool's rollout in every managed region it uses, from one snapshot: pool → region → rollout. */
export function rolloutsOf(
  snapshot: Snapshot,
  policies: readonly PoolPolicy[],
  images = new ImageIndex(snapshot.images, snapshot.drained),
  groups: PoolGroups = poolGroups(snapshot),
): Map<string, Map<string, Rollout>> {
  const out = new Map<string, Map<string, Rollout>>();
  for (const policy of policies) {
    // Grouped by region within the pool: a pool's share of the snapshot, not the whole of it.
    const instances = groupBy<Instance>(groups.instances.get(policy.pool) ?? [], regionOf);
    const pending = groupBy<PendingLaunch>(groups.pending.get(policy.pool) ?? [], regionOf);
    const inputs = new Map<string, { input: { -readonly [K in keyof RolloutInput]: RolloutInput[K] }; proof: Provenance }>();
    for (const region of Object.keys(policy.regions)) {
      if (!snapshot.regions.includes(region)) continue;
      const input = {
        policy,
        region,
        images,
        established: snapshot.established ?? {},
        instances: instances.get(region) ?? [],
        pending: pending.get(region) ?? [],
        now: snapshot.now,
        undrainedAt: snapshot.undrainedAt ?? {},
        trials: snapshot.trials ?? {},
        terminatedByFleet: snapshot.terminatedByFleet,
        provedElsewhere: false,
      };
      inputs.set(region, { input, proof: provenance(input) });
    }
    // Regions where the pool has proved an image: elsewhere, a new image goes on trial even with nothing proved.
    const proved: string[] = [];
    for (const [region, { proof }] of inputs) if (proof.trusted !== undefined) proved.push(region);
    const regions = new Map<string, Rollout>();
    for (const [region, { input, proof }] of inputs) {
      input.provedElsewhere = proved.length > 1 || (proved.length === 1 && proved[0] !== region);
      regions.set(region, rolloutOf(input, proof));
    }
    out.set(policy.pool, regions);
  }
  return out;
}

/**
 * The establishments to remember: those already remembered whose image the manifest still lists
 * (undrained), and those proved this cycle.
 */
export function establishedFacts(
  snapshot: Snapshot,
  rollouts: ReadonlyMap<string, ReadonlyMap<string, Rollout>>,
  images: ImageIndex,
): Record<string, number> {
  const listed = new Set<string>();
  for (const [pool, regions] of rollouts)
    for (const region of regions.keys()) for (const image of images.images(pool, region)) listed.add(rolloutKey(pool, region, image.id));
  const facts: Record<string, number> = {};
  for (const [key, at] of Object.entries(snapshot.established ?? {})) if (listed.has(key)) facts[key] = at;
  for (const [pool, regions] of rollouts) {
    for (const [region, r] of regions) for (const image of r.established) facts[rolloutKey(pool, region, image.id)] ??= snapshot.now;
  }
  return facts;
}

/** The workers that booted each image now on trial, to remember (an image proved, drained or unlisted is forgotten). */
export function trialFacts(rollouts: ReadonlyMap<string, ReadonlyMap<string, Rollout>>): Record<string, Trial> {
  const facts: Record<string, Trial> = {};
  for (const [pool, regions] of rollouts) {
    for (const [region, r] of regions)
      if (r.candidate && r.trial && r.trial.booted.length > 0) facts[rolloutKey(pool, region, r.candidate.id)] = r.trial;
  }
  return facts;
}

/** A pool's rollout in one region, as `fleet plan`, `fleet status` and the metrics show it. */
export interface RegionRollout {
  readonly region: string;
  readonly phase: Rollout['phase'];
  /** the image of every launch but canaries */
  readonly image?: string;
  /** the new image on trial */
  readonly candidate?: string;
  /** ISO 8601, while baking */
  readonly bakedAt?: string;
}

export function regionRollout(r: Rollout): RegionRollout {
  // Fields set one by one rather than spread in: spreading conditional parts into a literal is V8's slow path.
  const out: { -readonly [K in keyof RegionRollout]: RegionRollout[K] } = { region: r.region, phase: r.phase };
  if (r.launchImage) out.image = r.launchImage.id;
  if (r.candidate) out.candidate = r.candidate.id;
  if (r.bakedAt !== undefined) out.bakedAt = new Date(r.bakedAt).toISOString();
  return out;
}

/** One line for operators: "us-east-1: ami-new canary (launches on ami-old)", "... baking until ...", "... current". */
export function describeRollout(r: RegionRollout): string {
  if (r.candidate === undefined) return `${r.region}: ${r.image ?? 'no image'} current`;
  const when = r.phase === 'baking' && r.bakedAt ? `baking until ${r.bakedAt}` : 'canary';
  return `${r.region}: ${r.candidate} ${when} (other launches on ${r.image})`;
}
