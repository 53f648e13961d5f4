import type { LaunchAction } from './actions.js';
import type { Image, Instance, SpotPrice, Subnet } from './types.js';

/** What a launch asks the cloud for: the action without its kind and reason. */
export type LaunchSpec = Omit<LaunchAction, 'kind' | 'reason'>;

/**
 * A launch fleet has asked for but cannot yet see in the cloud's instance list.
 * Kept in the state store so that a restart or eventual consistency never launches it twice.
 */
export interface PendingLaunch extends LaunchSpec {
  /** epoch milliseconds */
  readonly requestedAt: number;
  /** Known once the cloud accepted the launch. */
  readonly instanceId?: string;
}

/** On-demand price key: region, instance type, product description. */
export function onDemandKey(region: string, instanceType: string, productDescription: string): string {
  return `${region}:${instanceType}:${productDescription}`;
}

/** Everything one cycle knows, gathered once; the planner reads nothing else. */
export interface Snapshot {
  /** epoch milliseconds */
  readonly now: number;
  readonly regions: readonly string[];
  /** undefined: unreadable and no last good copy, so nothing may change */
  readonly desired: Readonly<Record<string, number>> | undefined;
  /** undefined: unreadable and no last good copy, so nothing may change */
  readonly images: readonly Image[] | undefined;
  readonly drained: ReadonlySet<string>;
  /** Managed instances in every region, including ones that ended recently. */
  readonly instances: readonly Instance[];
  readonly pendingLaunches: readonly PendingLaunch[];
  readonly subnets: Readonly<Record<string, Subnet>>;
  /** Newest spot price per region, zone, type and product description. */
  readonly spotPrices: readonly SpotPrice[];
  /** Keyed by onDemandKey(); absent when unknown. */
  readonly onDemandPrices: Readonly<Record<string, number>>;
  /** offerKey() → epoch ms until which the offer is kept out of placement. */
  readonly unavailable: Readonly<Record<string, number>>;
  /** Per-pool timers kept between cycles. */
  readonly timers: Readonly<Record<string, PoolTimers>>;
  /** Instances fleet itself terminated recently: their end is never an image's fault. */
  readonly terminatedByFleet: ReadonlySet<string>;
}

export interface PoolTimers {
  /** epoch ms since which spot has fallen short of the desired count */
  readonly shortfallSince?: number;
  /** epoch ms since which the pool has had more instances than desired */
  readonly surplusSince?: number;
}
