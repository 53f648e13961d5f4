// Work on the workers (SPEC §5): a worker the CI reports busy is asked to leave (`retire`), never
// terminated before its deadline, except on a drained image; idle workers go first.

import { expect } from 'chai';
import type { Action, LaunchAction, RetireAction, TerminateAction } from '../../../src/domain/actions.js';
import type { Instance } from '../../../src/domain/types.js';
import { plan } from '../../../src/plan/plan.js';
import { T0, image, instance, policy, snapshot, spot } from '../../support/builders.js';

const HOUR = 3600_000;
const launches = (p: { actions: readonly Action[] }) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: { actions: readonly Action[] }) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');
const retirements = (p: { actions: readonly Action[] }) => p.actions.filter((a): a is RetireAction => a.kind === 'retire');
const ids = (as: readonly { instanceId: string }[]) => as.map((a) => a.instanceId);

/** A snapshot whose desired document reports `busy` (slot names) for the pool. */
function withBusy(
  desired: number,
  instances: Instance[],
  busy: readonly Instance[] | undefined,
  extra: Parameters<typeof snapshot>[0] = {},
) {
  return snapshot({
    desired: { 'bld-linux64': desired },
    instances,
    ...(busy ? { demand: { 'bld-linux64': { desired, busy: busy.map((i) => i.name) } } } : {}),
    ...extra,
  });
}

