// What `fleet sim` keeps beside the service loop it runs: the world outside fleet stepping once an
// interval of simulated time, and the tally of the loop's cycles for the summary.

import type { SimClock } from '../fake-cloud/clock.js';
import type { CycleResult } from '../service/reconciler.js';

/** The world's steps, at `start` and every `stepMs` after it until (not at) `end`. */
export class WorldSteps {
  private next: number;
  private fresh = false;

  constructor(
    private readonly clock: SimClock,
    start: number,
    private readonly end: number,
    private readonly stepMs: number,
    private readonly step: (t: number) => void,
  ) {
    this.next = start;
  }

  /** Take every step due by `to`, each at its own time. */
  to(to: number): void {
    for (; this.next <= to && this.next < this.end; this.next += this.stepMs) {
      this.clock.advanceTo(this.next);
      this.step(this.next);
      this.fresh = true;
    }
  }

  /** Whether the world stepped since the last time this was asked. */
  stepped(): boolean {
    const fresh = this.fresh;
    this.fresh = false;
    return fresh;
  }
}

/**
 * The loop's cycles as the summary counts them. Whether a cycle changed anything (and what a quiet
 * one cost in calls) is counted for the cycles the report samples, one per step of the world.
 */
export class CycleTally {
  private cycles = 0;
  private failedCycles = 0;
  private actionCycles = 0;
  private quietCycles = 0;
  private quietCalls = 0;
  private callsBefore = 0;

  constructor(private readonly cloud: { readonly calls: readonly unknown[] }) {}

  begin(): void {
    this.callsBefore = this.cloud.calls.length;
  }

  /** `result` undefined: the cycle threw. */
  end(result: CycleResult | undefined, sampled: boolean): void {
    this.cycles++;
    if (!result) {
      this.failedCycles++;
      return;
    }
    if (!sampled) return;
    if (result.outcomes.some((o) => o.launches.length + o.terminations.length > 0)) this.actionCycles++;
    else {
      this.quietCycles++;
      this.quietCalls += this.cloud.calls.length - this.callsBefore;
    }
  }

  figures() {
    const { cycles, failedCycles, actionCycles, quietCycles, quietCalls } = this;
    return { cycles, failedCycles, actionCycles, quietCycles, quietCalls };
  }
}
