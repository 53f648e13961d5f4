// Each of the soak's invariant checkers on small synthetic states: it fires where it must, and stays
// quiet where the state is legitimate (including the edges the soak produces on purpose).

import { expect } from 'chai';
import type { Budget } from '../../../src/domain/policy.js';
import { checkBackwardsPairs, imageStanding } from '../../soak/invariants/backwards-pair.js';
import { checkBadManifestRetirements } from '../../soak/invariants/bad-manifest.js';
import { checkCycleErrors } from '../../soak/invariants/cycle-errors.js';
import { checkDrainedLaunches, drainedAt } from '../../soak/invariants/drained-launch.js';
import { checkEventQueue } from '../../soak/invariants/event-queue.js';
import { checkGrowth, decidedThisCycle, pairBudgets } from '../../soak/invariants/growth.js';
import { type CycleRecord, type TokenHistory, checkJournal } from '../../soak/invariants/journal.js';
import { checkStalledLeader, checkTakeoverConverged } from '../../soak/invariants/leadership.js';
import { checkUniqueNames } from '../../soak/invariants/names.js';
import { checkOwnership } from '../../soak/invariants/ownership.js';
import { checkPhantomShortfall, servingWorkers } from '../../soak/invariants/phantom-shortfall.js';
import { checkPoolMax } from '../../soak/invariants/pool-max.js';
import { checkResends } from '../../soak/invariants/resend.js';
import { checkRunningCapacity } from '../../soak/invariants/running-capacity.js';
import { LIST_PRICE_GAP_MS, checkSpread, quietCycle, spotUnpriced, spreadLimit } from '../../soak/invariants/spread.js';
import { type InstanceFact, allowance, clampedDesired } from '../../soak/invariants/types.js';

const FLEET = 'releng';
let serial = 0;
function vm(overrides: Partial<InstanceFact> = {}): InstanceFact {
  serial++;
  return {
    id: `i-${serial}`,
    region: 'us-east-1',
    az: 'us-east-1a',
    instanceType: 'c5.xlarge',
    ami: 'ami-new',
    state: 'running',
    managedBy: FLEET,
    pool: 'bld',
    name: `bld-${serial}`,
    ...overrides,
  };
}
const invariants = (findings: readonly { invariant: string }[]) => findings.map((f) => f.invariant);

describe('soak judge: the rules it restates', () => {
  it('clamps desired counts to [min, max], a missing pool to its min', () => {
    const p = { pool: 'bld', size: { min: 1, max: 5 } };
    expect([
      clampedDesired(p, { bld: 9 }),
      clampedDesired(p, { bld: 0 }),
      clampedDesired(p, {}),
      clampedDesired(p, { bld: 3.7 }),
    ]).to.deep.equal([5, 1, 1, 3]);
  });

  it('resolves a budget: a count as is, a share at least one of a non-empty pool', () => {
    expect([
      allowance({ kind: 'count', value: 2 }, 0),
      allowance({ kind: 'percent', value: 25 }, 9),
      allowance({ kind: 'percent', value: 10 }, 3),
      allowance({ kind: 'percent', value: 50 }, 0),
    ]).to.deep.equal([2, 2, 1, 0]);
  });
});

describe('soak invariant: live ≤ size.max', () => {
  it('stays quiet up to the max, even when it is reached', () => {
    expect(checkPoolMax({ max: { bld: 5 }, liveBefore: { bld: 4 }, changes: [{ t: 1, pool: 'bld', delta: 1 }] })).to.deep.equal([]);
  });

  it('fires when a pool ends the cycle above its max', () => {
    const findings = checkPoolMax({ max: { bld: 5 }, liveBefore: { bld: 5 }, changes: [{ t: 1, pool: 'bld', delta: 1 }] });
    expect(invariants(findings)).to.deep.equal(['pool-max']);
    expect(findings[0]?.detail).to.match(/bld: 6 live .* size\.max 5/);
  });

  it('tells a moment above the max (a launch landing before the termination it was planned with) from an end state above it', () => {
    const changes = [
      { t: 1, pool: 'bld', delta: 1 as const },
      { t: 2, pool: 'bld', delta: -1 as const },
    ];
    expect(invariants(checkPoolMax({ max: { bld: 5 }, liveBefore: { bld: 5 }, changes }))).to.deep.equal(['pool-max-peak']);
  });

  it('does not call a pool that began the cycle above its max and came down a moment above it', () => {
    expect(
      invariants(checkPoolMax({ max: { bld: 5 }, liveBefore: { bld: 6 }, changes: [{ t: 1, pool: 'bld', delta: -1 }] })),
    ).to.deep.equal([]);
    expect(invariants(checkPoolMax({ max: { bld: 5 }, liveBefore: { bld: 6 }, changes: [] }))).to.deep.equal(['pool-max']);
  });

  it('counts only the pool’s own changes, and a pool with nothing live as empty', () => {
    const changes = [{ t: 1, pool: 'tst', delta: 1 as const }];
    expect(checkPoolMax({ max: { bld: 0, tst: 1 }, liveBefore: {}, changes })).to.deep.equal([]);
  });
});

