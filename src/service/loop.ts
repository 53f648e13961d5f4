import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import { type Clock, systemClock } from '../domain/clock.js';
import type { PollReport } from './event-inbox.js';
import type { CycleResult, Reconciler } from './reconciler.js';

/** Spending the wait between cycles on EC2's events (`events.queue`). */
export interface EventPolling {
  readonly inbox: { poll(maxWaitMs: number, signal?: AbortSignal): Promise<PollReport> };
  /** Asked before every poll: only the replica holding the leader lease consumes the queue. */
  readonly mayPoll: () => boolean;
  /** An interruption warning starts the next cycle at once, but never sooner than this after the last one started [5 s]. */
  readonly minGapMs?: number;
  readonly onPoll?: (report: PollReport) => void;
}

export const DEFAULT_MIN_GAP_MS = 5_000;

export interface LoopOptions {
  readonly reconciler: Reconciler;
  readonly intervalMs: number;
  readonly dryRun: boolean;
  readonly log: Logger;
  /** aborted on SIGTERM/SIGINT: the cycle in flight finishes, then the loop returns */
  readonly signal: AbortSignal;
  /** Asked before every cycle; false skips it (a standby replica waits for the lease). */
  readonly beforeCycle?: () => Promise<boolean>;
  readonly onCycle?: (result: CycleResult | undefined, error: unknown, durationMs: number) => void;
  readonly events?: EventPolling;
  /** what the loop reads the time from and sleeps on [the system's]; the simulator passes its own */
  readonly clock?: Clock;
}

/** The service: a cycle every interval until asked to stop. A failed cycle is logged, never fatal. */
export async function runLoop(options: LoopOptions): Promise<void> {
  const { reconciler, intervalMs, log, signal } = options;
  const clock = options.clock ?? systemClock;
  while (!signal.aborted) {
    const started = clock.now();
    const proceed = options.beforeCycle ? await options.beforeCycle() : true;
    if (!proceed) {
      await clock.sleep(intervalMs, signal);
      continue;
    }
    try {
      const result = await reconciler.cycle({ dryRun: options.dryRun });
      // A cycle that stopped early (the cloud or the state store failed it) reports its error.
      options.onCycle?.(result, result.error, clock.now() - started);
    } catch (e) {
      const error = classify(e);
      log.error({ code: error.code, class: error.errorClass, error: error.message }, 'cycle failed; retrying next interval');
      options.onCycle?.(undefined, e, clock.now() - started);
    }
    if (signal.aborted) break;
    await waitForNextCycle(options, started);
  }
  log.info('stopped');
}

/**
 * Until the next cycle is due: asleep, or, with an event queue and the lease, long-polling it so a
 * warning is recorded within seconds. An interruption warning ends the wait early: its replacement
 * is the next cycle's business, and two minutes is all EC2 gives.
 */
async function waitForNextCycle(options: LoopOptions, started: number): Promise<void> {
  const { intervalMs, signal, events, log } = options;
  const clock = options.clock ?? systemClock;
  const dueAt = started + intervalMs;
  while (!signal.aborted) {
    const left = dueAt - clock.now();
    if (left <= 0) return;
    if (!events || !events.mayPoll()) {
      await clock.sleep(left, signal);
      return;
    }
    const report = await events.inbox.poll(left, signal);
    events.onPoll?.(report);
    if (report.warnings > 0) {
      const earliest = started + (events.minGapMs ?? DEFAULT_MIN_GAP_MS);
      log.info({ warnings: report.warnings }, 'spot interruption warning: the next cycle starts now');
      await clock.sleep(Math.max(0, earliest - clock.now()), signal);
      return;
    }
    // A queue that cannot be reached is not asked again before the next cycle.
    if (report.failed !== undefined || report.received === 0) {
      await clock.sleep(Math.max(0, dueAt - clock.now()), signal);
      return;
    }
  }
}
