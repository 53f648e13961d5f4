import { expect } from 'chai';
import { checkBusyTerminations, checkRetireBudget, heldForBudget, reportedBusy } from '../../soak/invariants/busy-workers.js';
import { checkSpread } from '../../soak/invariants/spread.js';
import type { InstanceFact } from '../../soak/invariants/types.js';

const T = Date.parse('2026-11-20T12:00:00Z');
const busy = (names: string[]) => () => new Set(names);
const none = () => new Set<string>();

describe('soak invariant: no termination of a busy worker before its deadline', () => {
  it('flags a busy worker terminated without being asked, or before its deadline', () => {
    const found = checkBusyTerminations(
      [
        { t: T, id: 'i-1', name: 'w-1', ami: 'ami-new' },
        { t: T, id: 'i-2', name: 'w-2', ami: 'ami-new', retireAt: T + 60_000 },
      ],
      busy(['w-1', 'w-2']),
      none,
    );
    expect(found.map((f) => f.invariant)).to.deep.equal(['no-busy-termination', 'no-busy-termination']);
    expect(found[0]?.detail).to.match(/never asked to leave/);
  });

  it('stays quiet for idle workers, deadlines passed and drained images', () => {
    const found = checkBusyTerminations(
      [
        { t: T, id: 'i-1', name: 'idle', ami: 'ami-new' },
        { t: T, id: 'i-2', name: 'w-2', ami: 'ami-new', retireAt: T },
        { t: T, id: 'i-3', name: 'w-3', ami: 'ami-bad' },
      ],
      busy(['w-2', 'w-3']),
      () => new Set(['ami-bad']),
    );
    expect(found).to.deep.equal([]);
  });
});

describe('soak judge: which workers the desired copies report busy', () => {
  it('is sure of a name every copy lists; a stale or short copy leaves the others only maybe busy', () => {
    const { surely, maybe } = reportedBusy([{ bld: ['w-1', 'w-2'] }, { bld: ['w-1'], tst: ['t-1'] }], 'bld');
    expect([...surely]).to.deep.equal(['w-1']);
    expect([...maybe].sort()).to.deep.equal(['w-1', 'w-2']);
  });

  it('is sure of none when a copy has no list for the pool, or there is no copy', () => {
    expect([...reportedBusy([{ bld: ['w-1'] }, {}], 'bld').surely]).to.deep.equal([]);
    expect([...reportedBusy([], 'bld').surely]).to.deep.equal([]);
  });
});

describe('soak invariant: requests to leave within the budgets', () => {
  const use = { pool: 'bld', budgetName: 'retireBudget', budget: { kind: 'count' as const, value: 2 }, desired: 10, heldBefore: 0 };

  it('flags a cycle that asks a worker to leave past the budget', () => {
    expect(checkRetireBudget([{ ...use, asked: 2, pairs: 1, askedNow: true }]).map((f) => f.invariant)).to.deep.equal([
      'retire-within-budget',
    ]);
  });

  it('stays quiet within the budget, and when nothing was asked this cycle (desired may have shrunk)', () => {
    expect(
      checkRetireBudget([
        { ...use, asked: 1, pairs: 1, askedNow: true },
        { ...use, asked: 3, pairs: 0, askedNow: false },
      ]),
    ).to.deep.equal([]);
  });

  it('lets a pair become a request when the budget shrank under it, but not grow past what was held', () => {
    const shrunk = { ...use, budget: { kind: 'percent' as const, value: 50 }, desired: 2, heldBefore: 3 };
    expect(checkRetireBudget([{ ...shrunk, asked: 1, pairs: 2, askedNow: true }])).to.deep.equal([]);
    expect(checkRetireBudget([{ ...shrunk, asked: 2, pairs: 2, askedNow: true }]).map((f) => f.invariant)).to.deep.equal([
      'retire-within-budget',
    ]);
  });
});

describe('soak invariant: what a replacement budget holds', () => {
  const inst = (id: string, more: Partial<InstanceFact> = {}): InstanceFact => ({
    id,
    region: 'us-east-1',
    az: 'us-east-1a',
    instanceType: 'c5.xlarge',
    ami: 'ami-new',
    state: 'running',
    ...more,
  });
  const moves = ['rebalance', 'spread', 'recommendation'];
  // i-2 asked to leave for a recommendation once its replacement i-3 ran; i-1 a new move replacing i-3
  const live = [
    inst('i-2', { retireAt: T + 900_000, retireCause: 'recommendation' }),
    inst('i-3', { replaces: 'i-2', cause: 'recommendation' }),
    inst('i-1', { replaces: 'i-3', cause: 'rebalance' }),
  ];

  it('counts workers asked to leave for its causes and pairs whose target is not asked', () => {
    expect(heldForBudget(live, moves, new Set(), new Set())).to.deep.equal({ asked: 1, pairs: 1 });
    expect(heldForBudget(live, ['outdated', 'lifetime'], new Set(), new Set())).to.deep.equal({ asked: 0, pairs: 0 });
  });

  it('leaves out an instance EC2 warned it will reclaim, asked or not', () => {
    expect(heldForBudget(live, moves, new Set(), new Set(['i-2']))).to.deep.equal({ asked: 0, pairs: 1 });
    expect(heldForBudget(live, moves, new Set(), new Set(['i-3']))).to.deep.equal({ asked: 1, pairs: 0 });
  });
});

describe('soak invariant: spread, with busy workers', () => {
  const worker = (n: number, az: string): InstanceFact => ({
    id: `i-${n}`,
    region: 'us-east-1',
    az,
    instanceType: 'c5.xlarge',
    ami: 'ami-1',
    state: 'running',
    managedBy: 'releng',
    pool: 'bld',
    name: `bld-00${n}`,
  });
  const live = [worker(1, 'us-east-1a'), worker(2, 'us-east-1a'), worker(3, 'us-east-1a'), worker(4, 'us-east-1b')];
  const input = {
    pool: 'bld',
    spread: { kind: 'percent' as const, value: 50 },
    scaleDown: 'terminate' as const,
    desired: 4,
    live,
    settled: true,
    offers: 3,
    max: 10,
  };

  it('leaves alone an offer crowded with busy workers only: spread repair moves idle ones', () => {
    expect(checkSpread({ ...input, busy: new Set(['bld-001', 'bld-002', 'bld-003']) })).to.deep.equal([]);
  });

  it('still fires while the crowded offer holds an idle worker', () => {
    expect(checkSpread({ ...input, busy: new Set(['bld-001', 'bld-002']) }).map((f) => f.invariant)).to.deep.equal(['spread']);
    expect(checkSpread(input).map((f) => f.invariant)).to.deep.equal(['spread']);
  });

  it('leaves alone a pool whose move budget is held by workers asked to leave for a move (soak seed 33)', () => {
    expect(checkSpread({ ...input, movesAsked: 1, moveBudget: 1 })).to.deep.equal([]);
    expect(checkSpread({ ...input, movesAsked: 1, moveBudget: 2 }).map((f) => f.invariant)).to.deep.equal(['spread']);
  });
});
