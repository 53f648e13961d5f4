import { expect } from 'chai';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };

function bld(overrides: Record<string, unknown> = {}) {
  return policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge', 'm5.xlarge'], ...overrides });
}

describe('scenario: scaling a pool on the simulated cloud', () => {
  it('scales up on spot to exactly the desired count, in the cheapest offer, with tags and names', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    fleet.publishDesired({ 'bld-linux64': 5 });
    const result = await fleet.cycle();
    const live = fleet.instances('bld-linux64');
    expect(live).to.have.length(5);
    expect(new Set(live.map((i) => i.lifecycle))).to.deep.equal(new Set(['spot']));
    expect(live.map((i) => i.tags.Name).sort()).to.deep.equal(['001', '002', '003', '004', '005'].map((n) => `bld-linux64-spot-${n}`));
    for (const i of live) expect(i.tags['fleet:managed-by']).to.equal('releng');

    // The cheapest offer at that moment, by the simulated market itself.
    const t = fleet.cloud.clock.now();
    const offers = ['subnet-1a', 'subnet-1b', 'subnet-1c'].flatMap((s) => {
      const az = fleet.cloud.world.subnets.get(s)?.az as string;
      return ['c5.xlarge', 'm5.xlarge'].map((type) => ({
        az,
        type,
        price: fleet.cloud.world.market.spotPrice('us-east-1', az, type, 'Linux/UNIX', t) as number,
      }));
    });
    const cheapest = offers.sort((a, b) => a.price - b.price)[0];
    expect(live.every((i) => i.az === cheapest?.az && i.instanceType === cheapest?.type)).to.equal(true);
    expect(result.plan.actions.every((a) => a.kind === 'launch')).to.equal(true);

    // A second cycle changes nothing.
    fleet.advance(60_000);
    const again = await fleet.cycle();
    expect(again.plan.actions).to.deep.equal([]);
    expect(fleet.instances('bld-linux64')).to.have.length(5);
  });

  it('scales down in terminate mode when desired drops, and reuses freed names lowest-first', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    fleet.publishDesired({ 'bld-linux64': 4 });
    await fleet.cycles(3);
    fleet.publishDesired({ 'bld-linux64': 1 });
    await fleet.cycle();
    expect(fleet.instances('bld-linux64')).to.have.length(1);
    expect(fleet.calls('TerminateInstances', 'ok')).to.equal(1); // three ids, one batched call
    const kept = fleet.instances('bld-linux64')[0]?.tags.Name;
    fleet.advance(120_000);
    fleet.publishDesired({ 'bld-linux64': 3 });
    await fleet.cycle();
    const names = fleet
      .instances('bld-linux64')
      .map((i) => i.tags.Name)
      .sort();
    expect(names).to.have.length(3);
    expect(names).to.include(kept);
    expect(names).to.include('bld-linux64-spot-001');
  });

  it('leaves surplus workers alone in none mode; they leave by themselves', async () => {
    const fleet = new SimFleet({ policies: [bld({ scaleDown: 'none' })] });
    fleet.publishDesired({ 'bld-linux64': 3 });
    await fleet.cycles(3);
    fleet.publishDesired({ 'bld-linux64': 0 });
    await fleet.cycles(2);
    expect(fleet.instances('bld-linux64')).to.have.length(3);
    expect(fleet.calls('TerminateInstances')).to.equal(0);
    // One worker goes idle and shuts itself down: fleet does not replace it (desired is 0).
    const worker = fleet.instances('bld-linux64')[0];
    if (worker) fleet.cloud.world.endInstance(worker, 'Client.InstanceInitiatedShutdown');
    await fleet.cycles(2);
    expect(fleet.instances('bld-linux64')).to.have.length(2);
  });

  it('replaces a worker that died by itself when desired still wants it', async () => {
    const fleet = new SimFleet({ policies: [bld({ scaleDown: 'none' })] });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    const [first] = fleet.instances('bld-linux64');
    if (first) fleet.cloud.world.endInstance(first, 'Client.InstanceInitiatedShutdown');
    await fleet.cycle();
    expect(fleet.instances('bld-linux64')).to.have.length(2);
    expect(fleet.instances('bld-linux64').map((i) => i.tags.Name)).to.include(first?.tags.Name);
  });

  it('never touches an instance without its own ownership tag', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    const subnet = 'subnet-1a';
    const foreign = fleet.cloud.world.createInstance({
      subnetId: subnet,
      instanceType: 'c5.xlarge',
      lifecycle: 'spot',
      productDescription: 'Linux/UNIX',
      ami: 'ami-x',
      tags: { 'fleet:managed-by': 'someone-else', 'fleet:pool': 'bld-linux64', Name: 'bld-linux64-spot-001' },
      launchIndex: 0,
      visibilityDelayMs: 0,
    });
    fleet.publishDesired({ 'bld-linux64': 0 });
    await fleet.cycles(2);
    expect(foreign.state).to.be.oneOf(['pending', 'running']);
    // And direct: terminate refuses ids that are not ours.
    const done = await fleet.runtime.cloud.compute('us-east-1').terminate('releng', [foreign.id]);
    expect(done).to.deep.equal([]);
    expect(foreign.state).to.be.oneOf(['pending', 'running']);
  });

  it('keeps several pools in several regions at their desired counts', async () => {
    const regions = { ...SUBNETS, 'us-west-2': { subnets: ['subnet-2a', 'subnet-2b'], securityGroups: [] } };
    const pools = [
      bld({ regions }),
      bld({ pool: 'tst-linux64', names: 'tst-linux64-spot-{nnn}', regions, scaleDown: 'none' }),
      bld({ pool: 'try-linux64', names: 'try-linux64-spot-{nnn}', regions: SUBNETS }),
    ];
    const fleet = new SimFleet({ policies: pools, config: { regions: ['us-east-1', 'us-west-2'] } });
    fleet.publishDesired({ 'bld-linux64': 6, 'tst-linux64': 9, 'try-linux64': 2 });
    await fleet.cycles(3);
    expect(fleet.instances('bld-linux64')).to.have.length(6);
    expect(fleet.instances('tst-linux64')).to.have.length(9);
    expect(fleet.instances('try-linux64')).to.have.length(2);
    for (const i of fleet.instances('try-linux64')) expect(i.region).to.equal('us-east-1');
  });
});
