import type { Clock } from '../domain/clock.js';
import { abortReason } from './bounds.js';
import type { Instance, SpotPrice, Subnet } from '../domain/types.js';
import { type CloudError, classify } from './errors.js';
import { type Fence, OPEN_FENCE, underFence } from './fence.js';
import type { CallKind, ResourceKind } from './limiter.js';
import { RegionLimiter } from './limiter.js';
import type { CallOptions, ImageRecord, LaunchRequest, LaunchSlot, Page, RegionCompute, RetireRequest, SpotPriceQuery } from './port.js';
import { DEFAULT_RETRY, type RetryOptions, withRetry } from './retry.js';

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
  /** each call's outcome once it settles (after its retries): 'ok' or the error's code */
  readonly onCall?: (region: string, action: string, outcome: string) => void;
  readonly retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs' | 'maxDelayMs'>>;
  /** Mutating calls are sent only while this holds (the leader lease); default: always. */
  readonly fence?: Fence;
  /** A signal per whole call, retries included (the cloud's deadlines); default: none. */
  readonly wholeCall?: () => AbortSignal;
}

interface CallSpec {
  readonly action: string;
  readonly kind: CallKind;
  /** changes the cloud: fenced by the lease */
  readonly mutating?: boolean;
  /** instances it acts on, for the resource buckets */
  readonly resources?: number;
  readonly alsoRetry?: RetryOptions['alsoRetry'];
}

/**
 * Wraps one region's raw compute with the region's rate limiter, retries with backoff and jitter,
 * error classification, and the lease fence for mutating calls, so every implementation of the port
 * behaves the same under faults. The fence is asked right before each attempt is sent, after its
 * tokens are in hand: a call that waited in the limiter or in backoff past the lease is never sent.
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

  private call<T>(spec: CallSpec, run: (options: CallOptions) => Promise<T>): Promise<T> {
    const { clock, random, counter, onRetry } = this.options;
    const fence = this.options.fence ?? OPEN_FENCE;
    const signal = this.options.wholeCall?.();
    const attempt = (): Promise<T> => {
      // The wait for tokens may have outlasted the call's deadline.
      if (signal?.aborted) return Promise.reject(abortReason(signal));
      if (!spec.mutating) {
        counter?.count(this.region, spec.action);
        return run(signal ? { signal } : {});
      }
      return underFence(fence, clock, spec.action, (fenced) => {
        counter?.count(this.region, spec.action);
        return run({ signal: signal ? AbortSignal.any([fenced, signal]) : fenced });
      });
    };
    const sent = withRetry(() => this.limiter.schedule(spec.kind, attempt, spec.resources ?? 0), {
      clock,
      random,
      ...(signal ? { signal } : {}),
      ...DEFAULT_RETRY,
      ...this.options.retry,
      alsoRetry: spec.alsoRetry ?? [],
      onRetry: (error, attemptNo, delay) => {
        counter?.retried(this.region, spec.action);
        onRetry?.(this.region, spec.action, error, attemptNo, delay);
      },
    });
    const { onCall } = this.options;
    if (!onCall) return sent;
    return sent.then(
      (value) => {
        onCall(this.region, spec.action, 'ok');
        return value;
      },
      (e: unknown) => {
        onCall(this.region, spec.action, classify(e).code);
        throw e;
      },
    );
  }

  /** Instances a launch could take from the resource bucket now, without waiting. */
  launchCapacityNow(): number {
    return this.limiter.resourcesAvailable('run-instances' satisfies ResourceKind);
  }

  /** `Name` tags (CreateTags) that could be sent now without waiting for the mutate bucket. */
  nameCapacityNow(): number {
    return this.limiter.requestsAvailable('mutate');
  }

  listInstancesPage(fleet: string, next?: string): Promise<Page<Instance>> {
    return this.call({ action: 'DescribeInstances', kind: 'describe' }, (o) => this.inner.listInstancesPage(fleet, next, o));
  }

  describeSubnets(ids: readonly string[]): Promise<Subnet[]> {
    return this.call({ action: 'DescribeSubnets', kind: 'describe' }, (o) => this.inner.describeSubnets(ids, o));
  }

  spotPriceHistoryPage(query: SpotPriceQuery, next?: string): Promise<Page<SpotPrice>> {
    return this.call({ action: 'DescribeSpotPriceHistory', kind: 'describe' }, (o) => this.inner.spotPriceHistoryPage(query, next, o));
  }

  launch(request: LaunchRequest): Promise<Instance[]> {
    // Safe to retry: the client token makes a repeated call return the first call's instances.
    return this.call({ action: 'RunInstances', kind: 'run', mutating: true, resources: request.slots.length }, (o) =>
      this.inner.launch(request, o),
    );
  }

  nameInstance(id: string, slot: LaunchSlot): Promise<void> {
    // Right after a launch EC2 may not know the id yet (eventual consistency): retry that too.
    return this.call({ action: 'CreateTags', kind: 'mutate', mutating: true, alsoRetry: ['not-found'] }, (o) =>
      this.inner.nameInstance(id, slot, o),
    );
  }

  terminate(fleet: string, ids: readonly string[]): Promise<string[]> {
    return this.call(
      { action: 'TerminateInstances', kind: 'terminate', mutating: true, resources: ids.length, alsoRetry: ['not-found'] },
      (o) => this.inner.terminate(fleet, ids, o),
    );
  }

  retire(fleet: string, requests: readonly RetireRequest[]): Promise<string[]> {
    return this.call({ action: 'CreateTags', kind: 'mutate', mutating: true, alsoRetry: ['not-found'] }, (o) =>
      this.inner.retire(fleet, requests, o),
    );
  }

  describeImages(ids: readonly string[]): Promise<ImageRecord[]> {
    return this.call({ action: 'DescribeImages', kind: 'describe' }, (o) => this.inner.describeImages(ids, o));
  }

  imagesOwnedBy(owners: readonly string[], ids: readonly string[]): Promise<Set<string>> {
    return this.call({ action: 'DescribeImages', kind: 'describe' }, (o) => this.inner.imagesOwnedBy(owners, ids, o));
  }

  imagesInUse(ids: readonly string[]): Promise<Set<string>> {
    return this.call({ action: 'DescribeInstances', kind: 'describe' }, (o) => this.inner.imagesInUse(ids, o));
  }

  deregisterImage(fleet: string, id: string): Promise<{ deregistered: boolean; snapshotsDeleted: string[] }> {
    return this.call({ action: 'DeregisterImage', kind: 'mutate', mutating: true }, (o) => this.inner.deregisterImage(fleet, id, o));
  }
}
