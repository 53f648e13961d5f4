// Properties of one pool's plan where the chaos soak found trouble: replacement pairs (open, closed
// by a drained replacement, targets gone), drained images with replacements in flight, resumed
// launches (resendable or not, on drained images or not), spread caps. The rules are restated here
// from the specification, not taken from the planner's own ledger.

import { expect } from 'chai';
import fc from 'fast-check';
import type { LaunchAction, TerminateAction } from '../../../src/domain/actions.js';
import { isReplacementCause } from '../../../src/domain/causes.js';
import { resolveBudget } from '../../../src/domain/policy.js';
import type { PendingLaunch, Snapshot } from '../../../src/domain/snapshot.js';
import type { Instance, InstanceState, Lifecycle } from '../../../src/domain/types.js';
import { holdsName, isLive } from '../../../src/domain/types.js';
import { desiredSize, plan } from '../../../src/plan/plan.js';
import { rolloutKey } from '../../../src/policy/rollout.js';
import { T0, image, policy, snapshot } from '../../support/builders.js';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
const SUBNET: Record<string, string> = { 'us-east-1a': 'subnet-a', 'us-east-1b': 'subnet-b', 'us-east-1c': 'subnet-c' };
const AMIS = ['ami-old', 'ami-new', 'ami-newest', 'ami-gone'];
const STATES: InstanceState[] = ['pending', 'running', 'running', 'running', 'shutting-down', 'terminated', 'stopped'];
const MINUTE = 60_000;

const placeArb = fc.record({
  az: fc.constantFrom(...ZONES),
  instanceType: fc.constantFrom('c5.xlarge', 'm5.xlarge'),
  lifecycle: fc.constantFrom<Lifecycle>('spot', 'spot', 'on-demand'),
  ami: fc.constantFrom(...AMIS),
  /** index of the instance it replaces (may be missing or ended: a target gone), or none */
  replaces: fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined, freq: 2 }),
});

