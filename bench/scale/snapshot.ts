// A large, realistic snapshot for timing the planner: 100 pools over 3 regions, several images per
// pool and region (a rollout in progress, outdated and drained ones), instances on all of them,
// ended ones, pending launches, replacement pairs, spot prices for every offer. Deterministic: the
// same size gives the same snapshot. Generated data, not a recording of any real fleet.

import { parsePolicy } from '../../src/config/policy-schema.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { type PendingLaunch, type Snapshot, onDemandKey } from '../../src/domain/snapshot.js';
import type { Image, Instance, InstanceState, SpotPrice, Subnet } from '../../src/domain/types.js';
import { formatName } from '../../src/policy/names.js';
import { rolloutKey } from '../../src/policy/rollout.js';
import { simOnDemandPrice } from '../../src/fake-cloud/catalog.js';
import { Prng } from '../../src/fake-cloud/prng.js';

export const REGIONS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['us-east-1a', 'us-east-1b', 'us-east-1c'],
  'us-west-2': ['us-west-2a', 'us-west-2b', 'us-west-2c'],
  'eu-central-1': ['eu-central-1a', 'eu-central-1b', 'eu-central-1c'],
};
const TYPES = ['c5.xlarge', 'c5a.xlarge', 'c6i.xlarge', 'm5.xlarge', 'm5a.xlarge', 'm6i.xlarge', 'r5.xlarge', 'c5.2xlarge'];
const HOUR = 3600_000;
export const NOW = Date.parse('2026-11-20T12:00:00Z');

export interface ScaleWorld {
  readonly policies: PoolPolicy[];
  readonly snapshot: Snapshot;
  /** what the snapshot holds, for the record */
  readonly counts: Readonly<
    Record<'instances' | 'outdated' | 'onDrained' | 'canaries' | 'ended' | 'pending' | 'pairs' | 'pendingLaunches' | 'onDemand', number>
  >;
}

function subnetId(region: string, az: string): string {
  return `subnet-${region.replace(/-/g, '')}${az.slice(-1)}`;
}

/** The pools' policies: 3 instance types each, every region, a third of them `scaleDown: none`. */
export function scalePolicies(pools: number, perPool: number): PoolPolicy[] {
  return Array.from({ length: pools }, (_, p) => {
    const types = [0, 1, 2].map((k) => TYPES[(p + k * 3) % TYPES.length] as string);
    return parsePolicy(
      {
        pool: `pool-${String(p).padStart(2, '0')}`,
        instanceTypes: types.map((type) => ({ type, weight: 1 })),
        regions: Object.fromEntries(
          Object.entries(REGIONS).map(([region, azs]) => [
            region,
            { subnets: azs.map((az) => subnetId(region, az)), securityGroups: [`sg-${region.replace(/-/g, '')}`] },
          ]),
        ),
        size: { min: 0, max: Math.max(10, perPool * 2) },
        names: `pool-${String(p).padStart(2, '0')}-{nnnnn}`,
        scaleDown: p % 3 === 2 ? 'none' : 'terminate',
        onDemand: { max: Math.max(2, Math.round(perPool / 10)) },
        ...(p % 4 === 0 ? { spread: '40%' } : {}),
        freshness: { grace: 10800, retireBudget: '10%', drainBudget: '50%', canary: 1, bake: 900, guard: { window: 900, failures: 3 } },
      },
      'bench',
    );
  });
}

/** Images per pool and region, oldest first: 72 h, 48 h (drained in one pool-region in ten), 24 h, and 2 h (a rollout, where published). */
function imagesOf(pool: string, region: string, drained: boolean): { images: Image[]; drained?: string } {
  const ages = [72, 48, 24, 2];
  const images = ages.map((age, k) => ({
    id: `ami-${pool}-${region}-${k}`,
    pool,
    region,
    created: NOW - age * HOUR,
    name: `${pool}-${age}h`,
  }));
  return { images, ...(drained ? { drained: (images[1] as Image).id } : {}) };
}

