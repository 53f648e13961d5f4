import { expect } from 'chai';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const TWO_REGIONS = { ...SUBNETS, 'us-west-2': { subnets: ['subnet-2a', 'subnet-2b'], securityGroups: ['sg-2'] } };

function bld(overrides: Record<string, unknown> = {}) {
  return policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge', 'm5.xlarge'], ...overrides });
}

function names(fleet: SimFleet, pool: string): string[] {
  return fleet.instances(pool).map((i) => i.tags.Name as string);
}

describe('scenario: faults and idempotency', () => {
  it('converges with 30% of calls throttled: no crash, no duplicates', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: { faults: { throttleRate: 0.3 } } });
    fleet.publishDesired({ 'bld-linux64': 12 });
    for (let k = 0; k < 6; k++) {
      await fleet.cycle(); // a failed cycle would throw here
      fleet.advance(60_000);
    }
    expect(
      fleet.calls('RunInstances', 'RequestLimitExceeded') + fleet.calls('DescribeInstances', 'RequestLimitExceeded'),
    ).to.be.greaterThan(0);
    const n = names(fleet, 'bld-linux64');
    expect(n).to.have.length(12);
    expect(new Set(n).size).to.equal(12);
  });

  it('converges through server errors (HTTP 500) as well', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: { faults: { serverErrorRate: 0.25 } } });
    fleet.publishDesired({ 'bld-linux64': 8 });
    await fleet.cycles(5);
    expect(fleet.calls('RunInstances', 'InternalError') + fleet.calls('DescribeInstances', 'InternalError')).to.be.greaterThan(0);
    expect(names(fleet, 'bld-linux64')).to.have.length(8);
  });

  it('a crash right after the launch calls never leads to more than desired (fresh reconciler)', async () => {
    // New instances stay invisible for two minutes, so the fresh process cannot see them.
    const fleet = new SimFleet({ policies: [bld()], cloud: { faults: { visibilityDelayMs: 120_000 } } });
    fleet.publishDesired({ 'bld-linux64': 3 });
    const state = fleet.runtime.state;
    const write = state.write.bind(state);
    let journalWrites = 0;
    state.write = async (name, doc, etag) => {
      // The journal write before the launches goes through; the process dies before the next one.
      if (name === 'reconciler.json' && ++journalWrites > 1) throw new Error('process killed');
      return write(name, doc, etag);
    };
    const crashed = await fleet.cycleResult();
    expect(crashed.error?.message).to.match(/process killed/);
    expect(fleet.instances('bld-linux64')).to.have.length(3);
    const sent = fleet.calls('RunInstances', 'ok');

    fleet.restart();
    fleet.advance(30_000);
    const resumed = await fleet.cycle();
    expect(resumed.plan.actions.every((a) => a.kind === 'launch' && a.cause === 'resume')).to.equal(true);
    await fleet.cycles(5);
    const all = [...fleet.cloud.world.instances.values()].filter((i) => i.tags['fleet:pool'] === 'bld-linux64');
    expect(all).to.have.length(3);
    expect(new Set(all.map((i) => i.tags.Name)).size).to.equal(3);
    // Every call is re-sent once, exactly as it was, and EC2 answers with what the first one made.
    expect(fleet.cloud.calls.filter((c) => c.action === 'RunInstances' && c.detail?.replayed).length).to.equal(sent);
  });

  it('tolerates eventual consistency: launches not yet listed are counted, terminated once visible', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: { faults: { visibilityDelayMs: 90_000 } } });
    fleet.publishDesired({ 'bld-linux64': 3 });
    await fleet.cycle();
    fleet.advance(60_000);
    const second = await fleet.cycle();
    expect(second.plan.actions).to.deep.equal([]);
    expect(second.plan.pools[0]?.live).to.equal(3);
    fleet.publishDesired({ 'bld-linux64': 0 });
    await fleet.cycles(4);
    expect(fleet.instances('bld-linux64')).to.have.length(0);
    expect([...fleet.cloud.world.instances.values()]).to.have.length(3);
  });

  it('keeps running when the Price List API is unreachable: policy onDemandPrice applies', async () => {
    const fleet = new SimFleet({
      policies: [bld({ spot: { maxPrice: '50%' }, onDemandPrice: 0.4 })],
      cloud: { faults: { pricingUnavailable: true } },
    });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycle();
    expect(fleet.instances('bld-linux64')).to.have.length(2);
  });

  it('uses the last good desired counts and manifest when fresh ones are unreadable or invalid', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    fleet.publishRaw('desired.json', '{"bld-linux64": -4}');
    fleet.publishRaw('amis.json', '{"images": []}');
    const cycle = await fleet.cycle();
    expect(cycle.observation.inputs).to.deep.equal({ desired: 'last-good', manifest: 'last-good' });
    expect(cycle.plan.actions).to.deep.equal([]);
    // A fresh process has no copy in memory: it finds the last good ones in the state store.
    fleet.restart();
    const fresh = await fleet.cycle();
    expect(fresh.observation.inputs).to.deep.equal({ desired: 'last-good', manifest: 'last-good' });
    expect(fleet.instances('bld-linux64')).to.have.length(2);
  });

  it('with no good copy anywhere, launches nothing and retires nothing', async () => {
    const fleet = new SimFleet({ policies: [bld()] });
    fleet.publishRaw('desired.json', 'not json');
    const cycle = await fleet.cycle();
    expect(cycle.plan.blocked).to.match(/no usable desired counts/);
    expect(fleet.calls('RunInstances') + fleet.calls('TerminateInstances')).to.equal(0);
  });
});

