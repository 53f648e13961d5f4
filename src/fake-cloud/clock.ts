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
 *
 * What else lives in simulated time (the simulator's CI, its image pipeline) can ask to be told
 * before a sleep moves time forward (`beforeAdvance`), and so move along with it.
 */
export class SimClock implements Clock {
  private readonly timers: Timer[] = [];
  private seq = 0;
  private running = 0;
  private advancing: ((to: number) => void) | undefined;

  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    const at = this.t + Math.max(0, ms);
    if (this.running === 0) {
      return Promise.resolve().then(() => this.wakeAt(at));
    }
    return new Promise((resolve) => {
      // An aborted sleep leaves the queue at once: a deadline nobody waits for must not move time.
      const aborted = () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        resolve();
      };
      const wake = () => {
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const timer: Timer = { at, seq: this.seq++, wake };
      this.insert(timer);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }

  advanceTo(t: number): void {
    this.t = Math.max(this.t, t);
  }

  /**
   * `hook(to)` runs before a sleep's wake-up moves time to `to`, while the clock still reads the time
   * before: it may step something of its own up to `to` (advanceTo, then its work, as often as it
   * needs). One hook; undefined removes it.
   */
  beforeAdvance(hook: ((to: number) => void) | undefined): void {
    this.advancing = hook;
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
        this.wakeAt(next.at);
        next.wake();
      }
      return await result;
    } finally {
      this.running--;
      // Sleeps still waiting when the work ended (none in practice) resume at once.
      if (this.running === 0) for (const timer of this.timers.splice(0)) timer.wake();
    }
  }

  private wakeAt(at: number): void {
    this.advancing?.(Math.max(this.t, at));
    this.t = Math.max(this.t, at);
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
