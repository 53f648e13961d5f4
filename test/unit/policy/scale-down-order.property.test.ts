import { expect } from 'chai';
import fc from 'fast-check';
import type { Instance, Lifecycle } from '../../../src/domain/types.js';
import { terminationOrder } from '../../../src/policy/scale-down.js';

/**
 * The termination order as first written, one comparison at a time (prices and ranks looked up on
 * every comparison): the reference the faster order must match exactly.
 */
function referenceOrder(
  instances: readonly Instance[],
  unitPrice: (i: Instance) => number | undefined,
  rank: (i: Instance) => number,
): Instance[] {
  return [...instances].sort((a, b) => {
    if (a.lifecycle !== b.lifecycle) return a.lifecycle === 'on-demand' ? -1 : 1;
    const ra = rank(a);
    const rb = rank(b);
    if (ra !== rb) return ra - rb;
    const pa = unitPrice(a) ?? Number.NEGATIVE_INFINITY;
    const pb = unitPrice(b) ?? Number.NEGATIVE_INFINITY;
    if (pa !== pb) return pb - pa;
    return b.launchTime - a.launchTime || a.id.localeCompare(b.id);
  });
}

// Few distinct values for every key, so that ties (equal rank, price, launch time) are common.
const instanceArb = fc.record({
  lifecycle: fc.constantFrom<Lifecycle>('spot', 'spot', 'on-demand'),
  launchTime: fc.integer({ min: 0, max: 5 }),
  price: fc.option(fc.constantFrom(0.05, 0.1, 0.1, 0.2), { nil: undefined }),
  rank: fc.integer({ min: 0, max: 2 }),
});

describe('terminationOrder (property: equals the reference comparator)', () => {
  it('orders random instances exactly as the reference comparison does', () => {
    fc.assert(
      fc.property(fc.array(instanceArb, { maxLength: 60 }), (rows) => {
        // ids in a shuffled order, so that the id tiebreak is not the input order
        const instances = rows.map((r, n): Instance => ({
          id: `i-${((n * 7919) % 997).toString(16)}-${n}`,
          name: `w-${n}`,
          pool: 'p',
          region: 'us-east-1',
          az: 'us-east-1a',
          instanceType: 'c5.xlarge',
          lifecycle: r.lifecycle,
          state: 'running',
          ami: 'ami-1',
          launchTime: r.launchTime,
        }));
        const byId = new Map(instances.map((i, n) => [i.id, rows[n] as (typeof rows)[number]]));
        const unitPrice = (i: Instance) => byId.get(i.id)?.price;
        const rank = (i: Instance) => byId.get(i.id)?.rank ?? 0;
        const ids = (list: readonly Instance[]) => list.map((i) => i.id);
        const ranks = new Map(instances.map((i) => [i, rank(i)]));
        expect(ids(terminationOrder(instances, { get: unitPrice }, ranks))).to.deep.equal(ids(referenceOrder(instances, unitPrice, rank)));
        expect(ids(terminationOrder(instances, { get: unitPrice }))).to.deep.equal(ids(referenceOrder(instances, unitPrice, () => 0)));
      }),
      { numRuns: 300 },
    );
  });

  it('looks each instance up once, not once per comparison', () => {
    const instances = Array.from({ length: 200 }, (_, n): Instance => ({
      id: `i-${n}`,
      name: `w-${n}`,
      pool: 'p',
      region: 'us-east-1',
      az: 'us-east-1a',
      instanceType: 'c5.xlarge',
      lifecycle: n % 5 ? 'spot' : 'on-demand',
      state: 'running',
      ami: 'ami-1',
      launchTime: n % 7,
    }));
    let lookups = 0;
    const ranks = new Map(instances.map((i) => [i, i.launchTime % 2]));
    const counted = { get: (i: Instance) => (lookups++, ranks.get(i)) };
    terminationOrder(instances, { get: (i) => (lookups++, (i.launchTime % 3) / 10) }, counted);
    expect(lookups).to.equal(2 * instances.length);
  });
});
