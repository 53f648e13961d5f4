// Staged rollouts on the simulated cloud (SPEC §3 freshness.canary/bake, §5 Rollout), judged from the
// cloud's own view: the world's instances and events and the drain marks as stored, never fleet's
// reports. A broken image is one whose workers shut down 90 s after they boot (the simulator's bad bake).

import { expect } from 'chai';
import { recordDrains } from '../../src/service/drains.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import { policy } from '../support/builders.js';
import { RolloutJudge } from '../support/rollout-judge.js';
import { SimFleet } from '../support/sim-fleet.js';

const POOL = 'bld-linux64';
const EAST = { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: [] };
const WEST = { subnets: ['subnet-2a', 'subnet-2b'], securityGroups: [] };
const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };
const INTERVAL_MS = 60_000;

interface Staging {
  readonly canary?: number;
  readonly failures?: number;
  readonly bake?: number;
  readonly grace?: number;
  readonly retireBudget?: number;
  readonly window?: number;
}

function bld(s: Staging = {}, regions: Record<string, unknown> = { 'us-east-1': EAST }) {
  return policy({
    regions,
    instanceTypes: ['c5.xlarge', 'm5.xlarge'],
    freshness: {
      grace: s.grace ?? 600,
      retireBudget: s.retireBudget ?? 2,
      canary: s.canary ?? 1,
      bake: s.bake ?? 300,
      guard: { window: s.window ?? 600, failures: s.failures ?? 3 },
    },
  });
}

/** A fleet whose pool runs `desired` workers on an image that has proved itself (its bake is over). */
async function establishedFleet(s: Staging, desired: number) {
  const fleet = new SimFleet({ policies: [bld(s)], cloud: QUIET });
  let wanted = desired;
  fleet.publishDesired({ [POOL]: desired });
  const judge = new RolloutJudge(fleet, POOL, () => wanted);
  // Long enough for every worker to run past the bake: the image is proved in the journal.
  await judge.until(
    () =>
      judge.running().length === desired &&
      fleet.cloud.clock.now() - Math.max(...judge.running().map((i) => i.launchTime)) > (s.bake ?? 300) * 1000,
    40,
  );
  const previous = judge.live()[0]?.ami as string;
  const setDesired = (n: number) => {
    wanted = n;
    fleet.publishDesired({ [POOL]: n });
  };
  return { fleet, judge, previous, setDesired };
}

/** A new nightly image in every region of the fleet, published now; broken ones fail at boot. */
function publishImage(fleet: SimFleet, broken: boolean): Record<string, string> {
  const amis: Record<string, string> = {};
  for (const region of fleet.config.regions) {
    const ami = fleet.bakeImage(POOL, region, fleet.cloud.clock.now());
    const image = fleet.cloud.world.images.get(ami);
    if (image) image.broken = broken;
    amis[region] = ami;
  }
  fleet.publishManifest();
  return amis;
}

const bound = (s: Staging) => Math.max(s.canary ?? 1, s.failures ?? 3);

/** The replacement fleet launched for `target` (tag fleet:replaces). */
function replacementsOf(judge: RolloutJudge, target: string): SimInstance[] {
  return judge.everyInstance().filter((i) => i.tags['fleet:replaces'] === target);
}

