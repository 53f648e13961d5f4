// The world around the fleet in the simulation: a CI job queue that says how many workers each
// pool wants, a nightly image pipeline that publishes the AMI manifest, and workers of
// `scaleDown: none` pools that shut themselves down when idle. All simulated.

import type { PoolPolicy } from '../domain/policy.js';
import type { Prng } from '../fake-cloud/prng.js';
import type { SimObjects } from '../fake-cloud/s3.js';
import type { SimImage, SimWorld } from '../fake-cloud/world.js';
import type { WorkingHours } from './ci/figures.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * The shape of the CI's day. `day`: the working day's curve, never empty, with bursts after
 * pushes. `office`: jobs only in office hours, none at night, opening with a morning burst.
 */
export type WorkloadShape = 'day' | 'office';

/**
 * Each shape's working hours, UTC. `day`: where its daily curve (lowest at 04:00, highest at
 * 16:00) is above the middle of its range. `office`: the hours jobs arrive.
 */
export const WORKING_HOURS: Readonly<Record<WorkloadShape, WorkingHours>> = {
  day: { fromHour: 10, toHour: 22 },
  office: { fromHour: 8, toHour: 18 },
};

/** The office day: the first half hour brings the morning's pushes, then a steady rate, as a share of `size.max`. */
export const OFFICE = { burstHours: 0.5, burstLevel: 0.6, dayLevel: 0.25 } as const;

/** Where the day's curve is between its trough (0, at 04:00 UTC) and its peak (1, at 16:00 UTC). */
export function dailyShare(hour: number): number {
  return 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 4)) / 24);
}

function hourOfDay(t: number): number {
  return (((t % DAY) + DAY) % DAY) / HOUR;
}

export interface PublishTarget {
  readonly bucket: string;
  readonly key: string;
}

interface Burst {
  readonly at: number;
  readonly jobs: number;
}

/**
 * Demand follows the working day (lowest near 04:00 UTC, highest mid-afternoon UTC when Europe and
 * the Americas overlap), with noise and bursts of jobs after pushes that drain over half an hour.
 */
export class JobQueue {
  private readonly bursts = new Map<string, Burst[]>();
  /** slowly wandering noise per pool: queues drift, they do not jump every five minutes */
  private readonly drift = new Map<string, number>();

  constructor(
    private readonly policies: readonly PoolPolicy[],
    private readonly rng: Prng,
    private readonly shape: WorkloadShape = 'day',
  ) {}

  wanted(policy: PoolPolicy, t: number): number {
    const jobs = this.shape === 'office' ? officeLoad(policy, t) : this.dayLoad(policy, t);
    const drift = 0.85 * (this.drift.get(policy.pool) ?? 0) + 0.05 * this.rng.normal();
    this.drift.set(policy.pool, drift);
    return Math.max(0, Math.round(jobs * (1 + drift)));
  }

  private dayLoad(policy: PoolPolicy, t: number): number {
    const daily = dailyShare(hourOfDay(t));
    const peak = policy.size.max * 0.55;
    const trough = Math.max(policy.size.min, policy.size.max * 0.04);
    let jobs = trough + (peak - trough) * daily;
    for (const b of this.bursts.get(policy.pool) ?? []) {
      const age = t - b.at;
      if (age >= 0) jobs += b.jobs * Math.exp(-age / (30 * 60_000));
    }
    return jobs;
  }

  /** Maybe start a burst for each pool (about one an hour from 07:00 to 23:00; the office day has its own). */
  tick(t: number, stepMs: number): void {
    if (this.shape === 'office') return;
    for (const policy of this.policies) {
      const hour = hourOfDay(t);
      const busy = hour >= 7 && hour <= 23;
      if (!busy || !this.rng.chance(stepMs / HOUR)) continue;
      const list = (this.bursts.get(policy.pool) ?? []).filter((b) => t - b.at < 3 * HOUR);
      list.push({ at: t, jobs: Math.round(policy.size.max * this.rng.between(0.1, 0.35)) });
      this.bursts.set(policy.pool, list);
    }
  }

  /** Every pool's wanted workers at `t` (the curve moves on: call it once per publication). */
  counts(t: number): Record<string, number> {
    return Object.fromEntries(this.policies.map((p) => [p.pool, this.wanted(p, t)]));
  }

