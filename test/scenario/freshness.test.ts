import { expect } from 'chai';
import type { GuardTrip } from '../../src/policy/freshness.js';
import { recordDrains } from '../../src/service/drains.js';
import { DRAINED_DOC, type DrainedDoc } from '../../src/service/state-docs.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: [] } };
const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };

function bld(overrides: Record<string, unknown> = {}) {
  return policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge', 'm5.xlarge'], ...overrides });
}

function amis(fleet: SimFleet): string[] {
  return [...new Set(fleet.instances('bld-linux64').map((i) => i.ami))];
}

describe('scenario: AMI freshness', () => {
  it('retires a pool onto a new image gradually, replacement first, never below desired', async () => {
    const fleet = new SimFleet({ policies: [bld({ freshness: { grace: 600, retireBudget: 2 } })], cloud: QUIET });
    fleet.publishDesired({ 'bld-linux64': 6 });
    await fleet.cycles(3);
    const [oldAmi] = amis(fleet);
    const newAmi = fleet.bakeImage('bld-linux64', 'us-east-1', fleet.cloud.clock.now());
    fleet.publishManifest();
    let minRunning = Number.POSITIVE_INFINITY;
    let maxLive = 0;
    let firstRetirementAt: number | undefined;
    const published = fleet.cloud.clock.now();
    for (let k = 0; k < 60 && amis(fleet).join() !== newAmi; k++) {
      await fleet.cycle();
      if (firstRetirementAt === undefined && fleet.calls('TerminateInstances') > 0) firstRetirementAt = fleet.cloud.clock.now() - published;
      minRunning = Math.min(minRunning, fleet.instances('bld-linux64', ['running']).length);
      maxLive = Math.max(maxLive, fleet.instances('bld-linux64').length);
      fleet.advance(60_000);
      minRunning = Math.min(minRunning, fleet.instances('bld-linux64', ['running']).length);
    }
    expect(amis(fleet)).to.deep.equal([newAmi]);
    expect(oldAmi).to.not.equal(newAmi);
    expect(fleet.instances('bld-linux64')).to.have.length(6);
    expect(minRunning).to.be.at.least(6);
    expect(maxLive).to.be.at.most(6 + 2); // never more than the retire budget in flight
    expect(firstRetirementAt).to.be.at.least(600_000); // nothing before the grace period
  });

  it('drains an AMI: never launched again, its instances replaced within the drain budget', async () => {
    const fleet = new SimFleet({ policies: [bld({ freshness: { drainBudget: 2 } })], cloud: QUIET });
    const previous = fleet.bakeImage('bld-linux64', 'us-east-1', fleet.cloud.clock.now() - 3600_000 * 30);
    fleet.publishManifest();
    fleet.publishDesired({ 'bld-linux64': 4 });
    await fleet.cycles(2);
    const [bad] = amis(fleet);
    expect(bad).to.not.equal(previous);
    await recordDrains(
      fleet.runtime.state,
      [{ ami: bad as string, reason: 'kernel panic on boot', by: 'operator' }],
      fleet.cloud.clock.now(),
    );
    const cycle = await fleet.cycle();
    expect(cycle.plan.actions.filter((a) => a.kind === 'terminate').map((a) => a.cause)).to.deep.equal(['drain', 'drain']);
    expect(cycle.plan.actions.filter((a) => a.kind === 'launch').every((a) => a.ami === previous)).to.equal(true);
    await fleet.cycles(3);
    expect(amis(fleet)).to.deep.equal([previous]);
    expect(fleet.instances('bld-linux64')).to.have.length(4);
  });

  it("ends the instances of an image the guard's mark in the state store names with cause guard", async () => {
    const fleet = new SimFleet({ policies: [bld({ freshness: { drainBudget: 2 } })], cloud: QUIET });
    fleet.bakeImage('bld-linux64', 'us-east-1', fleet.cloud.clock.now() - 3600_000 * 30);
    fleet.publishManifest();
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    const [bad] = amis(fleet);
    await recordDrains(fleet.runtime.state, [{ ami: bad as string, reason: 'guard: 3 ended', by: 'guard' }], fleet.cloud.clock.now());
    const cycle = await fleet.cycle();
    expect(cycle.plan.actions.filter((a) => a.kind === 'terminate').map((a) => a.cause)).to.deep.equal(['guard', 'guard']);
  });

  it('the launch guard drains a broken image by itself and the pool recovers on the previous one', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: QUIET });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    const [good] = amis(fleet);
    const broken = fleet.bakeImage('bld-linux64', 'us-east-1', fleet.cloud.clock.now());
    const image = fleet.cloud.world.images.get(broken);
    if (image) image.broken = true;
    fleet.publishManifest();
    fleet.publishDesired({ 'bld-linux64': 5 });
    const trips: GuardTrip[] = [];
    for (let k = 0; k < 12; k++) {
      trips.push(...((await fleet.cycle()).guardDrains ?? []));
      fleet.advance(fleet.config.interval * 1000);
    }
    const marks = (await fleet.runtime.state.read<DrainedDoc>(DRAINED_DOC))?.doc.amis ?? {};
    expect(trips.map((t) => [t.ami, t.pool])).to.deep.equal([[broken, 'bld-linux64']]);
    // The mark in the state store is the trip's.
    expect(marks[broken]).to.include({ by: 'guard', reason: trips[0]?.reason });
    expect(amis(fleet)).to.deep.equal([good]);
    expect(fleet.instances('bld-linux64', ['running'])).to.have.length(5);
    // Fleet's own terminations never tripped the guard on the good image.
    expect(marks[good as string]).to.equal(undefined);
  });
});
