// What the simulation records about each pool after every cycle, for the summary and the report's
// charts. It reads the simulated world directly (no API call, nothing the reconciler sees) in one
// pass over the listed instances plus what changed since the previous sample.

import type { PoolPolicy } from '../domain/policy.js';
import type { Image } from '../domain/types.js';
import { parseManifest } from '../manifest/manifest.js';
import { type AmiStatus, ImageIndex } from '../policy/images.js';
import { imageStatus } from '../policy/rollout.js';
import { simOnDemandPrice } from '../fake-cloud/catalog.js';
import type { SimCloud } from '../fake-cloud/cloud.js';
import type { QueueState } from './ci/ci.js';
import { RolloutTracker } from './rollout-figures.js';
import type { SimInstance } from '../fake-cloud/world.js';

/**
 * One pool at the end of one cycle. Counts are instances (a worker is an instance). "Step"
 * figures cover the time since the previous sample.
 */
export interface PoolSample {
  readonly wanted: number;
  /** live (pending or running) instances by state, and by lifecycle */
  readonly running: number;
  readonly pending: number;
  readonly spot: number;
  readonly onDemand: number;
  readonly spotRunning: number;
  readonly spotPending: number;
  readonly onDemandRunning: number;
  readonly onDemandPending: number;
  /** live instances by the status of their image, judged from the published manifest and drained marks */
  readonly imageCurrent: number;
  readonly imageOutdated: number;
  readonly imageDrained: number;
  /** on an image of a pool and region the manifest does not list */
  readonly imageUnknown: number;
  /** events in the step */
  readonly launchesSpot: number;
  readonly launchesOnDemand: number;
  readonly interruptions: number;
  /** instances fleet terminated (retired, scaled down, replaced) */
  readonly endedByFleet: number;
  /** dollars accrued in the step */
  readonly cost: number;
  /** what the step's instance-hours would have cost on demand */
  readonly onDemandCost: number;
  readonly instanceHours: number;
  /** $ per instance-hour of the pool's cheapest spot offer at the step's start (null: none sold) */
  readonly cheapestSpot: number | null;
  /** $ per instance-hour of the pool's cheapest on-demand offer (null: none sold) */
  readonly cheapestOnDemand: number | null;
  /** the step's instance-hours at `cheapestSpot`: the hindsight optimum's share of the step */
  readonly hindsightCost: number;
  /** the simulated CI's jobs waiting for a worker, and running */
  readonly jobsPending: number;
  readonly jobsRunning: number;
  /** seconds the longest-waiting pending job has been queued */
  readonly oldestPendingSeconds: number;
}

export interface Sample {
  readonly t: number;
  readonly pools: Record<string, PoolSample>;
}

/** Where the simulated publishers and fleet keep the manifest, the drained marks and fleet's journal. */
export interface SampledObjects {
  readonly bucket: string;
  readonly manifestKey: string;
  readonly drainedKey: string;
  /** reconciler.json, for the images fleet established (the end of their canary phase) */
  readonly journalKey?: string;
}

type Marks = Readonly<Record<string, { readonly at: number; readonly by: string }>>;

interface Offer {
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly productDescription: string;
}

