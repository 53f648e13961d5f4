import PQueue from 'p-queue';
import type { Clock } from '../domain/clock.js';

/** A token bucket on the injected clock: `take()` resolves once a token is available. */
export class TokenBucket {
  private tokens: number;
  private updated: number;

  constructor(
    readonly capacity: number,
    readonly refillPerSecond: number,
    private readonly clock: Clock,
  ) {
    this.tokens = capacity;
    this.updated = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updated) / 1000) * this.refillPerSecond);
    this.updated = now;
  }

  async take(): Promise<void> {
    for (;;) {
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.refillPerSecond) * 1000));
    }
  }
}

export type CallKind = 'describe' | 'mutate' | 'run';

/**
 * EC2's own request buckets per account and region (describe 100 / 20 per s, mutating 200 / 5 per s,
 * RunInstances 5 / 2 per s): pacing calls to them means throttling stays the exception.
 */
export const EC2_BUCKETS: Readonly<Record<CallKind, { capacity: number; refillPerSecond: number }>> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  mutate: { capacity: 200, refillPerSecond: 5 },
  run: { capacity: 5, refillPerSecond: 2 },
};

/** One region's limiter: a bucket per kind of call, and a bound on calls in flight. */
export class RegionLimiter {
  private readonly buckets: Record<CallKind, TokenBucket>;
  private readonly queue: PQueue;

  constructor(clock: Clock, concurrency = 8) {
    this.buckets = {
      describe: new TokenBucket(EC2_BUCKETS.describe.capacity, EC2_BUCKETS.describe.refillPerSecond, clock),
      mutate: new TokenBucket(EC2_BUCKETS.mutate.capacity, EC2_BUCKETS.mutate.refillPerSecond, clock),
      run: new TokenBucket(EC2_BUCKETS.run.capacity, EC2_BUCKETS.run.refillPerSecond, clock),
    };
    this.queue = new PQueue({ concurrency });
  }

  schedule<T>(kind: CallKind, call: () => Promise<T>): Promise<T> {
    return this.queue.add(async () => {
      await this.buckets[kind].take();
      return call();
    }) as Promise<T>;
  }
}
