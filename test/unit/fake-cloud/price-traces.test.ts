import { expect } from 'chai';
import fc from 'fast-check';
import { generatePriceTrace, PriceTrace, type PricePoint, type PriceRegime } from '../../../src/fake-cloud/price-traces.js';
import { Prng } from '../../../src/fake-cloud/prng.js';

const DAY = 24 * 3600_000;
const START = Date.UTC(2024, 0, 1);
const SEEDS = Array.from({ length: 20 }, (_, i) => i + 1);

function trace(seed: number, days: number, regime?: PriceRegime, onDemandPrice = 0.308, label = 'us-east-1a'): PricePoint[] {
  return generatePriceTrace({ rng: new Prng(seed).fork(label), start: START, end: START + days * DAY, onDemandPrice, regime });
}

/** Time-weighted mean price over [START, end]. */
function timeMean(points: readonly PricePoint[], end: number): number {
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as PricePoint;
    sum += p.price * (Math.min(points[i + 1]?.t ?? end, end) - p.t);
  }
  return sum / (end - START);
}

function changesPerDay(points: readonly PricePoint[], days: number): number {
  return (points.length - 1) / days;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

describe('generatePriceTrace', () => {
  it('is deterministic for a seed, and differs between seeds', () => {
    for (const regime of ['modern', 'volatile'] as const) {
      expect(trace(42, 10, regime)).to.deep.equal(trace(42, 10, regime));
      expect(trace(42, 10, regime)).to.not.deep.equal(trace(43, 10, regime));
    }
  });

  it("defaults to the 'modern' regime", () => {
    expect(trace(5, 10)).to.deep.equal(trace(5, 10, 'modern'));
    expect(trace(5, 10)).to.not.deep.equal(trace(5, 10, 'volatile'));
  });

  it('rejects a window that ends before it starts, and a non-positive on-demand price', () => {
    const rng = new Prng(1);
    expect(() => generatePriceTrace({ rng, start: START, end: START - 1, onDemandPrice: 0.1 })).to.throw(RangeError);
    expect(() => generatePriceTrace({ rng, start: START, end: START + DAY, onDemandPrice: 0 })).to.throw(RangeError);
  });

  it('opens at start, stays within the window, and only records changes, in strictly increasing time', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.integer({ min: 0, max: 2_000_000_000_000 }),
        fc.integer({ min: 0, max: 20 * DAY }),
        fc.double({ min: 0.003, max: 40, noNaN: true }),
        fc.constantFrom<PriceRegime>('modern', 'volatile'),
        (seed, start, length, onDemandPrice, regime) => {
          const points = generatePriceTrace({ rng: new Prng(seed), start, end: start + length, onDemandPrice, regime });
          expect(points[0]?.t).to.equal(start);
          for (let i = 1; i < points.length; i++) {
            const [prev, cur] = [points[i - 1] as PricePoint, points[i] as PricePoint];
            expect(cur.t).to.be.greaterThan(prev.t);
            expect(cur.price).to.not.equal(prev.price);
          }
          expect((points.at(-1) as PricePoint).t).to.be.at.most(start + length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rounds to 4 decimals and keeps modern prices within [0.1, 1] × on-demand, volatile within (0, 10] × on-demand', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        fc.double({ min: 0.003, max: 40, noNaN: true }),
        fc.constantFrom<PriceRegime>('modern', 'volatile'),
        (seed, onDemandPrice, regime) => {
          const [lo, hi] = regime === 'modern' ? [0.1, 1] : [0.05, 10];
          for (const { price } of generatePriceTrace({ rng: new Prng(seed), start: START, end: START + 30 * DAY, onDemandPrice, regime })) {
            expect(price).to.be.greaterThan(0);
            expect(Math.abs(price * 1e4 - Math.round(price * 1e4))).to.be.below(1e-6);
            expect(price).to.be.within(lo * onDemandPrice, hi * onDemandPrice);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('modern: a few changes a day at 25–70% of on-demand, moving smoothly', () => {
    for (const seed of SEEDS) {
      const points = trace(seed, 30, 'modern');
      expect(changesPerDay(points, 30)).to.be.within(1, 12);
      expect(timeMean(points, START + 30 * DAY) / 0.308).to.be.within(0.25, 0.7);
      for (let i = 1; i < points.length; i++) {
        const ratio = (points[i] as PricePoint).price / (points[i - 1] as PricePoint).price;
        expect(ratio, 'no jumps between consecutive prices').to.be.within(0.9, 1.1);
      }
    }
  });

  it('modern: the AZs of one type sit close together, while the level differs between AZs', () => {
    const azs = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d', 'us-east-1e'];
    for (const seed of SEEDS.slice(0, 5)) {
      const means = azs.map((az) => timeMean(trace(seed, 30, 'modern', 0.308, az), START + 30 * DAY));
      expect(Math.max(...means) / Math.min(...means)).to.be.within(1.001, 1.35);
    }
  });

  it('volatile: many more changes a day than modern, on a low base', () => {
    const modern = SEEDS.map((seed) => changesPerDay(trace(seed, 30, 'modern'), 30));
    const volatile = SEEDS.map((seed) => changesPerDay(trace(seed, 30, 'volatile'), 30));
    expect(Math.min(...volatile)).to.be.above(Math.max(...modern));
    expect(median(volatile)).to.be.above(10 * median(modern));
    for (const seed of SEEDS) {
      const prices = trace(seed, 30, 'volatile').map((p) => p.price);
      expect(median(prices) / 0.308).to.be.within(0.05, 0.3);
    }
  });

  it('volatile: most 60-day traces spike above on-demand, and spikes fall back within hours', () => {
    let withSpike = 0;
    for (const seed of SEEDS) {
      const points = trace(seed, 60, 'volatile', 0.067);
      if (points.some((p) => p.price > 0.067)) withSpike++;
      // Longest stretch above on-demand.
      let longest = 0;
      for (let i = 0; i < points.length; i++) {
        const p = points[i] as PricePoint;
        if (p.price > 0.067) longest = Math.max(longest, (points[i + 1]?.t ?? START + 60 * DAY) - p.t);
      }
      expect(longest).to.be.below(DAY / 2);
    }
    expect(withSpike).to.be.at.least(12);
  });
});

describe('PriceTrace', () => {
  const points: PricePoint[] = [
    { t: 1000, price: 0.1 },
    { t: 2000, price: 0.2 },
    { t: 3000, price: 0.3 },
  ];
  const prices = new PriceTrace(points);

  it('rejects an empty or unsorted list of points', () => {
    expect(() => new PriceTrace([])).to.throw(RangeError);
    expect(() => new PriceTrace([points[1] as PricePoint, points[0] as PricePoint])).to.throw(RangeError);
  });

  it('priceAt: the first price before the first point, the new price exactly at a change, the last after the end', () => {
    expect(prices.priceAt(0)).to.equal(0.1);
    expect(prices.priceAt(1000)).to.equal(0.1);
    expect(prices.priceAt(1999)).to.equal(0.1);
    expect(prices.priceAt(2000)).to.equal(0.2);
    expect(prices.priceAt(2500)).to.equal(0.2);
    expect(prices.priceAt(3000)).to.equal(0.3);
    expect(prices.priceAt(1e15)).to.equal(0.3);
  });

  it('priceAt: at equal times the later point wins', () => {
    const same = new PriceTrace([
      { t: 1000, price: 0.1 },
      { t: 1000, price: 0.5 },
    ]);
    expect(same.priceAt(1000)).to.equal(0.5);
    expect(same.priceAt(999)).to.equal(0.1);
  });

  it('pointsBetween: the point in effect at `from`, then the changes up to and including `to`', () => {
    expect(prices.pointsBetween(1500, 2500)).to.deep.equal([points[0], points[1]]);
    expect(prices.pointsBetween(2000, 2500)).to.deep.equal([points[1]]);
    expect(prices.pointsBetween(1500, 3000)).to.deep.equal(points);
    expect(prices.pointsBetween(2999, 2999)).to.deep.equal([points[1]]);
    expect(prices.pointsBetween(3000, 3000)).to.deep.equal([points[2]]);
    expect(prices.pointsBetween(5000, 9000)).to.deep.equal([points[2]]);
  });

  it('pointsBetween: before the first point there is nothing in effect; an inverted range is empty', () => {
    expect(prices.pointsBetween(0, 500)).to.deep.equal([]);
    expect(prices.pointsBetween(0, 1000)).to.deep.equal([points[0]]);
    expect(prices.pointsBetween(0, 2000)).to.deep.equal([points[0], points[1]]);
    expect(prices.pointsBetween(2500, 1500)).to.deep.equal([]);
  });

  it('pointsBetween: keeps every point at exactly `from`', () => {
    const same = new PriceTrace([
      { t: 500, price: 0.05 },
      { t: 1000, price: 0.1 },
      { t: 1000, price: 0.5 },
    ]);
    expect(same.pointsBetween(1000, 2000).map((p) => p.price)).to.deep.equal([0.1, 0.5]);
  });

  it('agrees with a linear scan on generated traces', () => {
    const generated = trace(9, 3, 'volatile');
    const subject = new PriceTrace(generated);
    const end = START + 3 * DAY;
    fc.assert(
      fc.property(fc.integer({ min: START - DAY, max: end + DAY }), fc.integer({ min: 0, max: DAY }), (from, length) => {
        const to = from + length;
        const inEffect = generated.filter((p) => p.t <= from).at(-1);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc, with noUncheckedIndexedAccess, needs it
        expect(subject.priceAt(from)).to.equal((inEffect ?? (generated[0] as PricePoint)).price);
        const expected = generated.filter((p) => (p.t >= from && p.t <= to) || p === inEffect);
        expect(subject.pointsBetween(from, to)).to.deep.equal(expected);
      }),
      { numRuns: 300 },
    );
  });
});
