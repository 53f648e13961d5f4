import type { Logger } from 'pino';
import { sleepUnlessAborted } from '../shared/sleep.js';
import type { Imds } from './imds.js';
import { type LeaveSignal, readLeaveSignal } from './leave-signal.js';

export interface WatchOptions {
  readonly pollMs: number;
  readonly log: Logger;
  /** ends the watch (SIGTERM, SIGINT): resolves undefined */
  readonly signal: AbortSignal;
}

/**
 * Poll the worker's metadata until it is asked to leave, or the watch is stopped. A metadata read
 * that fails is logged and tried again at the next poll: a worker is never powered off because its
 * metadata was briefly unreadable.
 */
export async function watchForLeave(imds: Imds, { pollMs, log, signal }: WatchOptions): Promise<LeaveSignal | undefined> {
  let failing = false;
  while (!signal.aborted) {
    try {
      const leave = await readLeaveSignal(imds);
      if (leave !== undefined) return leave;
      if (failing) log.info('instance metadata readable again');
      failing = false;
    } catch (e) {
      if (!failing) log.warn({ err: (e as Error).message }, 'cannot read instance metadata; trying again at the next poll');
      failing = true;
    }
    await sleepUnlessAborted(pollMs, signal);
  }
  return undefined;
}
