import { expect } from 'chai';
import type { LaunchAction, TerminateAction } from '../../src/domain/actions.js';
import { applyGuard } from '../../src/plan/guard.js';
import { plan } from '../../src/plan/plan.js';
import { retirementDueAt } from '../../src/policy/freshness.js';
import { rolloutKey } from '../../src/policy/rollout.js';
import { T0, image, instance, pendingLaunch, policy, snapshot } from '../support/builders.js';

const launches = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');
const HOUR = 3600_000;

/** The current image appeared `hoursAgo`; the old one long before. */
function images(hoursAgo: number) {
  return [image('ami-old', 100), image('ami-new', hoursAgo)];
}

/** The journal's memory that these images proved themselves (their canaries baked). */
function established(...amis: string[]): Record<string, number> {
  return Object.fromEntries(amis.map((ami) => [rolloutKey('bld-linux64', 'us-east-1', ami), T0 - 3600_000]));
}

/** A snapshot where ami-new has already proved itself: turnover, not a canary, is the subject. */
function proven(overrides: Parameters<typeof snapshot>[0]) {
  return snapshot({ established: established('ami-new'), ...overrides });
}

describe('freshness: retiring instances on outdated AMIs', () => {
  it('outdated instances are due once the image they should run has been out for the grace period', () => {
    expect(retirementDueAt(T0, 10800)).to.equal(T0 + 10800_000);
  });

  it('does nothing before the grace period', () => {
    const old = [instance({ ami: 'ami-old' }), instance({ ami: 'ami-old' })];
    const p = plan(proven({ desired: { 'bld-linux64': 2 }, images: images(2), instances: old }), [policy()], 'releng');
    expect(p.actions).to.deep.equal([]);
    expect(p.pools[0]?.notes.join()).to.match(/2 on an outdated AMI; retirement due/);
    expect(p.pools[0]?.outdated).to.equal(2);
  });

  it('launches a replacement first, from the current AMI, within the retire budget', () => {
    const old = Array.from({ length: 10 }, () => instance({ ami: 'ami-old' }));
    const p = plan(proven({ desired: { 'bld-linux64': 10 }, images: images(48), instances: old }), [policy()], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    const l = launches(p);
    expect(l).to.have.length(1); // 10% of 10
    expect(l[0]).to.include({ ami: 'ami-new', lifecycle: 'spot' });
    expect(old.map((i) => i.id)).to.include(l[0]?.replaces);
    expect(l[0]?.cause).to.equal('outdated');
  });

  it('retires the replaced instance only once its replacement has run for bake seconds, then starts the next pair', () => {
    const old = Array.from({ length: 4 }, () => instance({ ami: 'ami-old' }));
    const target = old[0] as (typeof old)[number];
    const pending = instance({ ami: 'ami-new', state: 'pending', replaces: target.id, cause: 'outdated', launchTime: T0 - 30_000 });
    const budget1 = [policy({ freshness: { retireBudget: 1, bake: 600 } })];
    const waiting = plan(proven({ desired: { 'bld-linux64': 4 }, images: images(48), instances: [...old, pending] }), budget1, 'releng');
    expect(waiting.actions).to.deep.equal([]); // one pair in flight: the budget is used
    const young = { ...pending, state: 'running' as const };
    const baking = plan(proven({ desired: { 'bld-linux64': 4 }, images: images(48), instances: [...old, young] }), budget1, 'releng');
    expect(baking.actions).to.deep.equal([]); // running, but not for 600 s yet: the old one stays
    const running = { ...young, launchTime: T0 - 600_000 };
    const next = plan(proven({ desired: { 'bld-linux64': 4 }, images: images(48), instances: [...old, running] }), budget1, 'releng');
    expect(terminations(next).map((t) => t.instanceId)).to.deep.equal([target.id]);
    expect(terminations(next)[0]?.cause).to.equal('outdated');
    expect(launches(next)).to.have.length(1);
    expect(launches(next)[0]?.replaces).to.not.equal(target.id);
  });

  it('a replacement still being launched counts as in flight', () => {
    const old = [instance({ ami: 'ami-old' }), instance({ ami: 'ami-old' })];
    const inFlight = pendingLaunch({ replaces: old[0]?.id, ami: 'ami-new' });
    const p = plan(
      proven({ desired: { 'bld-linux64': 2 }, images: images(48), instances: old, pendingLaunches: [inFlight] }),
      [policy({ freshness: { retireBudget: 1 } })],
      'releng',
    );
    expect(p.actions.filter((a) => a.kind === 'terminate' || a.cause !== 'resume')).to.deep.equal([]);
  });

  it('never replaces above the pool max, and never on a pool that is short', () => {
    const full = Array.from({ length: 3 }, () => instance({ ami: 'ami-old' }));
    expect(
      plan(proven({ desired: { 'bld-linux64': 3 }, images: images(48), instances: full }), [policy({ size: { min: 0, max: 3 } })], 'releng')
        .actions,
    ).to.deep.equal([]);
    const short = plan(proven({ desired: { 'bld-linux64': 5 }, images: images(48), instances: full }), [policy()], 'releng');
    expect(launches(short).every((a) => a.replaces === undefined)).to.equal(true);
    expect(launches(short)).to.have.length(2);
  });

  it('scale-down leaves replacement pairs alone', () => {
    const old = instance({ ami: 'ami-old', lifecycle: 'on-demand' });
    const replacement = instance({ ami: 'ami-new', state: 'pending', replaces: old.id });
    const other = instance({ ami: 'ami-new' });
    const p = plan(
      proven({ desired: { 'bld-linux64': 1 }, images: images(48), instances: [old, replacement, other] }),
      [policy()],
      'releng',
    );
    // One worker too many (the pair counts once): the unpaired one goes, not the pair.
    expect(terminations(p).map((t) => t.instanceId)).to.deep.equal([other.id]);
  });

  it('never retires instances whose AMI the manifest does not know (unknown status)', () => {
    const foreign = [instance({ ami: 'ami-zzz', region: 'us-east-1' })];
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 1 }, images: [image('ami-tst', 100, 'tst-linux64')], instances: foreign }),
      [policy()],
      'releng',
    );
    expect(p.actions).to.deep.equal([]);
  });
});

