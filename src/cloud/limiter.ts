import PQueue from 'p-queue';
import type { Clock } from '../domain/clock.js';

/** A token bucket on the injected clock: `take(n)` resolves once n tokens are available. */
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

  /** Tokens that can be taken now without waiting. */
  available(): number {
    this.refill();
    return Math.floor(this.tokens);
  }

  async take(n = 1): Promise<void> {
    const wanted = Math.min(n, this.capacity);
    for (;;) {
      this.refill();
      if (this.tokens >= wanted) {
        this.tokens -= wanted;
        return;
      }
      await this.clock.sleep(Math.ceil(((wanted - this.tokens) / this.refillPerSecond) * 1000));
    }
  }
}

export type CallKind = 'describe' | 'mutate' | 'run' | 'terminate';
/** Buckets counted in instances rather than requests. */
export type ResourceKind = 'run-instances' | 'terminate-instances';

/**
 * EC2's own buckets per account and region. Requests: describe 100 / 20 per s, mutating 200 / 5 per s,
 * RunInstances 5 / 2 per s. Resources (one token per instance): RunInstances 1,000 / 2 per s,
 * TerminateInstances 1,000 / 20 per s. Pacing calls to them means throttling stays the exception.
 */
export const EC2_BUCKETS: Readonly<Record<CallKind | ResourceKind, { capacity: number; refillPerSecond: number }>> = {
  describe: { capacity: 100, refillPerSecond: 20 },
  mutate: { capacity: 200, refillPerSecond: 5 },
  run: { capacity: 5, refillPerSecond: 2 },
  terminate: { capacity: 200, refillPerSecond: 5 },
  'run-instances': { capacity: 1000, refillPerSecond: 2 },
  'terminate-instances': { capacity: 1000, refillPerSecond: 20 },
};

const RESOURCE_OF: Partial<Record<CallKind, ResourceKind>> = { run: 'run-instances', terminate: 'terminate-instances' };

/** One region's limiter: a bucket per kind of call and per kind of resource, and a bound on calls in flight. */
export class RegionLimiter {
  private readonly buckets: Record<CallKind | ResourceKind, TokenBucket>;
  private readonly queue: PQueue;

  constructor(clock: Clock, concurrency = 8) {
    const bucket = (kind: CallKind | ResourceKind) => new TokenBucket(EC2_BUCKETS[kind].capacity, EC2_BUCKETS[kind].refillPerSecond, clock);
    this.buckets = {
      describe: bucket('describe'),
      mutate: bucket('mutate'),
      run: bucket('run'),
      terminate: bucket('terminate'),
      'run-instances': bucket('run-instances'),
      'terminate-instances': bucket('terminate-instances'),
    };
    this.queue = new PQueue({ concurrency });
  }

  /** Instances a call of this kind could act on now without waiting for its resource bucket. */
  resourcesAvailable(kind: ResourceKind): number {
    return this.buckets[kind].available();
  }

  /** Calls of this kind that could start now without waiting for their request bucket. */
  requestsAvailable(kind: CallKind): number {
    return this.buckets[kind].available();
  }

  /**
   * Run `call` once its request token (and `resources` resource tokens) are in hand. Tokens are
   * waited for before the call takes one of the concurrency slots: a call waiting for its bucket
   * (names waiting for the mutate bucket, say) never holds up calls of other kinds.
   */
  async schedule<T>(kind: CallKind, call: () => Promise<T>, resources = 0): Promise<T> {
    await this.buckets[kind].take();
    const resource = RESOURCE_OF[kind];
    if (resource !== undefined && resources > 0) await this.buckets[resource].take(resources);
    return this.queue.add<T>(call);
  }
}
