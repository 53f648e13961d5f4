import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { CycleResult, Reconciler } from './reconciler.js';

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
}

/** The service: a cycle every interval until asked to stop. A failed cycle is logged, never fatal. */
export async function runLoop(options: LoopOptions): Promise<void> {
  const { reconciler, intervalMs, log, signal } = options;
  while (!signal.aborted) {
    const started = Date.now();
    const proceed = options.beforeCycle ? await options.beforeCycle() : true;
    if (!proceed) {
      await sleepUnlessAborted(intervalMs, signal);
      continue;
    }
    try {
      const result = await reconciler.cycle({ dryRun: options.dryRun });
      // A cycle that stopped early (the cloud or the state store failed it) reports its error.
      options.onCycle?.(result, result.error, Date.now() - started);
    } catch (e) {
      const error = classify(e);
      log.error({ code: error.code, class: error.errorClass, error: error.message }, 'cycle failed; retrying next interval');
      options.onCycle?.(undefined, e, Date.now() - started);
    }
    if (signal.aborted) break;
    await sleepUnlessAborted(Math.max(0, intervalMs - (Date.now() - started)), signal);
  }
  log.info('stopped');
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