describe('scenario: staged rollouts', () => {
  describe('a broken nightly image', () => {
    for (const s of [
      { canary: 1, failures: 3 },
      { canary: 2, failures: 3 },
      { canary: 4, failures: 2 },
    ] as const) {
      it(`never boots more than max(canary, guard.failures) = ${bound(s)} workers on it (canary ${s.canary}, failures ${s.failures}), never costs running capacity, and the pool is back on the previous image within 3 cycles of the trip`, async () => {
        const { fleet, judge, previous } = await establishedFleet(s, 8);
        const broken = publishImage(fleet, true)['us-east-1'] as string;
        const tripCycle = await judge.until(() => judge.drainedAmis().includes(broken), 40);
        expect(judge.marks()[broken]).to.include({ by: 'guard' });
        await judge.until(() => judge.live(broken).length === 0 && judge.running(previous).length === 8, 3);
        expect(judge.booted(broken)).to.be.within(1, bound(s));
        expect(judge.live().every((i) => i.ami === previous)).to.equal(true);
        expect(judge.capacityFindings).to.deep.equal([]);
        // Fleet retired no worker of the previous image at any point: the canaries never proved themselves.
        expect(judge.terminations().filter((e) => e.instance.ami === previous)).to.deep.equal([]);
        expect(tripCycle).to.be.greaterThan(0);
      });
    }

    it('while it is on trial, a scale-up launches on the previous image, and the bound holds', async () => {
      const s = { canary: 1, failures: 3 };
      const { fleet, judge, previous, setDesired } = await establishedFleet(s, 4);
      const broken = publishImage(fleet, true)['us-east-1'] as string;
      await judge.cycle();
      setDesired(9);
      await judge.until(() => judge.drainedAmis().includes(broken), 40);
      await judge.until(() => judge.running(previous).length === 9, 3);
      expect(judge.booted(broken)).to.be.within(1, bound(s));
      expect(judge.live().every((i) => i.ami === previous)).to.equal(true);
      expect(judge.capacityFindings).to.deep.equal([]);
    });

    it('counts every worker that booted it while on trial, even once EC2 no longer lists it: sporadic canaries an hour apart stay within the bound', async () => {
      const s = { canary: 1, failures: 3 };
      const fleet = new SimFleet({
        policies: [
          policy({
            regions: { 'us-east-1': EAST },
            instanceTypes: ['c5.xlarge'],
            scaleDown: 'none',
            freshness: { canary: 1, bake: 300, guard: { window: 600, failures: 3 } },
          }),
        ],
        cloud: QUIET,
      });
      let wanted = 2;
      const judge = new RolloutJudge(fleet, POOL, () => wanted);
      fleet.publishDesired({ [POOL]: 2 });
      await judge.until(
        () => judge.running().length === 2 && fleet.cloud.clock.now() - Math.max(...judge.running().map((i) => i.launchTime)) > 400_000,
        30,
      );
      // The pool empties (its workers leave by themselves), then a broken image is published.
      wanted = 0;
      fleet.publishDesired({ [POOL]: 0 });
      for (const i of judge.live()) fleet.cloud.world.endInstance(i, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
      await judge.cycle();
      const broken = publishImage(fleet, true)['us-east-1'] as string;
      // Now and then one job comes, its worker leaves soon after; each time an hour and more apart.
      for (let episode = 0; episode < 5; episode++) {
        wanted = 1;
        fleet.publishDesired({ [POOL]: 1 });
        await judge.cycle();
        wanted = 0;
        fleet.publishDesired({ [POOL]: 0 });
        for (let k = 0; k < 75; k++) await judge.cycle();
        for (const i of judge.live()) fleet.cloud.world.endInstance(i, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
      }
      expect(judge.booted(broken)).to.be.within(1, bound(s));
      // Its failures came more than the guard's window apart; on trial, every one of them counts.
      expect(judge.marks()[broken]).to.include({ by: 'guard' });
      expect(judge.lastTrip(broken)?.trial).to.equal(true);
    });

    it('in a region the pool has never used, a spill of new workers gets canaries only, the rest on the previous image', async () => {
      const s = { canary: 1, failures: 3 };
      const regions = { 'us-east-1': EAST, 'us-west-2': WEST };
      const { fleet, judge, setDesired } = await establishedFleetInEast(s, 4, regions);
      const amis = publishImage(fleet, true);
      // us-east-1 can hold no more spot workers of these types: the next ones go west, where nothing ran yet.
      for (const az of fleet.cloud.world.azs('us-east-1')) {
        for (const type of ['c5.xlarge', 'm5.xlarge'])
          fleet.cloud.world.market.setCapacity(az, type, 'spot', fleet.cloud.world.usage(az, type, 'spot'));
      }
      await judge.cycle();
      setDesired(10);
      for (let k = 0; k < 30; k++) await judge.cycle();
      for (const region of ['us-east-1', 'us-west-2']) expect(judge.booted(amis[region] as string, region), region).to.be.at.most(bound(s));
      expect(judge.drainedAmis()).to.include(amis['us-west-2']);
      expect(judge.running().filter((i) => i.region === 'us-west-2')).to.have.length(6);
      expect(judge.capacityFindings).to.deep.equal([]);
    });
  });

  describe('a good image', () => {
    it('goes to canaries first (other launches on the trusted image meanwhile), then turns the pool over within grace + bake + a few cycles per retire-budget step, never below desired', async () => {
      const s = { canary: 1, bake: 300, grace: 600, retireBudget: 2 };
      const { fleet, judge, previous, setDesired } = await establishedFleet(s, 6);
      const published = fleet.cloud.clock.now();
      const fresh = publishImage(fleet, false)['us-east-1'] as string;
      await judge.cycle();
      setDesired(8);
      let lowestLive = Number.POSITIVE_INFINITY;
      const done = () => {
        lowestLive = Math.min(lowestLive, judge.live().length);
        return judge.live().every((i) => i.ami === fresh) && judge.running(fresh).length === 8;
      };
      const cycles = await judge.until(done, 80);
      const took = fleet.cloud.clock.now() - published;
      // Canaries first: before the first one had run `bake` seconds, only `canary` workers booted the image.
      const onFresh = judge.everyInstance(fresh).sort((a, b) => a.launchTime - b.launchTime);
      const provenAt = (onFresh[0] as SimInstance).launchTime + s.bake * 1000;
      expect(onFresh.filter((i) => i.launchTime < provenAt)).to.have.length(s.canary);
      // Meanwhile the scale-up went to the trusted image.
      const meanwhile = judge.everyInstance().filter((i) => i.launchTime >= published && i.launchTime < provenAt && i.ami !== fresh);
      expect(meanwhile.map((i) => i.ami)).to.deep.equal([previous, previous]);
      // Each outdated worker left only once its replacement had run `bake` seconds.
      const retired = judge.terminations().filter((e) => e.instance.ami === previous);
      expect(retired.length).to.be.at.least(8);
      for (const { t, instance } of retired) {
        const ready = replacementsOf(judge, instance.id).filter(
          (r) => r.ami === fresh && r.launchTime + s.bake * 1000 <= t && r.runningAt <= t && (r.endedAt ?? Infinity) > t,
        );
        expect(ready, `${instance.id} retired at ${new Date(t).toISOString()}`).to.have.length(1);
      }
      // Turnover: grace, then ceil(8 / retireBudget) steps of a bake and a few cycles each.
      const steps = Math.ceil(8 / s.retireBudget);
      expect(took).to.be.at.most((s.grace + s.bake) * 1000 + steps * (s.bake * 1000 + 3 * INTERVAL_MS));
      expect(lowestLive).to.be.at.least(6);
      expect(judge.capacityFindings).to.deep.equal([]);
      expect(cycles).to.be.greaterThan(0);
    });

    it('a replacement that dies early frees its target for another try and counts for the guard', async () => {
      const s = { canary: 1, failures: 2, bake: 300 };
      const { fleet, judge, previous } = await establishedFleet(s, 4);
      const fresh = publishImage(fleet, false)['us-east-1'] as string;
      const killed: SimInstance[] = [];
      const killCanary = async () => {
        await judge.until(() => judge.running(fresh).length > 0, 5);
        const canary = judge.running(fresh)[0] as SimInstance;
        // Someone else ends it before its bake is over (a worker that found something wrong).
        fleet.cloud.world.endInstance(canary, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
        killed.push(canary);
        return canary;
      };
      const first = await killCanary();
      const target = first.tags['fleet:replaces'] as string;
      expect(judge.live().map((i) => i.id)).to.include(target);
      await judge.until(() => judge.live(fresh).length > 0, 3);
      // Another try for a worker of the previous image (the same target, or another).
      const retry = judge.live(fresh)[0] as SimInstance;
      expect(judge.live(previous).map((i) => i.id)).to.include(retry.tags['fleet:replaces']);
      expect(judge.running(previous)).to.have.length(4);
      // A second early end: `failures` is 2, so the guard drains the image.
      await killCanary();
      await judge.until(() => judge.drainedAmis().includes(fresh), 3);
      expect(judge.marks()[fresh]).to.include({ by: 'guard' });
      expect(judge.lastTrip(fresh)?.instances).to.include(first.id);
      await judge.until(() => judge.running(previous).length === 4 && judge.live(fresh).length === 0, 3);
      expect(judge.capacityFindings).to.deep.equal([]);
    });

    it('after fleet undrain the guard counts only new ends: old failures trip nothing, new canaries launch', async () => {
      const s = { canary: 1, failures: 3, bake: 300, window: 900 };
      const { fleet, judge, previous } = await establishedFleet(s, 4);
      const image = publishImage(fleet, true)['us-east-1'] as string;
      await judge.until(() => judge.drainedAmis().includes(image), 40);
      const bootedBefore = judge.booted(image);
      // The operator finds the fault was elsewhere (the image is fine after all) and undrains it while
      // its failures are still within the guard's window and still listed by EC2.
      const world = fleet.cloud.world.images.get(image);
      if (world) world.broken = false;
      await recordDrains(fleet.runtime.state, [{ ami: image, reason: '', by: 'operator' }], fleet.cloud.clock.now(), true);
      await judge.until(() => judge.booted(image) > bootedBefore, 3);
      await judge.until(() => judge.live().every((i) => i.ami === image) && judge.running(image).length === 4, 60);
      expect(judge.drainedAmis()).to.deep.equal([]);
      expect(judge.capacityFindings).to.deep.equal([]);
      expect(judge.terminations().filter((e) => e.instance.ami === previous).length).to.be.at.least(4);
    });

    it('after fleet undrain a still broken image trips the guard again on new ends only, within the bound again', async () => {
      const s = { canary: 1, failures: 3, bake: 300, window: 900 };
      const { fleet, judge, previous } = await establishedFleet(s, 4);
      const image = publishImage(fleet, true)['us-east-1'] as string;
      await judge.until(() => judge.drainedAmis().includes(image), 40);
      const bootedBefore = judge.booted(image);
      await recordDrains(fleet.runtime.state, [{ ami: image, reason: '', by: 'operator' }], fleet.cloud.clock.now(), true);
      const undrainedAt = fleet.cloud.clock.now();
      await judge.cycle();
      expect(judge.drainedAmis(), 'the old failures trip nothing').to.deep.equal([]);
      await judge.until(() => judge.drainedAmis().includes(image), 40);
      const newlyBooted = judge.booted(image) - bootedBefore;
      expect(newlyBooted).to.be.within(1, bound(s));
      const tripped = judge.lastTrip(image)?.instances ?? [];
      const after = new Set(
        judge
          .everyInstance(image)
          .filter((i) => i.launchTime >= undrainedAt)
          .map((i) => i.id),
      );
      expect(tripped.length).to.equal(s.failures);
      expect(
        tripped.every((id) => after.has(id)),
        'only ends after the undrain',
      ).to.equal(true);
      await judge.until(() => judge.running(previous).length === 4 && judge.live(image).length === 0, 3);
      expect(judge.capacityFindings).to.deep.equal([]);
    });
  });
});

/** A two-region pool whose workers all run in us-east-1 (us-west-2's spot dearer), on an image proved there. */
async function establishedFleetInEast(s: Staging, desired: number, regions: Record<string, unknown>) {
  const config = { regions: ['us-east-1', 'us-west-2'] };
  const fleet = new SimFleet({ policies: [bld(s, regions)], cloud: QUIET, config });
  const market = fleet.cloud.world.market;
  const t = fleet.cloud.clock.now();
  for (const az of fleet.cloud.world.azs('us-east-1'))
    for (const type of ['c5.xlarge', 'm5.xlarge']) market.setSpotPrice('us-east-1', az, type, 'Linux/UNIX', 0.05, t);
  for (const az of fleet.cloud.world.azs('us-west-2'))
    for (const type of ['c5.xlarge', 'm5.xlarge']) market.setSpotPrice('us-west-2', az, type, 'Linux/UNIX', 0.09, t);
  let wanted = desired;
  fleet.publishDesired({ [POOL]: desired });
  const judge = new RolloutJudge(fleet, POOL, () => wanted);
  await judge.until(
    () =>
      judge.running().length === desired &&
      fleet.cloud.clock.now() - Math.max(...judge.running().map((i) => i.launchTime)) > (s.bake ?? 300) * 1000,
    40,
  );
  expect(
    judge.live().every((i) => i.region === 'us-east-1'),
    'all in us-east-1 before the rollout',
  ).to.equal(true);
  const setDesired = (n: number) => {
    wanted = n;
    fleet.publishDesired({ [POOL]: n });
  };
  return { fleet, judge, previous: judge.live()[0]?.ami as string, setDesired };
}
