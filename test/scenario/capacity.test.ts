import { expect } from 'chai';
import { INTERRUPTION_NOTICE_MS } from '../../src/events/parse.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const TYPES = ['c5.xlarge', 'm5.xlarge'];

function bld(overrides: Record<string, unknown> = {}) {
  return policy({ regions: SUBNETS, instanceTypes: TYPES, spot: { fallbackAfter: 300 }, onDemand: { max: 10 }, ...overrides });
}

/** The zones of the test subnets, and the cheapest spot offer now. */
function market(fleet: SimFleet) {
  const zones = ['subnet-1a', 'subnet-1b', 'subnet-1c'].map((s) => fleet.cloud.world.subnets.get(s)?.az as string);
  const t = fleet.cloud.clock.now();
  const offers = zones
    .flatMap((az) =>
      TYPES.map((type) => ({ az, type, price: fleet.cloud.world.market.spotPrice('us-east-1', az, type, 'Linux/UNIX', t) as number })),
    )
    .sort((a, b) => a.price - b.price);
  return { zones, offers };
}

function exhaustSpot(fleet: SimFleet, zones: readonly string[], capacity: number | undefined) {
  for (const az of zones) for (const type of TYPES) fleet.cloud.world.market.setCapacity(az, type, 'spot', capacity);
}

