/** Time as the core sees it: injected, so the simulator can run a day in seconds. */
export interface Clock {
  /** epoch milliseconds */
  now(): number;
  /**
   * Milliseconds on a clock that never jumps (NTP steps, a changed system time), for judging how
   * long something lasted on this process alone; absent: now() is taken to be monotonic (simulated time).
   */
  monotonic?(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (a deadline that is no longer needed). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The clock's monotonic reading, or its epoch time when it has none. */
export function monotonicNow(clock: Clock): number {
  return clock.monotonic ? clock.monotonic() : clock.now();
}

export const systemClock: Clock = {
  // eslint-disable-next-line no-restricted-properties -- the system clock: the one place the real time is read
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};
