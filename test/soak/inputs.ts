// The world's side of fleet's inputs in the soak: demand that moves (desired.json), and the image
// pipeline's manifest (amis.json), now and then replaced by an invalid one for a while. Every
// version published is registered with the ledger, so the judge knows what fleet may have read.

import type { PoolPolicy } from '../../src/domain/policy.js';
import type { Image } from '../../src/domain/types.js';
import type { SimCloud } from '../../src/fake-cloud/cloud.js';
import type { Prng } from '../../src/fake-cloud/prng.js';
import type { ImagePipeline } from '../../src/sim/workload.js';
import type { QueueEntry } from './ci.js';
import type { Ledger } from './ledger.js';
import { DESIRED_KEY, MANIFEST_KEY, SOAK_BUCKET } from './scenario.js';

export type BadManifest = 'truncated' | 'no-images' | 'malformed-image' | 'nothing-available';
const BAD_MANIFESTS: readonly BadManifest[] = ['truncated', 'no-images', 'malformed-image', 'nothing-available'];

/**
 * A manifest fleet must not use, made from a good one: cut short (not JSON), with no image, with one
 * of our images malformed (a manifest that might hide the newest image is rejected whole), or in
 * Mozilla's form with no image available.
 */
export function badManifest(good: readonly Image[], kind: BadManifest): string {
  const native = good.map((i) => ({ id: i.id, pool: i.pool, region: i.region, created: new Date(i.created).toISOString(), name: i.name }));
  switch (kind) {
    case 'truncated': {
      const body = JSON.stringify({ images: native }, null, 1);
      return body.slice(0, Math.floor(body.length / 2));
    }
    case 'no-images':
      return JSON.stringify({ images: [] });
    case 'malformed-image':
      return JSON.stringify({ images: native.map((i, n) => (n === native.length - 1 ? { ...i, created: 'last night' } : i)) });
    case 'nothing-available':
      return JSON.stringify(
        Object.fromEntries(
          good.map((i) => [
            i.id,
            {
              id: i.id,
              region: i.region,
              name: i.name,
              state: 'pending',
              tags: { 'moz-type': i.pool, 'moz-created': String(Math.floor(i.created / 1000)) },
            },
          ]),
        ),
      );
  }
}

export class SoakInputs {
  /** the raw counts last published (before fleet clamps them) */
  desired: Record<string, number> = {};
  /** the CI's queue-form entries last published, per pool (the others' entries are plain counts) */
  private queues: Readonly<Record<string, QueueEntry>> = {};
  private badUntil = -1;

  constructor(
    private readonly cloud: SimCloud,
    private readonly policies: readonly PoolPolicy[],
    private readonly pipeline: ImagePipeline,
    private readonly ledger: Ledger,
  ) {}

  /** Demand moves: small steps mostly, now and then a jump; a pool left out of the document gets its min. */
  moveDemand(rng: Prng, first: boolean): void {
    const counts: Record<string, number> = {};
    for (const p of this.policies) {
      const was = this.desired[p.pool] ?? Math.ceil(p.size.max / 2);
      const next = first ? was : rng.chance(0.15) ? rng.int(0, p.size.max + 2) : Math.max(0, was + rng.int(-2, 2));
      if (!first && rng.chance(0.05)) continue;
      counts[p.pool] = next;
    }
    this.publishDesired(counts);
  }

  /**
   * The desired document: per pool a plain count, or the CI's queue form with the count as `desired`
   * (used as given, so the judge knows what was asked) beside its queue and busy workers.
   */
  publishDesired(counts: Record<string, number>): void {
    this.desired = counts;
    const doc: Record<string, number | (QueueEntry & { desired: number })> = {};
    const busy: Record<string, readonly string[]> = {};
    for (const [pool, count] of Object.entries(counts)) {
      const q = this.queues[pool];
      doc[pool] = q ? { desired: count, ...q } : count;
      if (q) busy[pool] = q.busy;
    }
    const body = JSON.stringify(doc);
    this.cloud.objects.publish(SOAK_BUCKET, DESIRED_KEY, body);
    this.ledger.publishedDesired(body, counts, busy);
  }

  /** The CI's queues as they stand now, published with the counts in force. */
  publishQueues(queues: Readonly<Record<string, QueueEntry>>): void {
    this.queues = queues;
    this.publishDesired(this.desired);
  }

  /** The pipeline's images as the manifest lists them. */
  images(): Image[] {
    return this.pipeline
      .images()
      .map(({ image, pool }) => ({ id: image.id, pool, region: image.region, created: image.created, name: image.name }));
  }

  /** Bake if it is time; a bake during a bad-manifest window is published when the window ends. */
  bake(t: number, broken: boolean): boolean {
    if (!this.pipeline.tick(t, broken)) return false;
    if (!this.manifestBad) this.publishManifest();
    return true;
  }

  publishManifest(): void {
    this.pipeline.publish(this.cloud.objects, { bucket: SOAK_BUCKET, key: MANIFEST_KEY });
    const body = this.cloud.objects.peek(SOAK_BUCKET, MANIFEST_KEY)?.body as string;
    this.ledger.publishedManifest(body, { valid: true, images: this.images() });
  }

  get manifestBad(): boolean {
    return this.badUntil >= 0;
  }

  /** Publish an invalid manifest until cycle `until`. */
  breakManifest(rng: Prng, cycle: number, cycles: number): void {
    const body = badManifest(this.images(), rng.pick(BAD_MANIFESTS));
    this.cloud.objects.publish(SOAK_BUCKET, MANIFEST_KEY, body);
    this.ledger.publishedManifest(body, { valid: false, images: [] });
    this.badUntil = cycle + cycles;
  }

  /** Put the good manifest back once a bad window has run its course. */
  mend(cycle: number): void {
    if (this.badUntil < 0 || cycle < this.badUntil) return;
    this.badUntil = -1;
    this.publishManifest();
  }
}
