import { expect } from 'chai';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: ['sg-1'] } };

describe('scenario: the desired document on the simulated cloud', () => {
  it('the object form sizes the pool from pending + running and carries its facts into the snapshot', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge'] })] });
    fleet.publishRaw(
      'desired.json',
      JSON.stringify({ 'bld-linux64': { pending: 2, running: 3, oldestPendingSeconds: 90, busy: ['bld-linux64-spot-001'] } }),
    );
    const result = await fleet.cycle();
    expect(fleet.instances('bld-linux64')).to.have.length(5);
    expect(result.observation.snapshot.desired).to.deep.equal({ 'bld-linux64': 5 });
    expect(result.observation.snapshot.demand).to.deep.equal({
      'bld-linux64': { pending: 2, running: 3, oldestPendingSeconds: 90, busy: ['bld-linux64-spot-001'] },
    });
  });

  it('a typo in a pool name never scales the real pool to its min: the last good copy is kept', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge'] })] });
    fleet.publishDesired({ 'bld-linux64': 4 });
    await fleet.cycle();
    fleet.publishRaw('desired.json', '{"bld-linux46": 4}');
    const result = await fleet.cycle();
    expect(result.observation.inputs.desired).to.equal('last-good');
    expect(result.plan.actions.filter((a) => a.kind === 'terminate')).to.deep.equal([]);
    expect(fleet.instances('bld-linux64')).to.have.length(4);
  });
});
