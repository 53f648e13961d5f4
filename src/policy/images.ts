import { keepShape } from '../domain/shapes.js';
import type { Image } from '../domain/types.js';

export type AmiStatus = 'current' | 'outdated' | 'drained' | 'unknown';

export function poolRegionKey(pool: string, region: string): string {
  return `${pool}\u0000${region}`;
}

const newestFirst = (a: Image, b: Image) => b.created - a.created || b.id.localeCompare(a.id);

/** The manifest's images per pool and region, newest first, with the drained ones set apart. */
export class ImageIndex {
  private readonly usable = new Map<string, Image[]>();
  private readonly known = new Set<string>();

  constructor(
    images: readonly Image[] | undefined,
    readonly drained: ReadonlySet<string>,
  ) {
    for (const image of images ?? []) {
      const key = poolRegionKey(image.pool, image.region);
      this.known.add(key);
      if (drained.has(image.id)) continue;
      const list = this.usable.get(key) ?? [];
      list.push(image);
      this.usable.set(key, list);
    }
    for (const list of this.usable.values()) list.sort(newestFirst);
  }

  /** Non-drained images of a pool and region, newest first. */
  images(pool: string, region: string): readonly Image[] {
    return this.usable.get(poolRegionKey(pool, region)) ?? [];
  }

  /** The newest non-drained image of a pool and region. */
  newest(pool: string, region: string): Image | undefined {
    return this.images(pool, region)[0];
  }

  /** Whether the manifest lists any image (drained or not) for this pool and region. */
  knows(pool: string, region: string): boolean {
    return this.known.has(poolRegionKey(pool, region));
  }
}

keepShape(new ImageIndex([], new Set()));
