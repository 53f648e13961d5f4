import { expect } from 'chai';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const POOL = 'bld-linux64';

describe('scenario: desired worked out from the queue on the simulated cloud', () => {
  it('scales a min-0 pool to zero once idleTimeout has passed with no jobs, and back for the first job', async () => {
    const fleet = new SimFleet({
      policies: [policy({ regions: SUBNETS, size: { min: 0, max: 20 }, scaleDownAfter: 60, demand: { idleTimeout: 300 } })],
    });
    const queue = (pending: number, running: number) => fleet.publishRaw('desired.json', JSON.stringify({ [POOL]: { pending, running } }));
    queue(3, 0);
    await fleet.cycles(2);
    expect(fleet.instances(POOL)).to.have.length(3);

    // The jobs finish: the estimate is held for idleTimeout (300 s), then scaleDownAfter (60 s) delays the scale-down.
    queue(0, 0);
    await fleet.cycles(4); // 240 s of simulated time
    expect(fleet.instances(POOL)).to.have.length(3);
    await fleet.cycles(4);
    expect(fleet.instances(POOL)).to.have.length(0);
    const quiet = await fleet.cycle();
    expect(quiet.plan.pools[0]?.desired).to.equal(0);
    expect(quiet.plan.actions).to.deep.equal([]);

    // The first job brings a worker back at once.
    queue(1, 0);
    const back = await fleet.cycle();
    expect(back.plan.pools[0]?.desired).to.equal(1);
    expect(fleet.instances(POOL)).to.have.length(1);
  });

  it('keeps the memory across a restart: a new process still holds the estimate', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS, size: { min: 0, max: 20 }, demand: { idleTimeout: 600 } })] });
    fleet.publishRaw('desired.json', JSON.stringify({ [POOL]: { pending: 4, running: 0 } }));
    await fleet.cycles(2);
    fleet.publishRaw('desired.json', JSON.stringify({ [POOL]: { pending: 0, running: 0 } }));
    await fleet.cycle();
    fleet.restart();
    fleet.advance(60_000);
    const after = await fleet.cycle();
    expect(after.plan.pools[0]?.desired).to.equal(4);
    expect(after.plan.pools[0]?.demand?.holding).to.equal(4);
    expect(fleet.instances(POOL)).to.have.length(4);
  });
});
