import { groupBy } from '../domain/group-by.js';
import type { Image } from '../domain/types.js';
import { ImageIndex } from './images.js';

export interface PruneDecision {
  readonly image: Image;
  readonly prune: boolean;
  readonly why: string;
}

/**
 * Which manifest images the janitor may deregister: per pool and region the newest `keep` stay,
 * and whatever the count, never the newest image, one fleet launches now (`launchable`: a rollout's
 * trusted image and its candidate), nor one any instance still uses. An image listed
 * for several pools is pruned only if every listing allows it.
 */
export function prunePlan(
  images: readonly Image[],
  drained: ReadonlySet<string>,
  keep: number,
  inUse: ReadonlySet<string>,
  launchable: ReadonlySet<string> = new Set(),
): PruneDecision[] {
  const index = new ImageIndex(images, drained);
  const decisions: PruneDecision[] = [];
  for (const group of groupBy(images, (i) => `${i.pool} ${i.region}`).values()) {
    const newestFirst = [...group].sort((a, b) => b.created - a.created || b.id.localeCompare(a.id));
    newestFirst.forEach((image, rank) => {
      if (index.newest(image.pool, image.region)?.id === image.id || launchable.has(image.id))
        decisions.push({ image, prune: false, why: 'current' });
      else if (inUse.has(image.id)) decisions.push({ image, prune: false, why: 'in use by an instance' });
      else if (rank < keep) decisions.push({ image, prune: false, why: `among the newest ${keep}` });
      else decisions.push({ image, prune: true, why: `older than the newest ${keep}${drained.has(image.id) ? ', drained' : ''}` });
    });
  }
  const kept = new Set(decisions.filter((d) => !d.prune).map((d) => `${d.image.region} ${d.image.id}`));
  return decisions.map((d) =>
    d.prune && kept.has(`${d.image.region} ${d.image.id}`) ? { ...d, prune: false, why: 'kept for another pool' } : d,
  );
}
