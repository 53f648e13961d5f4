import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { Cloud } from '../cloud/port.js';
import type { UnusableImage } from '../domain/snapshot.js';
import type { Image } from '../domain/types.js';

/**
 * Only images of `imageOwners` are launched: each manifest image is described once (DescribeImages
 * with those owners) and the answer kept (an image's owner never changes). An image no allowed owner
 * owns is left out of the cycle's images; so is one whose owner could not be checked (asked again
 * next cycle).
 */
export class ImageOwnership {
  /** ami → whether an allowed owner owns it */
  private readonly owned = new Map<string, boolean>();

  constructor(
    private readonly owners: readonly string[],
    private readonly cloud: Cloud,
    private readonly log: Logger,
  ) {}

  async filter(
    images: readonly Image[] | undefined,
    regions: readonly string[],
  ): Promise<{ images: Image[] | undefined; unusable: UnusableImage[] }> {
    if (images === undefined) return { images: undefined, unusable: [] };
    const here = images.filter((i) => regions.includes(i.region));
    const unchecked = new Map<string, string>();
    await Promise.all(
      regions.map(async (region) => {
        const ids = [...new Set(here.filter((i) => i.region === region && !this.owned.has(i.id)).map((i) => i.id))];
        if (ids.length === 0) return;
        try {
          const owned = await this.cloud.compute(region).imagesOwnedBy(this.owners, ids);
          for (const id of ids) {
            this.owned.set(id, owned.has(id));
            if (!owned.has(id))
              this.log.warn(
                { region, ami: id, imageOwners: this.owners },
                `image ${id} is not owned by ${this.owners.join(', ')} (imageOwners), or does not exist: never launched`,
              );
          }
        } catch (e) {
          const error = classify(e);
          this.log.warn(
            { region, code: error.code, error: error.message, images: ids.length },
            'image owners could not be checked; those images are not launched this cycle',
          );
          for (const id of ids) unchecked.set(id, `its owner could not be checked (${error.code})`);
        }
      }),
    );
    const unusable: UnusableImage[] = [];
    const kept = images.filter((image) => {
      if (!regions.includes(image.region)) return true;
      const reason =
        unchecked.get(image.id) ??
        (this.owned.get(image.id) === false ? `not owned by imageOwners (${this.owners.join(', ')}), or it does not exist` : undefined);
      if (reason !== undefined) unusable.push({ id: image.id, pool: image.pool, region: image.region, reason });
      return reason === undefined;
    });
    return { images: kept, unusable };
  }
}
