import type { Image } from '../domain/types.js';

export type AmiStatus = 'current' | 'outdated' | 'drained' | 'unknown';

function poolRegionKey(pool: string, region: string): string {
  return `${pool}\u0000${region}`;
}

/** The newest non-drained image of each pool and region. */
export class ImageIndex {
  private readonly current = new Map<string, Image>();
  private readonly known = new Set<string>();

  constructor(
    images: readonly Image[] | undefined,
    private readonly drained: ReadonlySet<string>,
  ) {
    for (const image of images ?? []) {
      this.known.add(poolRegionKey(image.pool, image.region));
      if (drained.has(image.id)) continue;
      const key = poolRegionKey(image.pool, image.region);
      const best = this.current.get(key);
      if (!best || image.created > best.created || (image.created === best.created && image.id > best.id)) {
        this.current.set(key, image);
      }
    }
  }

  currentImage(pool: string, region: string): Image | undefined {
    return this.current.get(poolRegionKey(pool, region));
  }

  status(ami: string, pool: string, region: string): AmiStatus {
    if (this.drained.has(ami)) return 'drained';
    if (!this.known.has(poolRegionKey(pool, region))) return 'unknown';
    return this.currentImage(pool, region)?.id === ami ? 'current' : 'outdated';
  }
}
