import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { GOLDEN_FIXTURE, type GoldenPlan, goldenPlan } from '../support/plan-golden.js';

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
    const kinds = {
      resend: /resume: earlier launch/, scaleUp: /scale-up: want/, drain: /drained AMI/, warnedReplacement: /rebalance recommendation for/,
      canary: /canary of ami-/, outdated: /: AMI .* is outdated/, spread: /spread: .* moves out of/, priceMove: /rebalance i-.*expected at/,
      onDemandFirst: /scale-down: .*on-demand leaves first/, outdatedFirst: /scale-down: .*an outdated image leaves first/,
      dearestFirst: /scale-down: .*most expensive, then newest/,
    };
    for (const [kind, pattern] of Object.entries(kinds)) expect(recorded.actions.some((line) => pattern.test(line)), kind).to.equal(true);
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
