import type { Lifecycle } from './types.js';

export interface LaunchAction {
  readonly kind: 'launch';
  readonly pool: string;
  readonly region: string;
  readonly az: string;
  readonly subnetId: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly ami: string;
  readonly name: string;
  /** dollars per instance-hour at planning time, when known */
  readonly price?: number;
  /** spot only: the most fleet will pay, when it sets a cap of its own */
  readonly maxPrice?: number;
  readonly reason: string;
  /** Idempotency token: the same launch retried or resumed never doubles capacity. */
  readonly clientToken: string;
  /** the instance this launch replaces: it leaves once this one runs */
  readonly replaces?: string;
}

export interface TerminateAction {
  readonly kind: 'terminate';
  readonly pool: string;
  readonly region: string;
  readonly az: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly ami: string;
  readonly name: string;
  readonly instanceId: string;
  readonly price?: number;
  readonly reason: string;
}

export type Action = LaunchAction | TerminateAction;