  publish(objects: SimObjects, target: PublishTarget, t: number): Record<string, number> {
    const counts = this.counts(t);
    objects.publish(target.bucket, target.key, `${JSON.stringify(counts, null, 1)}\n`);
    return counts;
  }
}

/** The office day's load: none outside office hours, the morning burst, then the day's rate. */
export function officeLoad(policy: PoolPolicy, t: number): number {
  const hour = hourOfDay(t);
  const { fromHour, toHour } = WORKING_HOURS.office;
  if (hour < fromHour || hour >= toHour) return 0;
  return policy.size.max * (hour < fromHour + OFFICE.burstHours ? OFFICE.burstLevel : OFFICE.dayLevel);
}

/**
 * Bakes a new AMI per pool and region every night at 04:00 UTC (or every `periodHours`, counted
 * from 04:00) and republishes the manifest.
 */
export class ImagePipeline {
  private readonly baked: { readonly image: SimImage; readonly pool: string }[] = [];
  private lastNight = Number.NEGATIVE_INFINITY;
  private readonly periodMs: number;

  constructor(
    private readonly world: SimWorld,
    private readonly policies: readonly PoolPolicy[],
    private readonly regions: readonly string[],
    periodHours = 24,
  ) {
    this.periodMs = periodHours * HOUR;
  }

  /** The bake time at or before `t`. */
  private nightOf(t: number): number {
    return Math.floor((t - 4 * HOUR) / this.periodMs) * this.periodMs + 4 * HOUR;
  }

  /** Images of the last `nights` nights, as if the pipeline had been running before the simulation. */
  seed(start: number, nights: number): void {
    const firstNight = this.nightOf(start);
    for (let n = nights - 1; n >= 0; n--) this.bake(firstNight - n * this.periodMs);
  }

  /** Bake when a new night has come; true when the manifest changed. `broken`: this bake is bad. */
  tick(t: number, broken = false): boolean {
    const night = this.nightOf(t);
    if (night <= this.lastNight) return false;
    this.bake(night, broken);
    return true;
  }

  /** Every image baked so far, oldest first, with its pool. */
  images(): readonly { readonly image: SimImage; readonly pool: string }[] {
    return this.baked;
  }

  private bake(night: number, broken = false): void {
    this.lastNight = Math.max(this.lastNight, night);
    const date = new Date(night).toISOString().slice(0, this.periodMs < DAY ? 13 : 10);
    for (const policy of this.policies) {
      for (const region of this.regions) {
        if (!policy.regions[region]) continue;
        const image = this.world.registerImage(region, `${policy.pool}-${date}`, night, policy.productDescription);
        image.broken = broken;
        this.baked.push({ image, pool: policy.pool });
      }
    }
  }

  publish(objects: SimObjects, target: PublishTarget): void {
    const images = this.baked.map(({ image, pool }) => ({
      id: image.id,
      pool,
      region: image.region,
      created: new Date(image.created).toISOString(),
      name: image.name,
    }));
    objects.publish(target.bucket, target.key, `${JSON.stringify({ images }, null, 1)}\n`);
  }
}

/**
 * Workers of pools whose scale-down is `none` leave by themselves: when a pool has more running
 * workers than jobs, idle workers that have run a while shut down, about one in ten a minute. A
 * worker running a job (`busy`) never does: its agent powers off only between jobs.
 */
export function idleWorkersLeave(
  world: SimWorld,
  policies: readonly PoolPolicy[],
  wanted: Readonly<Record<string, number>>,
  rng: Prng,
  stepMs: number,
  busy: ReadonlySet<string> = new Set(),
): number {
  let left = 0;
  for (const policy of policies) {
    if (policy.scaleDown !== 'none') continue;
    const running = [...world.instances.values()].filter((i) => i.tags['fleet:pool'] === policy.pool && i.state === 'running');
    let idle = running.length - (wanted[policy.pool] ?? 0);
    for (const worker of running) {
      if (idle <= 0) break;
      if (busy.has(worker.id) || world.now - worker.runningAt < 20 * 60_000 || !rng.chance(1 - Math.exp(-stepMs / (10 * 60_000)))) continue;
      world.endInstance(worker, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
      idle--;
      left++;
    }
  }
  return left;
}
