/** Time as the core sees it: injected, so the simulator can run a day in seconds. */
export interface Clock {
  /** epoch milliseconds */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