interface Billed {
  cost: number;
  billedUntil: number;
  /** $ per hour of the instance's type on demand (fixed for its life) */
  readonly onDemandPrice: number;
}

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export class Sampler {
  private readonly offers = new Map<string, readonly Offer[]>();
  /** what was already accounted of each listed instance */
  private readonly billed = new Map<string, Billed>();
  private archiveSeen = 0;
  private eventsSeen = 0;
  private previousT: number;
  private images: { manifest?: string; drained?: string; index: ImageIndex; list: readonly Image[]; marks: Marks } = {
    index: new ImageIndex([], new Set()),
    list: [],
    marks: {},
  };
  private journal: { body?: string; established: Readonly<Record<string, number>> } = { established: {} };
  /** the rollouts of images published during the run */
  readonly rollouts: RolloutTracker;

  constructor(
    private readonly cloud: SimCloud,
    private readonly policies: readonly PoolPolicy[],
    regions: readonly string[],
    private readonly objects: SampledObjects,
    start: number,
  ) {
    this.previousT = start;
    for (const policy of policies) this.offers.set(policy.pool, poolOffers(cloud, policy, regions));
    this.imageIndex();
    this.rollouts = new RolloutTracker(this.images.list, start);
  }

  /** `wanted`: the desired counts last published; clamped to each pool's size as fleet clamps them. */
  sample(wanted: Readonly<Record<string, number>>, t: number, queues: Readonly<Record<string, QueueState>> = {}): Sample {
    const world = this.cloud.world;
    const pools: Record<string, Mutable<PoolSample>> = {};
    for (const policy of this.policies) {
      const cheapestSpot = this.cheapest(policy.pool, (o) =>
        world.market.spotPrice(o.region, o.az, o.instanceType, o.productDescription, this.previousT),
      );
      pools[policy.pool] = {
        ...emptyPoolSample(),
        wanted: Math.min(policy.size.max, Math.max(policy.size.min, wanted[policy.pool] ?? policy.size.min)),
        cheapestSpot,
        cheapestOnDemand: this.cheapest(policy.pool, (o) => simOnDemandPrice(o.region, o.instanceType, o.productDescription)),
        jobsPending: queues[policy.pool]?.pending ?? 0,
        jobsRunning: queues[policy.pool]?.running ?? 0,
        oldestPendingSeconds: queues[policy.pool]?.oldestPendingSeconds ?? 0,
      };
    }
    const index = this.imageIndex();
    // Instances archived since the last sample: account their last bills, then forget them.
    for (const i of world.archive.slice(this.archiveSeen)) {
      const p = pools[i.tags['fleet:pool'] ?? ''];
      if (p) this.accrue(p, i);
      this.billed.delete(i.id);
    }
    this.archiveSeen = world.archive.length;
    for (const i of world.instances.values()) {
      const p = pools[i.tags['fleet:pool'] ?? ''];
      if (!p) continue;
      this.accrue(p, i);
      if (i.state !== 'pending' && i.state !== 'running') continue;
      const spot = i.lifecycle === 'spot';
      if (i.state === 'running') {
        p.running++;
        if (spot) p.spotRunning++;
        else p.onDemandRunning++;
      } else {
        p.pending++;
        if (spot) p.spotPending++;
        else p.onDemandPending++;
      }
      if (spot) p.spot++;
      else p.onDemand++;
      // The cloud's view: the newest published image is current, an older one outdated (a canary's
      // previous image shows as outdated while the new one bakes).
      countImage(p, imageStatus(i.ami, i.tags['fleet:pool'] as string, i.region, undefined, index));
    }
    for (const e of world.events.slice(this.eventsSeen)) {
      const p = pools[e.instance.tags['fleet:pool'] ?? ''];
      if (!p) continue;
      if (e.kind === 'launch' && e.instance.lifecycle === 'spot') p.launchesSpot++;
      else if (e.kind === 'launch') p.launchesOnDemand++;
      else if (e.kind === 'interrupted') p.interruptions++;
      else if (e.kind === 'terminated') p.endedByFleet++;
    }
    this.eventsSeen = world.events.length;
    for (const p of Object.values(pools)) p.hindsightCost = p.instanceHours * (p.cheapestSpot ?? 0);
    this.rollouts.observe({
      t,
      images: this.images.list,
      drained: this.images.marks,
      established: this.established(),
      instances: world.instances.values(),
      wanted: Object.fromEntries(Object.entries(pools).map(([pool, p]) => [pool, p.wanted])),
    });
    this.previousT = t;
    return { t, pools };
  }

  /** Add what `i` was billed since it was last seen to its pool's step figures. */
  private accrue(p: Mutable<PoolSample>, i: SimInstance): void {
    let seen = this.billed.get(i.id);
    if (!seen) {
      seen = { cost: 0, billedUntil: i.launchTime, onDemandPrice: simOnDemandPrice(i.region, i.instanceType, i.productDescription) ?? 0 };
      this.billed.set(i.id, seen);
    }
    if (i.billedUntil <= seen.billedUntil) return;
    const hours = (i.billedUntil - seen.billedUntil) / 3600_000;
    p.cost += i.cost - seen.cost;
    p.instanceHours += hours;
    p.onDemandCost += hours * seen.onDemandPrice;
    seen.cost = i.cost;
    seen.billedUntil = i.billedUntil;
  }

  private cheapest(pool: string, price: (o: Offer) => number | undefined): number | null {
    let best: number | null = null;
    for (const o of this.offers.get(pool) ?? []) {
      const p = price(o);
      if (p !== undefined && (best === null || p < best)) best = p;
    }
    return best;
  }

  /** Image statuses as fleet defines them; re-parsed only when the manifest or the drained marks change. */
  private imageIndex(): ImageIndex {
    const manifest = this.cloud.objects.peek(this.objects.bucket, this.objects.manifestKey)?.body;
    const drained = this.cloud.objects.peek(this.objects.bucket, this.objects.drainedKey)?.body;
    if (manifest !== this.images.manifest || drained !== this.images.drained) {
      const list = readManifest(manifest);
      const marks = readDrained(drained);
      this.images = { manifest, drained, list, marks, index: new ImageIndex(list, new Set(Object.keys(marks))) };
    }
    return this.images.index;
  }

  /** The images fleet's journal (as stored) says proved themselves; re-parsed only when it changes. */
  private established(): Readonly<Record<string, number>> {
    if (this.objects.journalKey === undefined) return {};
    const body = this.cloud.objects.peek(this.objects.bucket, this.objects.journalKey)?.body;
    if (body !== this.journal.body) {
      let established: Readonly<Record<string, number>> = this.journal.established;
      try {
        if (body !== undefined) established = (JSON.parse(body) as { established?: Record<string, number> }).established ?? {};
      } catch {
        // A garbled copy (a fault) says nothing new: keep what the last good one said.
      }
      this.journal = { ...(body !== undefined ? { body } : {}), established };
    }
    return this.journal.established;
  }
}

