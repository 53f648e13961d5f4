// The wait between two simulated cycles spent on the event queue, as the service spends it
// (service/loop.ts): the lease holder long-polls, and a spot interruption warning runs a cycle at
// once. Used by `fleet sim --events` and by the soak.

import type { Logger } from 'pino';
import type { EventInbox } from '../service/event-inbox.js';
import { DEFAULT_MIN_GAP_MS } from '../service/loop.js';
import type { SimClock } from '../fake-cloud/clock.js';

export interface EventWait {
  readonly inbox: Pick<EventInbox, 'poll'>;
  readonly clock: SimClock;
  /** when the last cycle started */
  readonly lastCycleAt: number;
  /** when the next regular cycle is due */
  readonly until: number;
  /** one cycle, run on the simulated clock by the caller (`clock.run`) */
  readonly cycle: () => Promise<unknown>;
  /** asked before every poll: only the replica holding the leader lease consumes the queue [always] */
  readonly mayPoll?: () => boolean;
  readonly log: Logger;
}

/** Poll until `until`; returns the early cycles it ran, and how many of them failed. */
export async function spendWaitOnEvents(wait: EventWait): Promise<{ cycles: number; failed: number }> {
  const { inbox, clock, until, log } = wait;
  let lastCycleAt = wait.lastCycleAt;
  let cycles = 0;
  let failed = 0;
  while (clock.now() < until && (wait.mayPoll?.() ?? true)) {
    const report = await clock.run(() => inbox.poll(until - clock.now()));
    if (report.failed !== undefined || report.received === 0) break;
    if (report.warnings === 0) continue;
    clock.advanceTo(lastCycleAt + DEFAULT_MIN_GAP_MS);
    if (clock.now() >= until) break;
    lastCycleAt = clock.now();
    cycles++;
    try {
      await wait.cycle();
    } catch (e) {
      failed++;
      log.warn({ error: (e as Error).message }, 'simulated cycle failed');
    }
  }
  return { cycles, failed };
}
