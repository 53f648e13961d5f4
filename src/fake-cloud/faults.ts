// Faults the simulated cloud can be told to produce. Each one answers with the error code and
// HTTP status real AWS uses, so the same classification and retry code handles both clouds.

import type { Clock } from '../domain/clock.js';
import type { Prng } from './prng.js';

export class SimAwsError extends Error {
  readonly $metadata: { httpStatusCode: number };
  readonly $fault: 'client' | 'server';

  constructor(code: string, message: string, status = 400) {
    super(message);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
    this.$fault = status >= 500 ? 'server' : 'client';
  }
}

/**
 * A failure of the network rather than of AWS: no answer came back (a reset connection or a
 * timeout), so there is no HTTP status, as the SDK reports it. The caller cannot tell whether the
 * request was carried out.
 */
export class SimNetworkError extends Error {
  readonly code: string;

  constructor(code: 'ECONNRESET' | 'ETIMEDOUT', message: string) {
    super(message);
    this.name = 'NetworkError';
    this.code = code;
  }
}

/** A window during which some S3 objects are unreachable, or read back as garbage. */
export interface ObjectFault {
  /** outage: every read and write answers 503; corrupt: reads return a garbled body */
  readonly kind: 'outage' | 'corrupt';
  readonly bucket: string;
  /** objects whose key starts with this ('' for the whole bucket) */
  readonly keyPrefix: string;
  /** epoch ms the window opens (default: at once) and closes */
  readonly from?: number;
  readonly until: number;
}

export interface ScriptedFault {
  /** API action, e.g. 'RunInstances' */
  readonly action: string;
  readonly code: string;
  readonly message?: string;
  readonly status?: number;
  /** fail this many matching calls, then let them through (default: every one) */
  readonly times?: number;
  readonly region?: string;
  /** only calls whose detail matches (e.g. a zone or instance type of a launch) */
  readonly when?: (detail: Readonly<Record<string, unknown>>) => boolean;
}

export interface FaultOptions {
  /** share of calls answered RequestLimitExceeded, on top of the real rate limits */
  readonly throttleRate: number;
  /** share of calls answered InternalError (HTTP 500) */
  readonly serverErrorRate: number;
  /** enforce EC2's per-region request token buckets */
  readonly enforceRateLimits: boolean;
  /** a new instance stays out of DescribeInstances this long (eventual consistency) */
  readonly visibilityDelayMs: number;
  readonly pricingUnavailable: boolean;
  readonly scripted: readonly ScriptedFault[];
  /** share of RunInstances calls lost on the way: EC2 never sees them, the caller gets a network error */
  readonly lostLaunchRequests: number;
  /** share of RunInstances calls whose answer is lost: the instance is made, the caller gets a network error */
  readonly lostLaunchResponses: number;
  readonly objectFaults: readonly ObjectFault[];
}

export const NO_FAULTS: FaultOptions = {
  throttleRate: 0,
  serverErrorRate: 0,
  enforceRateLimits: true,
  visibilityDelayMs: 0,
  pricingUnavailable: false,
  scripted: [],
  lostLaunchRequests: 0,
  lostLaunchResponses: 0,
  objectFaults: [],
};

type BucketKind = 'describe' | 'mutate' | 'run' | 'run-instances' | 'terminate-instances';

// EC2's documented buckets per account and region: capacity, refill per second. Each API has a
// request bucket of its own, sized by its kind, and a request takes one token from it;
// RunInstances and TerminateInstances also take one token per instance from their resource bucket.
const SERVER_BUCKETS: Readonly<Record<BucketKind, readonly [number, number]>> = {
  describe: [100, 20],
  mutate: [200, 5],
  run: [5, 2],
  'run-instances': [1000, 2],
  'terminate-instances': [1000, 20],
};

function resourceBucketOf(action: string): BucketKind | undefined {
  if (action === 'RunInstances') return 'run-instances';
  if (action === 'TerminateInstances') return 'terminate-instances';
  return undefined;
}

export function bucketOf(action: string): BucketKind {
  if (action === 'RunInstances') return 'run';
  return action.startsWith('Describe') ? 'describe' : 'mutate';
}

