import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { expect } from 'chai';
import fc from 'fast-check';
import { CloudError, type ErrorClass } from '../../../src/cloud/errors.js';
import { EC2_BUCKETS, RegionLimiter, TokenBucket } from '../../../src/cloud/limiter.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../../../src/cloud/retry.js';
import type { Clock } from '../../../src/domain/clock.js';
import { SimClock } from '../../../src/fake-cloud/clock.js';
import { rejection } from '../../support/expect.js';

/** A clock that never waits: it records every sleep and moves its own time. */
class RecordingClock implements Clock {
  readonly sleeps: number[] = [];
  private t = 0;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.t += ms;
  }
}

const ec2 = (code: string, status: number) =>
  new EC2ServiceException({
    name: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    message: `${code} (${status})`,
  });
const THROTTLED = () => ec2('RequestLimitExceeded', 503);
const TRANSIENT = () => ec2('InternalError', 500);

/** A call that fails with `failures` in order, then returns `value`; counts its calls. */
function scripted<T>(failures: (() => unknown)[], value: T) {
  const call = async () => {
    call.calls++;
    const next = failures[call.calls - 1];
    if (next) throw next();
    return value;
  };
  call.calls = 0;
  return call;
}

describe('cloud retry: withRetry', () => {
  let clock: RecordingClock;
  const options = (over: Partial<RetryOptions> = {}): RetryOptions => ({
    clock,
    attempts: 5,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random: () => 0.5,
    ...over,
  });
  beforeEach(() => {
    clock = new RecordingClock();
  });

  it('returns the value of a call that succeeds, without sleeping', async () => {
    const call = scripted([], 'ok');
    expect(await withRetry(call, options())).to.equal('ok');
    expect(call.calls).to.equal(1);
    expect(clock.sleeps).to.deep.equal([]);
  });

  it('retries throttling and transient failures until the call succeeds', async () => {
    const call = scripted([THROTTLED, TRANSIENT, THROTTLED], 42);
    expect(await withRetry(call, options())).to.equal(42);
    expect(call.calls).to.equal(4);
    expect(clock.sleeps).to.have.length(3);
  });

  it('retries network errors', async () => {
    const call = scripted([() => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })], 'ok');
    expect(await withRetry(call, options())).to.equal('ok');
    expect(call.calls).to.equal(2);
  });

  it('makes `attempts` calls in all, then throws the classified error', async () => {
    const call = scripted(
      Array.from({ length: 10 }, () => THROTTLED),
      'never',
    );
    const error = await rejection(withRetry(call, options({ attempts: 4 })));
    expect(call.calls).to.equal(4);
    expect(clock.sleeps).to.have.length(3);
    expect(error).to.be.instanceOf(CloudError);
    expect(error).to.include({ errorClass: 'throttled', code: 'RequestLimitExceeded', httpStatus: 503 });
  });

  it('attempts: 1 means no retry at all', async () => {
    const call = scripted([TRANSIENT], 'never');
    expect(await rejection(withRetry(call, options({ attempts: 1 })))).to.include({ errorClass: 'transient' });
    expect(call.calls).to.equal(1);
    expect(clock.sleeps).to.deep.equal([]);
  });

  it('the backoff ceiling doubles from baseDelayMs up to maxDelayMs', async () => {
    const call = scripted(
      Array.from({ length: 7 }, () => THROTTLED),
      'ok',
    );
    // random() → 0.5: each sleep is half its ceiling (100, 200, 400, 800, 1000, 1000, 1000)
    await withRetry(call, options({ attempts: 8, random: () => 0.5 }));
    expect(clock.sleeps).to.deep.equal([50, 100, 200, 400, 500, 500, 500]);
  });

  it('full jitter: random() → 0 means no wait, random() just below 1 means just below the ceiling', async () => {
    await withRetry(scripted([THROTTLED, THROTTLED, THROTTLED], 'ok'), options({ random: () => 0 }));
    expect(clock.sleeps).to.deep.equal([0, 0, 0]);
    clock = new RecordingClock();
    await withRetry(scripted([THROTTLED, THROTTLED, THROTTLED], 'ok'), options({ random: () => 0.9999 }));
    expect(clock.sleeps).to.deep.equal([99, 199, 399]);
  });

  it('property: every sleep is in [0, min(maxDelayMs, baseDelayMs · 2^(n-1)))', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 12, maxLength: 12 }),
        async (base, max, attempts, randoms) => {
          const recording = new RecordingClock();
          let r = 0;
          const call = scripted(
            Array.from({ length: 20 }, () => TRANSIENT),
            'never',
          );
          await rejection(withRetry(call, { clock: recording, attempts, baseDelayMs: base, maxDelayMs: max, random: () => randoms[r++]! }));
          expect(call.calls).to.equal(attempts);
          expect(recording.sleeps).to.have.length(attempts - 1);
          recording.sleeps.forEach((ms, n) => {
            const ceiling = Math.min(max, base * 2 ** n);
            expect(ms).to.equal(Math.floor(randoms[n]! * ceiling));
            expect(ms).to.be.at.least(0).and.below(ceiling);
          });
        },
      ),
    );
  });

  const never: [ErrorClass, () => unknown][] = [
    ['capacity', () => ec2('InsufficientInstanceCapacity', 500)],
    ['invalid', () => ec2('InvalidParameterValue', 400)],
    ['permission', () => ec2('UnauthorizedOperation', 403)],
    ['not-found', () => ec2('InvalidInstanceID.NotFound', 400)],
    ['conflict', () => ec2('PreconditionFailed', 412)],
    ['fatal', () => new Error('a bug')],
  ];
  for (const [errorClass, failure] of never) {
    it(`never retries ${errorClass}`, async () => {
      const call = scripted([failure], 'never');
      const error = await rejection(withRetry(call, options()));
      expect(error).to.be.instanceOf(CloudError).and.include({ errorClass });
      expect(call.calls).to.equal(1);
      expect(clock.sleeps).to.deep.equal([]);
    });
  }

  it('stops at the first non-retryable error after retryable ones, and throws that one', async () => {
    const call = scripted([THROTTLED, () => ec2('InsufficientInstanceCapacity', 500)], 'never');
    const error = await rejection(withRetry(call, options()));
    expect(error).to.include({ errorClass: 'capacity', code: 'InsufficientInstanceCapacity' });
    expect(call.calls).to.equal(2);
    expect(clock.sleeps).to.have.length(1);
  });

  it('alsoRetry retries the classes it names', async () => {
    const call = scripted([() => ec2('InvalidInstanceID.NotFound', 400), () => ec2('InvalidInstanceID.NotFound', 400)], 'found');
    expect(await withRetry(call, options({ alsoRetry: ['not-found'] }))).to.equal('found');
    expect(call.calls).to.equal(3);
  });

  it('alsoRetry leaves other classes alone', async () => {
    const call = scripted([() => ec2('InsufficientInstanceCapacity', 500)], 'never');
    expect(await rejection(withRetry(call, options({ alsoRetry: ['not-found'] })))).to.include({ errorClass: 'capacity' });
    expect(call.calls).to.equal(1);
  });

  it('alsoRetry is bounded by attempts too', async () => {
    const call = scripted(
      Array.from({ length: 10 }, () => () => ec2('InvalidInstanceID.NotFound', 400)),
      'never',
    );
    expect(await rejection(withRetry(call, options({ attempts: 3, alsoRetry: ['not-found'] })))).to.include({ errorClass: 'not-found' });
    expect(call.calls).to.equal(3);
  });

  it('tells onRetry each error, attempt number and delay, matching the sleeps', async () => {
    const seen: [ErrorClass, number, number][] = [];
    await withRetry(
      scripted([THROTTLED, TRANSIENT], 'ok'),
      options({ onRetry: (e, attempt, delay) => seen.push([e.errorClass, attempt, delay]) }),
    );
    expect(seen).to.deep.equal([
      ['throttled', 1, 50],
      ['transient', 2, 100],
    ]);
    expect(clock.sleeps).to.deep.equal([50, 100]);
  });

  it('a call that throws synchronously is classified too', async () => {
    const call = () => {
      throw new Error('sync');
    };
    expect(await rejection(withRetry(call as () => Promise<never>, options())))
      .to.be.instanceOf(CloudError)
      .and.include({ errorClass: 'fatal' });
  });

  it('the defaults retry 6 times in all from 250 ms up to 20 s', () => {
    expect(DEFAULT_RETRY).to.deep.equal({ attempts: 6, baseDelayMs: 250, maxDelayMs: 20_000 });
  });
});