describe('scenario: API economy', () => {
  it('a steady-state cycle costs a handful of calls per region, not calls per instance', async () => {
    const steady = async (scale: number) => {
      const pools = ['bld-linux64', 'tst-linux64', 'try-linux64'].map((pool) =>
        bld({ pool, names: `${pool}-{nnn}`, regions: TWO_REGIONS }),
      );
      // A quiet market (no crunches, no reclaims), so that nothing but the calls' own cost is measured.
      const fleet = new SimFleet({
        policies: pools,
        config: { regions: ['us-east-1', 'us-west-2'] },
        cloud: { market: { crunchesPerDay: 0, spotCapacity: 1000 }, world: { interruptionRatePerHour: 0 } },
      });
      fleet.publishDesired({ 'bld-linux64': 4 * scale, 'tst-linux64': 6 * scale, 'try-linux64': 2 * scale });
      await fleet.cycles(4);
      expect(fleet.instances()).to.have.length(12 * scale);
      const cycles: { ec2: string[]; s3: string[] }[] = [];
      for (let k = 0; k < 10; k++) {
        const ec2Before = fleet.cloud.calls.length;
        const s3Before = fleet.cloud.objects.log.length;
        const cycle = await fleet.cycle();
        expect(cycle.plan.actions).to.deep.equal([]);
        cycles.push({
          ec2: fleet.cloud.calls.slice(ec2Before).map((c) => `${c.region} ${c.action}`),
          s3: fleet.cloud.objects.log.slice(s3Before).map((o) => `${o.key} ${o.result}`),
        });
        fleet.advance(60_000);
      }
      return cycles;
    };
    const small = await steady(1);
    const large = await steady(10);
    const total = (cycles: typeof small) => cycles.reduce((n, c) => n + c.ec2.length + c.s3.length, 0);
    const quiet = small.find((c) => c.ec2.length === 2) ?? small[0];
    const refresh = small.find((c) => c.ec2.length > 2);
    process.stdout.write(
      `\n      steady-state, 3 pools × 2 regions, 12 and 120 instances: ${(total(small) / 10).toFixed(1)} and ${(total(large) / 10).toFixed(1)} calls per cycle` +
        `\n      a cycle: ${quiet?.ec2.join(', ')}; S3 ${quiet?.s3.join(', ')}` +
        `\n      every ~5 minutes also: ${refresh?.ec2.filter((c) => !c.endsWith('DescribeInstances')).join(', ') ?? '-'}\n`,
    );
    for (const cycle of [...small, ...large]) {
      const allowed = cycle.ec2.every((c) => /^us-(east-1|west-2) (DescribeInstances|DescribeSpotPriceHistory)$/.test(c));
      expect(allowed, cycle.ec2.join()).to.equal(true);
      expect(cycle.ec2.filter((c) => c.endsWith('DescribeInstances'))).to.have.length(2);
      expect(cycle.ec2.length).to.be.at.most(4);
      expect(cycle.s3).to.have.length(4);
    }
    // Ten times the instances, the same calls (give or take one price refresh per region).
    expect(Math.abs(total(large) - total(small))).to.be.at.most(2);
  });
});

describe('scenario: a cycle that fails', () => {
  it('ends with its error on the simulated clock, never as a thrown or unhandled rejection', async () => {
    const fleet = new SimFleet({
      policies: [bld()],
      cloud: { faults: { scripted: [{ action: 'DescribeInstances', code: 'RequestLimitExceeded', status: 503 }] } },
    });
    fleet.publishDesired({ 'bld-linux64': 1 });
    let unhandled: unknown;
    const onUnhandled = (reason: unknown) => {
      unhandled = reason;
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const result = await fleet.cycleResult();
      await new Promise((resolve) => setImmediate(resolve));
      expect(result.error?.errorClass).to.equal('throttled');
      expect(unhandled).to.equal(undefined);
      expect(fleet.calls('RunInstances')).to.equal(0);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
