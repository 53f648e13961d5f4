// Launches whose answer was lost, resumed by a later cycle: on the simulated cloud, whose EC2 keeps
// client tokens as EC2 does (the same token with other parameters is IdempotentParameterMismatch).
// Judged from the simulated cloud's own call log and instances.

import { expect } from 'chai';
import { slotFromTags } from '../../src/cloud/tags.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { recordDrains } from '../../src/service/drains.js';
import { RECONCILER_DOC, type ReconcilerDoc } from '../../src/service/state-docs.js';
import type { SimCall } from '../../src/fake-cloud/ec2.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: ['sg-first'] } };
const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };
// Launches stay out of DescribeInstances for 150 s: a lost answer is not settled by the next listing.
const INVISIBLE = { ...QUIET, faults: { visibilityDelayMs: 150_000 } };

function bld(overrides: Record<string, unknown> = {}): PoolPolicy {
  return policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge'], keyName: 'releng', userData: '#cloud-config\n', ...overrides });
}

const runs = (fleet: SimFleet): SimCall[] => fleet.cloud.calls.filter((c) => c.action === 'RunInstances');
const made = (fleet: SimFleet) => [...fleet.cloud.world.instances.values()].filter((i) => i.tags['fleet:pool'] === 'bld-linux64');

/** One cycle whose every RunInstances answer is lost on the way back (EC2 acts, fleet hears nothing). */
async function cycleWithLostAnswers(fleet: SimFleet): Promise<void> {
  fleet.cloud.faults.update({ lostLaunchResponses: 1 });
  await fleet.cycleResult();
  fleet.cloud.faults.update({ lostLaunchResponses: 0 });
}

/** A new process of the service with edited policies, on the same cloud and state. */
function restartWith(fleet: SimFleet, policies: readonly PoolPolicy[]): void {
  fleet.restart({ policies, seed: 5 });
}

describe('scenario: resuming a launch whose answer was lost', () => {
  it('after a policy edit (security groups, key, profile) it is re-sent with its original parameters, and never doubles', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: INVISIBLE });
    fleet.publishDesired({ 'bld-linux64': 1 });
    await cycleWithLostAnswers(fleet);
    const [first] = runs(fleet);
    expect(first?.result).to.equal('ResponseLost');
    expect(made(fleet)).to.have.length(1);

    restartWith(fleet, [
      bld({
        regions: { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: ['sg-edited'] } },
        keyName: 'other',
        instanceProfile: 'edited',
      }),
    ]);
    fleet.advance(60_000);
    await fleet.cycle();
    const token = first?.detail?.clientToken;
    const resent = runs(fleet).filter((c) => c.detail?.clientToken === token);
    expect(resent.length, 'resent in the second cycle').to.be.greaterThan(1);
    // Every send carried the first send's parameters (user data rendered again from the policy, which
    // did not change it): EC2 (and the simulator) answer with what it made.
    expect(new Set(resent.map((c) => c.detail?.params))).to.have.property('size', 1);
    expect(resent.at(-1)?.result).to.equal('ok');
    expect(runs(fleet).filter((c) => c.result === 'IdempotentParameterMismatch')).to.deep.equal([]);
    await fleet.cycles(4);
    expect(made(fleet)).to.have.length(1);
    expect(runs(fleet).filter((c) => c.detail?.clientToken !== token)).to.deep.equal([]);
  });

  it('after an edit of the user data it is not re-sent under its token (the journal keeps no user data), waited for, and never doubles', async () => {
    const fleet = new SimFleet({ policies: [bld({ userData: '#cloud-config\nsecret: s3cr3t\n' })], cloud: INVISIBLE });
    fleet.publishDesired({ 'bld-linux64': 1 });
    await cycleWithLostAnswers(fleet);
    expect(made(fleet)).to.have.length(1);
    const journal = await fleet.runtime.state.read<ReconcilerDoc>(RECONCILER_DOC);
    expect(JSON.stringify(journal?.doc)).not.to.include('s3cr3t');

    const sends = runs(fleet).length;

    restartWith(fleet, [bld({ userData: '#cloud-config\nedited: true\n' })]);
    fleet.advance(60_000);
    await fleet.cycle();
    expect(runs(fleet), 'not re-sent').to.have.length(sends);
    await fleet.cycles(4);
    expect(runs(fleet).filter((c) => c.result === 'IdempotentParameterMismatch')).to.deep.equal([]);
    expect(made(fleet)).to.have.length(1);
    expect(runs(fleet)).to.have.length(sends);
  });

  it('an IdempotentParameterMismatch answer means it landed: keep waiting, never launch again', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: INVISIBLE });
    fleet.publishDesired({ 'bld-linux64': 1 });
    await cycleWithLostAnswers(fleet);
    expect(made(fleet)).to.have.length(1);
    // The journaled request differs from what EC2 saw under its token (as a journal written by an
    // older fleet could): its resend is answered IdempotentParameterMismatch.
    const stored = await fleet.runtime.state.read<ReconcilerDoc>(RECONCILER_DOC);
    const doc = stored?.doc as ReconcilerDoc;
    expect(doc.launches).to.have.length(1);
    const tampered: ReconcilerDoc = {
      ...doc,
      launches: doc.launches.map((l) => ({ ...l, request: { ...l.request, securityGroups: ['sg-other'] } })),
    };
    await fleet.runtime.state.write(RECONCILER_DOC, tampered, stored?.etag);

    fleet.advance(60_000);
    await fleet.cycle();
    expect(runs(fleet).filter((c) => c.result === 'IdempotentParameterMismatch')).to.have.length(1);
    // Still invisible for another cycle: it counts, and nothing is launched in its place.
    for (let k = 0; k < 4; k++) {
      fleet.advance(60_000);
      await fleet.cycle();
      expect(made(fleet), `cycle ${k + 3}`).to.have.length(1);
    }
    expect(runs(fleet).filter((c) => c.result === 'ok')).to.deep.equal([]);
    expect((await fleet.runtime.state.read<ReconcilerDoc>(RECONCILER_DOC))?.doc.launches).to.deep.equal([]);
  });
});

