// The planner's ledger around replacement pairs, drained images and room: each case here is one
// way a pool went wrong under chaos (double launches, an old worker retired with its replacement,
// replacements crowding one offer, a pool taken above size.max).

import { expect } from 'chai';
import type { LaunchAction, TerminateAction } from '../../../src/domain/actions.js';
import { isReplacementCause } from '../../../src/domain/causes.js';
import type { Instance } from '../../../src/domain/types.js';
import { plan } from '../../../src/plan/plan.js';
import { rolloutKey } from '../../../src/policy/rollout.js';
import { T0, image, instance, pendingLaunch, policy, snapshot } from '../../support/builders.js';

const launches = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');
const HOUR = 3600_000;

/** ami-old proved itself long ago; ami-new is the newest image, drained in some cases below. */
const IMAGES = [image('ami-old', 48), image('ami-new', 24)];

describe('plan: a replacement on a drained image closes its pair', () => {
  // A rollout replaced `target` (ami-old) with `replacement` (ami-new), then ami-new was drained.
  function rollout(extra: Instance[]) {
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const replacement = instance({ ami: 'ami-new', launchTime: T0 - 2 * HOUR, replaces: target.id });
    return { target, replacement, instances: [target, replacement, ...extra] };
  }

  it('the target is a worker again: no second launch for its slot', () => {
    const { target, replacement, instances } = rollout([instance({ ami: 'ami-old' })]);
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 2 }, images: IMAGES, drained: new Set(['ami-new']), instances }),
      [policy()],
      'releng',
    );
    // The drained replacement leaves; target and the other worker make the desired two.
    expect(terminations(p).map((t) => t.instanceId)).to.deep.equal([replacement.id]);
    expect(launches(p), 'nothing to launch: the pool is whole without the drained replacement').to.deep.equal([]);
    expect(p.pools[0]?.unmet).to.equal(0);
    expect(terminations(p).map((t) => t.instanceId)).not.to.include(target.id);
  });

  it('the target never retires "because its replacement runs" in the cycle the replacement is terminated', () => {
    // One worker more than desired (left to leave by itself): a pair still counted open would let the
    // running-capacity check pass.
    const { target, replacement, instances } = rollout([instance({ ami: 'ami-old' }), instance({ ami: 'ami-old' })]);
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 2 }, images: IMAGES, drained: new Set(['ami-new']), instances }),
      [policy({ scaleDown: 'none' })],
      'releng',
    );
    const gone = terminations(p);
    expect(gone.map((t) => t.instanceId)).to.deep.equal([replacement.id]);
    expect(
      gone.filter((t) => isReplacementCause(t.cause)),
      'no pair ends',
    ).to.deep.equal([]);
    expect(gone.map((t) => t.instanceId)).not.to.include(target.id);
  });

  it('a replacement still in flight (journaled, unseen) on a drained image closes its pair too', () => {
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const inFlight = pendingLaunch({ ami: 'ami-new', replaces: target.id });
    const p = plan(
      snapshot({
        desired: { 'bld-linux64': 2 },
        images: IMAGES,
        drained: new Set(['ami-new']),
        instances: [target, instance({ ami: 'ami-old' })],
        pendingLaunches: [inFlight],
      }),
      [policy()],
      'releng',
    );
    expect(launches(p)).to.deep.equal([]);
    expect(terminations(p)).to.deep.equal([]);
  });
});

describe('plan: unconfirmed launches of a drained image', () => {
  // One worker on ami-old, ami-new drained, two wanted, and one launch whose answer never came.
  const planWithUnconfirmed = (unconfirmed: ReturnType<typeof pendingLaunch>) =>
    plan(
      snapshot({
        desired: { 'bld-linux64': 2 },
        images: IMAGES,
        drained: new Set(['ami-new']),
        instances: [instance({ ami: 'ami-old', name: 'bld-linux64-spot-002' })],
        pendingLaunches: [unconfirmed],
      }),
      [policy()],
      'releng',
    );

  it('are never re-sent, stop counting (the shortfall goes to a launchable image at once), and keep their names', () => {
    const unconfirmed = pendingLaunch({ ami: 'ami-new', name: 'bld-linux64-spot-001', clientToken: 'fleet-lost' });
    const p = planWithUnconfirmed(unconfirmed);
    const l = launches(p);
    expect(
      l.filter((a) => a.resumes !== undefined),
      'no resend of a launch on a drained image',
    ).to.deep.equal([]);
    expect(l.map((a) => a.ami)).to.deep.equal(['ami-old']);
    // Its name stays reserved: the launch may still land and must not collide.
    expect(l.map((a) => a.name)).to.deep.equal(['bld-linux64-spot-003']);
  });

  it('an unconfirmed launch of a launchable image is still resumed by its token, and counts', () => {
    const unconfirmed = pendingLaunch({ ami: 'ami-old', name: 'bld-linux64-spot-001', clientToken: 'fleet-lost' });
    const p = planWithUnconfirmed(unconfirmed);
    expect(launches(p).map((a) => [a.name, a.resumes])).to.deep.equal([['bld-linux64-spot-001', 'fleet-lost']]);
  });
});