describe('soak invariant: fleet never grows a pool beyond what was asked', () => {
  const budgets = { retire: 1, 'on-demand': 1, move: 1, canary: 1 };
  const base = { pool: 'bld', asked: { low: 3, high: 3 }, budgets };

  it('stays quiet growing up to the desired count', () => {
    expect(checkGrowth({ ...base, liveBefore: 1, liveAfter: [vm(), vm(), vm()] })).to.deep.equal([]);
  });

  it('fires on one instance more than max(live before, desired)', () => {
    expect(invariants(checkGrowth({ ...base, liveBefore: 3, liveAfter: [vm(), vm(), vm(), vm()] }))).to.deep.equal(['growth']);
  });

  it('allows what a pool already had above desired (it is not fleet growing it)', () => {
    expect(checkGrowth({ ...base, liveBefore: 5, liveAfter: [vm(), vm(), vm(), vm(), vm()] })).to.deep.equal([]);
  });

  it('allows the highest desired count a cycle could have acted on', () => {
    expect(checkGrowth({ ...base, asked: { low: 2, high: 4 }, liveBefore: 2, liveAfter: [vm(), vm(), vm(), vm()] })).to.deep.equal([]);
  });

  it('counts a replacement pair in flight as one, but only while its target is live', () => {
    const target = vm({ ami: 'ami-old' });
    const pair = [vm(), vm(), target, vm({ replaces: target.id })];
    expect(checkGrowth({ ...base, liveBefore: 3, liveAfter: pair })).to.deep.equal([]);
    const orphan = [vm(), vm(), vm(), vm({ replaces: 'i-gone' })];
    expect(invariants(checkGrowth({ ...base, liveBefore: 3, liveAfter: orphan }))).to.deep.equal(['growth']);
  });

  it('leaves instances on drained images out: they are on their way out, and their capacity is launched again at once', () => {
    const onDrained = vm({ ami: 'ami-bad' });
    expect(checkGrowth({ ...base, liveBefore: 3, liveAfter: [vm(), vm(), vm(), onDrained], drained: new Set(['ami-bad']) })).to.deep.equal(
      [],
    );
    expect(invariants(checkGrowth({ ...base, liveBefore: 3, liveAfter: [vm(), vm(), vm(), onDrained] }))).to.deep.equal(['growth']);
  });

  it('leaves out instances EC2 has warned (they are leaving): their replacement is no growth, anything beyond it is', () => {
    const warned = vm();
    const others = [vm(), vm()];
    // 3 live before (the warned one among them), its replacement launched while it still runs.
    expect(checkGrowth({ ...base, liveBefore: 2, liveAfter: [...others, warned, vm()], warned: new Set([warned.id]) })).to.deep.equal([]);
    expect(
      invariants(checkGrowth({ ...base, liveBefore: 2, liveAfter: [...others, warned, vm(), vm()], warned: new Set([warned.id]) })),
    ).to.deep.equal(['growth']);
    expect(invariants(checkGrowth({ ...base, liveBefore: 3, liveAfter: [...others, warned, vm()] }))).to.deep.equal(['growth']);
  });

  /** A pair of `cause`, its replacement's launch slot, and whether this cycle sent it first. */
  function pair(cause: InstanceFact['cause'], region = 'us-east-1') {
    const target = vm({ ami: 'ami-old', region });
    const replacement = vm({ replaces: target.id, cause, region });
    return { members: [target, replacement], slot: { name: replacement.name as string, replaces: target.id } };
  }
  const keys = (findings: readonly { key?: string }[]) => findings.map((f) => f.key);

  it('fires when a pair opens beyond the budget of its cause, even with other budgets unused', () => {
    const [a, b] = [pair('outdated'), pair('outdated')];
    const findings = checkGrowth({ ...base, liveBefore: 4, liveAfter: [...a.members, ...b.members], opened: [b.slot] });
    expect(keys(findings)).to.deep.equal(['bld pairs retire']);
    // lifetime replacements share the retire budget; moves have their own
    const c = pair('lifetime');
    expect(keys(checkGrowth({ ...base, liveBefore: 4, liveAfter: [...a.members, ...c.members], opened: [c.slot] }))).to.deep.equal([
      'bld pairs retire',
    ]);
    const d = pair('rebalance');
    expect(checkGrowth({ ...base, liveBefore: 4, liveAfter: [...a.members, ...d.members], opened: [d.slot] })).to.deep.equal([]);
  });

  it('counts canaries per image and region (seed 156: a canary pair of an image since superseded is no canary of the next)', () => {
    const [east, west] = [pair('canary'), pair('canary', 'us-west-2')];
    expect(checkGrowth({ ...base, liveBefore: 4, liveAfter: [...east.members, ...west.members], opened: [west.slot] })).to.deep.equal([]);
    const again = pair('canary');
    expect(
      keys(checkGrowth({ ...base, liveBefore: 4, liveAfter: [...east.members, ...again.members], opened: [again.slot] })),
    ).to.deep.equal(['bld pairs canary of ami-new in us-east-1']);
    const next = pair('canary');
    const onNext = [next.members[0] as InstanceFact, { ...(next.members[1] as InstanceFact), ami: 'ami-next' }];
    expect(checkGrowth({ ...base, liveBefore: 4, liveAfter: [...east.members, ...onNext], opened: [next.slot] })).to.deep.equal([]);
  });

  it('takes a slot the journal held as the cycle began as decided earlier, even if first sent now (seed 154)', () => {
    // A process killed before its send got out: the next cycle re-sends the journaled slot.
    const first = [
      { name: 'bld-001', replaces: 'i-a' },
      { name: 'bld-002', replaces: 'i-b' },
    ];
    expect(decidedThisCycle(first, new Set(['bld-001']))).to.deep.equal([{ name: 'bld-002', replaces: 'i-b' }]);
    expect(decidedThisCycle(first, new Set())).to.deep.equal(first);
  });

  it('lets pairs opened under a larger desired count outlast it (seed 190): none of their kind opens meanwhile', () => {
    // Three moves opened at desired 6 (move budget 50% = 3); desired then fell to 0 while they were in flight.
    const moves = [pair('recommendation'), pair('recommendation'), pair('rebalance')];
    const liveAfter = moves.flatMap((m) => m.members);
    const atZero = { ...base, asked: { low: 0, high: 0 }, budgets: { ...budgets, move: 0 }, liveBefore: 6, liveAfter };
    expect(checkGrowth({ ...atZero, opened: [] })).to.deep.equal([]);
    expect(
      checkGrowth({ ...base, budgets: { ...budgets, move: 3 }, liveBefore: 3, liveAfter, opened: moves.map((m) => m.slot) }),
    ).to.deep.equal([]);
    // a fourth move while three are in flight is beyond the budget
    const fourth = pair('spread');
    expect(
      keys(
        checkGrowth({
          ...base,
          budgets: { ...budgets, move: 3 },
          liveBefore: 8,
          liveAfter: [...liveAfter, ...fourth.members],
          opened: [fourth.slot],
        }),
      ),
    ).to.deep.equal(['bld pairs move']);
  });

  it('counts a pair of no recorded cause against every budget, and none whose target fleet terminated this cycle', () => {
    const [old, fresh] = [pair(undefined), pair('on-demand-swap')];
    const liveAfter = [...old.members, ...fresh.members];
    expect(keys(checkGrowth({ ...base, liveBefore: 4, liveAfter, opened: [fresh.slot] }))).to.deep.equal(['bld pairs on-demand']);
    const terminated = new Set([(old.members[0] as InstanceFact).id]);
    expect(checkGrowth({ ...base, liveBefore: 4, liveAfter, opened: [fresh.slot], terminated })).to.deep.equal([]);
  });

  it('judges no budget in a cycle cut short: the termination closing a pair may not have left with the launch (seed 150)', () => {
    // A takeover held the stalled leader's calls: a canary left, the cancellation of the old canary's pair did not.
    const [cancelled, fresh] = [pair('canary'), pair('canary')];
    const liveAfter = [...cancelled.members, ...fresh.members];
    expect(keys(checkGrowth({ ...base, liveBefore: 4, liveAfter, opened: [fresh.slot] }))).to.deep.equal([
      'bld pairs canary of ami-new in us-east-1',
    ]);
    expect(checkGrowth({ ...base, liveBefore: 4, liveAfter, opened: [fresh.slot], cutShort: true })).to.deep.equal([]);
  });

  it('reads the budgets as fleet does: against the highest desired count, canaries against size.max', () => {
    const pct = (value: number): Budget => ({ kind: 'percent', value });
    const policy = {
      size: { min: 0, max: 9 },
      freshness: { retireBudget: pct(25), canary: pct(20) },
      onDemand: { replaceBudget: { kind: 'count', value: 1 } },
      rebalance: { budget: pct(50) },
    } as unknown as Parameters<typeof pairBudgets>[0];
    expect(pairBudgets(policy, 6)).to.deep.equal({ retire: 1, 'on-demand': 1, move: 3, canary: 1 });
    expect(pairBudgets(policy, 0)).to.deep.equal({ retire: 0, 'on-demand': 1, move: 0, canary: 1 });
  });
});

