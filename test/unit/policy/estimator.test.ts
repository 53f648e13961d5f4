import { expect } from 'chai';
import fc from 'fast-check';
import type { DemandPolicy } from '../../../src/domain/policy.js';
import { type DemandMemory, estimateDesired } from '../../../src/policy/estimator.js';

const DEFAULTS: DemandPolicy = { minIdle: 0, scaleFactor: 1, idleTimeoutSeconds: 600, maxWaitSeconds: 300, schedule: [] };
const SIZE = { min: 0, max: 100 };
const T0 = Date.parse('2026-12-07T10:00:00Z');

describe('estimateDesired', () => {
  it('wants one worker per pending or running job by default', () => {
    expect(estimateDesired({ pending: 5, running: 30 }, DEFAULTS, SIZE, undefined, T0).desired).to.equal(35);
  });

  it('adds minIdle spares and applies the scale factor, rounding up', () => {
    const e = estimateDesired({ pending: 3, running: 4 }, { ...DEFAULTS, scaleFactor: 0.5, minIdle: 2 }, SIZE, undefined, T0);
    expect(e.forJobs).to.equal(4);
    expect(e.desired).to.equal(6);
  });

  it('gives every pending job a worker once the oldest has waited past maxWaitSeconds', () => {
    const policy = { ...DEFAULTS, scaleFactor: 0.5 };
    expect(estimateDesired({ pending: 10, running: 0, oldestPendingSeconds: 60 }, policy, SIZE, undefined, T0).desired).to.equal(5);
    const late = estimateDesired({ pending: 10, running: 0, oldestPendingSeconds: 400 }, policy, SIZE, undefined, T0);
    expect(late.overdue).to.equal(true);
    expect(late.desired).to.equal(10);
  });

  it("keeps a schedule window's minimum while it is open", () => {
    const policy = { ...DEFAULTS, schedule: [{ cron: '0 9 * * *', durationSeconds: 3600, min: 8, timezone: 'UTC' }] };
    expect(estimateDesired({ pending: 1, running: 0 }, policy, SIZE, undefined, Date.parse('2026-12-07T09:30:00Z')).desired).to.equal(8);
    expect(estimateDesired({ pending: 1, running: 0 }, policy, SIZE, undefined, Date.parse('2026-12-07T10:30:00Z')).desired).to.equal(1);
  });

  it('comes down only after the surplus has lasted idleTimeout, to the highest demand of that time', () => {
    let memory: DemandMemory | undefined = estimateDesired({ pending: 0, running: 10 }, DEFAULTS, SIZE, undefined, T0).memory;
    const step = (running: number, seconds: number) => {
      const e = estimateDesired({ pending: 0, running }, DEFAULTS, SIZE, memory, T0 + seconds * 1000);
      memory = e.memory;
      return e;
    };
    expect(step(4, 60).desired).to.equal(10);
    expect(step(6, 300).holding).to.equal(true);
    expect(step(2, 659).desired).to.equal(10);
    expect(step(2, 660).desired).to.equal(6);
    expect(step(12, 700).desired, 'rises at once').to.equal(12);
  });

  it('scales to zero after idleTimeout in a pool with min 0, and back at the first job', () => {
    let memory = estimateDesired({ pending: 0, running: 1 }, DEFAULTS, SIZE, undefined, T0).memory;
    memory = estimateDesired({ pending: 0, running: 0 }, DEFAULTS, SIZE, memory, T0 + 1000).memory;
    const quiet = estimateDesired({ pending: 0, running: 0 }, DEFAULTS, SIZE, memory, T0 + 601_000);
    expect(quiet.desired).to.equal(0);
    expect(estimateDesired({ pending: 1, running: 0 }, DEFAULTS, SIZE, quiet.memory, T0 + 602_000).desired).to.equal(1);
  });

  it('stays within the pool size and never below the jobs it is given', () => {
    fc.assert(
      fc.property(
        fc.nat(500),
        fc.nat(500),
        fc.nat(20),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 50, max: 300 }),
        (pending, running, minIdle, min, max) => {
          const e = estimateDesired({ pending, running }, { ...DEFAULTS, minIdle }, { min, max }, undefined, T0);
          expect(e.desired).to.be.within(min, max);
          expect(e.desired).to.equal(Math.min(max, Math.max(min, pending + running + minIdle)));
        },
      ),
    );
  });
});
