import { InputError, RuntimeFailure } from '../../domain/errors.js';
import type { Image } from '../../domain/types.js';
import { isLive } from '../../domain/types.js';
import { rolloutsOf } from '../../plan/rollouts.js';
import { ImageIndex } from '../../policy/images.js';
import { describePhase, imagePhase, imageStatus, launchableImages } from '../../policy/rollout.js';
import { prunePlan } from '../../policy/prune.js';
import { readDrained } from '../../shared/worker-docs.js';
import { type GlobalOptions, awsRuntime, loadContext } from '../context.js';
import { printable, table } from '../table.js';

function manifestOrFail(images: readonly Image[] | undefined): readonly Image[] {
  if (images === undefined) throw new RuntimeFailure('the AMI manifest cannot be read and no last good copy exists');
  return images;
}

/** The manifest as fleet sees it: per pool and region, current, outdated (previous) and drained images. */
export async function amisListCommand(global: GlobalOptions, options: { json?: boolean }): Promise<void> {
  const ctx = loadContext(global, { logLevel: 'warn' });
  const runtime = awsRuntime(ctx, { readOnly: true });
  const { snapshot } = await runtime.observer.observe();
  const images = manifestOrFail(snapshot.images);
  const index = new ImageIndex(images, snapshot.drained);
  const rollouts = rolloutsOf(snapshot, ctx.policies, index);
  const rolloutOf = (i: Image) => rollouts.get(i.pool)?.get(i.region);
  const marks = (await readDrained(runtime.state))?.doc.amis ?? {};
  const live = snapshot.instances.filter(isLive);
  const rows = [...images]
    .sort((a, b) => a.pool.localeCompare(b.pool) || a.region.localeCompare(b.region) || b.created - a.created)
    .map((image) => ({
      pool: image.pool,
      region: image.region,
      id: image.id,
      name: image.name,
      created: new Date(image.created).toISOString(),
      status: imageStatus(image.id, image.pool, image.region, rolloutOf(image), index),
      rollout: imagePhase(image.id, image.pool, image.region, rolloutOf(image), index),
      instances: live.filter((i) => i.ami === image.id && i.region === image.region).length,
      ...(marks[image.id] ? { drained: marks[image.id] } : {}),
    }));
  const listed = new Set(images.map((i) => i.id));
  const unlisted = [...new Set(live.filter((i) => !listed.has(i.ami)).map((i) => `${i.region} ${i.ami}`))];
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ images: rows, unlisted: unlisted.map((k) => ({ region: k.split(' ')[0], id: k.split(' ')[1] })) }, null, 2)}\n`,
    );
    return;
  }
  const out = [
    table(
      ['POOL', 'REGION', 'AMI', 'STATUS', 'CREATED', 'INSTANCES', 'NAME'],
      rows.map((r) => [
        r.pool,
        r.region,
        r.id,
        r.status === 'outdated' ? 'previous' : describePhase(r.rollout),
        r.created,
        r.instances,
        r.name,
      ]),
    ),
    ...rows
      .filter((r) => r.drained)
      .map((r) => printable(`${r.id}: drained by ${r.drained?.by} at ${new Date(r.drained?.at ?? 0).toISOString()}: ${r.drained?.reason}`)),
    ...(unlisted.length > 0 ? [printable(`Instances run AMIs the manifest does not list: ${unlisted.join(', ')}`)] : []),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

/**
 * Deregister old AMIs and their snapshots, keeping the newest N per pool and region, and never
 * one that is current or used by any instance (managed or not): checked when planning, and again
 * right before each deregistration. Only images (and snapshots) tagged with this fleet's
 * ownership tag are ever touched.
 */
export async function amisPruneCommand(global: GlobalOptions, options: { keep: string; dryRun?: boolean; json?: boolean }): Promise<void> {
  if (!/^\d+$/.test(options.keep)) throw new InputError(`--keep: expected a count ≥ 0 (got ${JSON.stringify(options.keep)})`);
  const keep = Number(options.keep);
  const ctx = loadContext(global, { logLevel: 'warn' });
  const dryRun = options.dryRun ?? false;
  const runtime = awsRuntime(ctx, { readOnly: dryRun });
  const { snapshot } = await runtime.observer.observe();
  const images = manifestOrFail(snapshot.images).filter((i) => ctx.config.regions.includes(i.region));
  // Whatever fleet launches now (the new image on trial and the one every other launch uses) is never pruned.
  const launchable = new Set(
    [...rolloutsOf(snapshot, ctx.policies).values()].flatMap((regions) =>
      [...regions.values()].flatMap((r) => launchableImages(r).map((i) => i.id)),
    ),
  );
  const inUse = new Set<string>();
  for (const region of new Set(images.map((i) => i.region))) {
    const ids = images.filter((i) => i.region === region).map((i) => i.id);
    for (const id of await runtime.cloud.compute(region).imagesInUse(ids)) inUse.add(id);
  }
  const results: {
    ami: string;
    pool: string;
    region: string;
    created: string;
    action: 'deregister' | 'keep' | 'skip';
    why: string;
    snapshots?: string[];
  }[] = [];
  for (const d of prunePlan(images, snapshot.drained, keep, inUse, launchable)) {
    const base = { ami: d.image.id, pool: d.image.pool, region: d.image.region, created: new Date(d.image.created).toISOString() };
    if (!d.prune) {
      results.push({ ...base, action: 'keep', why: d.why });
      continue;
    }
    const compute = runtime.cloud.compute(d.image.region);
    const [record] = await compute.describeImages([d.image.id]);
    if (!record) {
      results.push({ ...base, action: 'skip', why: 'not an image of this account (or already gone)' });
    } else if (record.managedBy !== ctx.config.fleet) {
      results.push({ ...base, action: 'skip', why: `not tagged fleet:managed-by=${ctx.config.fleet}` });
    } else if (dryRun) {
      results.push({ ...base, action: 'deregister', why: `${d.why} (dry run)`, snapshots: [...record.snapshotIds] });
    } else if ((await compute.imagesInUse([d.image.id])).size > 0) {
      results.push({ ...base, action: 'keep', why: 'an instance started using it' });
    } else {
      const done = await compute.deregisterImage(ctx.config.fleet, d.image.id);
      results.push(
        done.deregistered
          ? { ...base, action: 'deregister', why: d.why, snapshots: done.snapshotsDeleted }
          : { ...base, action: 'skip', why: 'ownership changed before deregistration' },
      );
      if (done.deregistered)
        ctx.log.info(
          { ami: d.image.id, pool: d.image.pool, region: d.image.region, snapshots: done.snapshotsDeleted, reason: d.why },
          'deregister',
        );
    }
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ keep, dryRun, images: results }, null, 2)}\n`);
    return;
  }
  const verb = (r: (typeof results)[number]) =>
    r.action === 'deregister' ? (dryRun ? 'would deregister' : 'deregistered') : r.action === 'keep' ? 'kept' : 'skipped';
  const lines = results.map((r) =>
    printable(
      `${verb(r)} ${r.ami} (${r.pool}, ${r.region}, ${r.created}): ${r.why}${r.snapshots?.length ? `; snapshots ${r.snapshots.join(', ')}` : ''}`,
    ),
  );
  process.stdout.write(`${lines.length > 0 ? lines.join('\n') : 'the manifest lists no image in the managed regions'}\n`);
}