describe('soak invariant: no launch replacing nothing while the pool serves desired', () => {
  const none = new Set<string>();
  const base = { pool: 'bld', drained: none, leaving: none, desiredHigh: 5 };
  // Five serve: four plain workers and a replacement whose target runs a drained image (waiting for
  // the drain budget). The pair is one worker, not none.
  function drainedPair() {
    const target = vm({ ami: 'ami-bad' });
    return [vm(), vm(), vm(), vm(), target, vm({ replaces: target.id, state: 'pending' })];
  }

  it('counts a pair whose target runs a drained image as one worker', () => {
    expect(servingWorkers({ before: drainedPair(), drained: new Set(['ami-bad']), leaving: none })).to.equal(5);
    const target = vm();
    expect(
      servingWorkers({ before: [vm(), target, vm({ replaces: target.id })], drained: none, leaving: none }),
      'a pair of two workers is one',
    ).to.equal(2);
  });

  it('fires on a scale-up beside such a pair ("want 5, have 4" with 5 serving)', () => {
    const findings = checkPhantomShortfall({
      ...base,
      before: drainedPair(),
      drained: new Set(['ami-bad']),
      launches: [{ name: 'bld-7' }],
    });
    expect(invariants(findings)).to.deep.equal(['no-phantom-shortfall']);
    expect(findings[0]?.detail).to.match(/bld: launched bld-7 replacing nothing with 5 workers serving \(.*\), desired 5/);
  });

  it('stays quiet for replacements, for a pool short of desired, and for what left during the cycle', () => {
    const before = drainedPair();
    const drained = new Set(['ami-bad']);
    expect(checkPhantomShortfall({ ...base, before, drained, launches: [{ name: 'bld-7', replaces: before[0]?.id }] })).to.deep.equal([]);
    expect(checkPhantomShortfall({ ...base, desiredHigh: 6, before, drained, launches: [{ name: 'bld-7' }] })).to.deep.equal([]);
    expect(
      checkPhantomShortfall({ ...base, before, drained, leaving: new Set([before[0]?.id as string]), launches: [{ name: 'bld-7' }] }),
    ).to.deep.equal([]);
  });
});

