// The rollout rule (src/policy/rollout.ts) and the plans it yields: canary room, bake gating, and the
// bound on workers that ever boot a new image: max(canary, guard.failures) per pool and region.

import { expect } from 'chai';
import fc from 'fast-check';
import type { LaunchAction, TerminateAction } from '../../src/domain/actions.js';
import { isReplacementCause } from '../../src/domain/causes.js';
import type { Snapshot } from '../../src/domain/snapshot.js';
import type { Instance, InstanceState, Subnet } from '../../src/domain/types.js';
import { isLive } from '../../src/domain/types.js';
import { applyGuard } from '../../src/plan/guard.js';
import { plan } from '../../src/plan/plan.js';
import { rolloutsOf } from '../../src/plan/rollouts.js';
import { ImageIndex } from '../../src/policy/images.js';
import { launchableImages, rememberedElsewhere, rolloutKey, rolloutOf } from '../../src/policy/rollout.js';
import { DEFAULT_PRICES, SUBNETS, T0, image, instance, policy, snapshot, spot } from '../support/builders.js';

const POOL = 'bld-linux64';
const EAST = 'us-east-1';
const WEST = 'us-west-2';
const launches = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');

const TWO_REGIONS_SUBNETS: Record<string, Subnet> = { ...SUBNETS, 'subnet-w': { id: 'subnet-w', region: WEST, az: 'us-west-2a' } };
const WEST_PRICES = [spot('us-west-2a', 'c5.xlarge', 0.05), spot('us-west-2a', 'm5.xlarge', 0.05)].map((p) => ({ ...p, region: WEST }));

function twoRegions(overrides: Record<string, unknown> = {}) {
  return policy({
    regions: { [EAST]: { subnets: ['subnet-a', 'subnet-b', 'subnet-c'] }, [WEST]: { subnets: ['subnet-w'] } },
    ...overrides,
  });
}

const proved = (region: string, ...amis: string[]) => Object.fromEntries(amis.map((ami) => [rolloutKey(POOL, region, ami), T0 - 3600_000]));

