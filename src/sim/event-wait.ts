// `fleet sim --events`: the wait between two simulated cycles is spent on the event queue, as the
// service spends it (service/loop.ts): a spot interruption warning runs a cycle at once.

import type { Logger } from 'pino';
import type { EventInbox } from '../service/event-inbox.js';
import { DEFAULT_MIN_GAP_MS } from '../service/loop.js';
import type { SimClock } from './clock.js';

export interface EventWait {
  readonly inbox: EventInbox;
  readonly clock: SimClock;
  /** when the last cycle started */
  readonly lastCycleAt: number;
  /** when the next regular cycle is due */
  readonly until: number;
  readonly cycle: () => Promise<unknown>;
  readonly log: Logger;
}

/** Poll until `until`; returns the early cycles it ran, and how many of them failed. */
export async function spendWaitOnEvents(wait: EventWait): Promise<{ cycles: number; failed: number }> {
  const { inbox, clock, until, log } = wait;
  let lastCycleAt = wait.lastCycleAt;
  let cycles = 0;
  let failed = 0;
  while (clock.now() < until) {
    const report = await clock.run(() => inbox.poll(until - clock.now()));
    if (report.failed !== undefined || report.received === 0) break;
    if (report.warnings === 0) continue;
    clock.advanceTo(lastCycleAt + DEFAULT_MIN_GAP_MS);
    if (clock.now() >= until) break;
    lastCycleAt = clock.now();
    cycles++;
    try {
      await clock.run(wait.cycle);
    } catch (e) {
      failed++;
      log.warn({ error: (e as Error).message }, 'simulated cycle failed');
    }
  }
  return { cycles, failed };
}