describe('soak invariant: no pair moves a worker backwards', () => {
  // ami-c newest, ami-b remembered as proved, ami-a older: current {c, b}, outdated {a}.
  const view = { newestFirst: ['ami-c', 'ami-b', 'ami-a'], drained: new Set<string>(), remembered: new Set(['ami-b']) };

  it('knows what every view agrees on: the newest and the trusted image current, older than the trusted outdated', () => {
    const s = imageStanding([view]);
    expect([[...s.current].sort(), [...s.outdated]]).to.deep.equal([['ami-b', 'ami-c'], ['ami-a']]);
    // A view in which ami-c is drained (the guard drained it mid-cycle) makes ami-c sure of nothing but drained in one view.
    const both = imageStanding([view, { ...view, drained: new Set(['ami-c']) }]);
    expect([[...both.current], [...both.outdated]]).to.deep.equal([['ami-b'], ['ami-a']]);
    // Nothing remembered: only the newest is sure; nothing is surely outdated.
    const fresh = imageStanding([{ ...view, remembered: new Set() }]);
    expect([[...fresh.current], [...fresh.outdated]]).to.deep.equal([['ami-c'], []]);
  });

  it('fires when a worker on a current image is retired while its replacement stays on an outdated one', () => {
    const target = vm({ ami: 'ami-b' });
    const replacement = vm({ ami: 'ami-a', replaces: target.id });
    const findings = checkBackwardsPairs({
      pool: 'bld',
      retired: [target],
      liveAfter: [replacement, vm({ ami: 'ami-b' })],
      standing: imageStanding([view]),
    });
    expect(invariants(findings)).to.deep.equal(['no-backwards-pair']);
    expect(findings[0]?.detail).to.include(`retired ${target.id} on current ami-b; its replacement ${replacement.id} runs outdated ami-a`);
  });

  it('stays quiet for a pair moving forwards, a cancelled replacement, and an image whose standing is unsure', () => {
    const standing = imageStanding([view]);
    const old = vm({ ami: 'ami-a' });
    expect(
      checkBackwardsPairs({ pool: 'bld', retired: [old], liveAfter: [vm({ ami: 'ami-c', replaces: old.id })], standing }),
    ).to.deep.equal([]);
    const current = vm({ ami: 'ami-b' });
    expect(
      checkBackwardsPairs({ pool: 'bld', retired: [vm({ ami: 'ami-a', replaces: current.id })], liveAfter: [current], standing }),
      'the replacement left, the target stays',
    ).to.deep.equal([]);
    // A replacement on a drained image closed its pair: its target may leave (here scaled down).
    const drained = imageStanding([{ ...view, drained: new Set(['ami-a']) }]);
    expect(
      checkBackwardsPairs({ pool: 'bld', retired: [current], liveAfter: [vm({ ami: 'ami-a', replaces: current.id })], standing: drained }),
    ).to.deep.equal([]);
    const unsure = imageStanding([view, { ...view, remembered: new Set() }]);
    expect(
      checkBackwardsPairs({ pool: 'bld', retired: [current], liveAfter: [vm({ ami: 'ami-a', replaces: current.id })], standing: unsure }),
    ).to.deep.equal([]);
  });
});

describe('soak invariant: names unique among the fleet’s live instances', () => {
  it('fires when two live instances carry one name', () => {
    const findings = checkUniqueNames([vm({ name: 'bld-001' }), vm({ name: 'bld-001', state: 'pending' })], FLEET);
    expect(invariants(findings)).to.deep.equal(['unique-names']);
    expect(findings[0]?.key).to.equal('bld-001');
  });

  it('stays quiet for a name held by a live instance and one that is leaving, or by another fleet', () => {
    const instances = [
      vm({ name: 'bld-001' }),
      vm({ name: 'bld-001', state: 'shutting-down' }),
      vm({ name: 'bld-001', managedBy: 'other' }),
      vm({ name: 'bld-001', managedBy: undefined }),
    ];
    expect(checkUniqueNames(instances, FLEET)).to.deep.equal([]);
  });
});

describe('soak invariant: no launch from an AMI drained before the call', () => {
  const history = [
    { t: 100, amis: ['ami-bad'] },
    { t: 200, amis: [] },
  ];
  const call = (sentAt: number, ami = 'ami-bad') => ({ sentAt, ami, clientToken: 'fleet-0123456789abcdef', name: 'bld-001', result: 'ok' });

  it('knows the drained set in force at any time (a write counts from its own instant on)', () => {
    expect([...drainedAt(history, 99)]).to.deep.equal([]);
    expect([...drainedAt(history, 100)]).to.deep.equal(['ami-bad']);
    expect([...drainedAt(history, 199)]).to.deep.equal(['ami-bad']);
    expect([...drainedAt(history, 200)]).to.deep.equal([]);
  });

  it('fires on a call sent after the drain (or at its instant, as a process that drains then launches does), whatever EC2 answered', () => {
    const calls = [call(100), call(150), { ...call(160), result: 'InsufficientInstanceCapacity' }];
    expect(invariants(checkDrainedLaunches(calls, history))).to.deep.equal(['no-drained-launch', 'no-drained-launch', 'no-drained-launch']);
  });

  it('stays quiet before the drain, after the undrain, and for other images', () => {
    expect(checkDrainedLaunches([call(99), call(200), call(250), call(150, 'ami-good')], history)).to.deep.equal([]);
  });
});

