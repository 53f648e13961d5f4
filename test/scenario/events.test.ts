// EC2's events in the simulated cloud: warnings two minutes ahead of a reclaim, rebalance
// recommendations ahead of capacity drops, delivery to the simulated queue, and the inbox on top.

import { expect } from 'chai';
import { parseEventMessage } from '../../src/events/parse.js';
import { silentLogger } from '../../src/service/logger.js';
import { createRuntime } from '../../src/service/runtime.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { SIM_EVENTS_QUEUE_URL } from '../../src/fake-cloud/sqs.js';
import { INTERRUPTION_NOTICE_MS } from '../../src/events/parse.js';
import { REBALANCE_LEAD_MS, type SimInstance, type WorldEvent } from '../../src/fake-cloud/world.js';
import { policy } from '../support/builders.js';
import { SimFleet } from '../support/sim-fleet.js';

const START = Date.parse('2026-11-20T00:00:00Z');
const TYPES = ['c5.xlarge', 'm5.xlarge'];

/** A world with every offer of the zones and types filled to its capacity, and nothing to refill it. */
function crowdedWorld(options: { events?: boolean; hours: number; stepMs: number; onStep?: (cloud: SimCloud) => void }) {
  const cloud = new SimCloud({
    seed: 11,
    start: START,
    defaultSubnets: ['us-east-1'],
    market: { spotCapacity: 8, crunchesPerDay: 3 },
    world: { interruptionRatePerHour: 0.01 },
    ...(options.events !== undefined ? { events: options.events } : {}),
  });
  const subnets = [...cloud.world.subnets.values()];
  const image = cloud.world.registerImage('us-east-1', 'worker', START - 86_400_000);
  for (const subnet of subnets) {
    for (const type of TYPES) {
      const capacity = cloud.world.market.capacity(subnet.az, type, 'spot', START);
      for (let n = 0; n < capacity; n++) {
        cloud.world.createInstance({
          subnetId: subnet.id,
          instanceType: type,
          lifecycle: 'spot',
          productDescription: 'Linux/UNIX',
          ami: image.id,
          tags: { Name: `w-${subnet.az}-${type}-${n}` },
          visibilityDelayMs: 0,
        });
      }
    }
  }
  for (let t = START + options.stepMs; t <= START + options.hours * 3600_000; t += options.stepMs) {
    cloud.clock.advanceTo(t);
    cloud.settle();
    options.onStep?.(cloud);
  }
  return cloud;
}

const of = (events: readonly WorldEvent[], kind: WorldEvent['kind']) => events.filter((e) => e.kind === kind);

