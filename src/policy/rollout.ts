import { type PoolPolicy, resolveBudget } from '../domain/policy.js';
import type { PendingLaunch, Trial } from '../domain/snapshot.js';
import type { Image, Instance } from '../domain/types.js';
import { isLive } from '../domain/types.js';
import { endedEarly } from './freshness.js';
import { type AmiStatus, type ImageIndex } from './images.js';

// A new image is not trusted at once. It first runs on `canary` instances per pool and region while
// every other launch keeps using the image that has proved itself; once the canaries have run `bake`
// seconds (and the launch guard has not drained it), it is established and becomes the image of every
// launch. The phase is derived from facts: the manifest, the drains, the instances on each image, and
// what the journal remembers: the establishments (so a proof outlives the instances that gave it) and
// the workers that booted an image on trial (so the bound outlives EC2's listing of ended instances).

export type RolloutPhase = 'canary' | 'baking' | 'current';

export interface Rollout {
  readonly pool: string;
  readonly region: string;
  /** the image of every launch but canaries; undefined when the manifest has none usable here */
  readonly launchImage?: Image;
  /** a newer image on trial: canaries only */
  readonly candidate?: Image;
  /** the candidate's phase, or `current` when there is none */
  readonly phase: RolloutPhase;
  /** baking: when the canaries will have run `bake` seconds */
  readonly bakedAt?: number;
  /** canaries wanted while the candidate is on trial (at least one, at most the pool's size here) */
  readonly canaryTarget: number;
  /** canary launches allowed now: never more workers on a candidate than max(canary, guard.failures) */
  readonly canaryRoom: number;
  /** images whose proof is new this cycle: the journal remembers them */
  readonly established: readonly Image[];
  /** with a candidate: the workers that ever booted it while on trial (since its last undrain); the journal remembers them */
  readonly trial?: Trial;
}

/** The key under which the journal remembers an image's establishment. */
export function rolloutKey(pool: string, region: string, ami: string): string {
  return `${pool} ${region} ${ami}`;
}

/** Whether the journal's facts (rolloutKey() → ms) remember a proof of `pool` in a region other than `region`. */
export function rememberedElsewhere(established: Readonly<Record<string, number>>, pool: string, region: string): boolean {
  return Object.keys(established).some((key) => {
    const [p, r] = key.split(' ');
    return p === pool && r !== region;
  });
}

export interface RolloutInput {
  readonly policy: PoolPolicy;
  readonly region: string;
  readonly images: ImageIndex;
  /** rolloutKey() → epoch ms, from the journal */
  readonly established: Readonly<Record<string, number>>;
  /** rolloutKey() → the workers that booted an image on trial, from the journal */
  readonly trials?: Readonly<Record<string, Trial>>;
  /** instances fleet terminated itself lately: their end is never an image's fault */
  readonly terminatedByFleet?: ReadonlySet<string>;
  /** this pool's instances in this region, every state */
  readonly instances: readonly Instance[];
  /** this pool's unconfirmed launches in this region */
  readonly pending: readonly PendingLaunch[];
  readonly now: number;
  /** AMI → epoch ms of its last `fleet undrain`: ends before it no longer count against a candidate */
  readonly undrainedAt?: Readonly<Record<string, number>>;
  /**
   * The pool has proved an image in another region: it is no new fleet, so here too a new image goes
   * on trial against the one before it, even where nothing has been proved yet.
   */
  readonly provedElsewhere?: boolean;
}

/** What the proofs of one pool and region say (`provenance`). */
export type Provenance = ReturnType<typeof provenance>;

/** What the proofs say: which image is trusted, and whether that is new (not yet in the journal). */
export function provenance(input: RolloutInput) {
  const { policy, region, images, now } = input;
  const pool = policy.pool;
  const usable = images.images(pool, region);
  const live = input.instances.filter(isLive);
  // A canary count above the pool's size here would never be met: the whole pool is the canary then.
  const size = live.length + input.pending.length;
  const canaryTarget = Math.max(1, Math.min(resolveBudget(policy.freshness.canary, size), size));
  const bakeMs = policy.freshness.bake * 1000;
  const baked = new Map<string, number[]>();
  for (const i of live) {
    if (i.state !== 'running') continue;
    const list = baked.get(i.ami) ?? [];
    list.push(i.launchTime + bakeMs);
    baked.set(i.ami, list);
  }
  const provenBy = (image: Image) => (baked.get(image.id) ?? []).filter((at) => at <= now).length >= canaryTarget;
  const remembered = (image: Image) => input.established[rolloutKey(pool, region, image.id)] !== undefined;
  const trusted = usable.find((image) => remembered(image) || provenBy(image));
  return { usable, live, canaryTarget, baked, trusted, newlyProven: trusted !== undefined && !remembered(trusted) ? [trusted] : [] };
}

