import type { PendingLaunch, PoolTimers } from '../domain/snapshot.js';

/** The service's own memory between cycles and across restarts. */
export interface ReconcilerDoc {
  readonly timers: Readonly<Record<string, PoolTimers>>;
  readonly pendingLaunches: readonly PendingLaunch[];
  /** instance id → epoch ms fleet terminated it; kept a few hours for the launch guard */
  readonly terminated: Readonly<Record<string, number>>;
}

/** How long fleet remembers what it terminated itself. */
export const TERMINATED_MEMORY_MS = 6 * 3600_000;

export const RECONCILER_DOC = 'reconciler.json';
export const EMPTY_RECONCILER_DOC: ReconcilerDoc = { timers: {}, pendingLaunches: [], terminated: {} };

export interface DrainMark {
  readonly reason: string;
  /** epoch ms */
  readonly at: number;
  /** who drained it: an operator (fleet drain) or the launch guard */
  readonly by: 'operator' | 'guard';
}

/** AMIs an operator (or the launch guard) has drained: never launched again. */
export interface DrainedDoc {
  readonly amis: Readonly<Record<string, DrainMark>>;
}

export const DRAINED_DOC = 'drained.json';

/** What fleet knows from EC2's events (domain/events.ts EventFacts), written by the event inbox. */
export const EVENTS_DOC = 'events.json';