export function scaleWorld(totalInstances: number, pools = 100, seed = 42): ScaleWorld {
  const rng = new Prng(seed);
  const regions = Object.keys(REGIONS);
  const perPool = Math.round(totalInstances / pools);
  const policies = scalePolicies(pools, perPool);
  const subnets: Record<string, Subnet> = {};
  for (const [region, azs] of Object.entries(REGIONS))
    for (const az of azs) subnets[subnetId(region, az)] = { id: subnetId(region, az), region, az };

  const images: Image[] = [];
  const drained = new Set<string>();
  const established: Record<string, number> = {};
  const instances: Instance[] = [];
  const pendingLaunches: PendingLaunch[] = [];
  const desired: Record<string, number> = {};
  const timers: Record<string, { shortfallSince?: number; surplusSince?: number }> = {};
  const terminatedByFleet = new Set<string>();
  let serial = 0;
  const counts = { instances: 0, outdated: 0, onDrained: 0, canaries: 0, ended: 0, pending: 0, pairs: 0, pendingLaunches: 0, onDemand: 0 };

  for (const [p, policy] of policies.entries()) {
    let slot = 0;
    for (const [r, region] of regions.entries()) {
      const set = imagesOf(policy.pool, region, (p + r) % 10 === 0);
      // A rollout is under way in half the pool-regions: there the 2 h image is published, elsewhere not yet.
      images.push(...((p + r) % 2 === 0 ? set.images : set.images.slice(0, 3)));
      if (set.drained) drained.add(set.drained);
      // The 24 h image proved itself; the 2 h one is a candidate on trial.
      established[rolloutKey(policy.pool, region, (set.images[2] as Image).id)] = NOW - 20 * HOUR;
      // This pool-region's share of the total, replacement pairs included.
      const cell = p * regions.length + r;
      const here =
        Math.floor(((cell + 1) * totalInstances) / (pools * regions.length)) -
        Math.floor((cell * totalInstances) / (pools * regions.length));
      const rollout = (p + r) % 2 === 0;
      let made = 0;
      const azs = REGIONS[region] as readonly string[];
      for (let k = 0; made < here; k++) {
        const roll = rng.next();
        // The first of each pool and region is the 2 h candidate's canary; then 70% on the current (24 h)
        // image, 10% on the 72 h one and 10% on the 48 h one (drained in some pool-regions).
        const imageIndex = k === 0 && rollout ? 3 : roll < 0.7 ? 2 : roll < 0.8 ? 0 : roll < 0.9 ? 1 : 2;
        const ami = (set.images[imageIndex] as Image).id;
        const az = azs[k % azs.length] as string;
        const type = policy.instanceTypes[(k >> 2) % policy.instanceTypes.length]?.type as string;
        const stateRoll = rng.next();
        const state: InstanceState =
          stateRoll < 0.03 ? 'pending' : stateRoll < 0.035 ? 'shutting-down' : stateRoll < 0.045 ? 'terminated' : 'running';
        const ended = state === 'shutting-down' || state === 'terminated';
        const lifecycle = rng.next() < 0.1 ? 'on-demand' : 'spot';
        const id = `i-${(++serial).toString(16).padStart(17, '0')}`;
        const launchTime = NOW - (state === 'pending' ? rng.between(10_000, 60_000) : rng.between(0.5, 40) * HOUR);
        instances.push({
          id,
          name: formatName(policy.names, ++slot),
          pool: policy.pool,
          region,
          az,
          subnetId: subnetId(region, az),
          instanceType: type,
          lifecycle,
          state,
          privateIp: `10.${r}.${(serial >> 8) & 255}.${serial & 255}`,
          ami,
          launchTime,
          clientToken: `fleet-${id}`,
          launchIndex: 0,
          ...(ended
            ? {
                endCause: rng.next() < 0.5 ? ('spot-interruption' as const) : ('user' as const),
                endedAt: NOW - rng.between(1, 50) * 60_000,
              }
            : {}),
        });
        counts.instances++;
        made++;
        if (ended) counts.ended++;
        if (state === 'pending') counts.pending++;
        if (lifecycle === 'on-demand') counts.onDemand++;
        if (imageIndex === 3) counts.canaries++;
        if (imageIndex < 2) counts.outdated++;
        if (set.drained === ami) counts.onDrained++;
        if (ended && rng.next() < 0.5) terminatedByFleet.add(id);
        // A replacement pair: an outdated instance and its replacement on the current image, launched a few minutes ago.
        if (imageIndex < 2 && !ended && made < here && rng.next() < 0.2) {
          const rid = `i-${(++serial).toString(16).padStart(17, '0')}`;
          instances.push({
            id: rid,
            name: formatName(policy.names, ++slot),
            pool: policy.pool,
            region,
            az,
            subnetId: subnetId(region, az),
            instanceType: type,
            lifecycle: 'spot',
            state: 'running',
            privateIp: `10.${r}.${(serial >> 8) & 255}.${serial & 255}`,
            ami: (set.images[2] as Image).id,
            launchTime: NOW - rng.between(2, 10) * 60_000,
            clientToken: `fleet-${rid}`,
            launchIndex: 0,
            replaces: id,
          });
          counts.instances++;
          made++;
          counts.pairs++;
        }
      }
      // Launches sent, not yet listed (the journal's): about 1% of the pool.
      for (let k = 0; k < Math.max(1, Math.round(here / 100)); k++) {
        const az = azs[k % azs.length] as string;
        pendingLaunches.push({
          pool: policy.pool,
          region,
          az,
          subnetId: subnetId(region, az),
          instanceType: policy.instanceTypes[0]?.type as string,
          lifecycle: 'spot',
          ami: (set.images[2] as Image).id,
          name: formatName(policy.names, ++slot),
          clientToken: `fleet-pending-${policy.pool}-${region}-${k}`,
          requestedAt: NOW - 20_000,
          resendable: false,
        });
        counts.pendingLaunches++;
      }
    }
    // Desired moves around the live size: some pools grow, some shrink, some stay.
    const live = instances.filter((i) => i.pool === policy.pool && (i.state === 'running' || i.state === 'pending')).length;
    desired[policy.pool] = Math.max(0, Math.round(live * [1, 1.05, 0.95, 1, 1.2][p % 5]!));
    if (p % 7 === 0) timers[policy.pool] = { shortfallSince: NOW - 120_000 };
    if (p % 11 === 0) timers[policy.pool] = { surplusSince: NOW - 900_000 };
  }

  // The newest spot price of every offer (region × zone × type), and on-demand prices for every type.
  const spotPrices: SpotPrice[] = [];
  const onDemandPrices: Record<string, number> = {};
  for (const [region, azs] of Object.entries(REGIONS)) {
    for (const type of TYPES) {
      const onDemand = simOnDemandPrice(region, type, 'Linux/UNIX') ?? 0.2;
      onDemandPrices[onDemandKey(region, type, 'Linux/UNIX')] = onDemand;
      for (const az of azs)
        spotPrices.push({
          region,
          az,
          instanceType: type,
          productDescription: 'Linux/UNIX',
          price: Math.round(onDemand * rng.between(0.3, 0.6) * 10_000) / 10_000,
          timestamp: NOW - rng.between(1, 60) * 60_000,
        });
    }
  }

  const snapshot: Snapshot = {
    now: NOW,
    regions,
    desired,
    images,
    drained,
    instances,
    pendingLaunches,
    subnets,
    spotPrices,
    onDemandPrices,
    unavailable: {},
    timers,
    terminatedByFleet,
    established,
  };
  return { policies, snapshot, counts };
}