describe('soak invariant: no call touches a resource without the ownership tag', () => {
  const owners: Record<string, string | undefined> = { 'i-own': FLEET, 'i-other': 'other-fleet', 'i-bare': undefined };
  it('fires for every foreign resource a changing call names', () => {
    const findings = checkOwnership(
      [{ action: 'TerminateInstances', resources: ['i-own', 'i-other', 'i-bare'] }],
      (id) => owners[id],
      FLEET,
    );
    expect(findings.map((f) => f.detail)).to.deep.equal([
      'TerminateInstances named i-other, owned by other-fleet',
      'TerminateInstances named i-bare, owned by nobody (no fleet:managed-by tag)',
    ]);
  });

  it('stays quiet for the fleet’s own resources', () => {
    expect(checkOwnership([{ action: 'DeregisterImage', resources: ['i-own'] }], (id) => owners[id], FLEET)).to.deep.equal([]);
  });
});

describe('soak invariant: no retirement on a bad manifest', () => {
  const base = {
    manifestBad: true,
    lastGoodCurrent: [{ 'bld us-east-1': 'ami-new' }],
    terminated: [{ id: 'i-1', pool: 'bld', region: 'us-east-1', ami: 'ami-new', liveBefore: 3 }],
    desiredLow: { bld: 3 },
  };

  it('fires when an instance on the last good manifest’s current image is terminated while the manifest is bad', () => {
    expect(invariants(checkBadManifestRetirements(base))).to.deep.equal(['no-retirement-on-bad-manifest']);
  });

  it('fires when there is no last good copy at all (nothing is known to be outdated)', () => {
    expect(invariants(checkBadManifestRetirements({ ...base, lastGoodCurrent: [] }))).to.deep.equal(['no-retirement-on-bad-manifest']);
  });

  it('stays quiet while the manifest is good, for a pool above desired, for outdated images, and when copies disagree', () => {
    expect(checkBadManifestRetirements({ ...base, manifestBad: false })).to.deep.equal([]);
    expect(
      checkBadManifestRetirements({
        ...base,
        terminated: [{ id: 'i-1', pool: 'bld', region: 'us-east-1', ami: 'ami-new', liveBefore: 4 }],
      }),
    ).to.deep.equal([]);
    expect(
      checkBadManifestRetirements({
        ...base,
        terminated: [{ id: 'i-1', pool: 'bld', region: 'us-east-1', ami: 'ami-old', liveBefore: 3 }],
      }),
    ).to.deep.equal([]);
    expect(
      checkBadManifestRetirements({ ...base, lastGoodCurrent: [{ 'bld us-east-1': 'ami-new' }, { 'bld us-east-1': 'ami-newer' }] }),
    ).to.deep.equal([]);
  });
});

describe('soak invariant: retirements keep running capacity on launchable images', () => {
  const none = new Set<string>();
  it('fires when a retirement takes running capacity below desired', () => {
    const [a, b, c] = [vm({ ami: 'ami-old' }), vm(), vm()];
    const findings = checkRunningCapacity({
      pool: 'bld',
      before: [a, b, c],
      after: [{ ...a, state: 'shutting-down' }, b, c],
      drained: none,
      terminatedByFleet: new Set([a.id]),
      endedByOthers: none,
      desiredLow: 3,
    });
    expect(invariants(findings)).to.deep.equal(['running-capacity']);
    expect(findings[0]?.detail).to.match(/3 → 2, desired 3/);
  });

  it('stays quiet when the retired one’s replacement runs (a pair closing), or the pool is above desired', () => {
    const [target, b, c] = [vm({ ami: 'ami-old' }), vm(), vm()];
    const replacement = vm({ replaces: target.id });
    const after = [{ ...target, state: 'shutting-down' as const }, b, c, replacement];
    expect(
      checkRunningCapacity({
        pool: 'bld',
        before: [target, b, c, replacement],
        after,
        drained: none,
        terminatedByFleet: new Set([target.id]),
        endedByOthers: none,
        desiredLow: 3,
      }),
    ).to.deep.equal([]);
    expect(
      checkRunningCapacity({
        pool: 'bld',
        before: [target, b, c],
        after: [b, c],
        drained: none,
        terminatedByFleet: new Set([target.id]),
        endedByOthers: none,
        desiredLow: 2,
      }),
    ).to.deep.equal([]);
  });

  it('stays quiet when nothing launchable was retired, whatever else ended', () => {
    const [bad, b, c] = [vm({ ami: 'ami-bad' }), vm(), vm()];
    const after = [{ ...bad, state: 'shutting-down' as const }, { ...b, state: 'shutting-down' as const }, c];
    expect(
      checkRunningCapacity({
        pool: 'bld',
        before: [bad, b, c],
        after,
        drained: new Set(['ami-bad']),
        terminatedByFleet: new Set([bad.id]),
        endedByOthers: new Set([b.id]),
        desiredLow: 3,
      }),
    ).to.deep.equal([]);
  });

  it('counts back what others ended during the cycle (an interruption is not a retirement)', () => {
    const [target, b, c, replacement] = [vm({ ami: 'ami-old' }), vm(), vm(), vm()];
    const before = [target, b, c, replacement];
    const after = [{ ...target, state: 'shutting-down' as const }, { ...b, state: 'shutting-down' as const }, c, replacement];
    expect(
      checkRunningCapacity({
        pool: 'bld',
        before,
        after,
        drained: none,
        terminatedByFleet: new Set([target.id]),
        endedByOthers: new Set([b.id]),
        desiredLow: 3,
      }),
    ).to.deep.equal([]);
  });
});