describe('plan: replacements respect spread', () => {
  it('outdated workers due for retirement are replaced across offers, never more than the cap in one', () => {
    // Four workers on ami-old, two each in 1a and 1c; ami-new established and its grace long past.
    const instances = [
      instance({ ami: 'ami-old', az: 'us-east-1a', subnetId: 'subnet-a' }),
      instance({ ami: 'ami-old', az: 'us-east-1a', subnetId: 'subnet-a' }),
      instance({ ami: 'ami-old', az: 'us-east-1c', subnetId: 'subnet-c' }),
      instance({ ami: 'ami-old', az: 'us-east-1c', subnetId: 'subnet-c' }),
    ];
    const p = plan(
      snapshot({
        desired: { 'bld-linux64': 4 },
        images: [image('ami-old', 48), image('ami-new', 24)],
        instances,
        established: { [rolloutKey('bld-linux64', 'us-east-1', 'ami-new')]: T0 - 20 * HOUR },
      }),
      [policy({ spread: '50%', instanceTypes: ['c5.xlarge'], freshness: { grace: 3600, retireBudget: 4 } })],
      'releng',
    );
    const l = launches(p);
    expect(l).to.have.length(4);
    for (const a of l) expect(a.replaces, a.reason).to.be.a('string');
    // Cap: 50% of 4. A pair counts once, where its replacement runs.
    const perOffer = new Map<string, number>();
    for (const a of l) perOffer.set(`${a.az} ${a.instanceType}`, (perOffer.get(`${a.az} ${a.instanceType}`) ?? 0) + 1);
    for (const [offer, n] of perOffer) expect(n, offer).to.be.at.most(2);
  });
});

describe('plan: a shrink leaves no offer crowded with outdated workers', () => {
  // Soak seed 121: five workers, four on ami-old within its grace (three in 1a, one in 1c) and a canary
  // on ami-new in 1c whose pair has closed; desired drops to four, spread 50% (two per offer).
  const oldIn1a = [
    instance({ ami: 'ami-old', az: 'us-east-1a', launchTime: T0 - 31 * 60_000 }),
    instance({ ami: 'ami-old', az: 'us-east-1a', launchTime: T0 - 25 * 60_000 }),
    instance({ ami: 'ami-old', az: 'us-east-1a', launchTime: T0 - 11 * 60_000 }),
  ];
  const oldIn1c = instance({ ami: 'ami-old', az: 'us-east-1c', subnetId: 'subnet-c', launchTime: T0 - 10 * 60_000 });
  const canary = instance({ ami: 'ami-new', az: 'us-east-1c', subnetId: 'subnet-c', launchTime: T0 - 13 * 60_000 });
  const snap = snapshot({
    desired: { 'bld-linux64': 4 },
    // ami-new proved itself minutes ago: ami-old's workers are outdated, their retirement not yet due.
    images: [image('ami-old', 48), image('ami-new', 0.25)],
    established: { [rolloutKey('bld-linux64', 'us-east-1', 'ami-new')]: T0 - 7 * 60_000 },
    instances: [...oldIn1a, oldIn1c, canary],
  });
  const p = plan(snap, [policy({ spread: '50%', instanceTypes: ['c5.xlarge'], freshness: { grace: 3600 } })], 'releng');

  it('the outdated worker that leaves is one crowding its offer, not the newest outdated one elsewhere', () => {
    const gone = terminations(p);
    expect(gone.map((t) => t.instanceId)).to.have.length(1);
    expect(oldIn1a.map((i) => i.id)).to.include(gone[0]?.instanceId);
    expect(gone[0]?.reason).to.match(/an outdated image leaves first, from us-east-1a c5.xlarge, which holds more than its share/);
  });

  it('nothing else moves: outdated workers wait for their retirement, which the spread then no longer needs', () => {
    expect(launches(p)).to.deep.equal([]);
    expect(p.pools[0]?.notes.join()).to.match(/on an outdated AMI; retirement due/);
  });
});