describe('scenario: capacity under pressure', () => {
  it('moves to the next-cheapest offer in the same cycle when the cheapest has no capacity', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    const { offers } = market(fleet);
    const [cheapest, second] = offers;
    fleet.cloud.world.market.setCapacity(cheapest?.az as string, cheapest?.type as string, 'spot', 0);
    fleet.publishDesired({ 'bld-linux64': 3 });
    const result = await fleet.cycle();
    const live = fleet.instances('bld-linux64');
    expect(live).to.have.length(3);
    expect(live.every((i) => i.az === second?.az && i.instanceType === second?.type && i.lifecycle === 'spot')).to.equal(true);
    // One probe call finds the offer out of capacity; the other two launches are not even tried there.
    expect(fleet.calls('RunInstances', 'InsufficientInstanceCapacity')).to.equal(1);
    expect(result.outcomes).to.have.length(2); // two rounds in one cycle
    expect(result.outcomes[0]?.launches.map((l) => l.failure?.unsent ?? false)).to.deep.equal([false, true, true]);
    // The failed offer stays out: the next launch does not try it again.
    fleet.advance(60_000);
    fleet.publishDesired({ 'bld-linux64': 4 });
    await fleet.cycle();
    expect(fleet.calls('RunInstances', 'InsufficientInstanceCapacity')).to.equal(1);
    expect(fleet.instances('bld-linux64')).to.have.length(4);
  });

  it('falls back to on-demand after fallbackAfter, not before, with the timer surviving a restart', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    const { zones } = market(fleet);
    exhaustSpot(fleet, zones, 0);
    fleet.publishDesired({ 'bld-linux64': 2 });
    const start = fleet.cloud.clock.now();
    await fleet.cycle();
    expect(fleet.instances('bld-linux64')).to.have.length(0);
    // Cycles until just before fallbackAfter: nothing on demand, even across a restart.
    for (let k = 0; k < 4; k++) {
      fleet.advance(60_000);
      if (k === 1) fleet.restart();
      await fleet.cycle();
      expect(fleet.instances('bld-linux64'), `after ${(fleet.cloud.clock.now() - start) / 1000}s`).to.have.length(0);
    }
    expect(fleet.cloud.clock.now() - start).to.be.below(300_000);
    fleet.advance(60_000);
    const due = await fleet.cycle();
    const live = fleet.instances('bld-linux64');
    expect(live).to.have.length(2);
    expect(live.every((i) => i.lifecycle === 'on-demand')).to.equal(true);
    const launch = due.outcomes.flatMap((o) => o.launches).find((l) => l.instance && l.action.lifecycle === 'on-demand');
    expect(launch?.action.cause).to.equal('fallback');
  });

  it('falls back even when fallbackAfter is longer than the capacity memory (offers keep coming back and failing)', async () => {
    // Thirty offers: more than one cycle can probe, so the timer must not depend on probing them all.
    const subnets = ['subnet-1a', 'subnet-1b', 'subnet-1c', 'subnet-1d', 'subnet-1e', 'subnet-1f'];
    const types = ['c5.xlarge', 'm5.xlarge', 'c5a.xlarge', 'm5a.xlarge', 'c6i.xlarge'];
    const fleet = new SimFleet({
      policies: [bld({ spot: { fallbackAfter: 600 }, instanceTypes: types, regions: { 'us-east-1': { subnets, securityGroups: [] } } })],
    });
    for (const s of subnets)
      for (const type of types) fleet.cloud.world.market.setCapacity(fleet.cloud.world.subnets.get(s)?.az as string, type, 'spot', 0);
    fleet.publishDesired({ 'bld-linux64': 2 });
    const start = fleet.cloud.clock.now();
    let firstOnDemandAt: number | undefined;
    for (let k = 0; k < 15 && firstOnDemandAt === undefined; k++) {
      await fleet.cycle();
      if (fleet.instances('bld-linux64').some((i) => i.lifecycle === 'on-demand')) firstOnDemandAt = fleet.cloud.clock.now() - start;
      fleet.advance(60_000);
    }
    expect(firstOnDemandAt).to.be.a('number');
    expect(firstOnDemandAt).to.be.within(600_000, 650_000); // the first cycle after fallbackAfter
    // Each offer is probed with one call each time its capacity memory expires, not one per wanted instance.
    const probesPerOffer = Math.ceil((firstOnDemandAt as number) / 180_000) + 1;
    expect(fleet.calls('RunInstances', 'InsufficientInstanceCapacity')).to.be.at.most(30 * probesPerOffer);
  });

  it('replaces on-demand by spot once spot is back: launch first, then retire, never below desired', async () => {
    const fleet = new SimFleet({ policies: [bld({ spot: { fallbackAfter: 0 } })] });
    const { zones } = market(fleet);
    exhaustSpot(fleet, zones, 0);
    fleet.publishDesired({ 'bld-linux64': 3 });
    await fleet.cycles(3);
    expect(fleet.instances('bld-linux64').map((i) => i.lifecycle)).to.deep.equal(['on-demand', 'on-demand', 'on-demand']);

    exhaustSpot(fleet, zones, undefined);
    let minRunning = Number.POSITIVE_INFINITY;
    for (let k = 0; k < 20 && fleet.instances('bld-linux64').some((i) => i.lifecycle === 'on-demand'); k++) {
      await fleet.cycle();
      minRunning = Math.min(minRunning, fleet.instances('bld-linux64', ['running']).length);
      fleet.advance(60_000);
      minRunning = Math.min(minRunning, fleet.instances('bld-linux64', ['running']).length);
    }
    await fleet.cycles(2);
    const live = fleet.instances('bld-linux64');
    expect(live).to.have.length(3);
    expect(live.every((i) => i.lifecycle === 'spot')).to.equal(true);
    expect(minRunning).to.be.at.least(3);
    const replaced = [...fleet.cloud.world.archive, ...fleet.cloud.world.instances.values()].filter((i) => i.lifecycle === 'on-demand');
    expect(replaced.every((i) => i.stateReason === 'Client.UserInitiatedShutdown')).to.equal(true);
  });

  it('replaces interrupted spot instances and keeps the interrupted offer out for a while', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    const [cheapest] = market(fleet).offers;
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    const victims = fleet.instances('bld-linux64');
    expect(victims.every((i) => i.az === cheapest?.az && i.instanceType === cheapest?.type)).to.equal(true);
    // The offer's capacity is reclaimed: the simulated cloud warns both, and interrupts them two minutes later.
    fleet.cloud.world.market.setCapacity(cheapest?.az as string, cheapest?.type as string, 'spot', 0);
    fleet.advance(60_000);
    expect(victims.map((i) => [i.state, i.warnedAt !== undefined])).to.deep.equal([
      ['running', true],
      ['running', true],
    ]);
    fleet.advance(INTERRUPTION_NOTICE_MS);
    expect(victims.every((i) => i.stateReason === 'Server.SpotInstanceTermination')).to.equal(true);
    // Capacity comes straight back, but the offer is remembered as failing: replacements go elsewhere.
    fleet.cloud.world.market.setCapacity(cheapest?.az as string, cheapest?.type as string, 'spot', undefined);
    await fleet.cycle();
    const replacements = fleet.instances('bld-linux64');
    expect(replacements).to.have.length(2);
    expect(replacements.some((i) => i.az === cheapest?.az && i.instanceType === cheapest?.type)).to.equal(false);
    expect(replacements.map((i) => i.tags.Name).sort()).to.deep.equal(victims.map((i) => i.tags.Name).sort());
  });

  it('falls back on every capacity error code, not only InsufficientInstanceCapacity', async () => {
    for (const code of [
      'MaxSpotInstanceCountExceeded',
      'UnfulfillableCapacity',
      'InsufficientFreeAddressesInSubnet',
      'SpotMaxPriceTooLow',
    ]) {
      const fleet = new SimFleet({ policies: [bld({ spot: { fallbackAfter: 0 } })] });
      fleet.cloud.faults.addScripted({
        action: 'RunInstances',
        code,
        status: code === 'InsufficientFreeAddressesInSubnet' ? 400 : 500,
        when: (d) => d.lifecycle === 'spot',
      });
      fleet.publishDesired({ 'bld-linux64': 1 });
      await fleet.cycle();
      const live = fleet.instances('bld-linux64');
      expect(live, code).to.have.length(1);
      expect(live[0]?.lifecycle, code).to.equal('on-demand');
    }
  });
});
