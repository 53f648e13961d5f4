// The vocabulary of the fleet. Plain data only: no I/O, no classes, no clock.

import type { Cause } from './causes.js';

export type Lifecycle = 'spot' | 'on-demand';
export const LIFECYCLES: readonly Lifecycle[] = ['spot', 'on-demand'];

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

/** Why an instance ended, as far as the cloud tells us. */
export type EndCause = 'spot-interruption' | 'user' | 'instance-initiated' | 'other';

export interface Instance {
  readonly id: string;
  readonly name: string;
  readonly pool: string;
  readonly region: string;
  readonly az: string;
  readonly subnetId?: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly state: InstanceState;
  readonly privateIp?: string;
  readonly publicIp?: string;
  readonly ami: string;
  /** epoch milliseconds */
  readonly launchTime: number;
  readonly clientToken?: string;
  /** position in its launch call (EC2's AmiLaunchIndex): which of a batch's slots it holds */
  readonly launchIndex?: number;
  /** Set once the instance is shutting down or gone. */
  readonly endCause?: EndCause;
  /** epoch ms the instance ended, when the cloud says */
  readonly endedAt?: number;
  /** the instance this one was launched to replace (tag fleet:replaces) */
  readonly replaces?: string;
  /** why a replacement was launched (tag fleet:cause); absent on other launches and on older instances */
  readonly cause?: Cause;
  /**
   * Listed without a `Name` tag: its name comes from its batch's `fleet:names`, and setting `Name`
   * right after the launch failed (or has not happened yet). The service sets it in a later cycle.
   */
  readonly nameTagMissing?: true;
  /** epoch ms: fleet asked it to leave by then (tag `fleet:retire`); a worker asked is never un-asked */
  readonly retireAt?: number;
  /** why fleet asked it to leave (tag `fleet:retire-cause`) */
  readonly retireCause?: Cause;
}

/** A golden image for one pool in one region, as published in the manifest. */
export interface Image {
  readonly id: string;
  readonly pool: string;
  readonly region: string;
  /** epoch milliseconds */
  readonly created: number;
  readonly name: string;
}

export interface Subnet {
  readonly id: string;
  readonly region: string;
  readonly az: string;
}

export interface SpotPrice {
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  /** Normalised: the "(Amazon VPC)" suffix is dropped, it is the same OS. */
  readonly productDescription: string;
  /** dollars per instance-hour */
  readonly price: number;
  /** epoch milliseconds */
  readonly timestamp: number;
}

/** One place capacity can come from: an instance type in a subnet, bought one way. */
export interface Offer {
  readonly region: string;
  readonly az: string;
  readonly subnetId: string;
  readonly instanceType: string;
  readonly weight: number;
  readonly lifecycle: Lifecycle;
  /** dollars per instance-hour; undefined when no price is known */
  readonly price?: number;
}

/** Key used by the insufficient-capacity memory: capacity type, instance type, zone. */
export function offerKey(o: { lifecycle: Lifecycle; instanceType: string; az: string }): string {
  return `${o.lifecycle}:${o.instanceType}:${o.az}`;
}

/** An instance that is working or about to: it counts toward the pool's capacity. */
export function isLive(i: Pick<Instance, 'state'>): boolean {
  return i.state === 'pending' || i.state === 'running';
}

/** An instance that still holds its name (nothing else may take it yet). */
export function holdsName(i: Pick<Instance, 'state'>): boolean {
  return i.state !== 'terminated' && i.state !== 'shutting-down';
}

export function normaliseProductDescription(pd: string): string {
  return pd.replace(/\s*\(Amazon VPC\)\s*$/i, '').trim();
}
