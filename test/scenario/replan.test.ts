// Rounds within a cycle and calls that fail: the whole reconciler on the simulated cloud, judged from
// the cloud's own view (the simulated world's instances and its call log) and the stored journal.

import { expect } from 'chai';
import { recordDrains } from '../../src/service/drains.js';
import { RECONCILER_DOC, type ReconcilerDoc } from '../../src/service/state-docs.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: [] } };
const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };

function bld(overrides: Record<string, unknown> = {}) {
  return policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge'], ...overrides });
}

/** A fleet running `count` workers on the newest of two images, which is then drained. */
async function onDrainedImage(fleet: SimFleet, count: number): Promise<{ drained: string; previous: string }> {
  const previous = fleet.bakeImage('bld-linux64', 'us-east-1', fleet.cloud.clock.now() - 30 * 3600_000);
  fleet.publishManifest();
  fleet.publishDesired({ 'bld-linux64': count });
  await fleet.cycles(2);
  const amis = [...new Set(fleet.instances('bld-linux64').map((i) => i.ami))];
  expect(amis).to.have.length(1);
  expect(fleet.instances('bld-linux64')).to.have.length(count);
  const drained = amis[0] as string;
  expect(drained).to.not.equal(previous);
  await recordDrains(fleet.runtime.state, [{ ami: drained, reason: 'kernel panic on boot', by: 'operator' }], fleet.cloud.clock.now());
  return { drained, previous };
}

/** Instance ids the cloud terminated since call `from` of its log. */
function terminatedSince(fleet: SimFleet, from: number): string[] {
  return fleet.cloud.calls
    .slice(from)
    .flatMap((c) => (c.action === 'TerminateInstances' && c.result === 'ok' ? ((c.detail?.instanceIds as string[]) ?? []) : []));
}

describe('scenario: re-planning rounds after a capacity refusal', () => {
  it('never retire more drained instances than the drain budget in one cycle, and never launch more than left', async () => {
    const fleet = new SimFleet({ policies: [bld({ freshness: { drainBudget: 1 } })], cloud: QUIET });
    const { drained, previous } = await onDrainedImage(fleet, 4);
    // The cheapest offer refuses the first launch of the cycle: a second round is planned.
    const refusals = fleet.calls('RunInstances', 'InsufficientInstanceCapacity');
    fleet.cloud.faults.addScripted({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 500, times: 1 });
    const from = fleet.cloud.calls.length;
    const cycle = await fleet.cycle();
    expect(fleet.calls('RunInstances', 'InsufficientInstanceCapacity')).to.equal(refusals + 1);
    expect(cycle.outcomes.length, 'a second round ran').to.be.at.least(2);
    expect(terminatedSince(fleet, from), 'drain budget 1 per cycle').to.have.length(1);
    // Four workers on a drained image count for nothing: four launches, on the previous image, no more.
    const live = fleet.instances('bld-linux64');
    expect(live.filter((i) => i.ami === previous)).to.have.length(4);
    expect(live.filter((i) => i.ami !== previous && i.ami !== drained)).to.deep.equal([]);
  });

  it('a launch refused in a later round of a cycle that changes nothing else is not left in reconciler.json', async () => {
    const fleet = new SimFleet({ policies: [bld({ spot: { fallbackAfter: 3600 } })], cloud: QUIET });
    fleet.cloud.faults.addScripted({ action: 'RunInstances', code: 'InsufficientInstanceCapacity', status: 500 });
    fleet.publishDesired({ 'bld-linux64': 1 });
    // The first cycle starts the shortfall timer; the second (offers back after their capacity TTL)
    // refuses in every round again and keeps the same timer: nothing else to write.
    await fleet.cycle();
    fleet.advance(200_000);
    const before = fleet.calls('RunInstances', 'InsufficientInstanceCapacity');
    const cycle = await fleet.cycle();
    expect(fleet.calls('RunInstances', 'InsufficientInstanceCapacity') - before, 'one refused call per offer, one round each').to.equal(3);
    expect(cycle.outcomes).to.have.length(3);
    const stored = (await fleet.runtime.state.read<ReconcilerDoc>(RECONCILER_DOC))?.doc;
    expect(stored?.launches).to.deep.equal([]);
  });
});

describe('scenario: a drain whose terminations fail', () => {
  it('while shortfall launches land, the pool never goes above size.max', async () => {
    const fleet = new SimFleet({ policies: [bld({ size: { min: 0, max: 5 }, freshness: { drainBudget: '100%' } })], cloud: QUIET });
    const { drained, previous } = await onDrainedImage(fleet, 3);
    // TerminateInstances is throttled past every retry for a few cycles.
    fleet.cloud.faults.addScripted({ action: 'TerminateInstances', code: 'RequestLimitExceeded', status: 503, times: 3 * 6 });
    const seen: number[] = [];
    for (let k = 0; k < 8; k++) {
      await fleet.cycleResult();
      seen.push(fleet.instances('bld-linux64').length);
      fleet.advance(60_000);
    }
    expect(fleet.calls('TerminateInstances', 'RequestLimitExceeded')).to.equal(18);
    // Launches land before the terminations they were planned with; the live count at the end of
    // a cycle whose terminations failed is its peak.
    for (const [k, n] of seen.entries()) expect(n, `cycle ${k}: ${seen.join(', ')}`).to.be.at.most(5);
    const live = fleet.instances('bld-linux64');
    expect(live.map((i) => i.ami)).to.deep.equal([previous, previous, previous]);
    expect(live.some((i) => i.ami === drained)).to.equal(false);
  });
});
