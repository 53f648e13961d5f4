// API calls per steady cycle per region, 100 pools × 3 regions on the simulated cloud (EC2's token
// buckets enforced). The simulated world starts with the fleet already at its desired size (as an
// earlier fleet process left it: tagged, named, each pool in its cheapest offers), so that steady
// cycles can be counted without first launching 10,000 instances through the launch bucket.
// Simulated calls, not an AWS bill.

import type { PoolPolicy } from '../../src/domain/policy.js';
import { formatName } from '../../src/policy/names.js';
import { SimFleet } from '../../test/support/sim-fleet.js';
import { REGIONS, scalePolicies } from './snapshot.js';

const POOLS = 100;
const MEASURED_CYCLES = 10;
/** Quiet cycles in a row that count as settled: longer than a rebalance move's bake. */
const QUIET_TO_SETTLE = 20;
const MAX_SETTLING_CYCLES = 120;

export async function measureSteadyCalls(totals: readonly number[] = [1_000, 10_000]): Promise<Record<string, unknown>> {
  const rows: Record<string, unknown>[] = [];
  for (const total of totals) {
    const perPool = Math.round(total / POOLS);
    const policies = scalePolicies(POOLS, perPool);
    // A quiet market with room for everyone: no crunches, no reclaims, so steady means steady.
    const fleet = new SimFleet({
      policies,
      config: { regions: Object.keys(REGIONS) },
      cloud: { market: { crunchesPerDay: 0, spotCapacity: Math.max(200, total) }, world: { interruptionRatePerHour: 0 } },
    });
    fleet.publishDesired(Object.fromEntries(policies.map((p) => [p.pool, perPool])));
    for (const policy of policies) populate(fleet, policy, perPool);
    // Settle first: the pools were placed by price alone, and fleet may move some (rebalancing waits
    // for price history, and a moved instance leaves only once its replacement has run `bake`).
    let settling = 0;
    for (let quietInARow = 0; settling < MAX_SETTLING_CYCLES && quietInARow < QUIET_TO_SETTLE; settling++) {
      const cycle = await fleet.cycle();
      fleet.advance(fleet.config.interval * 1000);
      const quiet = cycle.plan.actions.length === 0 && cycle.observation.snapshot.pendingLaunches.length === 0;
      quietInARow = quiet ? quietInARow + 1 : 0;
    }
    const live = fleet.instances().length;
    const callsBefore = fleet.cloud.calls.length;
    const s3Before = fleet.cloud.objects.log.length;
    let quiet = 0;
    const started = performance.now();
    for (let k = 0; k < MEASURED_CYCLES; k++) {
      const cycle = await fleet.cycle();
      if (cycle.plan.actions.length === 0) quiet++;
      fleet.advance(fleet.config.interval * 1000);
    }
    const wallMsPerCycle = (performance.now() - started) / MEASURED_CYCLES;
    const calls = fleet.cloud.calls.slice(callsBefore);
    const perRegion: Record<string, Record<string, number>> = {};
    for (const region of Object.keys(REGIONS)) {
      const byAction: Record<string, number> = {};
      for (const c of calls.filter((c) => c.region === region)) byAction[c.action] = (byAction[c.action] ?? 0) + 1;
      perRegion[region] = Object.fromEntries(Object.entries(byAction).map(([action, n]) => [action, round(n / MEASURED_CYCLES)]));
    }
    const ec2 = calls.filter((c) => c.action !== 'GetProducts');
    rows.push({
      instances: live,
      pools: POOLS,
      regions: Object.keys(REGIONS).length,
      settlingCycles: settling,
      measuredCycles: MEASURED_CYCLES,
      quietCycles: quiet,
      ec2CallsPerCyclePerRegion: round(ec2.length / MEASURED_CYCLES / Object.keys(REGIONS).length),
      perRegionPerCycle: perRegion,
      s3CallsPerCycle: round((fleet.cloud.objects.log.length - s3Before) / MEASURED_CYCLES),
      wallMsPerCycle: Math.round(wallMsPerCycle),
    });
  }
  return {
    what: 'EC2 calls per steady cycle per region, 100 pools × 3 regions, on the simulated cloud (DescribeInstances answers 1,000 instances a page; spot prices are cached priceTtl = 300 s)',
    rows,
  };
}

/**
 * A pool at its desired size, spread over its regions, in each region's cheapest offers by the
 * simulated market right now (three of them where the policy caps one offer's share), named and
 * tagged as fleet tags its launches.
 */
function populate(fleet: SimFleet, policy: PoolPolicy, size: number): void {
  const { world } = fleet.cloud;
  const regions = Object.keys(policy.regions);
  const now = fleet.cloud.clock.now();
  let slot = 0;
  for (const [r, region] of regions.entries()) {
    const ami = [...world.images.values()].find((i) => i.region === region && i.name.startsWith(`${policy.pool}-`))?.id as string;
    const offers = (policy.regions[region]?.subnets ?? []).flatMap((subnetId) => {
      const az = world.subnets.get(subnetId)?.az as string;
      return policy.instanceTypes.map(({ type }) => ({
        subnetId,
        type,
        price: world.market.spotPrice(region, az, type, policy.productDescription, now) ?? Infinity,
      }));
    });
    const cheapest = offers
      .sort((a, b) => a.price - b.price)
      .slice(0, policy.spread.kind === 'percent' && policy.spread.value < 100 ? 3 : 1);
    const here = Math.floor(((r + 1) * size) / regions.length) - Math.floor((r * size) / regions.length);
    for (let k = 0; k < here; k++) {
      const offer = cheapest[k % cheapest.length] as (typeof cheapest)[number];
      world.createInstance({
        subnetId: offer.subnetId,
        instanceType: offer.type,
        lifecycle: 'spot',
        productDescription: policy.productDescription,
        ami,
        tags: { 'fleet:managed-by': fleet.config.fleet, 'fleet:pool': policy.pool, Name: formatName(policy.names, ++slot) },
        visibilityDelayMs: 0,
      });
    }
  }
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
