import { expect } from 'chai';
import type { RegionCompute, SpotPriceQuery } from '../../../src/cloud/port.js';
import type { SpotPrice } from '../../../src/domain/types.js';
import { silentLogger } from '../../../src/service/logger.js';
import { PriceCache, recentHistory } from '../../../src/service/price-cache.js';
import { T0 } from '../../support/builders.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const price = (t: number, value: number, az = 'us-east-1a'): SpotPrice => ({
  region: 'us-east-1',
  az,
  instanceType: 'c5.xlarge',
  productDescription: 'Linux/UNIX',
  price: value,
  timestamp: t,
});

/** A region whose price history is `changes`, answering as DescribeSpotPriceHistory does: the price in effect at the start, then every change. */
function region(changes: SpotPrice[]): { compute: RegionCompute; queries: SpotPriceQuery[] } {
  const queries: SpotPriceQuery[] = [];
  const compute = {
    region: 'us-east-1',
    async spotPriceHistoryPage(query: SpotPriceQuery) {
      queries.push(query);
      const until = query.until ?? Number.POSITIVE_INFINITY;
      const before = changes.filter((c) => c.timestamp <= query.since).at(-1);
      const after = changes.filter((c) => c.timestamp > query.since && c.timestamp <= until);
      return { items: [...(before ? [before] : []), ...after] };
    },
  } as unknown as RegionCompute;
  return { compute, queries };
}

describe('spot price history cache', () => {
  it('asks for the whole history window once, then only for what changed since its last answer', async () => {
    const changes = [price(T0 - 8 * HOUR, 0.1), price(T0 - 3 * HOUR, 0.2), price(T0 - 1 * HOUR, 0.15)];
    const { compute, queries } = region(changes);
    const cache = new PriceCache(5 * MIN, silentLogger());
    const first = await cache.spot(compute, ['c5.xlarge'], 'Linux/UNIX', T0, 6 * HOUR);
    expect(queries.map((q) => q.since)).to.deep.equal([T0 - 6 * HOUR]);
    expect(first.map((p) => p.price)).to.deep.equal([0.1, 0.2, 0.15]);

    // Within the TTL: no call.
    await cache.spot(compute, ['c5.xlarge'], 'Linux/UNIX', T0 + 2 * MIN, 6 * HOUR);
    expect(queries).to.have.length(1);

    changes.push(price(T0 + 4 * MIN, 0.12));
    const later = await cache.spot(compute, ['c5.xlarge'], 'Linux/UNIX', T0 + 6 * MIN, 6 * HOUR);
    expect(queries.map((q) => q.since)).to.deep.equal([T0 - 6 * HOUR, T0]);
    // The price in effect at the last answer comes again: kept once.
    expect(later.map((p) => p.price)).to.deep.equal([0.1, 0.2, 0.15, 0.12]);
  });

  it('keeps each offer from the price in effect at the window start on', () => {
    const prices = [
      price(T0 - 9 * HOUR, 0.3),
      price(T0 - 7 * HOUR, 0.1),
      price(T0 - 2 * HOUR, 0.2),
      price(T0 - 8 * HOUR, 0.5, 'us-east-1b'),
    ];
    const kept = recentHistory(prices, T0 - 6 * HOUR);
    expect(kept.map((p) => `${p.az} ${p.price}`)).to.deep.equal(['us-east-1a 0.1', 'us-east-1a 0.2', 'us-east-1b 0.5']);
  });

  it('keeps the previous history when a refresh fails', async () => {
    const { compute } = region([price(T0 - HOUR, 0.1)]);
    const cache = new PriceCache(5 * MIN, silentLogger());
    await cache.spot(compute, ['c5.xlarge'], 'Linux/UNIX', T0, 6 * HOUR);
    const failing = {
      region: 'us-east-1',
      spotPriceHistoryPage: async () => Promise.reject(Object.assign(new Error('slow down'), { name: 'RequestLimitExceeded' })),
    } as unknown as RegionCompute;
    const kept = await cache.spot(failing, ['c5.xlarge'], 'Linux/UNIX', T0 + 10 * MIN, 6 * HOUR);
    expect(kept.map((p) => p.price)).to.deep.equal([0.1]);
  });
});