describe('cloud limiter: TokenBucket', () => {
  const T0 = 1_700_000_000_000;

  /** Takes `n` tokens one after the other; returns the simulated time of each, from T0. */
  async function takeSequentially(bucket: TokenBucket, clock: SimClock, n: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      await bucket.take();
      times.push(clock.now() - T0);
    }
    return times;
  }

  it('a burst up to capacity passes at once', async () => {
    const clock = new SimClock(T0);
    const times = await takeSequentially(new TokenBucket(5, 2, clock), clock, 5);
    expect(times).to.deep.equal([0, 0, 0, 0, 0]);
  });

  it('after the burst, calls are paced at the refill rate', async () => {
    const clock = new SimClock(T0);
    const times = await takeSequentially(new TokenBucket(5, 2, clock), clock, 9);
    expect(times).to.deep.equal([0, 0, 0, 0, 0, 500, 1000, 1500, 2000]);
  });

  it('concurrent callers are paced too', async () => {
    const clock = new SimClock(T0);
    const bucket = new TokenBucket(3, 4, clock);
    const times: number[] = [];
    await Promise.all(Array.from({ length: 7 }, () => bucket.take().then(() => times.push(clock.now() - T0))));
    expect(times.sort((a, b) => a - b)).to.deep.equal([0, 0, 0, 250, 500, 750, 1000]);
  });

  it('refills while idle, but never above capacity', async () => {
    const clock = new SimClock(T0);
    const bucket = new TokenBucket(4, 2, clock);
    await takeSequentially(bucket, clock, 4);
    clock.advanceTo(T0 + 1000); // two tokens back
    const start = clock.now();
    const afterOneSecond: number[] = [];
    for (let i = 0; i < 3; i++) {
      await bucket.take();
      afterOneSecond.push(clock.now() - start);
    }
    expect(afterOneSecond).to.deep.equal([0, 0, 500]);

    clock.advanceTo(clock.now() + 3_600_000); // an hour idle: still only 4
    const later = clock.now();
    const afterAnHour: number[] = [];
    for (let i = 0; i < 5; i++) {
      await bucket.take();
      afterAnHour.push(clock.now() - later);
    }
    expect(afterAnHour).to.deep.equal([0, 0, 0, 0, 500]);
  });

  it('a partly refilled token is not enough: the call waits for the rest of it', async () => {
    const clock = new SimClock(T0);
    const bucket = new TokenBucket(2, 2, clock);
    await takeSequentially(bucket, clock, 2);
    clock.advanceTo(T0 + 300); // 0.6 of a token
    await bucket.take();
    expect(clock.now() - T0).to.equal(500);
  });

  it('property: never faster than capacity + rate · elapsed, never slower than one refill per call', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.constantFrom(0.5, 1, 2, 3, 5, 7, 20, 100, 1000, 2000),
        fc.integer({ min: 1, max: 60 }),
        async (capacity, rate, n) => {
          const clock = new SimClock(T0);
          const times = await takeSequentially(new TokenBucket(capacity, rate, clock), clock, n);
          times.forEach((t, k) => {
            const taken = k + 1;
            // the bucket allows at most capacity + rate · t tokens by time t
            expect(taken, `take ${taken} at ${t} ms`).to.be.at.most(capacity + (t * rate) / 1000 + 1e-9);
            // and pacing costs at most one rounded-up refill interval per call beyond the burst
            expect(t, `take ${taken}`).to.be.at.most(Math.max(0, taken - capacity) * Math.ceil(1000 / rate));
          });
          // times never go backwards
          expect([...times].sort((a, b) => a - b)).to.deep.equal(times);
        },
      ),
    );
  });
});

