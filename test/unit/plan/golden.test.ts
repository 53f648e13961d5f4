import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { GOLDEN_FIXTURE, type GoldenPlan, goldenPlan } from '../../support/plan-golden.js';

// The planner's decisions over a large generated snapshot (test/support/plan-golden.ts) against the
// plan recorded in test/fixtures/plan-golden.json: any change in any decision fails here. A change
// meant to alter decisions regenerates the fixture on purpose and shows the difference in review.
describe('plan() over a large generated snapshot (golden)', () => {
  const recorded = JSON.parse(readFileSync(GOLDEN_FIXTURE, 'utf8')) as GoldenPlan;
  let planned: GoldenPlan;
  before(() => {
    planned = goldenPlan();
  });

  it('the recorded plan exercises every kind of decision', () => {
    // A line is `kind | cause | name | ...` (test/support/plan-golden.ts).
    const causes = new Set(recorded.actions.map((line) => line.split(' | ').slice(0, 2).join(' ')));
    const kinds: readonly string[] = [
      'launch resume',
      'launch scale-up',
      'launch warning',
      'launch recommendation',
      'launch canary',
      'launch outdated',
      'launch spread',
      'launch rebalance',
      'terminate drain',
      'terminate scale-down',
    ];
    for (const kind of kinds) expect(causes.has(kind), kind).to.equal(true);
    // Which rule of scale-down chose an instance is told only in words.
    const scaleDown = {
      onDemandFirst: /on-demand leaves first/,
      outdatedFirst: /an outdated image leaves first/,
      dearestFirst: /most expensive, then newest/,
    };
    for (const [rule, pattern] of Object.entries(scaleDown))
      expect(
        recorded.actions.some((line) => line.startsWith('terminate | scale-down | ') && pattern.test(line)),
        rule,
      ).to.equal(true);
    expect(recorded.actions.length).to.be.above(500);
  });

  it('decides exactly the recorded actions, in the recorded order', () => {
    expect(planned.actions).to.deep.equal(recorded.actions);
  });

  it('reports every pool as recorded', () => {
    expect(planned.pools).to.deep.equal(recorded.pools);
  });

  it('returns the recorded plan as a whole (timers, journal facts, prices)', () => {
    expect(planned.digest).to.equal(recorded.digest);
  });
});
