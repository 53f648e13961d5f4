import type { Clock } from '../domain/clock.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

/**
 * Simulated time.
 *
 * Inside `run(work)` it is a discrete-event clock: a sleep waits until every task is blocked,
 * then time jumps to the earliest wake-up and only that sleeper resumes, so concurrent calls
 * see time in the same order as they would on a real clock (rate limits, backoff and API
 * latency interleave correctly). Outside `run`, a sleep simply moves time forward at once;
 * overlapping sleeps then overlap instead of adding up.
 */
export class SimClock implements Clock {
  private readonly timers: Timer[] = [];
  private seq = 0;
  private running = 0;

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    const at = this.t + Math.max(0, ms);
    if (this.running === 0) {
      return Promise.resolve().then(() => {
        this.t = Math.max(this.t, at);
      });
    }
    return new Promise((wake) => {
      const timer: Timer = { at, seq: this.seq++, wake };
      this.insert(timer);
      // An aborted sleep leaves the queue at once: a deadline nobody waits for must not move time.
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.timers.indexOf(timer);
          if (i >= 0) this.timers.splice(i, 1);
          wake();
        },
        { once: true },
      );
    });
  }

  advanceTo(t: number): void {
    this.t = Math.max(this.t, t);
  }

  /** Run `work` to completion on the discrete-event clock. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    this.running++;
    let settled = false;
    const result = work().finally(() => {
      settled = true;
    });
    // Its failure is rethrown below, once the loop ends; until then it must not count as unhandled.
    result.catch(() => undefined);
    try {
      while (!settled) {
        // Let every task run until it completes or waits on the clock.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (settled) break;
        const next = this.timers.shift();
        if (!next) continue;
        this.t = Math.max(this.t, next.at);
        next.wake();
      }
      return await result;
    } finally {
      this.running--;
      // Sleeps still waiting when the work ended (none in practice) resume at once.
      if (this.running === 0) for (const timer of this.timers.splice(0)) timer.wake();
    }
  }

  private insert(timer: Timer): void {
    let i = this.timers.length;
    while (i > 0) {
      const prev = this.timers[i - 1] as Timer;
      if (prev.at < timer.at || (prev.at === timer.at && prev.seq < timer.seq)) break;
      i--;
    }
    this.timers.splice(i, 0, timer);
  }
}