describe('rollout rule', () => {
  it('a pool that has proved nothing anywhere (a new fleet) launches the newest image: nothing to stage against', () => {
    const idx = new ImageIndex([image('ami-old', 48), image('ami-new', 2)], new Set());
    const r = rolloutOf({ policy: policy(), region: EAST, images: idx, established: {}, instances: [], pending: [], now: T0 });
    expect(r.phase).to.equal('current');
    expect(launchableImages(r).map((i) => i.id)).to.deep.equal(['ami-new']);
  });

  it('a region where the pool proved nothing yet, while it proved an image in another region, puts the newest on trial there against the one before it', () => {
    const images = [image('ami-e1', 48), image('ami-e2', 2), image('ami-w1', 48, POOL, WEST), image('ami-w2', 2, POOL, WEST)];
    const snap = snapshot({
      regions: [EAST, WEST],
      images,
      established: proved(EAST, 'ami-e1'),
      subnets: TWO_REGIONS_SUBNETS,
      spotPrices: [...DEFAULT_PRICES, ...WEST_PRICES],
    });
    const west = rolloutsOf(snap, [twoRegions()]).get(POOL)?.get(WEST);
    expect(west).to.deep.include({ phase: 'canary', canaryRoom: 1 });
    expect(west?.candidate?.id).to.equal('ami-w2');
    expect(west?.launchImage?.id).to.equal('ami-w1');
    // A scale-up into the empty region (the cheaper one): one canary of the new image, the rest on the previous.
    const p = plan({ ...snap, desired: { [POOL]: 5 } }, [twoRegions({ spread: '100%' })], 'releng');
    const amis = (region: string) =>
      launches(p)
        .filter((l) => l.region === region)
        .map((l) => l.ami)
        .sort();
    expect(amis(WEST)).to.deep.equal(['ami-w1', 'ami-w1', 'ami-w1', 'ami-w2']);
    // us-east-1 is empty too (dearer): the new image's canary there; the rest go to the cheaper region.
    expect(amis(EAST)).to.deep.equal(['ami-e2']);
  });

  it('a worker sees the same rule from the journal alone: a proof in another region makes the previous image launchable here too', () => {
    const images = [image('ami-e1', 48), image('ami-w1', 48, POOL, WEST), image('ami-w2', 2, POOL, WEST)];
    const idx = new ImageIndex(images, new Set());
    const established = proved(EAST, 'ami-e1');
    const worker = (facts: Record<string, number>) =>
      rolloutOf({
        policy: twoRegions(),
        region: WEST,
        images: idx,
        established: facts,
        instances: [],
        pending: [],
        now: T0,
        provedElsewhere: rememberedElsewhere(facts, POOL, WEST),
      });
    expect(launchableImages(worker(established)).map((i) => i.id)).to.deep.equal(['ami-w2', 'ami-w1']);
    expect(launchableImages(worker({})).map((i) => i.id)).to.deep.equal(['ami-w2']);
    expect(rememberedElsewhere(proved(WEST, 'ami-w1'), POOL, WEST)).to.equal(false);
  });

  it('a pool smaller than its canary count proves an image with every worker it has', () => {
    const idx = new ImageIndex([image('ami-old', 48), image('ami-new', 2)], new Set());
    const baked = instance({ ami: 'ami-new', launchTime: T0 - 3600_000 });
    const args = {
      policy: policy({ freshness: { canary: 3 } }),
      region: EAST,
      images: idx,
      established: proved(EAST, 'ami-old'),
      pending: [],
      now: T0,
    };
    // One worker, on the new image, baked: the canary phase is over (a target of 3 would never be met).
    const r = rolloutOf({ ...args, instances: [baked] });
    expect(r.phase).to.equal('current');
    expect(r.launchImage?.id).to.equal('ami-new');
    expect(r.established.map((i) => i.id)).to.deep.equal(['ami-new']);
    // Two workers, one on the old image: the new one still needs a second canary.
    expect(rolloutOf({ ...args, instances: [baked, instance({ ami: 'ami-old' })] })).to.deep.include({
      phase: 'canary',
      canaryTarget: 2,
      canaryRoom: 1,
    });
  });

  it('remembers the workers that booted an image on trial: those EC2 no longer lists still take canary room and count for the guard', () => {
    const images = [image('ami-old', 48), image('ami-new', 2)];
    const key = rolloutKey(POOL, EAST, 'ami-new');
    // Two canaries ended hours ago (EC2 lists them no more); a third just ended early, by itself.
    const third = instance({ ami: 'ami-new', state: 'terminated', launchTime: T0 - 3 * 60_000, endedAt: T0 - 60_000 });
    const snap = snapshot({
      images,
      instances: [third],
      established: proved(EAST, 'ami-old'),
      trials: { [key]: { booted: ['i-gone-1', 'i-gone-2'], failed: ['i-gone-1', 'i-gone-2'] } },
    });
    const r = rolloutsOf(snap, [policy()]).get(POOL)?.get(EAST);
    const all = ['i-gone-1', 'i-gone-2', third.id].sort();
    expect(r?.trial).to.deep.equal({ booted: all, failed: all });
    expect(r?.canaryRoom).to.equal(0);
    const { trips } = applyGuard(snap, [policy()]);
    expect(trips.map((t) => [t.ami, t.pool, t.region, t.trial, t.instances])).to.deep.equal([['ami-new', POOL, EAST, true, all]]);
    // The plan keeps the memory while the image is on trial, and forgets it once the image is proved.
    expect(plan({ ...snap, drained: new Set() }, [policy()], 'releng').trials[key]?.booted).to.have.length(3);
    expect(plan({ ...snap, established: proved(EAST, 'ami-old', 'ami-new') }, [policy()], 'releng').trials).to.deep.equal({});
    // Spot interruptions and fleet's own terminations are no failures, but they did boot the image.
    const interrupted = instance({
      ami: 'ami-new',
      state: 'terminated',
      launchTime: T0 - 3 * 60_000,
      endedAt: T0 - 60_000,
      endCause: 'spot-interruption',
    });
    const r2 = rolloutsOf(snapshot({ images, instances: [interrupted], established: proved(EAST, 'ami-old') }), [policy()])
      .get(POOL)
      ?.get(EAST);
    expect(r2?.trial).to.deep.equal({ booted: [interrupted.id], failed: [] });
  });

  it('after an undrain, ends on the image from before it no longer use up its canary room', () => {
    const images = [image('ami-old', 48), image('ami-new', 2)];
    const undrainedAt = T0 - 60_000;
    const ended = (minutesAgo: number) =>
      instance({ ami: 'ami-new', state: 'terminated', launchTime: T0 - (minutesAgo + 3) * 60_000, endedAt: T0 - minutesAgo * 60_000 });
    const old = [ended(5), ended(4), ended(3)];
    const args = {
      policy: policy(),
      region: EAST,
      images: new ImageIndex(images, new Set()),
      established: proved(EAST, 'ami-old'),
      pending: [],
      now: T0,
    };
    expect(rolloutOf({ ...args, instances: old }).canaryRoom, 'before the undrain they count').to.equal(0);
    expect(rolloutOf({ ...args, instances: old, undrainedAt: { 'ami-new': undrainedAt } }).canaryRoom).to.equal(1);
    // Ends after the undrain count again, up to the bound.
    const fresh = [ended(0.5), ended(0.2)];
    expect(rolloutOf({ ...args, instances: [...old, ...fresh], undrainedAt: { 'ami-new': undrainedAt } }).canaryRoom).to.equal(1);
    expect(rolloutOf({ ...args, instances: [...old, ...fresh, ended(0.1)], undrainedAt: { 'ami-new': undrainedAt } }).canaryRoom).to.equal(
      0,
    );
  });
});

