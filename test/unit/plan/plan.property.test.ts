import { expect } from 'chai';
import fc from 'fast-check';
import type { LaunchAction, TerminateAction } from '../../../src/domain/actions.js';
import type { Instance, InstanceState, Lifecycle } from '../../../src/domain/types.js';
import { holdsName, isLive, offerKey } from '../../../src/domain/types.js';
import { resolveBudget } from '../../../src/domain/policy.js';
import { desiredSize, plan } from '../../../src/plan/plan.js';
import { rolloutsOf } from '../../../src/plan/rollouts.js';
import { launchableImages } from '../../../src/policy/rollout.js';
import { T0, image, pendingLaunch, policy, snapshot } from '../../support/builders.js';

const states: InstanceState[] = ['pending', 'running', 'running', 'running', 'stopping', 'shutting-down', 'terminated'];
const zones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const subnetOf: Record<string, string> = { 'us-east-1a': 'subnet-a', 'us-east-1b': 'subnet-b', 'us-east-1c': 'subnet-c' };

const instanceArb = fc
  .record({
    slot: fc.integer({ min: 1, max: 40 }),
    state: fc.constantFrom(...states),
    lifecycle: fc.constantFrom<Lifecycle>('spot', 'spot', 'on-demand'),
    az: fc.constantFrom(...zones),
    instanceType: fc.constantFrom('c5.xlarge', 'm5.xlarge'),
    ami: fc.constantFrom('ami-old', 'ami-new', 'ami-gone'),
    ageMinutes: fc.integer({ min: 0, max: 600 }),
  })
  .map((r): Omit<Instance, 'id'> => ({
    name: `bld-linux64-spot-${String(r.slot).padStart(3, '0')}`,
    pool: 'bld-linux64',
    region: 'us-east-1',
    az: r.az,
    subnetId: subnetOf[r.az],
    instanceType: r.instanceType,
    lifecycle: r.lifecycle,
    state: r.state,
    ami: r.ami,
    launchTime: T0 - r.ageMinutes * 60_000,
  }));

