import { expect } from 'chai';
import { checkBusyTerminations, checkRetireBudget } from '../soak/invariants/busy-workers.js';

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