/** The rollout of one pool in one region, now (`proof`: the input's provenance, when the caller has it already). */
export function rolloutOf(input: RolloutInput, proof: Provenance = provenance(input)): Rollout {
  const { policy, region, now } = input;
  const pool = policy.pool;
  const { usable, live, canaryTarget, baked, trusted, newlyProven } = proof;
  const none = { pool, region, phase: 'current' as const, canaryTarget, canaryRoom: 0 };
  const newest = usable[0];
  if (!newest) return { ...none, established: [] };

  const staged = !(policy.freshness.canary.kind === 'count' && policy.freshness.canary.value === 0);
  // Where nothing is proved, a new fleet launches the newest image; a pool proved elsewhere is not
  // new, and tries the newest here against the image before it.
  const fallback = trusted ?? (input.provedElsewhere ? usable[1] : undefined);
  // Nothing to fall back on, or the newest is proved: it is the image of every launch.
  if (!staged || fallback === undefined || fallback.id === newest.id) {
    return { ...none, launchImage: newest, established: newlyProven };
  }
  const pendingOnCandidate = input.pending.filter((p) => p.ami === newest.id).length;
  const onCandidate = live.filter((i) => i.ami === newest.id).length + pendingOnCandidate;
  // Every worker that ever booted the candidate counts, however it ended: those the cloud lists
  // (after an undrain, only those that ended since, as for the guard) and those the journal remembers.
  const undrainedAt = input.undrainedAt?.[newest.id] ?? Number.NEGATIVE_INFINITY;
  const listed = input.instances.filter((i) => i.ami === newest.id && (isLive(i) || (i.endedAt ?? now) > undrainedAt));
  const memory = input.trials?.[rolloutKey(pool, region, newest.id)];
  const windowMs = policy.freshness.guard.window * 1000;
  const failedNow = listed.filter((i) => endedEarly(i, windowMs, input.terminatedByFleet ?? new Set(), undrainedAt));
  const union = (a: readonly string[] = [], b: readonly string[]) => [...new Set([...a, ...b])].sort();
  const trial: Trial = {
    booted: union(
      memory?.booted,
      listed.map((i) => i.id),
    ),
    failed: union(
      memory?.failed,
      failedNow.map((i) => i.id),
    ),
  };
  const bound = Math.max(canaryTarget, policy.freshness.guard.failures);
  const canaryRoom = Math.max(0, Math.min(canaryTarget - onCandidate, bound - trial.booted.length - pendingOnCandidate));
  const bakes = (baked.get(newest.id) ?? []).sort((a, b) => a - b);
  const baking = bakes.length >= canaryTarget;
  return {
    pool,
    region,
    launchImage: fallback,
    candidate: newest,
    phase: baking ? 'baking' : 'canary',
    ...(baking ? { bakedAt: bakes[canaryTarget - 1] } : {}),
    canaryTarget,
    canaryRoom,
    established: newlyProven,
    trial,
  };
}

/** The images fleet would launch for a pool and region now: the candidate on trial and the trusted image. */
export function launchableImages(r: Rollout): Image[] {
  return [r.candidate, r.launchImage].filter((i): i is Image => i !== undefined);
}

/**
 * How an image stands for a pool and region: launchable now (`current`: one of `launchableImages`), `outdated`, `drained`, or
 * `unknown` (the manifest lists nothing for that pool and region). Without a rollout (a pool with no
 * policy), the newest image is current.
 */
export function imageStatus(ami: string, pool: string, region: string, r: Rollout | undefined, images: ImageIndex): AmiStatus {
  if (images.drained.has(ami)) return 'drained';
  if (!images.knows(pool, region)) return 'unknown';
  const launchable = r ? r.candidate?.id === ami || r.launchImage?.id === ami : images.newest(pool, region)?.id === ami;
  return launchable ? 'current' : 'outdated';
}

/** An image's place in its pool's rollout, for operators: `canary`, `baking` (until when), `current`, `drained`, `outdated`. */
export interface ImagePhase {
  readonly phase: RolloutPhase | 'drained' | 'outdated' | 'unknown';
  /** ISO 8601, while baking */
  readonly until?: string;
}

export function imagePhase(ami: string, pool: string, region: string, r: Rollout | undefined, images: ImageIndex): ImagePhase {
  const status = imageStatus(ami, pool, region, r, images);
  if (status !== 'current') return { phase: status };
  if (r?.candidate?.id === ami) return { phase: r.phase, ...(r.bakedAt !== undefined ? { until: new Date(r.bakedAt).toISOString() } : {}) };
  return { phase: 'current' };
}

/** "baking until 2026-11-20T10:15:00.000Z", "canary", "current", ... */
export function describePhase(p: ImagePhase): string {
  return p.until !== undefined ? `${p.phase} until ${p.until}` : p.phase;
}