describe('soak invariant: spread respected once settled', () => {
  const half: Budget = { kind: 'percent', value: 50 };
  const crowded = [vm({ az: 'us-east-1a' }), vm({ az: 'us-east-1a' }), vm({ az: 'us-east-1a' }), vm({ az: 'us-east-1b' })];

  it('holds no pool to it while its live instances fill size.max: a worker asked to leave holds its room (seed 7)', () => {
    const input = {
      pool: 'bld',
      spread: half,
      scaleDown: 'terminate' as const,
      desired: 4,
      live: crowded,
      settled: true,
      offers: 3,
      max: 5,
    };
    expect(invariants(checkSpread(input))).to.deep.equal(['spread']);
    expect(checkSpread({ ...input, occupying: 5 })).to.deep.equal([]);
  });

  it('counts a cycle quiet only when fleet could have acted on the spread and the pool is at desired', () => {
    const quiet = { live: 6, desired: 6, acted: true, launched: false, journaled: false, unpriced: false };
    expect(quietCycle(quiet)).to.equal(true);
    expect(quietCycle({ ...quiet, live: 7 }), 'above desired').to.equal(false);
    expect(quietCycle({ ...quiet, acted: false }), 'no whole cycle ran').to.equal(false);
    expect(quietCycle({ ...quiet, launched: true }), 'a launch').to.equal(false);
    expect(quietCycle({ ...quiet, unpriced: true }), 'spot closed to fleet').to.equal(false);
  });

  it('counts no cycle quiet while the journal holds a launch of the pool: fleet counts it, so the pool is above desired to it (seed 121)', () => {
    // Six live in the cloud, desired six; a lost launch request, still in the journal, is the seventh to fleet.
    expect(quietCycle({ live: 6, desired: 6, acted: true, launched: false, journaled: true, unpriced: false })).to.equal(false);
  });

  it('rounds the cap up, at least one', () => {
    expect(spreadLimit({ kind: 'percent', value: 34 }, 3, 3)).to.equal(2);
    expect(spreadLimit(half, 1, 3)).to.equal(1);
    expect(spreadLimit({ kind: 'count', value: 0 }, 5, 5)).to.equal(1);
  });

  it('is at least an even share over the offers open now', () => {
    expect(spreadLimit({ kind: 'percent', value: 34 }, 9, 2)).to.equal(5);
    expect(spreadLimit(half, 4, 1)).to.equal(4);
    expect(spreadLimit(half, 4, 0)).to.equal(4);
  });

  it('fires when a settled pool holds more than the cap in one offer', () => {
    const findings = checkSpread({
      pool: 'bld',
      spread: half,
      scaleDown: 'terminate',
      desired: 4,
      live: crowded,
      settled: true,
      offers: 3,
      max: 10,
    });
    expect(invariants(findings)).to.deep.equal(['spread']);
    expect(findings[0]?.detail).to.match(/3 of 4 live in us-east-1a\/c5\.xlarge, spread cap 2/);
  });

  it('stays quiet for a pool at its size.max: it has no room to move launch first', () => {
    expect(
      checkSpread({ pool: 'bld', spread: half, scaleDown: 'terminate', desired: 4, live: crowded, settled: true, offers: 3, max: 4 }),
    ).to.deep.equal([]);
  });

  it('stays quiet when the open offers cannot honour the spread', () => {
    expect(
      checkSpread({ pool: 'bld', spread: half, scaleDown: 'terminate', desired: 4, live: crowded, settled: true, offers: 1, max: 10 }),
    ).to.deep.equal([]);
  });

  it('stays quiet before the pool settles, and for pools whose workers leave by themselves', () => {
    expect(
      checkSpread({ pool: 'bld', spread: half, scaleDown: 'terminate', desired: 4, live: crowded, settled: false, offers: 3, max: 10 }),
    ).to.deep.equal([]);
    expect(
      checkSpread({ pool: 'bld', spread: half, scaleDown: 'none', desired: 4, live: crowded, settled: true, offers: 3, max: 10 }),
    ).to.deep.equal([]);
  });

  it('knows when fleet may have had no spot offer: a max price that is a share of an on-demand price the Price List did not give', () => {
    const share = { spot: { maxPrice: { kind: 'percent', value: 70 } } } as const;
    const now = 1_000 * 60_000;
    expect(spotUnpriced(share, now - 5 * 60_000, now), 'failed 5 minutes ago').to.equal(true);
    expect(spotUnpriced(share, now - LIST_PRICE_GAP_MS, now), 'asked again since').to.equal(false);
    expect(spotUnpriced(share, Number.NEGATIVE_INFINITY, now), 'never failed').to.equal(false);
    expect(spotUnpriced({ ...share, onDemandPrice: 0.2 }, now - 60_000, now), 'the policy names its own price').to.equal(false);
    expect(spotUnpriced({ spot: { maxPrice: { kind: 'percent', value: 100 } } }, now - 60_000, now), '100%: no cap of its own').to.equal(
      false,
    );
    expect(spotUnpriced({ spot: { maxPrice: { kind: 'dollars', value: 0.1 } } }, now - 60_000, now), 'dollars').to.equal(false);
  });

  it('counts a replaced instance and its replacement once', () => {
    const target = vm({ az: 'us-east-1a', ami: 'ami-old' });
    const live = [target, vm({ az: 'us-east-1a', replaces: target.id }), vm({ az: 'us-east-1a' }), vm({ az: 'us-east-1b' })];
    expect(
      checkSpread({ pool: 'bld', spread: half, scaleDown: 'terminate', desired: 3, live, settled: true, offers: 3, max: 10 }),
    ).to.deep.equal([]);
  });
});

