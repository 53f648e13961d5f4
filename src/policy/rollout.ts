import { type PoolPolicy, resolveBudget } from '../domain/policy.js';
import type { PendingLaunch } from '../domain/snapshot.js';
import type { Image, Instance } from '../domain/types.js';
import { isLive } from '../domain/types.js';
import { type AmiStatus, type ImageIndex } from './images.js';

// A new image is not trusted at once. It first runs on `canary` instances per pool and region while
// every other launch keeps using the image that has proved itself; once the canaries have run `bake`
// seconds (and the launch guard has not drained it), it is established and becomes the image of every
// launch. The phase is derived from facts: the manifest, the drains, the instances on each image, and
// the establishments remembered in the journal (so a proof outlives the instances that gave it).

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
  /** canaries wanted while the candidate is on trial */
  readonly canaryTarget: number;
  /** canary launches allowed now: never more workers on a candidate than max(canary, guard.failures) */
  readonly canaryRoom: number;
  /** images whose proof is new this cycle: the journal remembers them */
  readonly established: readonly Image[];
}

/** The key under which the journal remembers an image's establishment. */
export function rolloutKey(pool: string, region: string, ami: string): string {
  return `${pool} ${region} ${ami}`;
}

export interface RolloutInput {
  readonly policy: PoolPolicy;
  readonly region: string;
  readonly images: ImageIndex;
  /** rolloutKey() → epoch ms, from the journal */
  readonly established: Readonly<Record<string, number>>;
  /** this pool's instances in this region, every state */
  readonly instances: readonly Instance[];
  /** this pool's unconfirmed launches in this region */
  readonly pending: readonly PendingLaunch[];
  readonly now: number;
}

/** The rollout of one pool in one region, now. */
export function rolloutOf(input: RolloutInput): Rollout {
  const { policy, region, images, now } = input;
  const pool = policy.pool;
  const usable = images.images(pool, region);
  const live = input.instances.filter(isLive);
  const canaryTarget = Math.max(1, resolveBudget(policy.freshness.canary, live.length + input.pending.length));
  const none = { pool, region, phase: 'current' as const, canaryTarget, canaryRoom: 0 };
  const newest = usable[0];
  if (!newest) return { ...none, established: [] };

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
  const isEstablished = (image: Image) => remembered(image) || provenBy(image);
  const trusted = usable.find(isEstablished);
  const newlyProven = trusted !== undefined && !remembered(trusted) ? [trusted] : [];
  const staged = !(policy.freshness.canary.kind === 'count' && policy.freshness.canary.value === 0);
  // Nothing proved yet (a new fleet), or the newest is proved: it is the image of every launch.
  if (!staged || trusted === undefined || trusted.id === newest.id) {
    return { ...none, launchImage: newest, established: newlyProven };
  }
  const onCandidate = live.filter((i) => i.ami === newest.id).length + input.pending.filter((p) => p.ami === newest.id).length;
  // Every worker that ever booted the candidate counts, however it ended, while the cloud lists it.
  const endedOnCandidate = input.instances.filter((i) => i.ami === newest.id && !isLive(i)).length;
  const bound = Math.max(canaryTarget, policy.freshness.guard.failures);
  const canaryRoom = Math.max(0, Math.min(canaryTarget - onCandidate, bound - onCandidate - endedOnCandidate));
  const bakes = (baked.get(newest.id) ?? []).sort((a, b) => a - b);
  const baking = bakes.length >= canaryTarget;
  return {
    pool,
    region,
    launchImage: trusted,
    candidate: newest,
    phase: baking ? 'baking' : 'canary',
    ...(baking ? { bakedAt: bakes[canaryTarget - 1] as number } : {}),
    canaryTarget,
    canaryRoom,
    established: newlyProven,
  };
}

/** The images fleet would launch for a pool and region now: the candidate on trial and the trusted image. */
export function launchableImages(r: Rollout): Image[] {
  return [r.candidate, r.launchImage].filter((i): i is Image => i !== undefined);
}

/**
 * How an image stands for a pool and region: launchable now (`current`), `outdated`, `drained`, or
 * `unknown` (the manifest lists nothing for that pool and region). Without a rollout (a pool with no
 * policy), the newest image is current.
 */
export function imageStatus(ami: string, pool: string, region: string, r: Rollout | undefined, images: ImageIndex): AmiStatus {
  if (images.drained.has(ami)) return 'drained';
  if (!images.knows(pool, region)) return 'unknown';
  const launchable = r ? launchableImages(r) : [images.newest(pool, region)];
  return launchable.some((i) => i?.id === ami) ? 'current' : 'outdated';
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