describe('plan: room counts everything that may land or is still there', () => {
  it('a scale-up while replacement pairs are open never takes the pool above size.max', () => {
    // Two pairs open (old worker + its pending replacement), one plain worker: 5 instances, 3 workers.
    const t1 = instance({ ami: 'ami-old' });
    const t2 = instance({ ami: 'ami-old' });
    const instances = [
      t1,
      t2,
      instance({ ami: 'ami-new', state: 'pending', launchTime: T0 - 60_000, replaces: t1.id }),
      instance({ ami: 'ami-new', state: 'pending', launchTime: T0 - 60_000, replaces: t2.id }),
      instance({ ami: 'ami-new' }),
    ];
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 5 }, images: IMAGES, instances }),
      [policy({ size: { min: 0, max: 5 } })],
      'releng',
    );
    expect(launches(p), 'at size.max: the scale-up waits for the pairs to close').to.deep.equal([]);
    expect(p.pools[0]?.notes.join('\n')).to.match(/at size\.max 5/);
    const wider = plan(
      snapshot({ desired: { 'bld-linux64': 5 }, images: IMAGES, instances }),
      [policy({ size: { min: 0, max: 6 } })],
      'releng',
    );
    expect(launches(wider)).to.have.length(1);
  });

  it('instances on a drained image take room until they are gone: the shortfall launch waits for it', () => {
    // At size.max, every worker on a drained image. Their terminations may fail (throttled): a
    // shortfall launched beside them could take the pool above its max.
    const instances = [instance({ ami: 'ami-new' }), instance({ ami: 'ami-new' }), instance({ ami: 'ami-new' })];
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 3 }, images: IMAGES, drained: new Set(['ami-new']), instances }),
      [policy({ size: { min: 0, max: 3 } })],
      'releng',
    );
    expect(terminations(p).length).to.be.greaterThan(0);
    expect(launches(p)).to.deep.equal([]);
    // With room, the shortfall goes to ami-old at once, within what room there is.
    const roomy = plan(
      snapshot({ desired: { 'bld-linux64': 3 }, images: IMAGES, drained: new Set(['ami-new']), instances }),
      [policy({ size: { min: 0, max: 5 } })],
      'releng',
    );
    expect(launches(roomy).map((a) => a.ami)).to.deep.equal(['ami-old', 'ami-old']);
  });
});

describe('plan: a replacement in flight counts against the budget of its cause', () => {
  // ami-new is established and the grace long past: every ami-old worker is due for retirement.
  // `moved` (ami-old) is being replaced on ami-new, `waiting` (ami-old) is not yet.
  function pool(cause: Instance['cause']) {
    const moved = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const replacement = instance({
      ami: 'ami-new',
      launchTime: T0 - 60_000,
      replaces: moved.id,
      ...(cause !== undefined ? { cause } : {}),
    });
    const waiting = instance({ ami: 'ami-old', launchTime: T0 - 9 * HOUR });
    const p = plan(
      snapshot({
        desired: { 'bld-linux64': 2 },
        instances: [moved, replacement, waiting],
        established: { [rolloutKey('bld-linux64', 'us-east-1', 'ami-new')]: T0 - 20 * HOUR },
      }),
      [policy({ freshness: { grace: 3600, retireBudget: 1 } })],
      'releng',
    );
    return { launches: launches(p), waiting };
  }

  it('a move EC2 recommended out of an at-risk offer is no retirement: the retire budget still replaces an outdated worker', () => {
    const { launches: l, waiting } = pool('recommendation');
    expect(l.map((a) => [a.cause, a.replaces])).to.deep.equal([['outdated', waiting.id]]);
  });

  it('an outdated replacement in flight uses the retire budget up', () => {
    expect(pool('outdated').launches).to.deep.equal([]);
  });

  it('a replacement launched before causes were recorded is told from what it replaces', () => {
    expect(pool(undefined).launches, 'a new image replacing an old one: a retirement').to.deep.equal([]);
  });
});