describe('soak invariant: the journal never keeps a refused launch', () => {
  const pending = [{ clientToken: 'fleet-tok', name: 'bld-001', pool: 'bld', requestedAt: 140 }];
  const visibilityTimeoutMs = 1000;
  const refused = (process: string): Map<string, TokenHistory> =>
    new Map([['fleet-tok', { succeeded: false, lastRefusal: { t: 150, code: 'InsufficientInstanceCapacity', process } }]]);
  const cycle = (overrides: Partial<CycleRecord>): CycleRecord => ({
    process: 'a#1',
    start: 100,
    end: 200,
    completed: true,
    mutated: true,
    ...overrides,
  });

  it('fires when the cycle that got the refusal ended normally and kept it', () => {
    expect(invariants(checkJournal({ pending, tokens: refused('a#1'), cycles: [cycle({})], visibilityTimeoutMs }))).to.deep.equal([
      'journal-keeps-refused',
    ]);
  });

  it('stays quiet when the process that got the refusal died before it could write, and nothing acted since', () => {
    expect(
      checkJournal({
        pending,
        tokens: refused('a#1'),
        cycles: [cycle({ completed: false }), cycle({ process: 'a#2', start: 300, end: 400, mutated: false })],
        visibilityTimeoutMs,
      }),
    ).to.deep.equal([]);
  });

  it('stays quiet while a refusal no process heard is held as unanswered (its pool above desired), until fleet gives up on it', () => {
    const later = cycle({ process: 'a#2', start: 300, end: 400 });
    expect(
      checkJournal({ pending, tokens: refused('a#1'), cycles: [cycle({ completed: false }), later], visibilityTimeoutMs }),
    ).to.deep.equal([]);
  });

  it('fires once a cycle that changed something ended normally past the visibility timeout with it still there', () => {
    const late = cycle({ process: 'a#3', start: 140 + visibilityTimeoutMs + 60, end: 140 + visibilityTimeoutMs + 120 });
    expect(
      invariants(checkJournal({ pending, tokens: refused('a#1'), cycles: [cycle({ completed: false }), late], visibilityTimeoutMs })),
    ).to.deep.equal(['journal-keeps-refused']);
  });

  it('stays quiet for a launch EC2 carried out (even with its answer lost) and for tokens never refused', () => {
    expect(
      checkJournal({ pending, tokens: new Map([['fleet-tok', { succeeded: true }]]), cycles: [cycle({})], visibilityTimeoutMs }),
    ).to.deep.equal([]);
    expect(checkJournal({ pending, tokens: new Map(), cycles: [cycle({})], visibilityTimeoutMs })).to.deep.equal([]);
  });
});

describe('soak invariant: no exception escapes a cycle', () => {
  it('fires on an error thrown by a live process, one line even for garbled text', () => {
    const findings = checkCycleErrors([
      { process: 'a#1', killed: false, error: { name: 'SyntaxError', message: 'Unexpected token \u0000 in\nJSON' } },
    ]);
    expect(invariants(findings)).to.deep.equal(['no-escaping-exception']);
    expect(findings[0]?.detail).to.equal('a#1: SyntaxError: Unexpected token \\u0000 in\\u000aJSON');
  });

  it('stays quiet for the harness’s own kill and whatever a dead process hits, and for cycles that ended well', () => {
    expect(
      checkCycleErrors([
        { process: 'a#1', killed: true, error: { name: 'CloudError', code: 'ProcessKilled', message: 'dead' } },
        { process: 'a#2', killed: false, error: { name: 'ProcessKilled', message: 'killed' } },
        { process: 'a#3', killed: false },
      ]),
    ).to.deep.equal([]);
  });
});

