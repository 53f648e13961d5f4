import { expect } from 'chai';
import { LEASE_DOC, type LeaseDoc, LeaderLease, leaseTtlMs } from '../../src/service/lease.js';
import { silentLogger } from '../../src/service/logger.js';
import { type Runtime, createRuntime } from '../../src/service/runtime.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: [] } };
const TTL = leaseTtlMs(60); // 180 s

/** A replica: its own runtime and lease on the shared simulated cloud and state store. */
function replica(fleet: SimFleet, name: string): { runtime: Runtime; lease: LeaderLease; tick: () => Promise<boolean> } {
  const runtime = createRuntime({
    config: fleet.config,
    policies: fleet.policies,
    cloud: fleet.cloud,
    clock: fleet.cloud.clock,
    log: silentLogger(),
    random: () => 0.5,
    leaseFor: (state) => new LeaderLease(state, name, TTL, fleet.cloud.clock, silentLogger()),
  });
  const own = runtime.lease as LeaderLease;
  return {
    runtime,
    lease: own,
    /** One turn of the service loop: take or renew the lease, and run a cycle only as leader. */
    tick: async () => {
      const status = await own.acquireOrRenew();
      if (status.held) await fleet.cloud.clock.run(() => runtime.reconciler.cycle({ dryRun: false }));
      fleet.cloud.settle();
      return status.held;
    },
  };
}

async function leaseDoc(fleet: SimFleet): Promise<LeaseDoc | undefined> {
  return (await fleet.runtime.state.read<LeaseDoc>(LEASE_DOC))?.doc;
}

describe('scenario: one leader among replicas', () => {
  it('only the lease holder acts; the other stands by', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS })] });
    fleet.publishDesired({ 'bld-linux64': 3 });
    const a = replica(fleet, 'replica-a');
    const b = replica(fleet, 'replica-b');
    for (let k = 0; k < 4; k++) {
      expect(await a.tick()).to.equal(true);
      expect(await b.tick()).to.equal(false);
      fleet.advance(60_000);
    }
    expect(fleet.instances('bld-linux64')).to.have.length(3);
    // Calls of 1 then 2 into one offer, all by the leader.
    expect(fleet.calls('RunInstances')).to.equal(2);
    expect((await leaseDoc(fleet))?.holder).to.equal('replica-a');
  });

  it('a crashed leader is replaced once its lease expires, not before', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS })] });
    fleet.publishDesired({ 'bld-linux64': 2 });
    const a = replica(fleet, 'replica-a');
    const b = replica(fleet, 'replica-b');
    await a.tick();
    const crashedAt = fleet.cloud.clock.now();
    // replica-a dies without releasing; replica-b keeps asking.
    let tookOverAt: number | undefined;
    for (let k = 0; k < 6 && tookOverAt === undefined; k++) {
      fleet.advance(60_000);
      if (await b.tick()) tookOverAt = fleet.cloud.clock.now();
    }
    expect((tookOverAt as number) - crashedAt).to.be.at.least(TTL);
    expect((tookOverAt as number) - crashedAt).to.be.below(TTL + 60_000 + 1000);
    fleet.publishDesired({ 'bld-linux64': 4 });
    await b.tick();
    expect(fleet.instances('bld-linux64')).to.have.length(4);
  });

  it('a released lease is taken over at once', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS })] });
    fleet.publishDesired({ 'bld-linux64': 1 });
    const a = replica(fleet, 'replica-a');
    const b = replica(fleet, 'replica-b');
    await a.tick();
    await a.lease.release();
    expect((await leaseDoc(fleet))?.expiresAt).to.equal(0);
    expect(await b.tick()).to.equal(true);
  });

  it('a leader that was paused past its lease stops mutating at once, even mid-way', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS })] });
    fleet.publishDesired({ 'bld-linux64': 1 });
    const a = replica(fleet, 'replica-a');
    const b = replica(fleet, 'replica-b');
    await a.tick();
    expect(await b.tick()).to.equal(false);
    expect(fleet.instances('bld-linux64')).to.have.length(1);
    // replica-a stalls (a long GC pause, a frozen VM) past the lease; replica-b takes over.
    fleet.advance(TTL + 1000);
    expect(await b.tick()).to.equal(true);
    // replica-a wakes up and runs a cycle without renewing first: it must not act.
    fleet.publishDesired({ 'bld-linux64': 5 });
    const before = fleet.calls('RunInstances');
    expect(a.lease.holds()).to.equal(false);
    const stateBefore = await a.runtime.state.read('reconciler.json');
    await fleet.cloud.clock.run(() => a.runtime.reconciler.cycle({ dryRun: false }));
    expect(fleet.calls('RunInstances')).to.equal(before);
    expect((await a.runtime.state.read('reconciler.json'))?.etag).to.equal(stateBefore?.etag);
    // And its next turn finds the lease taken.
    expect(await a.tick()).to.equal(false);
    expect(await b.tick()).to.equal(true);
    expect(fleet.instances('bld-linux64')).to.have.length(5);
  });

  it('two replicas racing for a free lease: exactly one wins', async () => {
    const fleet = new SimFleet({ policies: [policy({ regions: SUBNETS })] });
    const a = replica(fleet, 'replica-a');
    const b = replica(fleet, 'replica-b');
    const [sa, sb] = await Promise.all([a.lease.acquireOrRenew(), b.lease.acquireOrRenew()]);
    expect([sa.held, sb.held].filter(Boolean)).to.have.length(1);
  });
});
