// The service loop on a simulated clock, as `fleet sim` and the soak run it: the whole loop inside
// the clock's discrete-event run, a world stepped as its sleeps move time, a timer that ends it.

import { getEventListeners } from 'node:events';
import { expect } from 'chai';
import { SimClock } from '../../src/fake-cloud/clock.js';
import type { PollReport } from '../../src/service/event-inbox.js';
import { silentLogger } from '../../src/service/logger.js';
import { runLoop } from '../../src/service/loop.js';
import type { CycleResult, Reconciler } from '../../src/service/reconciler.js';

const T0 = Date.parse('2026-11-20T00:00:00Z');
const MINUTE = 60_000;
const EMPTY: PollReport = { received: 0, tally: [], warnings: 0 };
const BUSY: PollReport = { received: 1, tally: [{ kind: 'state-change', result: 'handled', count: 1 }], warnings: 0 };
const WARNING: PollReport = { received: 1, tally: [{ kind: 'interruption-warning', result: 'handled', count: 1 }], warnings: 1 };

/**
 * `runLoop` on a SimClock until `end` (a timer aborts it there, as the simulator's does), with a
 * reconciler that notes when each cycle starts and an inbox whose every poll takes a second.
 */
async function simulate(options: { end: number; reports?: PollReport[]; mayPoll?: () => boolean; world?: (to: number) => void }) {
  const clock = new SimClock(T0);
  const cycles: number[] = [];
  const polls: number[] = [];
  const reconciler = {
    cycle: async () => {
      cycles.push(clock.now());
      await clock.sleep(2_000);
      return { outcomes: [] } as unknown as CycleResult;
    },
  } as unknown as Reconciler;
  const inbox = {
    poll: async (maxWaitMs: number) => {
      polls.push(maxWaitMs);
      await clock.sleep(1_000);
      return options.reports?.shift() ?? EMPTY;
    },
  };
  const stop = new AbortController();
  clock.beforeAdvance(options.world);
  await clock.run(async () => {
    void clock.sleep(options.end - T0).then(() => stop.abort());
    await runLoop({
      reconciler,
      intervalMs: MINUTE,
      dryRun: false,
      log: silentLogger(),
      signal: stop.signal,
      clock,
      ...(options.reports ? { events: { inbox, mayPoll: options.mayPoll ?? (() => true) } } : {}),
    });
  });
  return { clock, cycles, polls };
}

describe('service loop on the simulated clock', () => {
  it('runs a cycle every interval until the end of the period, then returns there: none starts at the end', async () => {
    const { clock, cycles } = await simulate({ end: T0 + 3 * MINUTE });
    expect(cycles).to.deep.equal([T0, T0 + MINUTE, T0 + 2 * MINUTE]);
    expect(clock.now()).to.equal(T0 + 3 * MINUTE);
  });

  it('the world steps before the loop wakes: each cycle sees every step due by its start, each taken at its own time', async () => {
    const steps: number[] = [];
    let next = T0 + MINUTE / 2;
    const seen: number[] = [];
    const clock = new SimClock(T0);
    clock.beforeAdvance((to) => {
      for (; next <= to; next += MINUTE / 2) {
        clock.advanceTo(next);
        steps.push(clock.now());
      }
    });
    const stop = new AbortController();
    const reconciler = {
      cycle: async () => {
        seen.push(steps.length);
        return {} as CycleResult;
      },
    } as unknown as Reconciler;
    await clock.run(async () => {
      void clock.sleep(2 * MINUTE).then(() => stop.abort());
      await runLoop({ reconciler, intervalMs: MINUTE, dryRun: false, log: silentLogger(), signal: stop.signal, clock });
    });
    expect(steps).to.deep.equal([T0 + MINUTE / 2, T0 + MINUTE, T0 + (3 * MINUTE) / 2, T0 + 2 * MINUTE]);
    expect(seen).to.deep.equal([0, 2]);
  });

  it('a replica that may not poll (no lease) never touches the inbox and runs no early cycle', async () => {
    const { cycles, polls } = await simulate({ end: T0 + 2 * MINUTE, reports: [WARNING, WARNING], mayPoll: () => false });
    expect(polls).to.deep.equal([]);
    expect(cycles).to.deep.equal([T0, T0 + MINUTE]);
  });

  it('the lease holder polls; a warning starts a cycle 5 s after the last one started, and the next is due an interval after that', async () => {
    const { cycles, polls } = await simulate({ end: T0 + 2 * MINUTE, reports: [WARNING] });
    expect(cycles).to.deep.equal([T0, T0 + 5_000, T0 + 5_000 + MINUTE]);
    // The first poll asks for the rest of the interval after a two-second cycle.
    expect(polls[0]).to.equal(MINUTE - 2_000);
  });

  it('mayPoll is asked before every poll: a lease lost during the wait ends the polling until the next cycle', async () => {
    let asked = 0;
    const { cycles, polls } = await simulate({ end: T0 + MINUTE, reports: [BUSY, BUSY, BUSY, BUSY], mayPoll: () => ++asked <= 2 });
    expect(polls).to.have.length(2);
    expect(asked).to.equal(3);
    expect(cycles).to.deep.equal([T0]);
  });
});

describe('SimClock', () => {
  it('a sleep that ends on its own leaves no listener on its signal (a loop of a day of sleeps would pile them up)', async () => {
    const clock = new SimClock(T0);
    const signal = new AbortController().signal;
    await clock.run(async () => {
      for (let i = 0; i < 20; i++) await clock.sleep(1_000, signal);
    });
    expect(getEventListeners(signal, 'abort')).to.have.length(0);
    expect(clock.now()).to.equal(T0 + 20_000);
  });

  it('beforeAdvance hears where a wake-up moves time before the clock moves there', async () => {
    const clock = new SimClock(T0);
    const heard: [number, number][] = [];
    clock.beforeAdvance((to) => heard.push([clock.now(), to]));
    await clock.run(() => clock.sleep(1_000));
    clock.beforeAdvance(undefined);
    await clock.run(() => clock.sleep(1_000));
    expect(heard).to.deep.equal([[T0, T0 + 1_000]]);
  });
});