describe('plan: a replacement whose target runs a drained image', () => {
  // `target` runs ami-old, drained since its replacement went out; the drain budget is taken by a
  // drained worker still shutting down, so `target` waits. Its replacement is the one worker of the pair.
  function pool(replacementState: 'pending' | 'running') {
    const shuttingDown = instance({ ami: 'ami-old', state: 'shutting-down' });
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const replacement = instance({
      ami: 'ami-new',
      state: replacementState,
      launchTime: replacementState === 'pending' ? T0 - 60_000 : T0 - 2 * HOUR,
      replaces: target.id,
    });
    const others = [1, 2, 3, 4].map(() => instance({ ami: 'ami-new' }));
    const snap = snapshot({
      desired: { 'bld-linux64': 5 },
      images: IMAGES,
      drained: new Set(['ami-old']),
      instances: [shuttingDown, target, replacement, ...others],
      terminatedByFleet: new Set([shuttingDown.id]),
    });
    return { target, replacement, p: plan(snap, [policy({ freshness: { drainBudget: 1 } })], 'releng') };
  }

  it('counts the replacement as a worker: a pool serving desired launches nothing', () => {
    const { p } = pool('pending');
    expect(
      launches(p).map((a) => a.reason),
      'five serve: the replacement and four others',
    ).to.deep.equal([]);
    expect(terminations(p)).to.deep.equal([]);
    expect(p.pools[0]?.unmet).to.equal(0);
  });

  it('retires the drained target once its replacement runs, drain budget or not: it was no worker', () => {
    const { target, p } = pool('running');
    expect(terminations(p).map((t) => [t.instanceId, t.cause, t.ami])).to.deep.equal([[target.id, 'outdated', 'ami-old']]);
    expect(launches(p)).to.deep.equal([]);
  });
});

describe('plan: a pair the images changed under', () => {
  // The pair was opened to retire `target` for a newer image; the images changed since (an undrain,
  // a newer image drained): `target` now runs the current image, its replacement an outdated one.
  const IMAGES2 = [image('ami-old', 72), image('ami-new', 30)];
  const ESTABLISHED = { [rolloutKey('bld-linux64', 'us-east-1', 'ami-new')]: T0 - 20 * HOUR };
  function pool(desired: number) {
    const target = instance({ ami: 'ami-new', launchTime: T0 - 10 * HOUR });
    const replacement = instance({ ami: 'ami-old', launchTime: T0 - 2 * HOUR, replaces: target.id });
    const others = [instance({ ami: 'ami-new' }), instance({ ami: 'ami-new' })];
    const snap = snapshot({
      desired: { 'bld-linux64': desired },
      images: IMAGES2,
      established: ESTABLISHED,
      instances: [target, replacement, ...others],
    });
    return { target, replacement, p: plan(snap, [policy({ freshness: { bake: 0 } })], 'releng') };
  }

  it('is cancelled, not completed: its replacement on the outdated image leaves, the worker on the current image stays', () => {
    const { target, replacement, p } = pool(3);
    // The replacement (on ami-old) ends, as a surplus; its target (on ami-new) is not terminated.
    expect(terminations(p).map((t) => [t.instanceId, t.cause, t.ami])).to.deep.equal([[replacement.id, 'scale-down', 'ami-old']]);
    expect(replacement.replaces).to.equal(target.id);
    expect(launches(p), 'the pair was one worker: three serve without it').to.deep.equal([]);
  });

  it('while running capacity is short, the replacement stays too (still one worker), and the target never leaves', () => {
    const { p } = pool(4);
    expect(terminations(p)).to.deep.equal([]);
    expect(launches(p).map((a) => [a.cause, a.ami, a.replaces])).to.deep.equal([['scale-up', 'ami-new', undefined]]);
  });

  it('a replacement still unconfirmed on the outdated image keeps its target out of scale-down', () => {
    const target = instance({ ami: 'ami-new', state: 'pending', launchTime: T0 - 60_000 });
    const unconfirmed = pendingLaunch({ ami: 'ami-old', replaces: target.id, resendable: false });
    const snap = snapshot({
      desired: { 'bld-linux64': 1 },
      images: IMAGES2,
      established: ESTABLISHED,
      instances: [target],
      pendingLaunches: [unconfirmed],
    });
    const p = plan(snap, [policy({ scaleDown: 'terminate' })], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(launches(p)).to.deep.equal([]);
  });
});
