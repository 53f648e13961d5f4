// What is on the event queue that should not change anything: messages that are not EC2's events
// (anyone the queue policy lets in may send), and SQS's second deliveries of messages already
// handled. Simulated cloud; the soak injects the same at random (test/soak/event-chaos.ts).

import { expect } from 'chai';
import type { EventTally } from '../../src/service/event-inbox.js';
import { STRAY_KINDS, strayBody } from '../soak/event-chaos.js';
import { SIM_EVENTS_QUEUE_URL } from '../../src/fake-cloud/sqs.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import { policy } from '../support/builders.js';
import { BUCKET, SimFleet } from '../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const EVENTS_DOC = 'state/events.json';

async function warnedFleet() {
  const fleet = new SimFleet({
    policies: [policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge', 'm5.xlarge'] })],
    config: { events: { queue: SIM_EVENTS_QUEUE_URL } },
    cloud: { events: true },
  });
  const inbox = fleet.runtime.inbox as NonNullable<SimFleet['runtime']['inbox']>;
  fleet.publishDesired({ 'bld-linux64': 3 });
  await fleet.cycles(2);
  const victim = fleet.instances('bld-linux64')[0] as SimInstance;
  fleet.cloud.world.market.setCapacity(victim.az, victim.instanceType, 'spot', 0);
  const warned = await fleet.cloud.clock.run(() => inbox.poll(60_000));
  expect(warned.warnings).to.be.above(0);
  await fleet.cloud.clock.run(() => inbox.takeQueued());
  expect(fleet.cloud.eventQueue.depth).to.equal(0);
  return { fleet, inbox };
}

const facts = (fleet: SimFleet) => fleet.cloud.objects.peek(BUCKET, EVENTS_DOC)?.body;
const planned = async (fleet: SimFleet) => (await fleet.cloud.clock.run(() => fleet.runtime.reconciler.planOnly())).plan.actions;
const count = (tally: readonly EventTally[], result: EventTally['result']) =>
  tally.filter((t) => t.result === result).reduce((n, t) => n + t.count, 0);

describe('events: duplicates and stray messages change nothing', () => {
  it('second deliveries of handled messages (warnings among them) are merged into the same facts and deleted; the plan stays', async () => {
    const { fleet, inbox } = await warnedFleet();
    const before = facts(fleet);
    const plan = await planned(fleet);
    expect(before).to.match(/"warned": \{\s*"i-/);
    // The warned workers' replacements are planned: the plan is not empty, and must not change.
    expect(plan.map((a) => a.kind)).to.include('launch');
    let copies = 0;
    for (let n = 0; n < 10; n++) if (fleet.cloud.eventQueue.duplicate(n) !== undefined) copies++;
    expect(copies).to.be.above(2);
    const report = await fleet.cloud.clock.run(() => inbox.takeQueued());
    expect(report.received).to.equal(copies);
    expect(count(report.tally, 'handled')).to.equal(copies);
    expect(report.warnings).to.be.above(0);
    expect(fleet.cloud.eventQueue.depth).to.equal(0);
    expect(facts(fleet)).to.equal(before);
    expect(await planned(fleet)).to.deep.equal(plan);
  });

  it('messages that are not EC2 events are dropped and deleted; a warning about another fleet’s instance changes no plan', async () => {
    const { fleet, inbox } = await warnedFleet();
    const before = facts(fleet);
    expect(before).to.match(/"warned": \{\s*"i-/);
    const plan = await planned(fleet);
    const t = fleet.cloud.clock.now();
    for (const kind of STRAY_KINDS)
      if (kind !== 'foreign-instance') fleet.cloud.eventQueue.send(strayBody(kind, t, 'us-east-1', 'i-0f0f0f0f0f0f0f0f0'));
    const dropped = await fleet.cloud.clock.run(() => inbox.takeQueued());
    expect(dropped.received).to.equal(STRAY_KINDS.length - 1);
    expect(count(dropped.tally, 'handled')).to.equal(0);
    expect(fleet.cloud.eventQueue.depth).to.equal(0);
    expect(facts(fleet)).to.equal(before);

    fleet.cloud.eventQueue.send(strayBody('foreign-instance', t, 'us-east-1', 'i-0f0f0f0f0f0f0f0f0'));
    const foreign = await fleet.cloud.clock.run(() => inbox.takeQueued());
    expect(foreign).to.include({ received: 1, warnings: 1 });
    expect(facts(fleet)).to.contain('i-0f0f0f0f0f0f0f0f0');
    expect(fleet.cloud.eventQueue.depth).to.equal(0);
    expect(await planned(fleet)).to.deep.equal(plan);
  });
});
