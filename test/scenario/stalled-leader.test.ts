// A leader that stalls inside a cycle for longer than its lease, on the simulated cloud: each replica
// is the real runtime and leader lease (`fleet reconcile`'s wiring) on its own ProcessCloud, the
// soak's simulated process connection, which can hold a call's answer until released. Judged from
// what each process sent and from the simulated EC2's own instances.

import { expect } from 'chai';
import { slotFromTags } from '../../src/cloud/tags.js';
import { silentLogger } from '../../src/service/logger.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import type { SentCall } from '../soak/process.js';
import { Replica } from '../soak/replica.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: [] } };
const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };
const LEASE_MS = 180_000; // three intervals of 60 s

/** Replicas made by a test, so that a held answer is let through even when the test fails. */
const made: Replica[] = [];

function setUp(visibilityDelayMs = 0) {
  const fleet = new SimFleet({
    policies: [policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge'] })],
    cloud: { ...QUIET, faults: { visibilityDelayMs } },
  });
  const rng = new Prng(11);
  const replica = (id: string) =>
    new Replica(id, fleet.policies, { cloud: fleet.cloud, config: fleet.config, rng, log: silentLogger(), watchReads: () => false });
  const [a, b] = [replica('replica-a'), replica('replica-b')];
  made.push(a, b);
  return { fleet, a, b };
}

const live = (fleet: SimFleet): SimInstance[] => fleet.instances('bld-linux64');
const slotNames = (instances: readonly SimInstance[]) => instances.map((i) => slotFromTags(i.tags, i.launchIndex).name);
const mutating = (sent: readonly SentCall[]) => sent.filter((s) => s.action !== 'PutObject');

/** B's turns (A standing by) until the pool has settled. */
async function settle(fleet: SimFleet, a: Replica, b: Replica): Promise<void> {
  for (let k = 0; k < 5; k++) {
    fleet.advance(60_000);
    expect((await b.tick()).leader).to.equal(true);
    expect((await a.tick()).leader).to.equal(false);
  }
}

describe('scenario: a leader stalled inside a cycle longer than its lease', () => {
  afterEach(() => {
    for (const r of made.splice(0)) r.process.release();
  });

  it('its next call does not answer; the other replica takes over and launches; resumed, it sends nothing more', async () => {
    const { fleet, a, b } = setUp();
    fleet.publishDesired({ 'bld-linux64': 2 });
    expect((await a.tick()).leader).to.equal(true);
    fleet.advance(60_000);
    expect((await a.tick()).leader).to.equal(true);
    expect(live(fleet)).to.have.length(2);

    // More work, and A stalls at its journal write right before its launch calls.
    fleet.publishDesired({ 'bld-linux64': 5 });
    const sprung = a.process.arm({ kind: 'stall', atCall: 1, on: 'PutObject state/reconciler.json' });
    const stalledTurn = a.tick();
    await sprung;
    expect(a.process.sprungOn).to.equal('PutObject state/reconciler.json');
    // B stands by, watching the lease A renewed at the start of that turn.
    expect((await b.tick()).leader).to.equal(false);

    // Longer than A's lease: B takes the lease over and launches (A's journaled calls, resumed).
    fleet.advance(LEASE_MS + 20_000);
    const turn = await b.tick();
    expect(turn.leader).to.equal(true);
    const firstLaunch = b.process.sent.find((s) => s.action === 'RunInstances');
    expect(firstLaunch, 'B launched').to.not.equal(undefined);
    expect(live(fleet)).to.have.length(5);

    a.process.release();
    const resumed = await stalledTurn;
    // Its planned launches were refused by its own fence, before they left.
    const refused = resumed.result?.outcomes.flatMap((o) => o.launches).map((l) => l.failure?.code) ?? [];
    expect(refused.length).to.be.greaterThan(0);
    expect(new Set(refused)).to.deep.equal(new Set(['LeaseLost']));
    expect(
      mutating(a.process.sent).filter((s) => s.t >= (firstLaunch as SentCall).t),
      'A silent after B’s first launch',
    ).to.deep.equal([]);

    await settle(fleet, a, b);
    const names = slotNames(live(fleet));
    expect(names).to.have.length(5);
    expect(new Set(names).size, names.join(', ')).to.equal(5);
    expect(mutating(a.process.sent).filter((s) => s.t >= (firstLaunch as SentCall).t)).to.deep.equal([]);
  });

  it('its RunInstances answer merely hangs past the lease: the fence abandons it, A sends nothing more, and B’s resume of that call (same token) never doubles capacity', async () => {
    // New instances stay out of DescribeInstances a while: B cannot see what A's hung call made.
    const { fleet, a, b } = setUp(400_000);
    fleet.publishDesired({ 'bld-linux64': 1 });
    const sprung = a.process.arm({ kind: 'stall', atCall: 1, on: 'RunInstances' });
    const stalledTurn = a.tick();
    await sprung;
    const hung = a.process.sent.find((s) => s.action === 'RunInstances') as SentCall;
    expect(hung).to.not.equal(undefined);
    // The fence abandons the call once A's lease runs out (A's own turn ends there).
    const turnA = await stalledTurn;
    expect(turnA.leader).to.equal(true);
    expect(turnA.result?.outcomes.flatMap((o) => o.launches).map((l) => l.failure?.code)).to.deep.equal(['LeaseLost']);
    expect(mutating(a.process.sent)).to.deep.equal([hung]);
    expect(fleet.instances('bld-linux64', ['pending', 'running'])).to.have.length(1);

    // B, standing by, sees A's lease unchanged for a whole TTL by its own clock, and takes it over.
    expect((await b.tick()).leader).to.equal(false);
    fleet.advance(LEASE_MS);
    expect((await b.tick()).leader).to.equal(true);
    const resends = b.process.sent.filter((s) => s.action === 'RunInstances');
    expect(resends.map((s) => s.clientToken)).to.deep.equal([hung.clientToken]);
    // EC2 answers a repeated token with what the first call made.
    expect([...fleet.cloud.world.instances.values()].filter((i) => i.tags['fleet:pool'] === 'bld-linux64')).to.have.length(1);

    a.process.release();
    await settle(fleet, a, b);
    expect(mutating(a.process.sent)).to.deep.equal([hung]);
    expect(slotNames(live(fleet))).to.deep.equal(['bld-linux64-spot-001']);
    expect(fleet.calls('RunInstances', 'ok')).to.equal(2);
  });
});