describe('freshness: drained AMIs', () => {
  it("retires a drained AMI's instances first, within the drain budget, even below desired, and launches from the current image at once", () => {
    const onDrained = Array.from({ length: 4 }, () => instance({ ami: 'ami-new' }));
    const s = snapshot({ desired: { 'bld-linux64': 4 }, images: images(1), drained: new Set(['ami-new']), instances: onDrained });
    const p = plan(s, [policy()], 'releng');
    expect(terminations(p)).to.have.length(2); // 50% of 4
    for (const t of terminations(p)) expect(t.cause).to.equal('drain');
    // Nothing on a drained image counts as capacity: all four are launched again now (room allowing).
    const l = launches(p);
    expect(l).to.have.length(4);
    for (const a of l) expect(a.ami).to.equal('ami-old');
    expect(p.pools[0]?.notes.join()).to.match(/2 more on drained AMIs wait for the drain budget/);
  });

  it('drains in none-mode pools too', () => {
    const s = snapshot({
      desired: { 'bld-linux64': 1 },
      images: images(1),
      drained: new Set(['ami-new']),
      instances: [instance({ ami: 'ami-new' })],
    });
    expect(terminations(plan(s, [policy({ scaleDown: 'none' })], 'releng'))).to.have.length(1);
  });
});

describe('freshness: the launch guard', () => {
  const ended = (overrides: Parameters<typeof instance>[0] = {}) =>
    instance({
      ami: 'ami-new',
      state: 'terminated',
      endCause: 'instance-initiated',
      launchTime: T0 - 10 * 60_000,
      endedAt: T0 - 5 * 60_000,
      ...overrides,
    });

  it('drains the current AMI when enough of its instances end soon after launch', () => {
    const s = snapshot({ images: images(1), instances: [ended(), ended(), ended()] });
    const { snapshot: guarded, trips } = applyGuard(s, [policy()]);
    expect(trips).to.have.length(1);
    expect(trips[0]).to.include({ ami: 'ami-new', pool: 'bld-linux64', region: 'us-east-1', failures: 3, trial: false });
    expect(guarded.drained.has('ami-new')).to.equal(true);
    // Planning on the guarded snapshot launches from the previous image.
    const p = plan({ ...guarded, desired: { 'bld-linux64': 1 } }, [policy()], 'releng');
    expect(launches(p)[0]?.ami).to.equal('ami-old');
  });

  it("ends the instances of an image the guard drained with cause guard, an operator's drain with cause drain", () => {
    const s = snapshot({
      images: images(1),
      desired: { 'bld-linux64': 2 },
      instances: [ended(), ended(), ended(), instance({ ami: 'ami-new' })],
    });
    const { snapshot: guarded } = applyGuard(s, [policy()]);
    expect(terminations(plan(guarded, [policy()], 'releng')).map((t) => t.cause)).to.deep.equal(['guard']);
    // A later cycle reads the guard's mark from the state store.
    const marked = snapshot({
      images: images(1),
      desired: { 'bld-linux64': 1 },
      drained: new Set(['ami-new']),
      guardDrained: new Set(['ami-new']),
      instances: [instance({ ami: 'ami-new' })],
    });
    expect(terminations(plan(marked, [policy()], 'releng')).map((t) => t.cause)).to.deep.equal(['guard']);
    expect(terminations(plan({ ...marked, guardDrained: new Set() }, [policy()], 'releng')).map((t) => t.cause)).to.deep.equal(['drain']);
  });

  it('ignores spot interruptions, fleet’s own terminations, late failures and other images', () => {
    const survivors = [
      ended({ endCause: 'spot-interruption' }),
      ended({ id: 'i-by-fleet' }),
      ended({ endedAt: T0, launchTime: T0 - 2 * HOUR }),
      ended({ ami: 'ami-old' }),
      ended(),
      ended(),
    ];
    const s = snapshot({ images: images(1), instances: survivors, terminatedByFleet: new Set(['i-by-fleet']) });
    expect(applyGuard(s, [policy()]).trips).to.deep.equal([]);
    expect(applyGuard(s, [policy({ freshness: { guard: { failures: 2 } } })]).trips).to.have.length(1);
  });

  it('counts operator terminations and stopped instances (anything but fleet)', () => {
    const s = snapshot({
      images: images(1),
      instances: [ended({ endCause: 'user' }), ended({ state: 'stopped', endCause: 'other' }), ended({ endCause: 'other' })],
    });
    expect(applyGuard(s, [policy()]).trips).to.have.length(1);
  });
});
