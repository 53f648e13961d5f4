import type { Snapshot } from '../domain/snapshot.js';
import type { Plan } from '../plan/plan.js';

/** One image's place in a pool's rollout in one region, as `fleet_rollout_phase` exports it. */
export interface ImagePhaseSeries {
  readonly pool: string;
  readonly region: string;
  readonly ami: string;
  readonly phase: 'canary' | 'baking' | 'current' | 'drained';
}

/**
 * From a cycle's plan (each pool's rollout per region): the image every launch uses is `current`, a
 * new image on trial is `canary` or `baking`; and from its snapshot (the guard's drains applied), every
 * drained image the manifest lists for a planned pool and region is `drained`.
 */
export function rolloutPhases(plan: Plan, snapshot: Snapshot): ImagePhaseSeries[] {
  const series: ImagePhaseSeries[] = [];
  const planned = new Set<string>();
  for (const p of plan.pools) {
    for (const r of p.rollouts) {
      planned.add(`${p.pool} ${r.region}`);
      if (r.image !== undefined) series.push({ pool: p.pool, region: r.region, ami: r.image, phase: 'current' });
      if (r.candidate !== undefined && r.phase !== 'current')
        series.push({ pool: p.pool, region: r.region, ami: r.candidate, phase: r.phase });
    }
  }
  for (const image of snapshot.images ?? []) {
    if (snapshot.drained.has(image.id) && planned.has(`${image.pool} ${image.region}`))
      series.push({ pool: image.pool, region: image.region, ami: image.id, phase: 'drained' });
  }
  return series;
}
