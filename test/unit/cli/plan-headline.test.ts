import { expect } from 'chai';
import { planHeadline, planTable } from '../../../src/cli/commands/plan.js';
import type { Plan } from '../../../src/plan/plan.js';
import type { PoolReport } from '../../../src/plan/pool.js';

function report(overrides: Partial<PoolReport>): PoolReport {
  return {
    pool: 'bld-linux64',
    desired: 3,
    live: 3,
    running: 3,
    pending: 0,
    spot: 3,
    onDemand: 0,
    outdated: 0,
    unmet: 0,
    notes: [],
    rollouts: [],
    ...overrides,
  };
}

function planOf(pools: PoolReport[], extra: Partial<Plan> = {}): Plan {
  return { actions: [], timers: {}, established: {}, trials: {}, pools, ...extra };
}

describe('fleet plan: the headline never contradicts the table', () => {
  it('says the fleet matches only when every pool is at its desired size', () => {
    expect(planHeadline(planOf([report({})]))).to.deep.equal(['No changes: the fleet matches the desired state.']);
  });

  it('a blocked plan says BLOCKED and never that the fleet matches', () => {
    const text = planTable(planOf([], { blocked: 'no usable AMI manifest: nothing is launched or retired' }));
    expect(text).to.match(/^BLOCKED: no usable AMI manifest/);
    expect(text).not.to.match(/matches/);
  });

  it('a pool short of desired with nothing to launch is a headline, with the reason from its notes', () => {
    const lines = planHeadline(
      planOf([report({ desired: 12, live: 0, running: 0, spot: 0, unmet: 12, notes: ['no spot offer available'] })]),
    );
    expect(lines[0]).to.equal('UNMET: bld-linux64 short of desired by 12 after this plan (desired 12, live 0): no spot offer available');
    expect(lines.join('\n')).not.to.match(/matches/);
  });

  it('a pool above desired that nothing shrinks this cycle is a headline', () => {
    const lines = planHeadline(planOf([report({ desired: 2, live: 5, running: 5, notes: ['3 above desired; scale-down in 120s'] })]));
    expect(lines[0]).to.equal('SURPLUS: bld-linux64 3 above desired (desired 2, live 5): 3 above desired; scale-down in 120s');
    expect(lines.join('\n')).not.to.match(/matches/);
  });

  it('an input whose fresh copy was refused is named, with what the plan used instead', () => {
    const lines = planHeadline(planOf([report({})]), { desired: 'desired counts: no policy defines pool "bld-linux46"' });
    expect(lines[0]).to.equal('INPUT desired: desired counts: no policy defines pool "bld-linux46"; using the last good copy');
  });
});