describe('scenario: a launch held unanswered, then re-sent', () => {
  it('waits the visibility timeout from the re-send, not the first send: its slot name is never launched twice (soak seed 157 cycle 400)', async () => {
    const fleet = new SimFleet({ policies: [bld()], cloud: INVISIBLE });
    fleet.publishDesired({ 'bld-linux64': 1 });
    // The request never reaches EC2: an unanswered call, which the pool's shrink then holds.
    fleet.cloud.faults.update({ lostLaunchRequests: 1 });
    await fleet.cycleResult();
    fleet.cloud.faults.update({ lostLaunchRequests: 0 });
    expect(made(fleet)).to.have.length(0);
    fleet.publishDesired({ 'bld-linux64': 0 });
    for (let k = 0; k < 8; k++) {
      fleet.advance(60_000);
      await fleet.cycle();
    }
    // Nine minutes after the first send the pool wants it again: the held call is re-sent and lands,
    // out of the listing for 150 s, past ten minutes after the first send.
    fleet.publishDesired({ 'bld-linux64': 1 });
    fleet.advance(60_000);
    await fleet.cycle();
    expect(made(fleet)).to.have.length(1);
    for (let k = 0; k < 4; k++) {
      fleet.advance(60_000);
      await fleet.cycle();
      const live = fleet.instances('bld-linux64');
      expect(
        live.map((i) => i.id),
        `cycle ${k + 11}`,
      ).to.have.length(1);
    }
    expect(runs(fleet).filter((c) => c.result === 'ok')).to.have.length(1);
  });
});

describe('scenario: unconfirmed launches of an image drained meanwhile', () => {
  it('are never re-sent; the shortfall is launched from the previous image at once; names stay unique', async () => {
    const fleet = new SimFleet({ policies: [bld({ freshness: { drainBudget: '100%' } })], cloud: INVISIBLE });
    const previous = fleet.bakeImage('bld-linux64', 'us-east-1', fleet.cloud.clock.now() - 30 * 3600_000);
    fleet.publishManifest();
    fleet.publishDesired({ 'bld-linux64': 3 });
    await cycleWithLostAnswers(fleet);
    const drained = runs(fleet)[0]?.detail?.ami as string;
    expect(drained).to.not.equal(previous);
    expect(made(fleet)).to.have.length(3);
    await recordDrains(fleet.runtime.state, [{ ami: drained, reason: 'broken', by: 'operator' }], fleet.cloud.clock.now());
    const drainedAt = fleet.cloud.clock.now();

    fleet.advance(60_000);
    await fleet.cycle();
    // At once, in the cycle after the drain, while the lost launches are still invisible.
    expect(made(fleet).filter((i) => i.ami === previous && i.state !== 'terminated')).to.have.length(3);
    for (let k = 0; k < 6; k++) {
      fleet.advance(60_000);
      await fleet.cycle();
      const live = made(fleet).filter((i) => i.state === 'pending' || i.state === 'running');
      // A batch's slot names travel in fleet:names (Name is set once its answer comes back).
      const names = live.map((i) => slotFromTags(i.tags, i.launchIndex).name);
      expect(new Set(names).size, names.join(', ')).to.equal(names.length);
      expect(live.filter((i) => i.ami !== drained).length).to.be.at.most(3);
    }
    expect(runs(fleet).filter((c) => c.t > drainedAt && c.detail?.ami === drained)).to.deep.equal([]);
    const live = made(fleet).filter((i) => i.state === 'pending' || i.state === 'running');
    expect(live.map((i) => i.ami)).to.deep.equal([previous, previous, previous]);
  });
});
