import type { Clock } from '../domain/clock.js';

/**
 * Simulated time. Sleeping moves time forward at once; sleeps that overlap (started at the
 * same moment by concurrent tasks) overlap in simulated time too instead of adding up.
 */
export class SimClock implements Clock {
  constructor(private t: number) {}

  now(): number {
    return this.t;
  }

  async sleep(ms: number): Promise<void> {
    const target = this.t + Math.max(0, ms);
    await Promise.resolve();
    this.t = Math.max(this.t, target);
  }

  advanceTo(t: number): void {
    this.t = Math.max(this.t, t);
  }
}
