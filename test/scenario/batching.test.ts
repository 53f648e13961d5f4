import { expect } from 'chai';
import { EC2_BUCKETS } from '../../src/cloud/limiter.js';
import { NAMES_PER_CYCLE } from '../../src/service/naming.js';
import { decodeNames } from '../../src/policy/names.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

// Batched launches on the simulated cloud (EC2's token buckets enforced): one call per batch of
// growing size, Name set right after, and a later cycle setting the Names that could not be.

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const USER_DATA = '#cloud-config\nwrite_files:\n  - path: /etc/worker-pool\n    content: "{pool} {region} {az}"\n';

function ramp(overrides: Record<string, unknown> = {}) {
  return policy({
    pool: 'ramp',
    names: 'ramp-{nnnn}',
    regions: SUBNETS,
    instanceTypes: ['c5.xlarge'],
    size: { min: 0, max: 1200 },
    userData: USER_DATA,
    ...overrides,
  });
}

/** A quiet market with room for `capacity` spot instances in every offer. */
function fleetOf(policies: ReturnType<typeof ramp>[], capacity = 1500): SimFleet {
  const fleet = new SimFleet({ policies, cloud: { market: { crunchesPerDay: 0 }, world: { interruptionRatePerHour: 0 } } });
  const { world } = fleet.cloud;
  for (const az of world.azs('us-east-1'))
    for (const type of ['c5.xlarge', 'm5.xlarge']) world.market.setCapacity(az, type, 'spot', capacity);
  return fleet;
}

/** Names as the cloud holds them: the Name tag, and the name fleet:names gives at the launch index. */
function names(fleet: SimFleet, pool: string) {
  return fleet
    .instances(pool)
    .map((i) => ({ tag: i.tags.Name, batch: i.tags['fleet:names'] ? decodeNames(i.tags['fleet:names'])[i.launchIndex] : undefined }));
}

describe('scenario: batched launches and their names', () => {
  it('a batch gets its Name right after the launch; when CreateTags fails, a later cycle sets it', async () => {
    const fleet = fleetOf([ramp()]);
    fleet.cloud.faults.addScripted({ action: 'CreateTags', code: 'UnauthorizedOperation', status: 403 });
    fleet.publishDesired({ ramp: 7 });
    await fleet.cycle();
    // Calls of 1, 2 and 4: the single one carries Name at launch, the batches only fleet:names.
    expect(fleet.cloud.calls.filter((c) => c.action === 'RunInstances').map((c) => c.detail?.count)).to.deep.equal([1, 2, 4]);
    const first = names(fleet, 'ramp');
    expect(first.filter((n) => n.tag === undefined)).to.have.length(6);
    expect(first.filter((n) => n.tag === undefined).every((n) => n.batch !== undefined)).to.equal(true);
    expect(fleet.calls('CreateTags', 'UnauthorizedOperation')).to.equal(6);

    fleet.cloud.faults.update({ scripted: [] });
    fleet.advance(60_000);
    const second = await fleet.cycle();
    expect(second.plan.actions).to.deep.equal([]);
    const after = names(fleet, 'ramp');
    expect(after.every((n) => n.tag !== undefined && (n.batch === undefined || n.batch === n.tag))).to.equal(true);
    expect(after.map((n) => n.tag).sort()).to.deep.equal(Array.from({ length: 7 }, (_, k) => `ramp-${String(k + 1).padStart(4, '0')}`));
    expect(fleet.calls('CreateTags', 'ok')).to.equal(6);

    // Named: nothing more to do.
    fleet.advance(60_000);
    await fleet.cycle();
    expect(fleet.calls('CreateTags')).to.equal(12);
  });

  it('naming never waits for the mutate bucket: what it holds now is named at once, the rest over the next cycles', async () => {
    const fleet = fleetOf([ramp()]);
    fleet.publishDesired({ ramp: 500 });
    const started = fleet.cloud.clock.now();
    await fleet.cycle();
    // 1 + 2 + ... + 128 + 245: every launch in the first cycle, in 9 calls.
    expect(fleet.instances('ramp')).to.have.length(500);
    expect(fleet.calls('RunInstances', 'ok')).to.equal(9);
    expect(fleet.calls('CreateTags', 'ok')).to.equal(EC2_BUCKETS.mutate.capacity);
    // Waiting for the bucket would have taken (499 - 200) / 5 s = 60 s: the cycle took a few seconds of simulated time.
    expect(fleet.cloud.clock.now() - started).to.be.below(10_000);

    const perCycle: number[] = [];
    for (let k = 0; k < 4; k++) {
      fleet.advance(60_000);
      const before = fleet.calls('CreateTags', 'ok');
      await fleet.cycle();
      perCycle.push(fleet.calls('CreateTags', 'ok') - before);
    }
    expect(perCycle).to.deep.equal([NAMES_PER_CYCLE, NAMES_PER_CYCLE, 99, 0]);
    expect(names(fleet, 'ramp').every((n) => n.tag === n.batch || n.batch === undefined)).to.equal(true);
    expect(fleet.cloud.calls.filter((c) => c.result === 'RequestLimitExceeded')).to.deep.equal([]);
  });

  it('0 → 1,000 in one pool: every launch in the first cycle, a dozen calls, while another pool still gets its cycle', async () => {
    const other = policy({
      pool: 'other',
      names: 'other-{nnn}',
      regions: SUBNETS,
      instanceTypes: ['m5.xlarge'],
      size: { min: 0, max: 20 },
    });
    const fleet = fleetOf([ramp(), other]);
    fleet.publishDesired({ ramp: 0, other: 2 });
    await fleet.cycles(2);
    const runsBefore = fleet.cloud.calls.filter((c) => c.action === 'RunInstances').length;
    fleet.publishDesired({ ramp: 1000, other: 3 });
    const started = fleet.cloud.clock.now();
    await fleet.cycle();
    const took = fleet.cloud.clock.now() - started;
    expect(fleet.instances('ramp')).to.have.length(1000);
    expect(fleet.instances('other')).to.have.length(3);
    // The other pool took one of the launch bucket's 1,000 tokens: the ramp's 1 + 2 + ... + 256 + 488,
    // then its last slot in a second round once the bucket refilled, not a cycle later.
    const runs = fleet.cloud.calls.filter((c) => c.action === 'RunInstances').slice(runsBefore);
    expect(runs.filter((c) => c.detail?.pool === 'ramp').map((c) => c.detail?.count)).to.deep.equal([
      1, 2, 4, 8, 16, 32, 64, 128, 256, 488, 1,
    ]);
    expect(runs.every((c) => c.result === 'ok')).to.equal(true);
    expect(took).to.be.below(fleet.config.interval * 1000);
    fleet.advance(fleet.config.interval * 1000 - took);
    fleet.publishDesired({ ramp: 1000, other: 4 });
    await fleet.cycle();
    expect(fleet.instances('other')).to.have.length(4);
    expect(fleet.instances('ramp')).to.have.length(1000);
  });
});
