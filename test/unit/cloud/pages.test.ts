import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { expect } from 'chai';
import { CallCounter, GuardedCompute } from '../../../src/cloud/guarded.js';
import { EC2_BUCKETS } from '../../../src/cloud/limiter.js';
import { listInstances } from '../../../src/cloud/pages.js';
import type { Page, RegionCompute } from '../../../src/cloud/port.js';
import type { Instance } from '../../../src/domain/types.js';
import { SimClock } from '../../../src/fake-cloud/clock.js';
import { instance } from '../../support/builders.js';

const throttled = () =>
  new EC2ServiceException({
    name: 'RequestLimitExceeded',
    $fault: 'server',
    $metadata: { httpStatusCode: 503 },
    message: 'Request limit exceeded.',
  });

/** A region whose listing comes in `pages` pages of one instance each; `failOn` pages throw once. */
function pagedRegion(pages: number, failOn: ReadonlySet<number> = new Set()) {
  const items = Array.from({ length: pages }, () => instance());
  const asked: { page: number; t: number }[] = [];
  const failed = new Set<number>();
  const clock = new SimClock(0);
  const unused = () => Promise.reject(new Error('not used here'));
  const raw: RegionCompute = {
    region: 'us-east-1',
    async listInstancesPage(_fleet: string, next?: string): Promise<Page<Instance>> {
      const page = next === undefined ? 1 : Number(next);
      asked.push({ page, t: clock.now() });
      if (failOn.has(page) && !failed.has(page)) {
        failed.add(page);
        throw throttled();
      }
      return { items: [items[page - 1] as Instance], ...(page < pages ? { next: String(page + 1) } : {}) };
    },
    describeSubnets: unused,
    spotPriceHistoryPage: unused,
    launch: unused,
    nameInstance: unused,
    terminate: unused,
    retire: unused,
    describeImages: unused,
    imagesOwnedBy: unused,
    imagesInUse: unused,
    deregisterImage: unused,
  };
  const counter = new CallCounter();
  const compute = new GuardedCompute(raw, { clock, random: () => 0.5, counter });
  return { compute, clock, asked, items, counter };
}

describe('paginated listings through the guarded cloud', () => {
  it('retries a throttled page on its own: a throttle on page k never restarts at page 1', async () => {
    const region = pagedRegion(5, new Set([3]));
    const listed = await region.clock.run(() => listInstances(region.compute, 'releng'));
    expect(listed.map((i) => i.id)).to.deep.equal(region.items.map((i) => i.id));
    expect(region.asked.map((a) => a.page)).to.deep.equal([1, 2, 3, 3, 4, 5]);
    // Every page, the retried one too, is a call of its own.
    expect(region.counter.calls.get('us-east-1 DescribeInstances')).to.equal(6);
    expect(region.counter.retries.get('us-east-1 DescribeInstances')).to.equal(1);
  });

  it('takes a rate-limit token per page: a listing longer than the describe bucket is paced at its refill rate', async () => {
    const { capacity, refillPerSecond } = EC2_BUCKETS.describe;
    const pages = capacity + 2 * refillPerSecond;
    const region = pagedRegion(pages);
    await region.clock.run(() => listInstances(region.compute, 'releng'));
    expect(region.asked).to.have.length(pages);
    // Simulated time: the first `capacity` pages go at once, the rest at the bucket's refill rate.
    expect(region.asked[capacity - 1]?.t).to.equal(0);
    expect(region.asked.at(-1)?.t).to.be.at.least(((pages - capacity) / refillPerSecond) * 1000 - 1);
  });
});