describe('plan: busy workers are asked to leave, idle ones are terminated', () => {
  it('scale-down asks a busy worker to leave by now + stopTimeout instead of terminating it', () => {
    const busy = instance();
    const p = plan(withBusy(0, [busy], [busy]), [policy({ stopTimeout: 1800 })], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(retirements(p)).to.have.length(1);
    expect(retirements(p)[0]).to.deep.include({
      instanceId: busy.id,
      pool: busy.pool,
      ami: busy.ami,
      cause: 'scale-down',
      deadline: T0 + 1800_000,
    });
  });

  it('an idle worker is terminated at once, and idle ones leave before busy ones', () => {
    const busyCheap = instance({ az: 'us-east-1b' });
    const idleDear = instance({ az: 'us-east-1c' });
    const busyOnDemand = instance({ lifecycle: 'on-demand' });
    const idle = instance({ az: 'us-east-1b' });
    const p = plan(withBusy(2, [busyCheap, idleDear, busyOnDemand, idle], [busyCheap, busyOnDemand]), [policy({ spread: 10 })], 'releng');
    expect(ids(terminations(p)).sort()).to.deep.equal([idleDear.id, idle.id].sort());
    expect(retirements(p)).to.deep.equal([]);
  });

  it('with no busy list in the document every worker counts as idle (on-demand first, as before)', () => {
    const a = instance({ az: 'us-east-1b' });
    const od = instance({ lifecycle: 'on-demand' });
    const p = plan(withBusy(1, [a, od], undefined), [policy({ spread: 10 })], 'releng');
    expect(ids(terminations(p))).to.deep.equal([od.id]);
    expect(retirements(p)).to.deep.equal([]);
  });

  it('a drained image ends at once, busy or not', () => {
    const busy = instance({ ami: 'ami-old' });
    const p = plan(withBusy(1, [busy, instance()], [busy], { drained: new Set(['ami-old']) }), [policy()], 'releng');
    expect(ids(terminations(p))).to.deep.equal([busy.id]);
    expect(terminations(p)[0]?.cause).to.equal('drain');
    expect(retirements(p)).to.deep.equal([]);
  });
});

describe('plan: workers already asked to leave', () => {
  const asked = (overrides: Partial<Instance> = {}) => instance({ retireAt: T0 + 600_000, retireCause: 'rebalance', ...overrides });

  it('one still busy is waited for: no action, and it no longer counts (its place is launched)', () => {
    const w = asked();
    const p = plan(withBusy(1, [w], [w]), [policy()], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(retirements(p)).to.deep.equal([]);
    expect(launches(p)).to.have.length(1);
    expect(p.pools[0]?.notes.join()).to.match(/1 asked to leave finish their jobs/);
  });

  it('one the CI no longer reports busy is terminated, with the cause it was asked for', () => {
    const w = asked();
    const p = plan(withBusy(1, [w, instance()], []), [policy()], 'releng');
    expect(terminations(p).map((t) => [t.instanceId, t.cause, t.retireEnd])).to.deep.equal([[w.id, 'rebalance', 'not-busy']]);
  });

  it('one still busy at its deadline is terminated', () => {
    const w = asked({ retireAt: T0 - 1000 });
    const p = plan(withBusy(1, [w, instance()], [w]), [policy()], 'releng');
    expect(terminations(p).map((t) => [t.instanceId, t.cause, t.retireEnd])).to.deep.equal([[w.id, 'rebalance', 'deadline']]);
  });

  it('is never un-asked: a pool short of workers still does not count it', () => {
    const w = asked();
    const p = plan(withBusy(3, [w], [w]), [policy()], 'releng');
    expect(launches(p)).to.have.length(3);
    expect(retirements(p)).to.deep.equal([]);
  });
});

describe('plan: replacements of busy workers', () => {
  it('a replaced worker that is busy once its replacement runs is asked to leave', () => {
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const replacement = instance({ replaces: target.id, cause: 'outdated', launchTime: T0 - HOUR });
    const p = plan(withBusy(1, [target, replacement], [target]), [policy()], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(ids(retirements(p))).to.deep.equal([target.id]);
    expect(retirements(p)[0]?.cause).to.equal('outdated');
  });

  it('outdated replacements take idle workers first', () => {
    const old = (h: number) => instance({ ami: 'ami-old', launchTime: T0 - h * HOUR });
    const busyOldest = old(30);
    const idle = old(20);
    const p = plan(
      withBusy(2, [busyOldest, idle], [busyOldest], { images: [image('ami-old', 48), image('ami-new', 30)] }),
      [policy({ freshness: { retireBudget: 1, grace: 0 } })],
      'releng',
    );
    expect(launches(p).map((l) => l.replaces)).to.deep.equal([idle.id]);
  });

  it('a worker asked to leave for a replacement holds its budget until it is gone', () => {
    const waiting = instance({ ami: 'ami-old', retireAt: T0 + 600_000, retireCause: 'outdated' });
    const other = instance({ ami: 'ami-old' });
    const p = plan(
      withBusy(2, [waiting, other, instance()], [waiting], { images: [image('ami-old', 48), image('ami-new', 30)] }),
      [policy({ freshness: { retireBudget: 1, grace: 0 } })],
      'releng',
    );
    expect(launches(p).filter((l) => l.cause === 'outdated')).to.deep.equal([]);
  });

  it('a worker asked to leave in this very cycle holds its budget already (soak seed 3)', () => {
    const images = { images: [image('ami-old', 48), image('ami-new', 30)] };
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const replacement = instance({ replaces: target.id, cause: 'outdated', launchTime: T0 - HOUR });
    // Busy too: an idle one would stand in for the target instead (below).
    const other = instance({ ami: 'ami-old', launchTime: T0 - 9 * HOUR });
    const p = plan(
      withBusy(2, [target, replacement, other], [target, other], images),
      [policy({ freshness: { retireBudget: 1, grace: 0 } })],
      'releng',
    );
    expect(ids(retirements(p))).to.deep.equal([target.id]);
    expect(launches(p).filter((l) => l.cause === 'outdated')).to.deep.equal([]);
  });
});

describe('plan: an idle worker stands in for a busy pair target', () => {
  const images = { images: [image('ami-old', 48), image('ami-new', 30)] };
  const turnover = policy({ freshness: { retireBudget: 1, grace: 0 } });
  /** An outdated worker and its replacement, ready an hour ago, for its image (the replacement where `at` says). */
  const outdatedPair = (at: Partial<Instance> = {}) => {
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    return { target, replacement: instance({ replaces: target.id, cause: 'outdated', launchTime: T0 - HOUR, ...at }) };
  };

  it('an idle outdated worker leaves in its place; the busy one finishes its job, in no pair', () => {
    const { target, replacement } = outdatedPair();
    const idle = instance({ ami: 'ami-old', launchTime: T0 - 9 * HOUR });
    const p = plan(withBusy(2, [target, replacement, idle], [target], images), [turnover], 'releng');
    expect(retirements(p)).to.deep.equal([]);
    expect(ids(terminations(p))).to.deep.equal([idle.id]);
    expect(terminations(p)[0]).to.deep.include({
      cause: 'outdated',
      standsInFor: { replacement: replacement.id, replacementName: replacement.name, cause: 'outdated', busy: target.id },
    });
    expect(terminations(p)[0]?.reason).to.contain(`in place of ${target.id}`);
    // The pair closes with the idle worker: the budget is free, and the busy one gets a pair of its own.
    expect(launches(p).map((l) => [l.cause, l.replaces])).to.deep.equal([['outdated', target.id]]);
  });

  it('once the pair is re-pointed, the next cycle sees the busy worker unpaired and the pool whole', () => {
    const target = instance({ ami: 'ami-old', launchTime: T0 - 10 * HOUR });
    const replacement = instance({ replaces: 'i-gone', cause: 'outdated', launchTime: T0 - HOUR });
    const p = plan(withBusy(2, [target, replacement], [target], images), [turnover], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(launches(p).map((l) => [l.cause, l.replaces])).to.deep.equal([['outdated', target.id]]);
  });

  it("takes the target's own offer first, and never a busy worker or one on the current image", () => {
    const { target, replacement } = outdatedPair();
    const elsewhere = instance({ ami: 'ami-old', az: 'us-east-1c', subnetId: 'subnet-c', launchTime: T0 - 20 * HOUR });
    const sameOffer = instance({ ami: 'ami-old', launchTime: T0 - 5 * HOUR });
    const busyToo = instance({ ami: 'ami-old', launchTime: T0 - 30 * HOUR });
    const current = instance({ launchTime: T0 - 40 * HOUR });
    const all = [target, replacement, elsewhere, sameOffer, busyToo, current];
    const p = plan(withBusy(5, all, [target, busyToo], images), [turnover], 'releng');
    expect(ids(terminations(p))).to.deep.equal([sameOffer.id]);
    const noIdleOutdated = plan(withBusy(3, [target, replacement, busyToo, current], [target, busyToo], images), [turnover], 'releng');
    expect(terminations(noIdleOutdated)).to.deep.equal([]);
    expect(ids(retirements(noIdleOutdated))).to.deep.equal([target.id]);
  });

  it("takes one of another offer only while the target's offer has room under the spread cap", () => {
    const { target, replacement } = outdatedPair({ az: 'us-east-1b', subnetId: 'subnet-b' });
    const idleElsewhere = instance({ ami: 'ami-old', az: 'us-east-1c', subnetId: 'subnet-c', launchTime: T0 - 9 * HOUR });
    const oneEach = policy({ spread: 1, freshness: { retireBudget: 1, grace: 0 } });
    const room = plan(withBusy(2, [target, replacement, idleElsewhere], [target], images), [oneEach], 'releng');
    expect(ids(terminations(room))).to.deep.equal([idleElsewhere.id]);
    // Another worker already holds the target's offer: the busy one staying there would crowd it.
    const neighbour = instance({ launchTime: T0 - 2 * HOUR });
    const full = plan(withBusy(3, [target, replacement, idleElsewhere, neighbour], [target], images), [oneEach], 'releng');
    expect(terminations(full)).to.deep.equal([]);
    expect(ids(retirements(full))).to.deep.equal([target.id]);
  });

  it('never takes running capacity below desired', () => {
    const { target, replacement } = outdatedPair();
    const idle = instance({ ami: 'ami-old', launchTime: T0 - 9 * HOUR });
    const p = plan(withBusy(3, [target, replacement, idle], [target], images), [turnover], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(retirements(p)).to.deep.equal([]);
  });

  it('a move stands in only a worker of the same offer and image', () => {
    const dear = { az: 'us-east-1a', subnetId: 'subnet-a' };
    const target = instance({ ...dear, launchTime: T0 - 10 * HOUR });
    const replacement = instance({
      az: 'us-east-1b',
      subnetId: 'subnet-b',
      replaces: target.id,
      cause: 'rebalance',
      launchTime: T0 - HOUR,
    });
    const otherOffer = instance({ az: 'us-east-1c', subnetId: 'subnet-c' });
    const alike = instance({ ...dear });
    const c5 = policy({ instanceTypes: ['c5.xlarge'] });
    const withAlike = plan(withBusy(3, [target, replacement, otherOffer, alike], [target]), [c5], 'releng');
    expect(ids(terminations(withAlike))).to.deep.equal([alike.id]);
    const without = plan(withBusy(2, [target, replacement, otherOffer], [target]), [c5], 'releng');
    expect(terminations(without)).to.deep.equal([]);
    expect(ids(retirements(without))).to.deep.equal([target.id]);
  });

  it('none stands in for a worker replaced for its own sake (its lifetime)', () => {
    const target = instance({ launchTime: T0 - 30 * HOUR });
    const replacement = instance({ replaces: target.id, cause: 'lifetime', launchTime: T0 - HOUR });
    const idle = instance({ launchTime: T0 - 2 * HOUR });
    const p = plan(withBusy(2, [target, replacement, idle], [target]), [policy({ maxLifetime: 24 * 3600 })], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    expect(ids(retirements(p))).to.deep.equal([target.id]);
  });
});

describe('plan: moves that only save money skip busy workers', () => {
  const cheapIn1b = [spot('us-east-1a', 'c5.xlarge', 0.1), spot('us-east-1b', 'c5.xlarge', 0.05), spot('us-east-1c', 'c5.xlarge', 0.1)];
  const c5 = policy({ instanceTypes: ['c5.xlarge'], rebalance: { enabled: true } });

  it('a busy worker in a dear offer is not moved; an idle one is', () => {
    const busy = instance({ az: 'us-east-1a' });
    const idle = instance({ az: 'us-east-1c', subnetId: 'subnet-c' });
    const p = plan(withBusy(2, [busy, idle], [busy], { spotPrices: cheapIn1b }), [c5], 'releng');
    expect(launches(p).map((l) => l.replaces)).to.deep.equal([idle.id]);
    expect(launches(p)[0]?.cause).to.equal('rebalance');
  });

  it('spread repair leaves a busy worker where it is', () => {
    const a = instance({ az: 'us-east-1b' });
    const b = instance({ az: 'us-east-1b' });
    const p = plan(withBusy(2, [a, b], [a, b]), [policy({ spread: 1, instanceTypes: ['c5.xlarge'] })], 'releng');
    expect(launches(p).filter((l) => l.cause === 'spread')).to.deep.equal([]);
    const without = plan(withBusy(2, [a, b], undefined), [policy({ spread: 1, instanceTypes: ['c5.xlarge'] })], 'releng');
    expect(launches(without).filter((l) => l.cause === 'spread')).to.have.length(1);
  });
});

describe('plan: maxLifetime', () => {
  it('replaces workers past maxLifetime launch first, cause lifetime, idle first, within the retire budget', () => {
    const busyOld = instance({ launchTime: T0 - 30 * HOUR });
    const idleOld = instance({ launchTime: T0 - 25 * HOUR });
    const young = instance({ launchTime: T0 - HOUR });
    const p = plan(
      withBusy(3, [busyOld, idleOld, young], [busyOld]),
      [policy({ maxLifetime: 24 * 3600, freshness: { retireBudget: 1 } })],
      'releng',
    );
    expect(launches(p).map((l) => [l.cause, l.replaces])).to.deep.equal([['lifetime', idleOld.id]]);
    expect(terminations(p)).to.deep.equal([]);
  });

  it('replaces nothing when maxLifetime is 0', () => {
    const p = plan(withBusy(1, [instance({ launchTime: T0 - 1000 * HOUR })], []), [policy()], 'releng');
    expect(p.actions).to.deep.equal([]);
  });
});
