/** Time as the core sees it: injected, so the simulator can run a day in seconds. */
export interface Clock {
  /** epoch milliseconds */
  now(): number;
  /** Resolves after `ms`, or as soon as `signal` aborts (a deadline that is no longer needed). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
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
