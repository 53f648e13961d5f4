// The scale-to-zero day (bench/scale-to-zero.ts) on the simulated clock: a `size.min: 0` pool whose
// desired comes from the CI's queue, on the office workload (no job from 18:00 to 08:00 UTC, a
// burst at 08:00), without and with a schedule window that opens at 07:50.

import { expect } from 'chai';
import { bootSeconds, jobsArriving, simulateOfficeDay, workerHoursBetween } from '../../bench/scale-to-zero.js';
import { percentile } from '../../src/sim/ci/figures.js';
import type { SimRun } from '../../src/sim/driver.js';

const HOUR = 3600_000;
const MONDAY_4PM = Date.parse('2026-11-16T16:00:00Z');
const TUESDAY = Date.parse('2026-11-17T00:00:00Z');
const at = (hhmm: string) => Date.parse(`2026-11-17T${hhmm}:00Z`);
const INTERVAL_SECONDS = 60;

const live = (run: SimRun, t: number) => {
  const sample = run.samples.find((s) => s.t >= t);
  return Object.values(sample?.pools ?? {}).reduce((n, p) => n + p.running + p.pending, 0);
};
const burstP95 = (run: SimRun) =>
  percentile(
    jobsArriving(run, at('06:00'), at('08:30'))
      .map((j) => j.waitMs)
      .sort((a, b) => a - b),
    0.95,
  );

describe('scenario: scale to zero overnight, and a schedule window for the morning burst', function () {
  this.timeout(300_000);
  let without: SimRun;
  let withWindow: SimRun;

  before(async () => {
    // Monday 16:00 to Tuesday 09:00: the afternoon's jobs, the night, the morning burst.
    without = await simulateOfficeDay('without-window', 17, MONDAY_4PM);
    withWindow = await simulateOfficeDay('with-window', 17, MONDAY_4PM);
  });

  it('comes down to zero workers at night, with or without the window', () => {
    for (const run of [without, withWindow]) {
      expect(live(run, MONDAY_4PM + HOUR), 'workers in the afternoon').to.be.greaterThan(0);
      expect(workerHoursBetween(run, TUESDAY, at('07:30'))).to.equal(0);
      for (const s of run.samples.filter((x) => x.t >= TUESDAY && x.t < at('07:30')))
        expect(live(run, s.t), new Date(s.t).toISOString()).to.equal(0);
    }
  });

  it("serves the morning's first job within boot time plus one interval", () => {
    expect(live(without, at('07:55')), 'no worker before the first job').to.equal(0);
    const [first] = jobsArriving(without, at('06:00'), at('09:00'));
    expect(first, 'a morning job').to.not.equal(undefined);
    expect((first?.waitMs ?? 0) / 1000).to.be.greaterThan(0);
    expect((first?.waitMs ?? 0) / 1000).to.be.at.most(bootSeconds() + INTERVAL_SECONDS);
  });

  it("has workers ready before the burst with the window, and lowers the burst's p95 wait", () => {
    expect(live(withWindow, at('07:59')), 'workers of the window before the first job').to.be.at.least(20);
    const [first] = jobsArriving(withWindow, at('06:00'), at('09:00'));
    expect(first?.waitMs).to.equal(0);
    expect(burstP95(withWindow)).to.be.lessThan(burstP95(without) / 2);
  });
});
