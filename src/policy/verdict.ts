import type { Image } from '../domain/types.js';
import type { ImageIndex } from './images.js';
import { type Rollout, imageStatus, launchableImages } from './rollout.js';

export type Verdict = 'launchable' | 'outdated' | 'drained' | 'unknown';

export interface ImageVerdict {
  readonly verdict: Verdict;
  /** one line for a boot log */
  readonly reason: string;
}

/**
 * Whether fleet would launch `ami` for this pool and region now, by the planner's own rule (the
 * rollout's launchable images: the image every launch uses and a new one on trial): `launchable`,
 * `drained` (an operator or the launch guard drained it), `outdated` (fleet launches something else),
 * or `unknown` (fleet launches nothing there: no image of the pool in that region, or every one
 * drained; then nothing better exists, and a worker keeps running).
 */
export function imageVerdict(ami: string, rollout: Rollout, images: ImageIndex): ImageVerdict {
  const { pool, region } = rollout;
  const launchable = launchableImages(rollout);
  const where = `${pool} in ${region}`;
  if (launchable.some((image) => image.id === ami)) {
    const candidate = rollout.candidate;
    const reason =
      candidate?.id === ami
        ? `${ami} is the new image on trial (${rollout.phase}) for ${where}`
        : candidate !== undefined && launchable.length > 1
          ? `${ami} is the image fleet launches for ${where} beside ${candidate.id} on trial`
          : `${ami} is the image fleet launches for ${where}`;
    return { verdict: 'launchable', reason };
  }
  const status = imageStatus(ami, pool, region, rollout, images);
  if (status === 'drained') return { verdict: 'drained', reason: `${ami} is drained: fleet never launches it again` };
  if (launchable.length === 0) {
    const why = status === 'unknown' ? 'the manifest lists no image of it' : 'every image the manifest lists for it is drained';
    return { verdict: 'unknown', reason: `fleet launches no image for ${where}: ${why}` };
  }
  return { verdict: 'outdated', reason: `${ami} is outdated: fleet launches ${describe(launchable)} for ${where}` };
}

function describe(images: readonly Image[]): string {
  return images.map((image) => `${image.id} (${new Date(image.created).toISOString()})`).join(' or ');
}
