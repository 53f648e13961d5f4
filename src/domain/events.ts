// What EC2 tells fleet about its instances through EventBridge (see SPEC §5 Events): facts that
// observe may put in the snapshot. An event never decides anything by itself.

import type { InstanceState } from './types.js';

export type Ec2EventKind = 'interruption-warning' | 'rebalance-recommendation' | 'state-change';
export const EC2_EVENT_KINDS: readonly Ec2EventKind[] = ['interruption-warning', 'rebalance-recommendation', 'state-change'];

/** What EC2 will do to a warned spot instance (`detail.instance-action`). */
export type InterruptionAction = 'terminate' | 'stop' | 'hibernate';

export interface Ec2Event {
  readonly kind: Ec2EventKind;
  readonly instanceId: string;
  readonly region: string;
  /** epoch ms the event happened (EventBridge `time`) */
  readonly time: number;
  /** state-change: the new state */
  readonly state?: InstanceState;
  /**
   * interruption warning: when EC2 reclaims the instance. The event itself carries no such time;
   * EC2 sends it two minutes ahead (at once for hibernation), so it is derived from `time`.
   */
  readonly actionTime?: number;
  /** interruption warning: `detail.instance-action` */
  readonly action?: InterruptionAction;
}

export interface WarnedFact {
  readonly at: number;
  readonly actionTime?: number;
  readonly region: string;
}

export interface RebalanceFact {
  readonly at: number;
  readonly region: string;
}

export interface StateFact {
  readonly state: InstanceState;
  readonly at: number;
  readonly region: string;
}

/** What fleet knows from events, per instance, persisted in the state store as `events.json`. */
export interface EventFacts {
  readonly warned: Readonly<Record<string, WarnedFact>>;
  readonly rebalance: Readonly<Record<string, RebalanceFact>>;
  /** latest state seen per instance (out-of-order deliveries never move a state backwards in time) */
  readonly states: Readonly<Record<string, StateFact>>;
}

export const NO_EVENT_FACTS: EventFacts = { warned: {}, rebalance: {}, states: {} };
