// The service loop spends the wait between cycles on the event queue. These tests never look at
// the clock: a loop that waited its whole interval would not finish within the test's timeout.

import { expect } from 'chai';
import type { PollReport } from '../../../src/service/event-inbox.js';
import { silentLogger } from '../../../src/service/logger.js';
import { runLoop } from '../../../src/service/loop.js';
import { SimClock } from '../../../src/fake-cloud/clock.js';
import type { CycleResult, Reconciler } from '../../../src/service/reconciler.js';

const HOUR = 3600_000;
const QUIET: PollReport = { received: 1, tally: [{ kind: 'state-change', result: 'handled', count: 1 }], warnings: 0 };
const WARNING: PollReport = { received: 1, tally: [{ kind: 'interruption-warning', result: 'handled', count: 1 }], warnings: 1 };

/** A reconciler whose cycles only count, and a loop stopped by the test's own `stopWhen`. */
function harness(
  polls: (call: number, maxWaitMs: number) => PollReport,
  options: { mayPoll?: () => boolean; stopAfterCycles?: number; stopAfterPolls?: number } = {},
) {
  const stop = new AbortController();
  let cycles = 0;
  const waits: number[] = [];
  const reports: PollReport[] = [];
  const reconciler = {
    cycle: async () => {
      cycles++;
      if (cycles >= (options.stopAfterCycles ?? Infinity)) stop.abort();
      return {} as CycleResult;
    },
  } as unknown as Reconciler;
  const inbox = {
    poll: async (maxWaitMs: number) => {
      waits.push(maxWaitMs);
      // A bound on polls, so that a loop that never ends its wait fails the test instead of spinning.
      if (waits.length >= (options.stopAfterPolls ?? 50)) stop.abort();
      await new Promise((resolve) => setImmediate(resolve));
      return polls(waits.length, maxWaitMs);
    },
  };
  const run = runLoop({
    reconciler,
    intervalMs: HOUR,
    dryRun: false,
    log: silentLogger(),
    signal: stop.signal,
    events: { inbox, mayPoll: options.mayPoll ?? (() => true), minGapMs: 0, onPoll: (r) => reports.push(r) },
  });
  return { run, stop, cycles: () => cycles, waits, reports };
}

describe('service loop: the wait between cycles goes to the event queue', () => {
  it('an interruption warning starts the next cycle at once', async () => {
    const h = harness((call) => (call === 2 ? WARNING : QUIET), { stopAfterCycles: 2 });
    await h.run;
    expect(h.cycles()).to.equal(2);
    expect(h.waits).to.have.length(2);
    expect(h.reports.map((r) => r.warnings)).to.deep.equal([0, 1]);
  });

  it('without a warning it keeps polling, each time for what is left of the interval', async () => {
    const h = harness(() => QUIET, { stopAfterPolls: 4 });
    await h.run;
    expect(h.cycles()).to.equal(1);
    expect(h.waits).to.have.length(4);
    for (const [k, w] of h.waits.entries()) {
      expect(w)
        .to.be.at.most(HOUR)
        .and.above(HOUR - 60_000);
      if (k > 0) expect(w).to.be.at.most(h.waits[k - 1] as number);
    }
  });

  it('a queue that cannot be reached is not asked again before the next cycle', async () => {
    const h = harness(() => ({ received: 0, tally: [], warnings: 0, failed: 'queue unreachable: connect ECONNREFUSED' }));
    const stopLater = new Promise<void>((resolve) => setTimeout(resolve, 300));
    await stopLater;
    h.stop.abort();
    await h.run;
    expect(h.cycles()).to.equal(1);
    expect(h.waits).to.have.length(1);
  });

  it('a replica without the lease never polls', async () => {
    const h = harness(() => WARNING, { mayPoll: () => false });
    await new Promise<void>((resolve) => setTimeout(resolve, 300));
    h.stop.abort();
    await h.run;
    expect(h.cycles()).to.equal(1);
    expect(h.waits).to.deep.equal([]);
  });
});

describe('service loop: time from the injected clock', () => {
  it('sleeps on the clock it is given: a cycle every interval of simulated time', async () => {
    const T0 = Date.UTC(2026, 0, 1);
    const clock = new SimClock(T0);
    const stop = new AbortController();
    const startedAt: number[] = [];
    const reconciler = {
      cycle: async () => {
        startedAt.push(clock.now());
        if (startedAt.length === 3) stop.abort();
        return {} as CycleResult;
      },
    } as unknown as Reconciler;
    const durations: number[] = [];
    // A loop on the system's clock would sleep an hour here and fail on the test's timeout.
    await runLoop({
      reconciler,
      intervalMs: HOUR,
      dryRun: false,
      log: silentLogger(),
      signal: stop.signal,
      clock,
      onCycle: (_r, _e, ms) => durations.push(ms),
    });
    expect(startedAt).to.deep.equal([T0, T0 + HOUR, T0 + 2 * HOUR]);
    expect(durations).to.deep.equal([0, 0, 0]);
  });
});
