import type { Image } from '../domain/types.js';
import type { ImageIndex } from './images.js';

/**
 * The set of images fleet would launch for this pool and region now. Today that is the current
 * image alone (none when the manifest lists no usable image for them); during a rollout it will
 * also hold the previous image while the new one bakes. The planner's launches and a worker's boot
 * check (`fleet check-ami`) both ask this one function, so they never disagree.
 */
export function launchableImages(images: ImageIndex, pool: string, region: string): Image[] {
  const current = images.currentImage(pool, region);
  return current ? [current] : [];
}

export type Verdict = 'launchable' | 'outdated' | 'drained' | 'unknown';

export interface ImageVerdict {
  readonly verdict: Verdict;
  /** one line for a boot log */
  readonly reason: string;
}

/**
 * Whether fleet would launch `ami` for this pool and region now: `launchable` when it is in the
 * launchable set, `drained` when an operator or the launch guard drained it, `outdated` when fleet
 * launches something else, `unknown` when fleet launches nothing there (no image of the pool in
 * that region, or every one drained): then nothing better exists, and a worker keeps running.
 */
export function imageVerdict(ami: string, pool: string, region: string, images: ImageIndex): ImageVerdict {
  const launchable = launchableImages(images, pool, region);
  const where = `${pool} in ${region}`;
  if (launchable.some((image) => image.id === ami)) {
    return { verdict: 'launchable', reason: `${ami} is ${launchable.length === 1 ? 'the image' : 'one of the images'} fleet launches for ${where}` };
  }
  if (images.status(ami, pool, region) === 'drained') return { verdict: 'drained', reason: `${ami} is drained: fleet never launches it again` };
  if (launchable.length === 0) {
    const why = images.status(ami, pool, region) === 'unknown' ? 'the manifest lists no image of it' : 'every image the manifest lists for it is drained';
    return { verdict: 'unknown', reason: `fleet launches no image for ${where}: ${why}` };
  }
  return { verdict: 'outdated', reason: `${ami} is outdated: fleet launches ${describe(launchable)} for ${where}` };
}

function describe(images: readonly Image[]): string {
  return images.map((image) => `${image.id} (${new Date(image.created).toISOString()})`).join(' or ');
}