describe('sim: EC2 events in the simulated world', () => {
  it('a reclaimed spot instance is warned two minutes before it ends, and runs until then', () => {
    const early: string[] = [];
    const cloud = crowdedWorld({
      hours: 12,
      stepMs: 20_000,
      onStep: (c) => {
        for (const i of c.world.instances.values()) {
          if (i.warnedAt === undefined) continue;
          const live = i.state === 'pending' || i.state === 'running';
          if (c.clock.now() < i.warnedAt + INTERRUPTION_NOTICE_MS && !live)
            early.push(`${i.id} ${i.state} at ${c.clock.now() - i.warnedAt} ms`);
        }
      },
    });
    const events = cloud.world.events;
    const warnings = new Map(of(events, 'interruption-warning').map((e) => [e.instance.id, e]));
    const interrupted = of(events, 'interrupted');
    expect(interrupted.length).to.be.at.least(10);
    for (const end of interrupted) {
      const warning = warnings.get(end.instance.id);
      expect(warning, `${end.instance.id} ended without a warning`).not.to.equal(undefined);
      expect(end.t - (warning as WorldEvent).t).to.equal(INTERRUPTION_NOTICE_MS);
      expect(end.instance.endedAt).to.equal(end.t);
    }
    expect(early).to.deep.equal([]);
    // Both causes the world has here are announced.
    expect(new Set([...warnings.values()].map((w) => w.cause))).to.deep.equal(new Set(['capacity', 'background']));
  });

  it('a price above the max price is warned too, and the reclaim follows two minutes later', () => {
    const cloud = new SimCloud({ seed: 3, start: START, defaultSubnets: ['us-east-1'], world: { interruptionRatePerHour: 0 } });
    const subnet = [...cloud.world.subnets.values()][0] as { id: string };
    const image = cloud.world.registerImage('us-east-1', 'worker', START);
    const bid = cloud.world.createInstance({
      subnetId: subnet.id,
      instanceType: 'c5.xlarge',
      lifecycle: 'spot',
      productDescription: 'Linux/UNIX',
      ami: image.id,
      tags: {},
      maxPrice: 0.0001,
      visibilityDelayMs: 0,
    });
    cloud.clock.advanceTo(START + 60_000);
    cloud.settle();
    expect([bid.state === 'pending' || bid.state === 'running', bid.warnedAt]).to.deep.equal([true, START + 60_000]);
    cloud.clock.advanceTo(START + 60_000 + INTERRUPTION_NOTICE_MS);
    cloud.settle();
    expect([bid.state, bid.stateReason, bid.endedAt]).to.deep.equal([
      'shutting-down',
      'Server.SpotInstanceTermination',
      START + 60_000 + INTERRUPTION_NOTICE_MS,
    ]);
    expect(of(cloud.world.events, 'interruption-warning').map((e) => e.cause)).to.deep.equal(['price']);
  });

  it('rebalance recommendations precede the capacity reclaims the trace announces, most a quarter of an hour ahead', () => {
    const cloud = crowdedWorld({ hours: 24, stepMs: 60_000 });
    const events = cloud.world.events;
    const recommended = new Map(of(events, 'rebalance-recommendation').map((e) => [e.instance.id, e.t]));
    // A drop within the run's first minute cannot have been announced.
    const capacityWarnings = of(events, 'interruption-warning').filter((e) => e.cause === 'capacity' && e.t > START + 120_000);
    expect(capacityWarnings.length).to.be.at.least(10);
    const leads = capacityWarnings.map((w) => {
      const at = recommended.get(w.instance.id);
      expect(at, `no rebalance recommendation before ${w.instance.id} was reclaimed`).not.to.equal(undefined);
      expect(at).to.be.below(w.t);
      return w.t - (at as number);
    });
    leads.sort((a, b) => a - b);
    expect(leads[Math.floor(leads.length / 2)])
      .to.be.at.least(10 * 60_000)
      .and.at.most(REBALANCE_LEAD_MS);
  });

  it('delivers the events to the queue as EventBridge writes them, only when the run has events on', async () => {
    const off = crowdedWorld({ hours: 3, stepMs: 60_000 });
    expect(off.world.events.length).to.be.above(0);
    expect(await off.eventQueue.receive(0)).to.deep.equal([]);

    const on = crowdedWorld({ hours: 3, stepMs: 60_000, events: true });
    const bodies: string[] = [];
    for (let batch = await on.eventQueue.receive(0); batch.length > 0; batch = await on.eventQueue.receive(0)) {
      bodies.push(...batch.map((m) => m.body));
      await on.eventQueue.delete(batch.map((m) => m.handle));
    }
    const parsed = bodies.map((b) => parseEventMessage(b));
    expect(parsed.every((p) => p.ok)).to.equal(true);
    const events = parsed.flatMap((p) => (p.ok ? [p.event] : []));
    const world = on.world.events;
    expect(events.filter((e) => e.kind === 'interruption-warning')).to.have.length(of(world, 'interruption-warning').length);
    expect(events.filter((e) => e.kind === 'rebalance-recommendation')).to.have.length(of(world, 'rebalance-recommendation').length);
    const states = events.filter((e) => e.kind === 'state-change');
    expect(states.filter((e) => e.state === 'pending')).to.have.length(of(world, 'launch').length);
    expect(states.filter((e) => e.state === 'shutting-down')).to.have.length(of(world, 'interrupted').length);
    expect(states.filter((e) => e.state === 'terminated')).to.have.length(of(world, 'gone').length);
    // A warned instance: its warning is in the queue before its shutdown, stamped two minutes earlier.
    const warned = events.find(
      (e) => e.kind === 'interruption-warning' && states.some((s) => s.instanceId === e.instanceId && s.state === 'shutting-down'),
    );
    expect(warned).not.to.equal(undefined);
    const shutdown = states.find((s) => s.instanceId === warned?.instanceId && s.state === 'shutting-down');
    expect(events.indexOf(warned as (typeof events)[number])).to.be.below(events.indexOf(shutdown as (typeof events)[number]));
    expect((shutdown?.time ?? 0) - (warned?.time ?? 0)).to.be.closeTo(INTERRUPTION_NOTICE_MS, 1000);
    expect(on.eventQueue.depth).to.equal(0);
  });

  it('an undeleted message comes back after the visibility timeout, with a new handle; an old handle deletes nothing', async () => {
    const cloud = crowdedWorld({ hours: 1, stepMs: 60_000, events: true });
    const [first] = await cloud.eventQueue.receive(0);
    expect(first).not.to.equal(undefined);
    cloud.clock.advanceTo(cloud.clock.now() + 31_000);
    const again = await cloud.eventQueue.receive(0);
    const back = again.find((m) => m.id === first?.id);
    expect(back?.handle).to.be.a('string').and.not.equal(first?.handle);
    expect(await cloud.eventQueue.delete([first?.handle as string])).to.deep.equal({ failed: [first?.handle] });
    expect(await cloud.eventQueue.delete([back?.handle as string])).to.deep.equal({ failed: [] });
  });
});