/** A pool sample with nothing in it (a starting point for counting). */
export function emptyPoolSample(): Mutable<PoolSample> {
  return {
    wanted: 0,
    running: 0,
    pending: 0,
    spot: 0,
    onDemand: 0,
    spotRunning: 0,
    spotPending: 0,
    onDemandRunning: 0,
    onDemandPending: 0,
    imageCurrent: 0,
    imageOutdated: 0,
    imageDrained: 0,
    imageUnknown: 0,
    launchesSpot: 0,
    launchesOnDemand: 0,
    interruptions: 0,
    endedByFleet: 0,
    cost: 0,
    onDemandCost: 0,
    instanceHours: 0,
    cheapestSpot: null,
    cheapestOnDemand: null,
    hindsightCost: 0,
    jobsPending: 0,
    jobsRunning: 0,
    oldestPendingSeconds: 0,
  };
}

function countImage(p: Mutable<PoolSample>, status: AmiStatus): void {
  if (status === 'current') p.imageCurrent++;
  else if (status === 'outdated') p.imageOutdated++;
  else if (status === 'drained') p.imageDrained++;
  else p.imageUnknown++;
}

/** Every (region, zone, type) the pool may launch into: its subnets' zones times its instance types. */
function poolOffers(cloud: SimCloud, policy: PoolPolicy, regions: readonly string[]): Offer[] {
  const offers: Offer[] = [];
  for (const region of regions) {
    const placement = policy.regions[region];
    if (!placement) continue;
    const azs = new Set(placement.subnets.map((id) => cloud.world.subnets.get(id)?.az).filter((az): az is string => az !== undefined));
    for (const az of azs) {
      for (const { type } of policy.instanceTypes)
        offers.push({ region, az, instanceType: type, productDescription: policy.productDescription });
    }
  }
  return offers;
}

function readManifest(text: string | undefined): Image[] {
  if (text === undefined) return [];
  try {
    return parseManifest(text);
  } catch {
    return [];
  }
}

function readDrained(text: string | undefined): Marks {
  if (text === undefined) return {};
  try {
    return (JSON.parse(text) as { amis?: Marks }).amis ?? {};
  } catch {
    return {};
  }
}