// ---- properties ----

const STATES: InstanceState[] = ['pending', 'running', 'running', 'shutting-down', 'terminated'];

/** A pool on a proved image (ami-old) with a new image (ami-new) on trial, and random instances of both. */
const trialArb = fc.record({
  canary: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('10%', '25%', '50%')),
  failures: fc.integer({ min: 1, max: 5 }),
  bake: fc.integer({ min: 0, max: 3600 }),
  desired: fc.integer({ min: 0, max: 30 }),
  max: fc.integer({ min: 1, max: 40 }),
  old: fc.array(
    fc.record({ state: fc.constantFrom<InstanceState>('pending', 'running', 'running'), ageMinutes: fc.integer({ min: 0, max: 600 }) }),
    { maxLength: 25 },
  ),
  fresh: fc.array(fc.record({ state: fc.constantFrom(...STATES), ageMinutes: fc.integer({ min: 0, max: 120 }), replaces: fc.boolean() }), {
    maxLength: 8,
  }),
  established: fc.boolean(),
});
type Trial = typeof trialArb extends fc.Arbitrary<infer T> ? T : never;

function trial(t: Trial) {
  const p = policy({
    size: { min: 0, max: t.max },
    freshness: { canary: t.canary, bake: t.bake, grace: 0, retireBudget: '50%', guard: { window: 3600, failures: t.failures } },
  });
  const old = t.old.map((o) => instance({ ami: 'ami-old', state: o.state, launchTime: T0 - o.ageMinutes * 60_000 }));
  // A worker of the new image may have been launched to replace one of the old (each its own).
  const fresh = t.fresh.map((f, k) => {
    const ended = f.state === 'shutting-down' || f.state === 'terminated';
    const target = f.replaces ? old[k] : undefined;
    return instance({
      ami: 'ami-new',
      state: f.state,
      launchTime: T0 - f.ageMinutes * 60_000,
      ...(ended ? { endedAt: T0 - Math.floor(f.ageMinutes / 2) * 60_000 } : {}),
      ...(target && !ended ? { replaces: target.id } : {}),
    });
  });
  const snap = snapshot({
    desired: { [POOL]: t.desired },
    images: [image('ami-old', 48), image('ami-new', 1)],
    instances: [...old, ...fresh],
    established: proved(EAST, 'ami-old', ...(t.established ? ['ami-new'] : [])),
  });
  return { p, snap };
}

