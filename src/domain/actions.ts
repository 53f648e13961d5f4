import type { Cause } from './causes.js';
import type { Lifecycle } from './types.js';

/** One instance fleet wants launched: a slot (its name) in an offer, from an image. */
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
  /** why, as a value: what budgets and metrics count by */
  readonly cause: Cause;
  /** why, in words, for operators */
  readonly reason: string;
  /** the instance this launch replaces: it leaves once this one has proved itself */
  readonly replaces?: string;
  /**
   * Set when this slot belongs to a launch already sent whose answer never came: the idempotency token
   * of that call. It is re-sent exactly as it was first sent (the journal keeps the request), never rebuilt.
   */
  readonly resumes?: string;
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
  /** why, as a value: what budgets and metrics count by */
  readonly cause: Cause;
  /** why, in words, for operators */
  readonly reason: string;
  /** set when the instance is a worker fleet asked to leave (`fleet:retire`): why it is ended now */
  readonly retireEnd?: RetireEnd;
  /** set when this idle worker leaves in a busy one's place in a replacement pair */
  readonly standsInFor?: StandIn;
}

/**
 * The pair an idle worker takes over from a busy target. The replacement's `fleet:replaces` is
 * re-pointed to the idle worker first, and the idle worker is terminated only once that tag is
 * written: else the pair would still hold the busy worker while the idle one is gone.
 */
export interface StandIn {
  /** the replacement's instance id and slot name */
  readonly replacement: string;
  readonly replacementName: string;
  /** the replacement's cause, written again with the tag */
  readonly cause: Cause;
  /** the busy worker that stays to finish its job */
  readonly busy: string;
}

/**
 * Why a worker asked to leave is terminated now: still busy when its deadline passed, or the CI no
 * longer reports it busy (it finished its job, or never took another).
 */
export type RetireEnd = 'deadline' | 'not-busy';

/**
 * A worker the CI reports busy is asked to leave rather than terminated: tags `fleet:retire` (the
 * deadline) and `fleet:retire-cause`. The worker finishes its job and powers off; fleet terminates it
 * once the CI no longer reports it busy, or at the deadline.
 */
export interface RetireAction extends Omit<TerminateAction, 'kind' | 'retireEnd'> {
  readonly kind: 'retire';
  /** epoch ms: the worker leaves by then (now + stopTimeout) */
  readonly deadline: number;
}

export type Action = LaunchAction | TerminateAction | RetireAction;

/**
 * A launch attempt's identity within a cycle: the same slot in the same offer from the same image is
 * never tried twice in one cycle (the same name in another offer, after a refusal, is a new attempt).
 */
export function attemptKey(a: Pick<LaunchAction, 'pool' | 'name' | 'subnetId' | 'instanceType' | 'lifecycle' | 'ami' | 'resumes'>): string {
  return [a.pool, a.name, a.subnetId, a.instanceType, a.lifecycle, a.ami, a.resumes ?? ''].join('\u0000');
}
