// The simulation's per-cycle samples: counts by lifecycle and image status, events, and money,
// against a small simulated world whose prices the test sets itself.

import { expect } from 'chai';
import { simOnDemandPrice } from '../../../src/fake-cloud/catalog.js';
import { SimCloud } from '../../../src/fake-cloud/cloud.js';
import { type PoolSample, Sampler } from '../../../src/sim/sampler.js';
import type { SimInstance } from '../../../src/fake-cloud/world.js';
import { policy } from '../../support/builders.js';

const START = Date.parse('2026-11-20T10:00:00Z');
const HOUR = 3600_000;
const POOL = 'bld-linux64';
const OBJECTS = { bucket: 'sim', manifestKey: 'amis.json', drainedKey: 'state/drained.json' };

function world() {
  // No background reclaims and no capacity crunches: only what the test does happens.
  const cloud = new SimCloud({ seed: 3, start: START, world: { interruptionRatePerHour: 0 }, market: { crunchesPerDay: 0 } });
  cloud.world.adoptSubnets('us-east-1', ['subnet-a', 'subnet-b', 'subnet-c']);
  for (const az of ['us-east-1a', 'us-east-1b', 'us-east-1c']) {
    for (const type of ['c5.xlarge', 'm5.xlarge']) cloud.world.market.setSpotPrice('us-east-1', az, type, 'Linux/UNIX', 0.08, START);
  }
  cloud.world.market.setSpotPrice('us-east-1', 'us-east-1b', 'm5.xlarge', 'Linux/UNIX', 0.05, START);
  const images = [
    { id: 'ami-old', pool: POOL, region: 'us-east-1', created: '2026-11-18T04:00:00Z', name: 'old' },
    { id: 'ami-new', pool: POOL, region: 'us-east-1', created: '2026-11-19T04:00:00Z', name: 'new' },
  ];
  cloud.objects.publish(OBJECTS.bucket, OBJECTS.manifestKey, JSON.stringify({ images }));
  const sampler = new Sampler(cloud, [policy({ size: { min: 1, max: 10 } })], ['us-east-1'], OBJECTS, START);
  const launch = (fields: {
    subnetId: string;
    instanceType: string;
    lifecycle: 'spot' | 'on-demand';
    ami: string;
    pool?: string;
  }): SimInstance =>
    cloud.world.createInstance({
      ...fields,
      productDescription: 'Linux/UNIX',
      tags: { 'fleet:pool': fields.pool ?? POOL },
      visibilityDelayMs: 0,
    });
  const at = (t: number): PoolSample => {
    cloud.world.advanceTo(t);
    return sampler.sample({ [POOL]: 50 }, t).pools[POOL] as PoolSample;
  };
  return { cloud, launch, at };
}

describe('sim sampler', () => {
  it('counts live workers by state, lifecycle and image status, and the step’s launches', () => {
    const { launch, at } = world();
    launch({ subnetId: 'subnet-a', instanceType: 'c5.xlarge', lifecycle: 'spot', ami: 'ami-old' });
    launch({ subnetId: 'subnet-b', instanceType: 'm5.xlarge', lifecycle: 'on-demand', ami: 'ami-new' });
    launch({ subnetId: 'subnet-b', instanceType: 'm5.xlarge', lifecycle: 'spot', ami: 'ami-new', pool: 'another-pool' });
    const first = at(START);
    expect(first).to.include({ wanted: 10, running: 0, pending: 2, spotPending: 1, onDemandPending: 1, spot: 1, onDemand: 1 });
    expect(first).to.include({ launchesSpot: 1, launchesOnDemand: 1, imageCurrent: 1, imageOutdated: 1, imageDrained: 0 });
    const later = at(START + 10 * 60_000);
    expect(later).to.include({ running: 2, pending: 0, spotRunning: 1, onDemandRunning: 1, launchesSpot: 0, launchesOnDemand: 0 });
  });

  it('bills the step: cost, on-demand cost, hours, the cheapest offer and the hindsight optimum', () => {
    const { launch, at } = world();
    launch({ subnetId: 'subnet-a', instanceType: 'c5.xlarge', lifecycle: 'spot', ami: 'ami-new' });
    launch({ subnetId: 'subnet-b', instanceType: 'm5.xlarge', lifecycle: 'on-demand', ami: 'ami-new' });
    at(START);
    const hour = at(START + HOUR);
    const c5 = simOnDemandPrice('us-east-1', 'c5.xlarge', 'Linux/UNIX') as number;
    const m5 = simOnDemandPrice('us-east-1', 'm5.xlarge', 'Linux/UNIX') as number;
    expect(hour.instanceHours).to.be.closeTo(2, 1e-9);
    expect(hour.cost).to.be.closeTo(0.08 + m5, 1e-9);
    expect(hour.onDemandCost).to.be.closeTo(c5 + m5, 1e-9);
    expect(hour.cheapestSpot).to.equal(0.05);
    expect(hour.cheapestOnDemand).to.equal(Math.min(c5, m5));
    expect(hour.hindsightCost).to.be.closeTo(2 * 0.05, 1e-9);
  });

  it('sees drains, interruptions and fleet’s terminations, and bills every instance exactly once', () => {
    const { cloud, launch, at } = world();
    const spot = launch({ subnetId: 'subnet-a', instanceType: 'c5.xlarge', lifecycle: 'spot', ami: 'ami-old' });
    const onDemand = launch({ subnetId: 'subnet-b', instanceType: 'm5.xlarge', lifecycle: 'on-demand', ami: 'ami-old' });
    const steps = [at(START), at(START + HOUR)];
    cloud.objects.publish(
      OBJECTS.bucket,
      OBJECTS.drainedKey,
      JSON.stringify({ amis: { 'ami-old': { by: 'operator', reason: 'broken', at: START } } }),
    );
    steps.push(at(START + HOUR + 60_000));
    expect(steps[2]).to.include({ imageDrained: 2, imageOutdated: 0, imageCurrent: 0 });
    cloud.world.endInstance(spot, 'Server.SpotInstanceTermination', 'interrupted');
    cloud.world.endInstance(onDemand, 'Client.UserInitiatedShutdown');
    steps.push(at(START + HOUR + 120_000));
    expect(steps[3]).to.include({ interruptions: 1, endedByFleet: 1, running: 0 });
    // Hours later both have left the listing for the archive; nothing is billed twice or lost.
    steps.push(at(START + 4 * HOUR));
    expect(cloud.world.instances.size).to.equal(0);
    const billed = steps.reduce((sum, s) => sum + s.cost, 0);
    expect(billed).to.be.closeTo(spot.cost + onDemand.cost, 1e-9);
    expect(billed).to.be.greaterThan(0);
  });
});