const scenarioArb = fc.record({
  instances: fc.array(instanceArb, { maxLength: 30 }),
  pending: fc.array(
    fc.record({
      slot: fc.integer({ min: 41, max: 60 }),
      confirmed: fc.boolean(),
      lifecycle: fc.constantFrom<Lifecycle>('spot', 'on-demand'),
    }),
    { maxLength: 4 },
  ),
  desired: fc.integer({ min: 0, max: 60 }),
  min: fc.integer({ min: 0, max: 5 }),
  max: fc.integer({ min: 5, max: 50 }),
  scaleDown: fc.constantFrom('none', 'terminate'),
  onDemandMax: fc.integer({ min: 0, max: 10 }),
  spread: fc.constantFrom('100%', '50%', '25%', 3),
  fallbackAfter: fc.integer({ min: 0, max: 600 }),
  shortfallAgo: fc.option(fc.integer({ min: 0, max: 1200 }), { nil: undefined }),
  drainNew: fc.boolean(),
  unavailableZones: fc.subarray(zones),
  spotPricesKnown: fc.boolean(),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const p = policy({
    size: { min: s.min, max: s.max },
    scaleDown: s.scaleDown,
    onDemand: { max: s.onDemandMax },
    spread: s.spread,
    spot: { fallbackAfter: s.fallbackAfter },
  });
  const instances = s.instances.map((i, n) => ({ ...i, id: `i-${n}` }));
  const unavailable: Record<string, number> = {};
  for (const az of s.unavailableZones) {
    for (const lifecycle of ['spot', 'on-demand'] as const)
      unavailable[offerKey({ lifecycle, instanceType: 'c5.xlarge', az })] = T0 + 60_000;
  }
  const snap = snapshot({
    desired: { 'bld-linux64': s.desired },
    images: [image('ami-old', 48), image('ami-new', 24)],
    drained: new Set(s.drainNew ? ['ami-new'] : []),
    instances,
    pendingLaunches: s.pending.map((x) =>
      pendingLaunch({
        name: `bld-linux64-spot-${String(x.slot).padStart(3, '0')}`,
        lifecycle: x.lifecycle,
        ...(x.confirmed ? { instanceId: `i-p${x.slot}` } : {}),
      }),
    ),
    unavailable,
    timers: s.shortfallAgo === undefined ? {} : { 'bld-linux64': { shortfallSince: T0 - s.shortfallAgo * 1000 } },
    ...(s.spotPricesKnown ? {} : { spotPrices: [] }),
  });
  return { p, snap, result: plan(snap, [p], 'releng') };
}

describe('plan: properties', () => {
  it('never takes a pool above its max, and never grows it past desired except to replace on-demand', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, result } = build(s);
        // Room counts every launch that may land; capacity only those that are not on a drained image.
        const footprint = snap.instances.filter(isLive).length + snap.pendingLaunches.length;
        const capacity =
          snap.instances.filter((i) => isLive(i) && !snap.drained.has(i.ami)).length +
          snap.pendingLaunches.filter((x) => !snap.drained.has(x.ami)).length;
        const fresh = result.actions.filter((a): a is LaunchAction => a.kind === 'launch' && a.cause !== 'resume');
        const gone = result.actions.filter((a) => a.kind === 'terminate' && !snap.drained.has(a.ami)).length;
        if (fresh.length > 0) expect(footprint + fresh.length, 'above size.max even for a moment').to.be.at.most(p.size.max);
        const growth = fresh.filter((a) => a.replaces === undefined).length;
        if (growth > 0) expect(capacity - gone + growth).to.be.at.most(desiredSize(p, snap.desired ?? {}));
      }),
      { numRuns: 400 },
    );
  });

  it('a full pool of on-demand workers is never grown to replace them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 0, max: 5 }), (max, spotCount) => {
        const odCount = Math.max(1, max - spotCount);
        const instances: Instance[] = Array.from({ length: odCount + Math.min(spotCount, max - odCount) }, (_, n) => ({
          id: `i-${n}`,
          name: `bld-linux64-spot-${String(n + 1).padStart(3, '0')}`,
          pool: 'bld-linux64',
          region: 'us-east-1',
          az: 'us-east-1a',
          subnetId: 'subnet-a',
          instanceType: 'c5.xlarge',
          lifecycle: n < odCount ? 'on-demand' : 'spot',
          state: 'running',
          ami: 'ami-new',
          launchTime: T0 - 3600_000,
        }));
        const p = policy({ size: { min: 0, max }, onDemand: { max, replaceBudget: '50%' } });
        const result = plan(snapshot({ desired: { 'bld-linux64': max }, instances }), [p], 'releng');
        expect(result.actions.filter((a) => a.kind === 'launch')).to.have.length(0);
      }),
    );
  });

  it('gives every new launch a name no live or pending instance holds, and no two the same', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { snap, result } = build(s);
        const held = new Set([...snap.instances.filter(holdsName).map((i) => i.name), ...snap.pendingLaunches.map((x) => x.name)]);
        const names = result.actions.filter((a): a is LaunchAction => a.kind === 'launch' && a.cause !== 'resume').map((a) => a.name);
        expect(new Set(names).size).to.equal(names.length);
        for (const n of names) expect(held.has(n), n).to.equal(false);
      }),
      { numRuns: 400 },
    );
  });

  it('launches only the current AMI, never a drained one, never into an offer kept out', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { snap, result } = build(s);
        const rollout = rolloutsOf(snap, [policy()]).get('bld-linux64')?.get('us-east-1');
        const launchable = rollout ? launchableImages(rollout).map((i) => i.id) : [];
        for (const a of result.actions) {
          if (a.kind !== 'launch' || a.cause === 'resume') continue;
          expect(snap.drained.has(a.ami)).to.equal(false);
          expect(launchable).to.include(a.ami);
          const until = snap.unavailable[offerKey(a)];
          expect(until === undefined || until <= snap.now).to.equal(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('terminates only live instances of the pool; besides drained AMIs, at most the surplus, keeping running capacity at desired', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, result } = build(s);
        const terms = result.actions.filter((a): a is TerminateAction => a.kind === 'terminate');
        const live = snap.instances.filter(isLive);
        const liveIds = new Set(live.map((i) => i.id));
        expect(new Set(terms.map((t) => t.instanceId)).size).to.equal(terms.length);
        for (const t of terms) expect(liveIds.has(t.instanceId)).to.equal(true);
        // A drained AMI's instances leave within the drain budget, whatever the capacity; any
        // further one may still go as ordinary surplus.
        const drained = terms.filter((t) => t.cause === 'drain');
        for (const t of drained) expect(snap.drained.has(t.ami)).to.equal(true);
        expect(drained.length).to.be.at.most(resolveBudget(p.freshness.drainBudget, live.length + snap.pendingLaunches.length));
        const others = terms.filter((t) => t.cause !== 'drain');
        if (p.scaleDown === 'none') expect(others).to.have.length(0);
        const desired = desiredSize(p, snap.desired ?? {});
        expect(others.length).to.be.at.most(Math.max(0, live.length + snap.pendingLaunches.length - drained.length - desired));
        const drainedIds = new Set(drained.map((t) => t.instanceId));
        const running = live.filter((i) => i.state === 'running' && !drainedIds.has(i.id));
        const runningGone = others.filter((t) => running.some((i) => i.id === t.instanceId)).length;
        expect(running.length - runningGone).to.be.at.least(Math.min(desired, running.length));
      }),
      { numRuns: 400 },
    );
  });

  it('keeps on-demand within its limit and launches it only after fallbackAfter', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, result } = build(s);
        const odLaunches = result.actions.filter((a) => a.kind === 'launch' && a.lifecycle === 'on-demand' && a.cause !== 'resume').length;
        if (odLaunches === 0) return;
        const odLive =
          snap.instances.filter((i) => isLive(i) && i.lifecycle === 'on-demand').length +
          snap.pendingLaunches.filter((x) => x.lifecycle === 'on-demand').length;
        const odGone = result.actions.filter((a) => a.kind === 'terminate' && a.lifecycle === 'on-demand').length;
        expect(odLive - odGone + odLaunches).to.be.at.most(p.onDemand.max);
        const since = snap.timers['bld-linux64']?.shortfallSince ?? snap.now;
        expect(snap.now - since).to.be.at.least(p.spot.fallbackAfter * 1000);
      }),
      { numRuns: 400 },
    );
  });

  it('is a pure function: the same snapshot gives the same plan', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, result } = build(s);
        expect(plan(snap, [p], 'releng')).to.deep.equal(result);
      }),
      { numRuns: 100 },
    );
  });
});