describe('cloud limiter: RegionLimiter', () => {
  it('uses EC2 RunInstances bucket: 5 at once, then 2 per second', async () => {
    const clock = new SimClock(0);
    const limiter = new RegionLimiter(clock);
    const times: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        limiter.schedule('run', async () => {
          times.push(clock.now());
          return i;
        }),
      ),
    );
    expect(results).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(times.sort((a, b) => a - b)).to.deep.equal([0, 0, 0, 0, 0, 500, 1000, 1500]);
    expect(EC2_BUCKETS.run).to.deep.equal({ capacity: 5, refillPerSecond: 2 });
  });

  it('keeps one bucket per kind of call', async () => {
    const clock = new SimClock(0);
    const limiter = new RegionLimiter(clock);
    for (let i = 0; i < 5; i++) await limiter.schedule('run', async () => undefined);
    // the run bucket is empty, the describe bucket is not
    await limiter.schedule('describe', async () => undefined);
    expect(clock.now()).to.equal(0);
    await limiter.schedule('run', async () => undefined);
    expect(clock.now()).to.equal(500);
  });

  it('a call waiting for its bucket holds no concurrency slot: other kinds go at once', async () => {
    const clock = new SimClock(0);
    const limiter = new RegionLimiter(clock, 2);
    const times: Record<string, number> = {};
    await clock.run(async () => {
      for (let i = 0; i < EC2_BUCKETS.mutate.capacity; i++) await limiter.schedule('mutate', async () => undefined);
      expect(limiter.requestsAvailable('mutate')).to.equal(0);
      // Four names wait for mutate tokens (the last one 800 ms); a describe call must not wait behind them.
      const waiting = Array.from({ length: 4 }, (_, i) => limiter.schedule('mutate', async () => void (times[`name${i}`] = clock.now())));
      const describe = limiter.schedule('describe', async () => void (times.describe = clock.now()));
      await Promise.all([...waiting, describe]);
    });
    expect(times.describe).to.equal(0);
    expect([times.name0, times.name3]).to.deep.equal([200, 800]);
  });

  it('passes a failure of the call through', async () => {
    const limiter = new RegionLimiter(new SimClock(0));
    const error = await rejection(limiter.schedule('mutate', async () => Promise.reject(new Error('boom'))));
    expect(error.message).to.equal('boom');
  });
});
