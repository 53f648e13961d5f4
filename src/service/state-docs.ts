import type { PendingLaunch, PoolTimers } from '../domain/snapshot.js';

/** The service's own memory between cycles and across restarts. */
export interface ReconcilerDoc {
  readonly timers: Readonly<Record<string, PoolTimers>>;
  readonly pendingLaunches: readonly PendingLaunch[];
}

export const RECONCILER_DOC = 'reconciler.json';
export const EMPTY_RECONCILER_DOC: ReconcilerDoc = { timers: {}, pendingLaunches: [] };

export interface DrainMark {
  readonly reason: string;
  /** epoch ms */
  readonly at: number;
}

/** AMIs an operator (or the launch guard) has drained: never launched again. */
export interface DrainedDoc {
  readonly amis: Readonly<Record<string, DrainMark>>;
}

export const DRAINED_DOC = 'drained.json';
