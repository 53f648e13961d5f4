// The cost replay's baselines (bench/cost-replay/) are simple rules; these checks show they do
// what their names say on a market small enough to work out by hand.

import { expect } from 'chai';
import {
  type Scenario,
  allOnDemand,
  bestFixedInHindsight,
  cheapestAtLaunch,
  cheapestAtStart,
  fixedOffer,
  hindsightOptimum,
  simulateRule,
} from '../../../bench/cost-replay/baselines.js';
import { demandAt, latestBake } from '../../../bench/cost-replay/demand.js';
import type { Offer } from '../../../bench/cost-replay/pools.js';
import { DEFAULT_MARKET, Market, type MarketRule } from '../../../src/fake-cloud/market.js';
import { Prng } from '../../../src/fake-cloud/prng.js';
import type { RecordedRow } from '../../../src/fake-cloud/price-files.js';
import { PriceRecording } from '../../../src/fake-cloud/price-recording.js';

const T0 = Date.parse('2016-03-01T00:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
// m3.large: $0.14 an hour on demand in the simulated catalog.
const A: Offer = { az: 'us-east-1a', instanceType: 'm3.large', onDemand: 0.14 };
const B: Offer = { az: 'us-east-1b', instanceType: 'm3.large', onDemand: 0.14 };

function row(az: string, minute: number, price: number): RecordedRow {
  return { region: 'us-east-1', az, instanceType: 'm3.large', productDescription: 'Linux/UNIX', price, t: T0 + minute * MIN };
}

/** A at 0.01, spiking to 1.00 (above on-demand) from minute 30 to 40; B at 0.02 throughout. One hour. */
function scenario(overrides: Partial<Scenario> = {}, rule: MarketRule = 'price'): Scenario {
  const recording = new PriceRecording('test', [
    row('us-east-1a', 0, 0.01),
    row('us-east-1a', 30, 1),
    row('us-east-1a', 40, 0.01),
    row('us-east-1b', 0, 0.02),
  ]);
  const market = new Market(new Prng(1).fork('market'), { ...DEFAULT_MARKET, start: T0, recorded: recording, rule });
  return { offers: [A, B], market, rule, reclaimPerHour: 0, start: T0, end: T0 + HOUR, demand: () => 4, seed: 1, ...overrides };
}

const close = (actual: number, expected: number) => expect(actual).to.be.closeTo(expected, 1e-9);

describe('cost replay baselines', () => {
  it('optimum: every worker-minute at the cheapest price of that minute, on demand when spot is dearer', () => {
    const o = hindsightOptimum(scenario());
    // 50 minutes at 0.01, 10 at B's 0.02, for 4 workers.
    close(o.cost, 4 * ((50 * 0.01 + 10 * 0.02) / 60));
    close(o.servedHours, 4);
    expect(o.unmetHours).to.equal(0);
  });

  it('a fixed offer is interrupted when its price passes on-demand and cannot relaunch until it falls back', () => {
    const s = scenario();
    const o = simulateRule(s, fixedOffer(A));
    expect(o.interruptions).to.equal(4);
    expect(o.launches).to.equal(8);
    // The first minute (booting) and minutes 30 to 40 (none) unmet, the relaunch at 40 boots until 41.
    close(o.unmetHours, (4 * (1 + 11)) / 60);
    // Billed from launch: 30 minutes, then 20 minutes from minute 40, at 0.01; and the two-minute
    // interruption notice at the max price (on-demand's 0.14), never at the spike's 1.00.
    close(o.cost, (4 * (50 * 0.01 + 2 * 0.14)) / 60);
    // Cheapest at the start, but not over the hour: B's 0.02 beats A's 0.01 with ten minutes at on-demand's 0.14.
    expect(cheapestAtStart(s)).to.equal(A);
    expect(bestFixedInHindsight(s)).to.equal(B);
  });

  it('watch_pending relaunches into the then-cheapest offer after an interruption and never moves back', () => {
    const o = simulateRule(scenario(), cheapestAtLaunch(scenario()));
    expect(o.interruptions).to.equal(4);
    expect(o.launches).to.equal(8);
    close(o.unmetHours, (4 * (1 + 1)) / 60);
    // 30 minutes on A, its two-minute notice at the max price, then from minute 30 to the end on B.
    close(o.cost, (4 * (30 * 0.01 + 2 * 0.14 + 30 * 0.02)) / 60);
  });

  it("runs the simulated CI's jobs on its workers: interruptions kill the jobs on them, on-demand kills none", () => {
    // Four workers busy all the time, and a long day so that the hour's jobs are counted.
    const s = scenario({ end: T0 + 3 * HOUR });
    const spot = simulateRule(s, fixedOffer(A));
    const onDemand = simulateRule(s, allOnDemand(s));
    expect(onDemand.jobs?.completed).to.be.greaterThan(4);
    expect(onDemand.jobs?.killed).to.equal(0);
    // The four workers on A were busy when the spike at minute 30 reclaimed them.
    expect(spot.jobs?.killed).to.equal(4);
    expect(spot.jobs?.completed).to.be.greaterThan(4);
  });

  it('with jobLoad, jobs arrive at that share of the demand: the same workers, about half the jobs at 0.5', () => {
    const s = scenario({ end: T0 + 6 * HOUR });
    const full = simulateRule(s, allOnDemand(s));
    const half = simulateRule({ ...s, jobLoad: 0.5 }, allOnDemand(s));
    close(half.cost, full.cost);
    expect((half.jobs?.completed ?? 0) / (full.jobs?.completed ?? 1)).to.be.within(0.35, 0.65);
  });

  it("on-demand: never interrupted, the cheapest type's list price", () => {
    const o = simulateRule(scenario(), allOnDemand(scenario()));
    expect(o.interruptions).to.equal(0);
    close(o.cost, 4 * 0.14);
    close(o.unmetHours, 4 / 60);
  });

  it('follows demand down, most expensive first', () => {
    const s = scenario({ demand: (t) => (t < T0 + 10 * MIN ? 2 : 1), end: T0 + 20 * MIN });
    let n = 0;
    const alternate = () => ({ offer: n++ % 2 === 0 ? A : B, lifecycle: 'spot' as const });
    const o = simulateRule(s, alternate);
    expect(o.launches).to.equal(2);
    // One on A (0.01), one on B (0.02); at minute 10 the one on B leaves.
    close(o.cost, (10 * (0.01 + 0.02) + 10 * 0.01) / 60);
  });

  it('with a nightly image, replaces every outdated instance once, launch first, after the grace period', () => {
    const start = latestBake(T0) + 24 * HOUR - 30 * MIN; // 03:30, the bake is at 04:00
    const recording = new PriceRecording('test', [{ ...row('us-east-1a', 0, 0.01), t: start }]);
    const market = new Market(new Prng(1).fork('market'), { ...DEFAULT_MARKET, start, recorded: recording, rule: 'price' });
    const s: Scenario = {
      offers: [A],
      market,
      rule: 'price',
      reclaimPerHour: 0,
      start,
      end: start + 2 * HOUR,
      demand: () => 3,
      images: { graceMs: 30 * MIN, bakeMs: 0 },
      seed: 1,
    };
    const o = simulateRule(s, fixedOffer(A));
    expect(o.launches).to.equal(6);
    // Only the first minute unmet; each old instance and its replacement overlap one minute.
    close(o.unmetHours, 3 / 60);
    close(o.cost, ((3 * 120 + 3) * 0.01) / 60);
    // With fleet's rollout rule, each old instance stays until its replacement has run the bake time.
    const baked = simulateRule({ ...s, images: { graceMs: 30 * MIN, bakeMs: 15 * MIN } }, fixedOffer(A));
    expect(baked.launches).to.equal(6);
    close(baked.cost, ((3 * 120 + 3 * (1 + 15)) * 0.01) / 60);
  });

  it('under the capacity rule, an offer over its capacity loses its newest instances', () => {
    const s = scenario({}, 'capacity');
    s.market.setCapacity('us-east-1a', 'm3.large', 'spot', 2);
    const o = simulateRule(s, fixedOffer(A));
    expect(o.launches).to.equal(2 + 2); // two fit; the spike interrupts both, two again after it
    close(o.unmetHours, (2 * 60 + 2 * 1 + 2 * 11) / 60);
  });

  it('demand is the same number over each five-minute slot, 2 at 04:00 UTC and 20 at 16:00 UTC', () => {
    const at = (iso: string) => demandAt('daily', Date.parse(iso));
    expect(at('2016-03-01T04:00:00Z')).to.equal(2);
    expect(at('2016-03-01T16:04:59Z')).to.equal(20);
    expect(at('2016-03-01T10:00:00Z')).to.equal(at('2016-03-01T10:04:00Z'));
    expect(demandAt('constant', T0)).to.equal(10);
  });
});