const scenarioArb = fc.record({
  instances: fc.array(fc.record({ place: placeArb, state: fc.constantFrom(...STATES), ageMinutes: fc.integer({ min: 0, max: 3000 }) }), {
    maxLength: 20,
  }),
  pending: fc.array(fc.record({ place: placeArb, resendable: fc.boolean(), confirmed: fc.boolean() }), { maxLength: 5 }),
  /** undefined: exactly the pool's workers (a whole pool, where replacements happen) */
  desired: fc.option(fc.integer({ min: 0, max: 24 }), { nil: undefined }),
  max: fc.integer({ min: 1, max: 24 }),
  scaleDown: fc.constantFrom('none', 'terminate'),
  spread: fc.constantFrom<string | number>('auto', '100%', '50%', '34%', 1, 2),
  drained: fc.subarray(['ami-old', 'ami-new', 'ami-newest']),
  established: fc.subarray(['ami-old', 'ami-new', 'ami-newest']),
  canary: fc.constantFrom<string | number>(0, 1, 2, '50%'),
  bake: fc.constantFrom(0, 600, 3600),
  grace: fc.constantFrom(0, 3600, 86_400),
  retireBudget: fc.constantFrom<string | number>(1, 2, '25%'),
  drainBudget: fc.constantFrom<string | number>(1, 2, '50%'),
  replaceBudget: fc.constantFrom<string | number>(1, '50%'),
  rebalanceBudget: fc.constantFrom<string | number>(0, 1, '10%'),
  onDemandMax: fc.integer({ min: 0, max: 6 }),
  shortfallAgo: fc.option(fc.integer({ min: 0, max: 1200 }), { nil: undefined }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario) {
  const p = policy({
    size: { min: 0, max: s.max },
    scaleDown: s.scaleDown,
    spread: s.spread,
    onDemand: { max: s.onDemandMax, replaceBudget: s.replaceBudget },
    rebalance: { budget: s.rebalanceBudget },
    spot: { fallbackAfter: 300 },
    freshness: { canary: s.canary, bake: s.bake, grace: s.grace, retireBudget: s.retireBudget, drainBudget: s.drainBudget },
  });
  // A replacement is launched after its target: an instance replaces one listed before it (or one gone).
  const target = (n: number | undefined, self: number) => (n === undefined ? {} : { replaces: n >= self ? 'i-gone' : `i-${n}` });
  const instances: Instance[] = s.instances.map((i, n) => ({
    id: `i-${n}`,
    name: `bld-linux64-spot-${String(n + 1).padStart(3, '0')}`,
    pool: 'bld-linux64',
    region: 'us-east-1',
    az: i.place.az,
    subnetId: SUBNET[i.place.az] as string,
    instanceType: i.place.instanceType,
    lifecycle: i.place.lifecycle,
    state: i.state,
    ami: i.place.ami,
    launchTime: T0 - i.ageMinutes * MINUTE,
    ...target(i.place.replaces, n),
  }));
  const pending: PendingLaunch[] = s.pending.map((x, n) => ({
    clientToken: `fleet-token-${n}`,
    pool: 'bld-linux64',
    region: 'us-east-1',
    az: x.place.az,
    subnetId: SUBNET[x.place.az] as string,
    instanceType: x.place.instanceType,
    lifecycle: x.place.lifecycle,
    ami: x.place.ami,
    // Right next to the lowest free names, so a name not kept reserved would be handed out again.
    name: `bld-linux64-spot-${String(s.instances.length + 1 + 2 * n).padStart(3, '0')}`,
    requestedAt: T0 - 30_000,
    resendable: x.resendable,
    ...(x.confirmed ? { instanceId: `i-unseen-${n}` } : {}),
    ...target(x.place.replaces, Number.POSITIVE_INFINITY),
  }));
  const base = snapshot({
    desired: { 'bld-linux64': s.desired ?? 0 },
    images: [image('ami-old', 72), image('ami-new', 30), image('ami-newest', 2)],
    drained: new Set(s.drained),
    established: Object.fromEntries(s.established.map((ami) => [rolloutKey('bld-linux64', 'us-east-1', ami), T0 - 3600_000])),
    instances,
    pendingLaunches: pending,
    timers: s.shortfallAgo === undefined ? {} : { 'bld-linux64': { shortfallSince: T0 - s.shortfallAgo * 1000 } },
  });
  const snap = s.desired === undefined ? { ...base, desired: { 'bld-linux64': facts(base).workers } } : base;
  const result = plan(snap, [p], 'releng');
  const launches = result.actions.filter((a): a is LaunchAction => a.kind === 'launch');
  return {
    p,
    snap,
    result,
    fresh: launches.filter((a) => a.resumes === undefined),
    resumes: launches.filter((a) => a.resumes !== undefined),
    terminations: result.actions.filter((a): a is TerminateAction => a.kind === 'terminate'),
  };
}

/** The pool as the specification counts it, before this plan: who occupies it, who is a worker. */
function facts(snap: Snapshot) {
  const live = snap.instances.filter(isLive);
  const liveIds = new Set(live.map((i) => i.id));
  const counts = (x: { ami: string }) => !snap.drained.has(x.ami);
  // A pair is open while its target is live and its replacement counts (a drained one closes it).
  const replacements = [...live, ...snap.pendingLaunches].filter((r) => r.replaces !== undefined && counts(r) && liveIds.has(r.replaces));
  const targets = new Set(replacements.map((r) => r.replaces as string));
  // A pair is one worker: its target is counted once too many only when it counts (a drained one does not).
  const countingTargets = live.filter((i) => targets.has(i.id) && counts(i)).length;
  const workers = live.filter(counts).length + snap.pendingLaunches.filter(counts).length - countingTargets;
  return { live, liveIds, counts, replacements, targets, workers, footprint: live.length + snap.pendingLaunches.length };
}

const RUNS = { numRuns: 600 };

describe('plan: properties of pairs, drains, resumes and spread', () => {
  it('never above size.max, counting everything that may land (drained launches and leaving instances too)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, fresh } = build(s);
        if (fresh.length > 0) expect(facts(snap).footprint + fresh.length).to.be.at.most(p.size.max);
      }),
      RUNS,
    );
  });

  it('never launches, nor re-sends, from a drained image; re-sends only unanswered resendable launches', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { snap, fresh, resumes } = build(s);
        for (const a of [...fresh, ...resumes]) expect(snap.drained.has(a.ami), `${a.name} on ${a.ami}`).to.equal(false);
        for (const a of resumes) {
          const sent = snap.pendingLaunches.filter((x) => x.clientToken === a.resumes && x.name === a.name);
          expect(sent, a.name).to.have.length(1);
          expect(sent[0]?.resendable).to.equal(true);
          expect(sent[0]?.instanceId).to.equal(undefined);
        }
      }),
      RUNS,
    );
  });

  it('grows the pool only to desired; beyond that only by replacement pairs, within the budgets', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, fresh } = build(s);
        const { workers, footprint } = facts(snap);
        const desired = desiredSize(p, snap.desired ?? {});
        const growth = fresh.filter((a) => a.replaces === undefined).length;
        expect(growth).to.be.at.most(Math.max(0, desired - workers));
        // Canaries are counted per region against the pool's live size (the rollout's own rule).
        const pairBudget =
          resolveBudget(p.freshness.retireBudget, desired) +
          resolveBudget(p.onDemand.replaceBudget, desired) +
          resolveBudget(p.rebalance.budget, desired) +
          Math.max(1, resolveBudget(p.freshness.canary, footprint));
        expect(fresh.length - growth).to.be.at.most(pairBudget);
      }),
      RUNS,
    );
  });

  it('a replaced instance never leaves while its replacement is not running (a drained image aside), nor for a drained replacement', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, terminations } = build(s);
        const { replacements } = facts(snap);
        const gone = new Set(terminations.map((t) => t.instanceId));
        for (const t of terminations) {
          if (t.cause === 'drain') continue;
          const mine = replacements.filter((r) => r.replaces === t.instanceId);
          const proved = mine.filter(
            (r) => 'state' in r && r.state === 'running' && (r.ami === t.ami || T0 - r.launchTime >= p.freshness.bake * 1000),
          );
          // A replacement that itself leaves in this plan (replaced in turn, or scaled down) frees its target.
          const staying = mine.filter((r) => !('id' in r && gone.has(r.id)));
          if (staying.length > 0) expect(proved.length, `${t.instanceId}: ${t.reason}`).to.be.greaterThan(0);
          if (isReplacementCause(t.cause)) expect(proved.length, `${t.instanceId}: ${t.reason}`).to.be.greaterThan(0);
        }
      }),
      RUNS,
    );
  });

  it('gives new launches names nobody holds (launches that may still land included), each once', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { snap, fresh } = build(s);
        const held = new Set([...snap.instances.filter(holdsName).map((i) => i.name), ...snap.pendingLaunches.map((x) => x.name)]);
        const names = fresh.map((a) => a.name);
        expect(new Set(names).size).to.equal(names.length);
        for (const n of names) expect(held.has(n), n).to.equal(false);
      }),
      RUNS,
    );
  });

  it('places no new launch into an offer past the spread cap (a pair counts once, where its replacement is)', () => {
    fc.assert(
      fc.property(scenarioArb, (s) => {
        const { p, snap, fresh, terminations } = build(s);
        // `auto` counts only the offers priced near the best one: a rule of placement, not restated here.
        if (p.spread.auto) return;
        const { live, counts } = facts(snap);
        const desired = desiredSize(p, snap.desired ?? {});
        // The policy's count or share, never below an even split of the pool over the spot offers
        // there are (three zones × two types, every one priced here).
        const offers = new Set(snap.spotPrices.map((x) => `${x.az} ${x.instanceType}`)).size;
        const share = p.spread.kind === 'count' ? p.spread.value : Math.ceil((p.spread.value / 100) * desired);
        const cap = Math.max(1, share, Math.ceil(desired / offers));
        const gone = new Set(terminations.map((t) => t.instanceId));
        const staying = [...live.filter((i) => !gone.has(i.id)), ...snap.pendingLaunches].filter(counts);
        const stayingIds = new Set(staying.flatMap((m) => ('id' in m ? [m.id] : [])));
        const targets = new Set(
          [...staying, ...fresh].flatMap((r) => (r.replaces !== undefined && stayingIds.has(r.replaces) ? [r.replaces] : [])),
        );
        const key = (o: { az: string; instanceType: string }) => `${o.az} ${o.instanceType}`;
        const occupancy = new Map<string, number>();
        for (const m of [...staying.filter((m) => !('id' in m) || !targets.has(m.id)), ...fresh])
          occupancy.set(key(m), (occupancy.get(key(m)) ?? 0) + 1);
        for (const offer of new Set(fresh.map(key))) expect(occupancy.get(offer), `${offer}, cap ${cap}`).to.be.at.most(cap);
      }),
      RUNS,
    );
  });
});
