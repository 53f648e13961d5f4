import type { DemandMemory } from '../domain/demand.js';
import type { DemandPolicy } from '../domain/policy.js';
import { scheduledMinimum } from './schedule.js';

export type { DemandMemory };

/** What a source of demand says about one pool's queue. */
export interface QueueFacts {
  /** jobs waiting for a worker */
  readonly pending: number;
  /** jobs running on a worker now */
  readonly running: number;
  /** how long the oldest pending job has waited, when the source knows */
  readonly oldestPendingSeconds?: number;
}

/** One pool's desired size and how it was worked out (shown by `plan` and `status`). */
export interface Estimate {
  readonly desired: number;
  /** workers the jobs need: pending and running, times the scale factor */
  readonly forJobs: number;
  readonly minIdle: number;
  /** the oldest job has waited past `maxWaitSeconds`: every pending job gets a worker */
  readonly overdue: boolean;
  /** the largest minimum of the schedule windows open now */
  readonly scheduled: number;
  /** held above demand until the surplus has lasted `idleTimeout` */
  readonly holding: boolean;
  readonly memory: DemandMemory;
}

/**
 * Desired size from a queue (the shape of taskcluster's estimator): one worker per job, times
 * `scaleFactor`, plus `minIdle` spares; when the oldest job has waited longer than `maxWaitSeconds`
 * a scale factor below 1 no longer applies to pending jobs; schedule windows keep a floor; a lower
 * demand takes effect only once it has lasted `idleTimeout`. Clamped to the pool's size bounds.
 */
export function estimateDesired(
  queue: QueueFacts,
  demand: DemandPolicy,
  size: { readonly min: number; readonly max: number },
  memory: DemandMemory | undefined,
  nowMs: number,
): Estimate {
  const overdue = queue.pending > 0 && (queue.oldestPendingSeconds ?? 0) > demand.maxWaitSeconds;
  const pendingFactor = overdue ? Math.max(1, demand.scaleFactor) : demand.scaleFactor;
  const forJobs = Math.ceil(queue.running * demand.scaleFactor + queue.pending * pendingFactor);
  const wanted = forJobs + demand.minIdle;
  const scheduled = scheduledMinimum(demand.schedule, nowMs);
  const raw = Math.max(wanted, scheduled);
  const next = holdThroughIdleTimeout(raw, memory, demand.idleTimeoutSeconds, nowMs);
  const desired = Math.min(size.max, Math.max(size.min, next.held));
  return { desired, forJobs, minIdle: demand.minIdle, overdue, scheduled, holding: next.held > raw, memory: next };
}

/** Rises at once; comes down to the highest demand of the quiet period once it has lasted `timeoutSeconds`. */
export function holdThroughIdleTimeout(raw: number, memory: DemandMemory | undefined, timeoutSeconds: number, nowMs: number): DemandMemory {
  if (memory === undefined || raw >= memory.held) return { held: raw };
  const belowSince = memory.belowSince ?? nowMs;
  const peakBelow = Math.max(memory.peakBelow ?? raw, raw);
  if (nowMs - belowSince >= timeoutSeconds * 1000) return { held: peakBelow };
  return { held: memory.held, belowSince, peakBelow };
}