describe('sim: the event inbox on the simulated cloud', () => {
  const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
  const bld = () => policy({ regions: SUBNETS, instanceTypes: TYPES });

  it('records the warnings of reclaimed workers within seconds, with their reclaim time', async () => {
    const fleet = new SimFleet({ policies: [bld()], config: { events: { queue: SIM_EVENTS_QUEUE_URL } }, cloud: { events: true } });
    const inbox = fleet.runtime.inbox;
    expect(inbox).not.to.equal(undefined);
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(2);
    const victims = fleet.instances('bld-linux64');
    const { az, instanceType } = victims[0] as SimInstance;
    expect(victims.every((i) => i.az === az && i.instanceType === instanceType)).to.equal(true);
    // Everything so far: launches and their state changes.
    await fleet.cloud.clock.run(() => (inbox as NonNullable<typeof inbox>).poll(0));

    fleet.cloud.world.market.setCapacity(az, instanceType, 'spot', 0);
    const before = fleet.cloud.clock.now();
    const report = await fleet.cloud.clock.run(() => (inbox as NonNullable<typeof inbox>).poll(60_000));
    expect(report.warnings).to.equal(2);
    expect(fleet.cloud.clock.now() - before).to.be.at.most(10_000);
    const facts = await (inbox as NonNullable<typeof inbox>).readFacts();
    expect(Object.keys(facts.warned).sort()).to.deep.equal(victims.map((i) => i.id).sort());
    for (const v of victims) {
      const fact = facts.warned[v.id];
      expect(fact?.actionTime).to.equal((fact?.at ?? 0) + INTERRUPTION_NOTICE_MS);
      expect(Math.floor((v.warnedAt as number) / 1000) * 1000).to.equal(fact?.at);
      expect(facts.states[v.id]?.state).to.equal('running');
    }
    expect(victims.every((i) => i.state === 'running')).to.equal(true);
    expect(fleet.cloud.eventQueue.depth).to.equal(0);
  });

  it('a run without events has no inbox; a queue URL the cloud lacks is logged and never stops a poll', async () => {
    expect(new SimFleet({ policies: [bld()] }).runtime.inbox).to.equal(undefined);
    const fleet = new SimFleet({
      policies: [bld()],
      config: { events: { queue: 'https://sqs.us-east-1.amazonaws.com/123456789012/elsewhere' } },
    });
    const report = await fleet.cloud.clock.run(() => (fleet.runtime.inbox as NonNullable<SimFleet['runtime']['inbox']>).poll(20_000));
    expect(report.failed).to.match(/queue unreachable: The specified queue does not exist/);
  });

  it('a single cycle (reconcile --once) takes a backlog beyond one poll, and stops at a queue it cannot reach', async () => {
    const big = policy({ regions: SUBNETS, instanceTypes: TYPES, size: { min: 0, max: 100 } });
    const fleet = new SimFleet({
      policies: [big],
      config: { events: { queue: SIM_EVENTS_QUEUE_URL } },
      cloud: { events: true, market: { spotCapacity: 50, crunchesPerDay: 0 } },
    });
    const inbox = fleet.runtime.inbox as NonNullable<SimFleet['runtime']['inbox']>;
    fleet.publishDesired({ 'bld-linux64': 70 });
    await fleet.cycles(3);
    const depth = fleet.cloud.eventQueue.depth;
    // One poll gathers at most 100 messages before it writes the facts.
    expect(depth).to.be.above(100);
    const report = await fleet.cloud.clock.run(() => inbox.takeQueued());
    expect(report).to.include({ received: depth, warnings: 0 });
    expect(report.failed).to.equal(undefined);
    expect(report.tally).to.deep.equal([{ kind: 'state-change', result: 'handled', count: depth }]);
    expect(fleet.cloud.eventQueue.depth).to.equal(0);

    fleet.cloud.eventQueue.unreachable = true;
    const failed = await fleet.cloud.clock.run(() => inbox.takeQueued());
    expect(failed).to.include({ received: 0 });
    expect(failed.failed).to.match(/^queue unreachable/);
  });

  it('a read-only runtime (plan, dry run) leaves the queue alone', async () => {
    const fleet = new SimFleet({ policies: [bld()], config: { events: { queue: SIM_EVENTS_QUEUE_URL } }, cloud: { events: true } });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycles(1);
    const depth = fleet.cloud.eventQueue.depth;
    expect(depth).to.be.above(0);
    const readOnly = createRuntime({
      config: fleet.config,
      policies: fleet.policies,
      cloud: fleet.cloud,
      clock: fleet.cloud.clock,
      log: silentLogger(),
      random: () => 0.5,
      readOnly: true,
    });
    expect(await fleet.cloud.clock.run(() => (readOnly.inbox as NonNullable<typeof readOnly.inbox>).poll(20_000))).to.deep.equal({
      received: 0,
      tally: [],
      warnings: 0,
    });
    expect(fleet.cloud.eventQueue.depth).to.equal(depth);
  });
});
