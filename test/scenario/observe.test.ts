// What one cycle observes, on the simulated cloud: interruptions remembered no longer than the cloud
// lists them, and a region that cannot be listed freezing only its own pools.

import { expect } from 'chai';
import { capturedLogger } from '../support/log-capture.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };
const EAST = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: [] } };
const WEST = { 'us-west-2': { subnets: ['subnet-2a', 'subnet-2b'], securityGroups: [] } };

describe('scenario: observing interruptions', () => {
  it('remembers an interruption only while the cloud lists it (bounded), and reports each one once', async () => {
    // Ended instances stay listed five minutes here.
    const fleet = new SimFleet({
      policies: [policy({ regions: EAST, instanceTypes: ['c5.xlarge'] })],
      cloud: { ...QUIET, world: { ...QUIET.world, endedListedMs: 300_000 } },
    });
    const { log, lines } = capturedLogger();
    fleet.restart({ log, seed: 3 });
    fleet.publishDesired({ 'bld-linux64': 3 });
    await fleet.cycles(3);
    const interrupted: string[] = [];
    const remembered: number[] = [];
    for (let k = 0; k < 30; k++) {
      const victim = fleet.instances('bld-linux64', ['running'])[0];
      if (victim) {
        fleet.cloud.world.endInstance(victim, 'Server.SpotInstanceTermination', 'interrupted');
        interrupted.push(victim.id);
      }
      await fleet.cycle();
      fleet.advance(60_000);
      remembered.push(fleet.runtime.observer['interruptionsSeen'].size);
    }
    expect(interrupted).to.have.length(30);
    // Never more than the interrupted instances a listing can hold (five minutes' worth, one a minute).
    expect(Math.max(...remembered), remembered.join(',')).to.be.at.most(6);
    const reported = lines()
      .filter((l) => l.msg === 'spot interruption; offer kept out of placement for a while')
      .map((l) => l.instance);
    expect(reported).to.deep.equal(interrupted);
  });
});

describe('scenario: a region that cannot be listed', () => {
  it('freezes only the pools with a region there; the others act', async () => {
    const fleet = new SimFleet({
      config: { regions: ['us-east-1', 'us-west-2'] },
      policies: [
        policy({ pool: 'bld-linux64', names: 'bld-{nnn}', regions: EAST, instanceTypes: ['c5.xlarge'] }),
        policy({ pool: 'tst-linux64', names: 'tst-{nnn}', regions: WEST, instanceTypes: ['c5.xlarge'] }),
        policy({ pool: 'try-linux64', names: 'try-{nnn}', regions: { ...EAST, ...WEST }, instanceTypes: ['c5.xlarge'] }),
      ],
      cloud: QUIET,
    });
    fleet.publishDesired({ 'bld-linux64': 2, 'tst-linux64': 2, 'try-linux64': 2 });
    // us-west-2's DescribeInstances fails through every retry of one cycle.
    fleet.cloud.faults.addScripted({ action: 'DescribeInstances', region: 'us-west-2', code: 'InternalError', status: 500, times: 6 });
    const cycle = await fleet.cycle();
    expect(fleet.calls('DescribeInstances', 'InternalError')).to.equal(6);
    expect(fleet.instances('bld-linux64')).to.have.length(2);
    expect(fleet.instances('tst-linux64'), 'only in the unlisted region').to.have.length(0);
    expect(fleet.instances('try-linux64'), 'partly in the unlisted region').to.have.length(0);
    expect(cycle.plan.pools.find((p) => p.pool === 'tst-linux64')?.notes[0]).to.match(/region us-west-2 could not be listed/);
    fleet.advance(60_000);
    await fleet.cycle();
    expect(fleet.instances('tst-linux64')).to.have.length(2);
    expect(fleet.instances('try-linux64')).to.have.length(2);
    expect(fleet.instances('bld-linux64')).to.have.length(2);
  });
});