export class FaultInjector {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly used = new Map<ScriptedFault, number>();
  private scripted: ScriptedFault[];

  constructor(
    private options: FaultOptions,
    private readonly rng: Prng,
    private readonly clock: Clock,
  ) {
    this.scripted = [...options.scripted];
  }

  get visibilityDelayMs(): number {
    return this.options.visibilityDelayMs;
  }

  get pricingUnavailable(): boolean {
    return this.options.pricingUnavailable;
  }

  update(changes: Partial<FaultOptions>): void {
    this.options = { ...this.options, ...changes };
    if (changes.scripted) this.scripted = [...changes.scripted];
  }

  addScripted(fault: ScriptedFault): void {
    this.scripted.push(fault);
  }

  /** Throws the error this call should get, if any; `resources` is the number of instances it acts on. */
  check(region: string, action: string, detail: Readonly<Record<string, unknown>> = {}, resources = 0): void {
    for (const fault of this.scripted) {
      if (fault.action !== action || (fault.region && fault.region !== region) || (fault.when && !fault.when(detail))) continue;
      const used = this.used.get(fault) ?? 0;
      if (fault.times !== undefined && used >= fault.times) continue;
      this.used.set(fault, used + 1);
      throw new SimAwsError(fault.code, fault.message ?? `${fault.code} (simulated)`, fault.status ?? 400);
    }
    if (this.options.enforceRateLimits) {
      const resourceBucket = resourceBucketOf(action);
      if (resourceBucket !== undefined && resources > 0 && !this.hasTokens(region, resourceBucket, resources)) {
        throw new SimAwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      if (!this.takeToken(region, bucketOf(action), 1, action))
        throw new SimAwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
      if (resourceBucket !== undefined && resources > 0) this.takeToken(region, resourceBucket, resources);
    }
    if (this.options.throttleRate > 0 && this.rng.chance(this.options.throttleRate)) {
      throw new SimAwsError('RequestLimitExceeded', 'Request limit exceeded.', 503);
    }
    if (this.options.serverErrorRate > 0 && this.rng.chance(this.options.serverErrorRate)) {
      throw new SimAwsError('InternalError', 'An internal error has occurred.', 500);
    }
  }

  /** Whether this RunInstances is lost on the way in ('request'), its answer on the way back ('response'), or neither. */
  launchLoss(): 'request' | 'response' | undefined {
    const { lostLaunchRequests, lostLaunchResponses } = this.options;
    if (lostLaunchRequests > 0 && this.rng.chance(lostLaunchRequests)) return 'request';
    if (lostLaunchResponses > 0 && this.rng.chance(lostLaunchResponses)) return 'response';
    return undefined;
  }

  /** The S3 fault on this object right now, if any; an outage wins over corruption. */
  objectFault(bucket: string, key: string): ObjectFault['kind'] | undefined {
    const now = this.clock.now();
    const open = this.options.objectFaults.filter(
      (f) => f.bucket === bucket && key.startsWith(f.keyPrefix) && (f.from ?? -Infinity) <= now && now < f.until,
    );
    if (open.some((f) => f.kind === 'outage')) return 'outage';
    return open.length > 0 ? 'corrupt' : undefined;
  }

  /** `api`: the API whose own request bucket this is (a resource bucket is shared by kind). */
  private bucket(region: string, kind: BucketKind, api: string = kind): { tokens: number; at: number } {
    const [capacity, refill] = SERVER_BUCKETS[kind];
    const key = `${region}:${api}`;
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) / 1000) * refill);
    bucket.at = now;
    this.buckets.set(key, bucket);
    return bucket;
  }

  private hasTokens(region: string, kind: BucketKind, n: number): boolean {
    return this.bucket(region, kind).tokens >= n;
  }

  private takeToken(region: string, kind: BucketKind, n = 1, api: string = kind): boolean {
    const bucket = this.bucket(region, kind, api);
    if (bucket.tokens < n) return false;
    bucket.tokens -= n;
    return true;
  }
}