describe('rollout properties', () => {
  it('canary room: while a new image is on trial, a plan never puts more than `canary` live workers on it, nor lets more than max(canary, failures) ever boot it', () => {
    fc.assert(
      fc.property(trialArb, (t) => {
        const { p, snap } = trial(t);
        const r = rolloutsOf(snap, [p]).get(POOL)?.get(EAST);
        fc.pre(r?.candidate?.id === 'ami-new');
        const rollout = r;
        const onNew = launches(plan(snap, [p], 'releng')).filter((l) => l.ami === 'ami-new').length;
        const liveOnNew = snap.instances.filter((i) => i.ami === 'ami-new' && isLive(i)).length;
        const endedOnNew = snap.instances.filter((i) => i.ami === 'ami-new' && !isLive(i)).length;
        expect(onNew).to.be.at.most(rollout.canaryRoom);
        if (onNew > 0) {
          expect(liveOnNew + onNew).to.be.at.most(rollout.canaryTarget);
          expect(liveOnNew + endedOnNew + onNew).to.be.at.most(Math.max(rollout.canaryTarget, t.failures));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('bake gating: an instance leaves for its replacement only once that replacement has run `bake` seconds; a new image becomes every launch’s only once `canary` workers on it baked', () => {
    fc.assert(
      fc.property(trialArb, (t) => {
        const { p, snap } = trial({ ...t, established: false });
        const byId = new Map(snap.instances.map((i) => [i.id, i]));
        const replacementOf = new Map(snap.instances.filter((i) => i.replaces && isLive(i)).map((i) => [i.replaces as string, i]));
        const result = plan(snap, [p], 'releng');
        for (const term of terminations(result)) {
          // The end of a pair: the replaced instance leaves with its replacement's cause.
          if (!isReplacementCause(term.cause)) continue;
          const replacement = replacementOf.get(term.instanceId) as Instance;
          expect(replacement.state).to.equal('running');
          if (replacement.ami !== byId.get(term.instanceId)?.ami) expect(T0 - replacement.launchTime).to.be.at.least(t.bake * 1000);
        }
        const baked = snap.instances.filter(
          (i) => i.ami === 'ami-new' && i.state === 'running' && i.launchTime + t.bake * 1000 <= T0,
        ).length;
        const r = rolloutsOf(snap, [p]).get(POOL)?.get(EAST);
        const target = r?.canaryTarget ?? 1;
        const staged = !(t.canary === 0);
        if (staged && baked < target) {
          expect(r?.launchImage?.id, 'not proved: other launches stay on the proved image').to.equal('ami-old');
          expect(result.established[rolloutKey(POOL, EAST, 'ami-new')]).to.equal(undefined);
        } else expect(r?.launchImage?.id).to.equal('ami-new');
      }),
      { numRuns: 500 },
    );
  });

  it('the bound over many cycles: however demand moves, a broken image is booted by at most max(canary, failures) workers before the guard drains it, and never after', () => {
    const runArb = fc.record({
      canary: fc.integer({ min: 1, max: 5 }),
      failures: fc.integer({ min: 1, max: 5 }),
      startDemand: fc.integer({ min: 1, max: 12 }),
      demand: fc.array(fc.integer({ min: 0, max: 20 }), { minLength: 30, maxLength: 30 }),
      /** cycles a worker of the broken image runs before it dies */
      dies: fc.integer({ min: 1, max: 3 }),
      twoRegions: fc.boolean(),
    });
    fc.assert(
      fc.property(runArb, (r) => {
        const p = (r.twoRegions ? twoRegions : policy)({
          size: { min: 0, max: 25 },
          spread: '100%',
          freshness: { canary: r.canary, bake: 300, grace: 0, guard: { window: 3600, failures: r.failures } },
        });
        const world = new MiniWorld(p.pool, r.twoRegions);
        // Long enough for the first image to prove itself (bake 300 s): the rollout has something to fall back on.
        for (let k = 0; k < 8; k++) world.cycle(p, r.startDemand);
        world.publishBroken();
        for (const wanted of r.demand) world.cycle(p, wanted, r.dies);
        for (const region of world.regions) expect(world.booted(`ami-bad-${region}`), region).to.be.at.most(Math.max(r.canary, r.failures));
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * A tiny world for the bound: plan() and the guard each minute; launches run a minute later; workers of
 * the broken image die `dies` minutes after they run (by themselves, not by fleet). Good workers never die.
 */
class MiniWorld {
  readonly regions: string[];
  private readonly instances: Instance[] = [];
  private readonly images = [image('ami-old-us-east-1', 48), image('ami-old-us-west-2', 48, POOL, WEST)];
  private readonly drained = new Set<string>();
  private readonly terminated = new Set<string>();
  private established: Record<string, number> = {};
  private now = T0;
  private serial = 0;

  constructor(
    private readonly pool: string,
    twoRegions: boolean,
  ) {
    this.regions = twoRegions ? [EAST, WEST] : [EAST];
  }

  publishBroken(): void {
    for (const region of this.regions) this.images.push({ ...image(`ami-bad-${region}`, 0, this.pool, region), created: this.now });
  }

  booted(ami: string): number {
    return this.instances.filter((i) => i.ami === ami).length;
  }

  cycle(p: ReturnType<typeof policy>, wanted: number, dies = 1): void {
    this.advance(dies);
    const snap: Snapshot = snapshot({
      now: this.now,
      regions: this.regions,
      desired: { [this.pool]: wanted },
      images: this.images,
      drained: this.drained,
      instances: this.instances,
      subnets: TWO_REGIONS_SUBNETS,
      spotPrices: [...DEFAULT_PRICES, ...WEST_PRICES],
      terminatedByFleet: this.terminated,
      established: this.established,
    });
    const guarded = applyGuard(snap, [p]);
    for (const trip of guarded.trips) this.drained.add(trip.ami);
    const result = plan(guarded.snapshot, [p], 'releng');
    this.established = { ...result.established };
    for (const a of result.actions) {
      if (a.kind === 'terminate') {
        const i = this.instances.findIndex((x) => x.id === a.instanceId);
        this.instances[i] = { ...(this.instances[i] as Instance), state: 'terminated', endedAt: this.now };
        this.terminated.add(a.instanceId);
      } else if (a.kind === 'launch') {
        this.instances.push({
          id: `i-mini-${++this.serial}`,
          name: a.name,
          pool: a.pool,
          region: a.region,
          az: a.az,
          subnetId: a.subnetId,
          instanceType: a.instanceType,
          lifecycle: a.lifecycle,
          state: 'pending',
          ami: a.ami,
          launchTime: this.now,
          ...(a.replaces ? { replaces: a.replaces } : {}),
        });
      }
    }
    this.now += 60_000;
  }

  /** A minute passes: pending workers run; workers of a broken image die `dies` minutes after launch. */
  private advance(dies: number): void {
    for (const [n, i] of this.instances.entries()) {
      if (i.state === 'pending') this.instances[n] = { ...i, state: 'running' };
      else if (i.state === 'running' && i.ami.startsWith('ami-bad') && this.now - i.launchTime >= (dies + 1) * 60_000) {
        this.instances[n] = { ...i, state: 'terminated', endedAt: this.now };
      }
    }
  }
}
