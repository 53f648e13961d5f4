// A pool policy after validation: every default filled in, every value typed.

/** A count of instances, or a share of the pool's desired size. */
export type Budget = { readonly kind: 'count'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

/** Dollars per instance-hour, or a share of the on-demand price. */
export type MaxPrice = { readonly kind: 'dollars'; readonly value: number } | { readonly kind: 'percent'; readonly value: number };

export type ScaleDown = 'none' | 'terminate';

export interface InstanceTypeChoice {
  readonly type: string;
  /** Relative worth of one instance of this type; prices are compared per unit of weight. */
  readonly weight: number;
}

export interface RegionPlacement {
  readonly subnets: readonly string[];
  readonly securityGroups: readonly string[];
  /** Ask EC2 for a public address on the launch interface; undefined leaves it to the subnet. */
  readonly publicIp?: boolean;
}

export interface PoolPolicy {
  readonly pool: string;
  readonly instanceTypes: readonly InstanceTypeChoice[];
  readonly regions: Readonly<Record<string, RegionPlacement>>;
  readonly productDescription: string;
  readonly keyName?: string;
  readonly instanceProfile?: string;
  readonly userData?: string;
  readonly size: { readonly min: number; readonly max: number };
  readonly spot: { readonly maxPrice: MaxPrice; readonly fallbackAfter: number };
  readonly onDemand: { readonly max: number; readonly replaceBudget: Budget };
  /** dollars per instance-hour, used when the Pricing API cannot be reached */
  readonly onDemandPrice?: number;
  readonly scaleDown: ScaleDown;
  /** seconds a surplus must last before terminate-mode scale-down acts on it */
  readonly scaleDownAfter: number;
  readonly freshness: {
    readonly grace: number;
    readonly retireBudget: Budget;
    readonly drainBudget: Budget;
    /** instances a newly published image first runs on, per region (0: no staged rollout) */
    readonly canary: Budget;
    /** seconds a replacement runs before the instance it replaces leaves, and canaries before their image is trusted */
    readonly bake: number;
    readonly guard: { readonly window: number; readonly failures: number };
  };
  /**
   * Moving spot workers to better offers, launch first: when an offer has become clearly dearer than
   * the best one (`minSaving`, repaid within `horizon` seconds), or holds more than the spread cap.
   * `budget`: such moves in flight at once.
   */
  readonly rebalance: { readonly enabled: boolean; readonly minSaving: number; readonly horizon: number; readonly budget: Budget };
  readonly names: string;
  /** Largest share of the pool one offer (zone × type) may hold. */
  readonly spread: Spread;
  readonly ignoredAzs: readonly string[];
  /** seconds a worker asked to leave (`fleet:retire`) may take to finish its job before fleet terminates it */
  readonly stopTimeoutSeconds: number;
  /** seconds after which a worker is asked to leave; 0: no limit */
  readonly maxLifetimeSeconds: number;
  readonly demand: DemandPolicy;
}

/** A cron window during which the pool keeps at least `min` workers. */
export interface ScheduleWindow {
  readonly cron: string;
  readonly durationSeconds: number;
  readonly min: number;
  /** an IANA time zone name, or "UTC" */
  readonly timezone: string;
}

/** How desired is worked out from a queue (policy `demand`; every key has a default). */
export interface DemandPolicy {
  /** spare idle workers kept ready beside the jobs */
  readonly minIdle: number;
  /** workers per job wanted (1: one worker per pending or running job) */
  readonly scaleFactor: number;
  /** seconds a surplus lasts before desired comes down */
  readonly idleTimeoutSeconds: number;
  /** queue-wait target: when the oldest pending job has waited longer, capacity is added faster */
  readonly maxWaitSeconds: number;
  readonly schedule: readonly ScheduleWindow[];
  /** where the queue facts come from instead of the desired document (absent: the document) */
  readonly source?: DemandSource;
}

/** A source of a pool's queue facts besides the desired document (policy `demand.source`). */
export type DemandSource =
  | {
      readonly kind: 'prometheus';
      readonly url: string;
      readonly pending: string;
      readonly running: string;
      readonly oldestPendingSeconds?: string;
    }
  | { readonly kind: 'sqs'; readonly queueUrl: string }
  | { readonly kind: 'github'; readonly labels: readonly string[] };

/** Resolve a budget against a pool size; a percentage of a non-empty pool is at least one. */
/**
 * A spread cap. `auto` (the default, half the pool) counts only the offers priced within
 * `rebalance.minSaving` of the best: the pool spreads where that is cheap, and otherwise takes the
 * cheapest offer. A number set in the policy is a hard limit.
 */
export type Spread = Budget & { readonly auto?: true };

export function resolveBudget(b: Budget, poolSize: number): number {
  if (b.kind === 'count') return b.value;
  if (poolSize <= 0 || b.value <= 0) return 0;
  return Math.max(1, Math.floor((b.value / 100) * poolSize));
}
