// The report's chart data from samples: long runs averaged to at most MAX_POINTS points, money
// summed into cumulative series, events counted per bucket.

import { expect } from 'chai';
import type { SimRun } from '../../../src/sim/driver.js';
import { MAX_POINTS, eventBucketMinutes, reportData } from '../../../src/sim/report-data.js';
import { type PoolSample, type Sample, emptyPoolSample } from '../../../src/sim/sampler.js';

const START = Date.parse('2026-11-16T00:00:00Z');
const MINUTE = 60_000;

/** A run of `n` one-minute cycles of one pool; `at(i)` fills cycle i's sample. */
function run(n: number, at: (i: number) => Partial<PoolSample>): SimRun {
  const samples: Sample[] = Array.from({ length: n }, (_, i) => ({
    t: START + (i + 1) * MINUTE,
    pools: { pool: { ...emptyPoolSample(), ...at(i) } },
  }));
  const summary = { start: new Date(START).toISOString(), end: new Date(START + n * MINUTE).toISOString(), pools: [{ pool: 'pool' }] };
  return { samples, summary } as unknown as SimRun;
}

describe('sim report data', () => {
  it('keeps every cycle of a short run and sums money into cumulative series', () => {
    const data = reportData(run(180, (i) => ({ wanted: i % 7, cost: 0.01, onDemandCost: 0.03, hindsightCost: 0.005, instanceHours: 0.5 })));
    const pool = data.pools[0] as (typeof data.pools)[number];
    expect(data.t).to.have.length(180);
    expect(data.cyclesPerPoint).to.equal(1);
    expect(pool.wanted.slice(0, 8)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 0]);
    expect(pool.cost[179]).to.be.closeTo(1.8, 1e-9);
    expect(pool.onDemandCost[179]).to.be.closeTo(5.4, 1e-9);
    expect(pool.hindsightCost[179]).to.be.closeTo(0.9, 1e-9);
    expect(pool.pricePaid[0]).to.be.closeTo(0.02, 1e-9);
  });

  it('averages a long run down to at most MAX_POINTS points without losing money or events', () => {
    const n = 30 * 24 * 60;
    const data = reportData(
      run(n, (i) => ({
        running: i % 2 === 0 ? 4 : 6,
        cost: i < n / 2 ? 0.01 : 0,
        instanceHours: i < n / 2 ? 1 / 60 : 0,
        launchesSpot: i % 10 === 0 ? 1 : 0,
        interruptions: i % 100 === 0 ? 2 : 0,
      })),
    );
    const pool = data.pools[0] as (typeof data.pools)[number];
    expect(data.t.length).to.be.at.most(MAX_POINTS);
    expect(data.cyclesPerPoint).to.be.greaterThan(1);
    expect(pool.cost[pool.cost.length - 1]).to.be.closeTo(0.01 * (n / 2), 1e-6);
    // Price paid is dollars over hours within a point; none where nothing was billed.
    expect(pool.pricePaid[0]).to.be.closeTo(0.6, 1e-9);
    expect(pool.pricePaid[pool.pricePaid.length - 1]).to.equal(null);
    expect(data.eventT).to.have.length(pool.launchesSpot.length);
    expect(pool.launchesSpot.reduce((a, b) => a + b, 0)).to.equal(n / 10);
    expect(pool.interruptions.reduce((a, b) => a + b, 0)).to.equal(2 * (n / 100));
    expect(data.eventT.length).to.be.at.most(100);
  });

  it('picks a round event bucket, never shorter than a cycle', () => {
    expect(eventBucketMinutes(5 * 60 * MINUTE, MINUTE)).to.equal(5);
    expect(eventBucketMinutes(24 * 60 * MINUTE, MINUTE)).to.equal(15);
    expect(eventBucketMinutes(60 * MINUTE, 5 * MINUTE)).to.equal(5);
    expect(eventBucketMinutes(30 * 24 * 60 * MINUTE, MINUTE)).to.equal(720);
  });
});
