// What the moto tests of images and rollouts share: moto's Linux images, a native manifest listing
// images of bld-linux64, and a journal that remembers an image as proved.

import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import type { MotoFleet } from './moto-fleet.js';

/** The ids of moto's preloaded Linux images, in its order. */
export async function linuxImages(ec2: EC2Client): Promise<string[]> {
  const images = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images ?? [];
  return images.filter((i) => String(i.Platform ?? '').toLowerCase() !== 'windows').map((i) => i.ImageId as string);
}

/** A native manifest listing each [id, created] as an image of bld-linux64 in us-east-1. */
export function manifestOf(...images: [string, string][]) {
  return {
    images: images.map(([id, created]) => ({ id, pool: 'bld-linux64', region: 'us-east-1', created, name: `bld-linux64-${created}` })),
  };
}

/** A journal in which `ami`'s canaries baked an hour ago: the pool launches it at once. */
export async function journalProving(world: MotoFleet, ami: string): Promise<void> {
  await world.put('fleet-control', 'state/reconciler.json', {
    version: 2,
    timers: {},
    launches: [],
    terminated: {},
    endsSeen: {},
    established: { [`bld-linux64 us-east-1 ${ami}`]: Date.now() - 3600_000 },
    trials: {},
  });
}
