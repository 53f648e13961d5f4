import type { LaunchAction } from './actions.js';
import type { Cause } from './causes.js';
import type { DemandMemory, PoolDemand } from './demand.js';
import type { EventFacts } from './events.js';
import type { Image, Instance, SpotPrice, Subnet } from './types.js';

/** Where and what a launch slot is: the action without its kind, cause, reason and planning details. */
export type LaunchSpec = Omit<LaunchAction, 'kind' | 'cause' | 'reason' | 'price' | 'resumes'>;

/**
 * One slot of a launch fleet has sent but cannot yet see in the cloud's instance list. The journal
 * keeps these, so a restart or eventual consistency never launches a slot twice.
 */
export interface PendingLaunch extends LaunchSpec {
  /** why it was launched, as journaled (a call journaled before causes were recorded has none) */
  readonly cause?: Cause;
  /** the idempotency token of the call that carried this slot */
  readonly clientToken: string;
  /** epoch milliseconds of its call's last send */
  readonly requestedAt: number;
  /** Known once the cloud answered the call. */
  readonly instanceId?: string;
  /**
   * The call's answer never came and its exact request is journaled, so it may be re-sent with the
   * same token (the cloud then answers with what the first call made, or makes it now).
   */
  readonly resendable: boolean;
}

/** On-demand price key: region, instance type, product description. */
export function onDemandKey(region: string, instanceType: string, productDescription: string): string {
  return `${region}:${instanceType}:${productDescription}`;
}

/** A manifest image fleet does not launch, and why (one line). */
export interface UnusableImage {
  readonly id: string;
  readonly pool: string;
  readonly region: string;
  readonly reason: string;
}

/** Everything one cycle knows, gathered once; the planner reads nothing else. */
export interface Snapshot {
  /** epoch milliseconds */
  readonly now: number;
  readonly regions: readonly string[];
  /** Managed regions whose instances could not be listed this cycle: pools there change nothing. */
  readonly unobservedRegions?: readonly string[];
  /** undefined: unreadable and no last good copy, so nothing may change */
  readonly desired: Readonly<Record<string, number>> | undefined;
  /**
   * What the desired document said per pool besides the count (pending and running jobs, the oldest
   * wait, busy workers by slot name); absent with no usable document.
   */
  readonly demand?: Readonly<Record<string, PoolDemand>>;
  /** undefined: unreadable and no last good copy, so nothing may change */
  readonly images: readonly Image[] | undefined;
  /** Manifest images left out of `images`: never launched (not owned by an allowed owner), with why. */
  readonly unusableImages?: readonly UnusableImage[];
  readonly drained: ReadonlySet<string>;
  /** The AMIs among `drained` the launch guard drained: their instances leave with cause `guard`. */
  readonly guardDrained?: ReadonlySet<string>;
  /** AMI → epoch ms of its last `fleet undrain`: the launch guard counts only ends after it. */
  readonly undrainedAt?: Readonly<Record<string, number>>;
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
  /** offerKey() → when its instances were interrupted lately (episodes, oldest first): counted against it */
  readonly interruptions?: Readonly<Record<string, readonly number[]>>;
  /** rolloutKey() → epoch ms an image proved itself in a pool and region (its canaries baked). */
  readonly established?: Readonly<Record<string, number>>;
  /**
   * What EC2's own events said (events.queue): spot interruption warnings and rebalance
   * recommendations per instance. State changes are already folded into `instances`.
   */
  readonly events?: Pick<EventFacts, 'warned' | 'rebalance'>;
  /**
   * rolloutKey() → the workers that booted an image while it was on trial in a pool and region,
   * remembered beyond the hour or so EC2 lists an ended instance: they bound its canaries.
   */
  readonly trials?: Readonly<Record<string, Trial>>;
}

/** The workers that booted an image while it was on trial in a pool and region (instance ids). */
export interface Trial {
  /** every one, however it ended */
  readonly booted: readonly string[];
  /** those that ended early (within the guard's window of their launch) by anything but fleet or the spot market */
  readonly failed: readonly string[];
}

export interface PoolTimers {
  /** epoch ms since which spot has fallen short of the desired count */
  readonly shortfallSince?: number;
  /** epoch ms since which the pool has had more instances than desired */
  readonly surplusSince?: number;
  /** what the demand estimator holds between cycles (pools whose desired comes from queue facts) */
  readonly demand?: DemandMemory;
}
