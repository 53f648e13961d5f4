// How the image rollouts of a simulated run went, per pool and region: for every image published
// during the run, how many workers ever booted it (the simulated world's own instances), how long its
// canary phase lasted (publication → drained, or → established, as fleet's stored drain marks and
// journal record them), how long its turnover took (publication → no live instance of that pool and
// region on an older image), and per pool the lowest running capacity on launchable (non-drained)
// images relative to wanted while a rollout was under way. Everything here is simulated.

import type { Image } from '../domain/types.js';
import { rolloutKey } from '../policy/rollout.js';
import type { SimInstance } from '../fake-cloud/world.js';

/** One image's rollout in one pool and region. */
export interface RolloutFigures {
  readonly pool: string;
  readonly region: string;
  readonly ami: string;
  /** ISO 8601: when the manifest first listed it (its creation time, or the sample before) */
  readonly published: string;
  /** workers of the pool that ever booted this image, however they ended (the simulated world's count) */
  readonly booted: number;
  /** how its canary phase ended: drained (by the guard or an operator), established, or still open at the end */
  readonly canaryEnd: 'drained' | 'established' | 'open';
  /** who drained it, when it was */
  readonly drainedBy?: string;
  /** seconds from publication to the end of the canary phase; null while open */
  readonly canarySeconds: number | null;
  /**
   * seconds from publication until it was established and no live instance of the pool and region ran
   * an older image; null when that never happened during the run (drained, superseded by a newer
   * image, or the run ended first)
   */
  readonly turnoverSeconds: number | null;
}

/** The lowest running capacity on launchable images of a pool while one of its rollouts was under way. */
export interface RolloutCapacity {
  /** ISO 8601 of the sample */
  readonly at: string;
  /** running instances of the pool on non-drained images */
  readonly running: number;
  /** the pool's wanted size at that sample */
  readonly wanted: number;
}

/** What the tracker reads at each sample: the manifest and drained marks as stored, and fleet's established facts. */
export interface RolloutView {
  readonly t: number;
  readonly images: readonly Image[];
  /** AMI → drain mark, as stored in drained.json */
  readonly drained: Readonly<Record<string, { readonly at: number; readonly by: string }>>;
  /** rolloutKey() → epoch ms, as stored in reconciler.json */
  readonly established: Readonly<Record<string, number>>;
  /** the world's listed instances of fleet's pools (every state) */
  readonly instances: Iterable<SimInstance>;
  /** wanted size per pool at this sample */
  readonly wanted: Readonly<Record<string, number>>;
}

interface Tracked {
  readonly image: Image;
  readonly publishedAt: number;
  drainedAt?: number;
  drainedBy?: string;
  establishedAt?: number;
  turnoverAt?: number;
  /** when the rollout stopped being under way: turned over, superseded by a newer proved image, or drained and gone */
  resolvedAt?: number;
}

const poolOf = (i: SimInstance) => i.tags['fleet:pool'];
const isLive = (i: SimInstance) => i.state === 'pending' || i.state === 'running';

export class RolloutTracker {
  private readonly tracked: Tracked[] = [];
  private readonly known = new Set<string>();
  private readonly lowest = new Map<string, RolloutCapacity>();
  private previousT: number;

  /** `before`: the images listed when the run starts; their rollouts are not the run's. */
  constructor(before: readonly Image[], start: number) {
    for (const image of before) this.known.add(image.id);
    this.previousT = start;
  }

  observe(view: RolloutView): void {
    for (const image of view.images) {
      if (this.known.has(image.id)) continue;
      this.known.add(image.id);
      this.tracked.push({ image, publishedAt: Math.max(image.created, this.previousT) });
    }
    const instances = [...view.instances];
    const live = new Map<string, SimInstance[]>();
    for (const i of instances) {
      const pool = poolOf(i);
      if (pool === undefined || !isLive(i)) continue;
      const key = `${pool} ${i.region}`;
      const list = live.get(key) ?? [];
      list.push(i);
      live.set(key, list);
    }
    const created = new Map(view.images.map((i) => [i.id, i.created]));
    const underWay = new Set<string>();
    for (const r of this.tracked) {
      const { pool, region, id } = r.image;
      const mark = view.drained[id];
      if (mark && r.drainedAt === undefined) {
        r.drainedAt = mark.at;
        r.drainedBy = mark.by;
      }
      const at = view.established[rolloutKey(pool, region, id)];
      if (at !== undefined && r.establishedAt === undefined) r.establishedAt = at;
      if (r.resolvedAt !== undefined) continue;
      const here = live.get(`${pool} ${region}`) ?? [];
      if (r.drainedAt !== undefined) {
        if (!here.some((i) => i.ami === id)) r.resolvedAt = view.t;
      } else if (
        view.images.some(
          (o) =>
            o.pool === pool &&
            o.region === region &&
            o.created > r.image.created &&
            view.established[rolloutKey(pool, region, o.id)] !== undefined,
        )
      ) {
        // A newer image proved itself before this one's turnover finished: fleet moved on.
        r.resolvedAt = view.t;
      } else if (
        r.establishedAt !== undefined &&
        !here.some((i) => i.ami !== id && (created.get(i.ami) ?? Number.NEGATIVE_INFINITY) < r.image.created)
      ) {
        // Turned over: proved, and nothing older runs in the pool and region any more.
        r.turnoverAt = view.t;
        r.resolvedAt = view.t;
      }
      underWay.add(pool);
    }
    for (const pool of underWay) this.noteCapacity(pool, instances, view);
    this.previousT = view.t;
  }

  private noteCapacity(pool: string, instances: readonly SimInstance[], view: RolloutView): void {
    let running = 0;
    for (const i of instances) if (poolOf(i) === pool && i.state === 'running' && view.drained[i.ami] === undefined) running++;
    const wanted = view.wanted[pool] ?? 0;
    const seen = this.lowest.get(pool);
    if (seen === undefined || running - wanted < seen.running - seen.wanted)
      this.lowest.set(pool, { at: new Date(view.t).toISOString(), running, wanted });
  }

  /** Every image published during the run; `booted` counts from every instance the world ever had. */
  figures(everyInstance: readonly SimInstance[]): RolloutFigures[] {
    const booted = new Map<string, number>();
    for (const i of everyInstance) {
      const key = `${poolOf(i)} ${i.ami}`;
      booted.set(key, (booted.get(key) ?? 0) + 1);
    }
    const seconds = (at: number | undefined, from: number) => (at === undefined ? null : Math.round((at - from) / 1000));
    return this.tracked.map((r) => {
      // The canary phase ends at whichever came first: the proof, or the drain.
      const established = r.establishedAt !== undefined && (r.drainedAt === undefined || r.establishedAt <= r.drainedAt);
      const canaryEndAt = established ? r.establishedAt : r.drainedAt;
      return {
        pool: r.image.pool,
        region: r.image.region,
        ami: r.image.id,
        published: new Date(r.publishedAt).toISOString(),
        booted: booted.get(`${r.image.pool} ${r.image.id}`) ?? 0,
        canaryEnd: established ? 'established' : r.drainedAt !== undefined ? 'drained' : 'open',
        ...(r.drainedBy !== undefined ? { drainedBy: r.drainedBy } : {}),
        canarySeconds: seconds(canaryEndAt, r.publishedAt),
        turnoverSeconds: seconds(r.turnoverAt, r.publishedAt),
      };
    });
  }

  /** Per pool, the lowest running capacity on launchable images (relative to wanted) while a rollout was under way. */
  lowestCapacity(pool: string): RolloutCapacity | null {
    return this.lowest.get(pool) ?? null;
  }
}
