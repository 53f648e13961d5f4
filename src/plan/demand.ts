import type { PoolDemand } from '../domain/demand.js';
import type { PoolPolicy } from '../domain/policy.js';
import type { PoolTimers, Snapshot } from '../domain/snapshot.js';
import { type DemandMemory, type Estimate, estimateDesired } from '../policy/estimator.js';

/** How a pool's desired size was worked out from its queue (shown by `plan`, `status` and `/metrics`). */
export interface DemandReport {
  readonly pending: number;
  readonly running: number;
  readonly oldestPendingSeconds?: number;
  /** the size worked out, clamped to the pool's bounds */
  readonly desired: number;
  readonly forJobs: number;
  readonly minIdle: number;
  /** the largest minimum of the schedule windows open now */
  readonly scheduled: number;
  /** the size held above demand until `holdingUntil` (epoch ms), while demand is lower */
  readonly holding?: number;
  readonly holdingUntil?: number;
  readonly overdue: boolean;
  /** one line: "pending 5 + running 30 ×1 + minIdle 2 = 37; schedule min 10; holding 40 until 14:05Z" */
  readonly explanation: string;
}

/** A pool's desired size this cycle, with how it was worked out when it came from queue facts. */
export interface PoolDesired {
  readonly desired: number;
  readonly demand?: DemandReport;
  /** what the estimator keeps for the next cycle (in the pool's timers) */
  readonly memory?: DemandMemory;
  /** the pool's source has never answered and nothing is held: the pool keeps the workers it has */
  readonly unknown?: true;
}

/** A pool's wanted size: its desired count clamped to [min, max]; a pool that is missing gets its min. */
export function clampedCount(policy: PoolPolicy, wanted: number | undefined): number {
  return Math.min(policy.size.max, Math.max(policy.size.min, Math.floor(wanted ?? policy.size.min)));
}

/**
 * A count (plain, or an explicit `desired`) is used as given, clamped; queue facts without one go
 * through the estimator, which remembers between cycles what it holds (`timers.demand`).
 */
export function poolDesired(
  policy: PoolPolicy,
  snapshot: Pick<Snapshot, 'now' | 'desired' | 'demand'>,
  timers: PoolTimers | undefined,
): PoolDesired {
  const said = snapshot.demand?.[policy.pool];
  if (said === undefined || !hasQueueFacts(said)) {
    // A source that has not answered since this process started: hold what was held, never lower.
    const held = timers?.demand;
    if (policy.demand.source !== undefined && held !== undefined) return { desired: clampedCount(policy, held.held), memory: held };
    if (policy.demand.source !== undefined) return { desired: clampedCount(policy, undefined), unknown: true };
    return { desired: clampedCount(policy, snapshot.desired?.[policy.pool]) };
  }
  const queue = {
    pending: said.pending ?? 0,
    running: said.running ?? 0,
    ...(said.oldestPendingSeconds !== undefined ? { oldestPendingSeconds: said.oldestPendingSeconds } : {}),
  };
  const estimate = estimateDesired(queue, heldFor(policy), policy.size, timers?.demand, snapshot.now);
  return { desired: estimate.desired, demand: demandReport(queue, policy, estimate), memory: estimate.memory };
}

/**
 * In a pool whose workers leave by themselves when idle (`scaleDown: none`), holding the estimate
 * up would only launch others in their place: it falls at once, and the workers' own idle time is
 * the timeout.
 */
function heldFor(policy: PoolPolicy): PoolPolicy['demand'] {
  return policy.scaleDown === 'none' ? { ...policy.demand, idleTimeoutSeconds: 0 } : policy.demand;
}

function hasQueueFacts(d: PoolDemand): boolean {
  return d.desired === undefined && (d.pending !== undefined || d.running !== undefined);
}

function demandReport(
  queue: { pending: number; running: number; oldestPendingSeconds?: number },
  policy: PoolPolicy,
  e: Estimate,
): DemandReport {
  const holdingUntil =
    e.holding && e.memory.belowSince !== undefined ? e.memory.belowSince + policy.demand.idleTimeoutSeconds * 1000 : undefined;
  const parts = [
    `pending ${queue.pending} + running ${queue.running} ×${policy.demand.scaleFactor}${e.overdue ? ' (overdue: pending ×1)' : ''} + minIdle ${e.minIdle} = ${e.forJobs + e.minIdle}`,
  ];
  if (e.scheduled > 0) parts.push(`schedule min ${e.scheduled}`);
  if (holdingUntil !== undefined) parts.push(`holding ${e.memory.held} until ${new Date(holdingUntil).toISOString().slice(11, 16)}Z`);
  if (e.desired !== Math.max(e.forJobs + e.minIdle, e.scheduled, e.holding ? e.memory.held : 0))
    parts.push(`size ${policy.size.min}-${policy.size.max}: ${e.desired}`);
  return {
    pending: queue.pending,
    running: queue.running,
    ...(queue.oldestPendingSeconds !== undefined ? { oldestPendingSeconds: queue.oldestPendingSeconds } : {}),
    desired: e.desired,
    forJobs: e.forJobs,
    minIdle: e.minIdle,
    scheduled: e.scheduled,
    ...(holdingUntil !== undefined ? { holding: e.memory.held, holdingUntil } : {}),
    overdue: e.overdue,
    explanation: parts.join('; '),
  };
}

/** One line for `plan` and `status`: the queue, the idle workers and how desired was worked out. */
export function describeDemand(d: DemandReport & { readonly idle: number }): string {
  const wait = d.oldestPendingSeconds !== undefined ? `, oldest wait ${d.oldestPendingSeconds}s` : '';
  return `pending ${d.pending}, running ${d.running}${wait}, idle workers ${d.idle}; desired ${d.desired}: ${d.explanation}`;
}
