import type { LaunchAction, RetireAction, TerminateAction } from './actions.js';
import type { Instance } from './types.js';

/**
 * How a failed call ended: `capacity` (try another offer), `retryable` (retries ran out on
 * throttling or a transient fault: try again next cycle), `rejected` (the cloud said no for good).
 */
export type FailureKind = 'capacity' | 'retryable' | 'rejected';

export interface Failure {
  readonly kind: FailureKind;
  readonly code: string;
  readonly message: string;
  /** the call was never sent: its offer had just refused capacity */
  readonly unsent?: true;
  /**
   * How many instances the refused call asked for (all or nothing): an offer that refuses a batch may
   * still hold fewer, so only a refused single launch shows it is out of capacity.
   */
  readonly batch?: number;
}

export interface LaunchOutcome {
  readonly action: LaunchAction;
  readonly instance?: Instance;
  readonly failure?: Failure;
}

export interface TerminateOutcome {
  readonly action: TerminateAction;
  readonly terminated: boolean;
  readonly failure?: Failure;
  /** with `standsInFor`: the replacement's `fleet:replaces` now names this instance (terminated or not) */
  readonly repointed?: boolean;
}

export interface RetireOutcome {
  readonly action: RetireAction;
  /** tagged `fleet:retire` */
  readonly asked: boolean;
  readonly failure?: Failure;
}

export interface Outcome {
  readonly launches: readonly LaunchOutcome[];
  readonly terminations: readonly TerminateOutcome[];
  /** busy workers asked to leave (absent: none) */
  readonly retirements?: readonly RetireOutcome[];
}
