import type { Clock } from '../domain/clock.js';
import type { Instance, SpotPrice, Subnet } from '../domain/types.js';
import type { CallKind } from './limiter.js';
import { RegionLimiter } from './limiter.js';
import type { ImageRecord, LaunchRequest, RegionCompute, SpotPriceQuery } from './port.js';
import { DEFAULT_RETRY, type RetryOptions, withRetry } from './retry.js';
import type { CloudError } from './errors.js';

/** Counts every call that reaches the cloud, by region and action, and every retry. */
export class CallCounter {
  readonly calls = new Map<string, number>();
  readonly retries = new Map<string, number>();

  count(region: string, action: string): void {
    const key = `${region} ${action}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  retried(region: string, action: string): void {
    const key = `${region} ${action}`;
    this.retries.set(key, (this.retries.get(key) ?? 0) + 1);
  }

  total(): number {
    let sum = 0;
    for (const n of this.calls.values()) sum += n;
    return sum;
  }

  reset(): void {
    this.calls.clear();
    this.retries.clear();
  }
}

export interface GuardOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly counter?: CallCounter;
  readonly onRetry?: (region: string, action: string, error: CloudError, attempt: number, delayMs: number) => void;
  readonly retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>;
}

/**
 * Wraps one region's raw compute with the region's rate limiter, retries with backoff and jitter,
 * and error classification, so every implementation of the port behaves the same under faults.
 */
export class GuardedCompute implements RegionCompute {
  readonly region: string;
  private readonly limiter: RegionLimiter;

  constructor(
    private readonly inner: RegionCompute,
    private readonly options: GuardOptions,
  ) {
    this.region = inner.region;
    this.limiter = new RegionLimiter(options.clock);
  }

  private call<T>(action: string, kind: CallKind, run: () => Promise<T>, alsoRetry: RetryOptions['alsoRetry'] = []): Promise<T> {
    const { clock, random, counter, onRetry } = this.options;
    return withRetry(
      () =>
        this.limiter.schedule(kind, () => {
          counter?.count(this.region, action);
          return run();
        }),
      {
        clock,
        random,
        ...DEFAULT_RETRY,
        ...this.options.retry,
        alsoRetry,
        onRetry: (error, attempt, delay) => {
          counter?.retried(this.region, action);
          onRetry?.(this.region, action, error, attempt, delay);
        },
      },
    );
  }

  listInstances(fleet: string): Promise<Instance[]> {
    return this.call('DescribeInstances', 'describe', () => this.inner.listInstances(fleet));
  }

  describeSubnets(ids: readonly string[]): Promise<Subnet[]> {
    return this.call('DescribeSubnets', 'describe', () => this.inner.describeSubnets(ids));
  }

  spotPriceHistory(query: SpotPriceQuery): Promise<SpotPrice[]> {
    return this.call('DescribeSpotPriceHistory', 'describe', () => this.inner.spotPriceHistory(query));
  }

  launch(request: LaunchRequest): Promise<Instance> {
    // Safe to retry: the client token makes a repeated call return the first call's instance.
    return this.call('RunInstances', 'run', () => this.inner.launch(request));
  }

  terminate(fleet: string, ids: readonly string[]): Promise<string[]> {
    // Right after a launch EC2 may not know the id yet (eventual consistency): retry that too.
    return this.call('TerminateInstances', 'mutate', () => this.inner.terminate(fleet, ids), ['not-found']);
  }

  describeImages(ids: readonly string[]): Promise<ImageRecord[]> {
    return this.call('DescribeImages', 'describe', () => this.inner.describeImages(ids));
  }

  imagesInUse(ids: readonly string[]): Promise<Set<string>> {
    return this.call('DescribeInstances', 'describe', () => this.inner.imagesInUse(ids));
  }

  deregisterImage(fleet: string, id: string): Promise<{ deregistered: boolean; snapshotsDeleted: string[] }> {
    return this.call('DeregisterImage', 'mutate', () => this.inner.deregisterImage(fleet, id));
  }
}