describe('soak invariant: a stalled leader stays silent after the takeover', () => {
  const calls = [
    { t: 100_000, replica: 'a', action: 'RunInstances', what: 'bld-001' },
    { t: 200_000, replica: 'b', action: 'RunInstances', what: 'bld-001' },
    { t: 300_000, replica: 'a', action: 'PutObject', what: 'state/reconciler.json' },
    { t: 300_000, replica: 'a', action: 'TerminateInstances', what: 'i-1' },
  ];

  it('fires on each mutating EC2 call the stalled one sends after the other’s first launch', () => {
    const findings = checkStalledLeader(calls, 'a', 'b');
    expect(findings.map((f) => f.detail)).to.deep.equal(["a sent TerminateInstances i-1 100s after b's first launch"]);
  });

  it('stays quiet when the successor never launched', () => {
    expect(
      checkStalledLeader(
        calls.filter((c) => c.replica === 'a'),
        'a',
        'b',
      ),
    ).to.deep.equal([]);
  });

  it('wants every pool exactly at desired once after the takeover (a none pool: at least desired)', () => {
    expect(checkTakeoverConverged([{ pool: 'bld', desired: 3, scaleDown: 'terminate', liveAtCycleEnds: [1, 3, 4] }])).to.deep.equal([]);
    expect(
      invariants(checkTakeoverConverged([{ pool: 'bld', desired: 3, scaleDown: 'terminate', liveAtCycleEnds: [4, 4] }])),
    ).to.deep.equal(['takeover-converges']);
    expect(checkTakeoverConverged([{ pool: 'try', desired: 3, scaleDown: 'none', liveAtCycleEnds: [4, 4] }])).to.deep.equal([]);
    expect(invariants(checkTakeoverConverged([{ pool: 'try', desired: 3, scaleDown: 'none', liveAtCycleEnds: [2, 2] }]))).to.deep.equal([
      'takeover-converges',
    ]);
  });
  it('excuses a pool held at size.max by workers on their way out at some cycle end, not one with room it left unused', () => {
    // size.max 5, desired 3: 3 busy workers asked to leave keep their room until their deadline
    const held = { pool: 'tst', desired: 3, scaleDown: 'terminate' as const, liveAtCycleEnds: [2, 2, 2], max: 5 };
    expect(checkTakeoverConverged([{ ...held, allInstancesAtCycleEnds: [5, 5, 2] }])).to.deep.equal([]);
    expect(invariants(checkTakeoverConverged([{ ...held, allInstancesAtCycleEnds: [4, 4, 4] }]))).to.deep.equal(['takeover-converges']);
    // at size.max, but above desired: not held short
    expect(
      invariants(
        checkTakeoverConverged([
          { ...held, desired: 1, liveAtCycleEnds: [5, 5], instancesAtCycleEnds: [5, 5], allInstancesAtCycleEnds: [5, 5] },
        ]),
      ),
    ).to.deep.equal(['takeover-converges']);
  });
});

describe('soak invariant: a launch is re-sent only with its first parameters', () => {
  it('fires when a token comes back with other parameters, earlier or in the same cycle', () => {
    expect(invariants(checkResends([{ clientToken: 't1', params: 'bbbbbb', name: 'bld-001' }], new Map([['t1', 'aaaaaa']])))).to.deep.equal(
      ['resend-same-parameters'],
    );
    const batch = [
      { clientToken: 't2', params: 'aaaaaa', name: 'bld-002' },
      { clientToken: 't2', params: 'cccccc', name: 'bld-002' },
    ];
    expect(invariants(checkResends(batch, new Map()))).to.deep.equal(['resend-same-parameters']);
  });

  it('stays quiet for a faithful resend and for new tokens, and leaves the map it was given alone', () => {
    const earlier = new Map([['t1', 'aaaaaa']]);
    expect(
      checkResends(
        [
          { clientToken: 't1', params: 'aaaaaa', name: 'bld-001' },
          { clientToken: 't3', params: 'dddddd', name: 'bld-003' },
        ],
        earlier,
      ),
    ).to.deep.equal([]);
    expect([...earlier.keys()]).to.deep.equal(['t1']);
  });
});

describe('soak invariant: the event queue drains', () => {
  const T = 1_000_000;
  const none = () => undefined;

  it('fires once per message copy older than the limit, never for a younger one', () => {
    const findings = checkEventQueue({
      now: T,
      maxAgeMs: 300_000,
      hinderedUntil: none,
      queued: [
        { id: 'm-1', queuedAt: T - 300_001 },
        { id: 'm-2', queuedAt: T - 300_000 },
        { id: 'm-1', queuedAt: T - 10_000 },
      ],
    });
    expect(invariants(findings)).to.deep.equal(['event-queue-drained']);
    expect(findings[0]?.key).to.equal(`m-1@${T - 300_001}`);
    expect(findings[0]?.detail).to.equal('message m-1 still queued 300 s after it was queued');
  });

  it('gives a message held up by the state store or a takeover until maxAge after the hindrance ends', () => {
    const queued = [{ id: 'm-1', queuedAt: T - 600_000 }];
    const seen: [number, number][] = [];
    // Still in force, or ended less than maxAge ago: not late yet.
    expect(
      checkEventQueue({ now: T, maxAgeMs: 300_000, queued, hinderedUntil: (from, to) => (seen.push([from, to]), T + 1) }),
    ).to.deep.equal([]);
    expect(seen).to.deep.equal([[T - 600_000, T]]);
    expect(checkEventQueue({ now: T, maxAgeMs: 300_000, queued, hinderedUntil: () => T - 60_000 })).to.deep.equal([]);
    // Ended more than maxAge ago: late all the same.
    expect(invariants(checkEventQueue({ now: T, maxAgeMs: 300_000, queued, hinderedUntil: () => T - 300_001 }))).to.deep.equal([
      'event-queue-drained',
    ]);
  });
});
