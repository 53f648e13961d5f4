// The simulated CI's working hours: where each workload puts them, and the waits of the jobs that
// arrived in them, summarised apart from the whole run's.

import { expect } from 'chai';
import { inWorkingHours, jobFigures } from '../../src/sim/ci/figures.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import { JobQueue, OFFICE, WORKING_HOURS, dailyShare, officeLoad } from '../../src/sim/workload.js';
import { policy } from '../support/builders.js';

const at = (hhmm: string) => Date.parse(`2026-11-17T${hhmm}:00Z`);

describe('sim working hours', () => {
  it("puts the day's working hours where its curve is above the middle of its range", () => {
    const { fromHour, toHour } = WORKING_HOURS.day;
    expect(dailyShare(fromHour)).to.be.closeTo(0.5, 1e-9);
    expect(dailyShare(toHour)).to.be.closeTo(0.5, 1e-9);
    for (let hour = 0.25; hour < 24; hour += 0.5) {
      const inside = hour > fromHour && hour < toHour;
      expect(dailyShare(hour) > 0.5, `${hour} h`).to.equal(inside);
    }
  });

  it('brings office jobs only in office hours: the burst first, then the day’s rate', () => {
    const pool = policy({ size: { min: 0, max: 40 } });
    expect(officeLoad(pool, at('03:00'))).to.equal(0);
    expect(officeLoad(pool, at('07:59'))).to.equal(0);
    expect(officeLoad(pool, at('08:00'))).to.equal(40 * OFFICE.burstLevel);
    expect(officeLoad(pool, at('08:29'))).to.equal(40 * OFFICE.burstLevel);
    expect(officeLoad(pool, at('08:30'))).to.equal(40 * OFFICE.dayLevel);
    expect(officeLoad(pool, at('17:59'))).to.equal(40 * OFFICE.dayLevel);
    expect(officeLoad(pool, at('18:00'))).to.equal(0);
    // No bursts after pushes on the office day: the night stays empty.
    const queue = new JobQueue([pool], new Prng(3), 'office');
    for (let t = at('00:00'); t < at('08:00'); t += 60_000) {
      queue.tick(t, 60_000);
      expect(queue.wanted(pool, t), new Date(t).toISOString()).to.equal(0);
    }
  });

  it('summarises the waits of the jobs that arrived in working hours apart', () => {
    const hours = { fromHour: 10, toHour: 22 };
    expect(inWorkingHours(at('09:59'), hours)).to.equal(false);
    expect(inWorkingHours(at('10:00'), hours)).to.equal(true);
    expect(inWorkingHours(at('21:59'), hours)).to.equal(true);
    expect(inWorkingHours(at('22:00'), hours)).to.equal(false);
    const tally = {
      completed: 4,
      waitsMs: [600_000, 5_000, 7_000, 900_000],
      arrivalsMs: [at('04:00'), at('10:30'), at('15:00'), at('23:00')],
      killed: {},
      lostMs: 0,
    };
    const figures = jobFigures([tally], 4, hours);
    expect(figures.waitSeconds.max).to.equal(900);
    expect(figures.workingHours).to.deep.equal({ utc: '10:00-22:00', completed: 2, waitSeconds: { p50: 5, p95: 7, max: 7 } });
    expect(jobFigures([tally], 4)).to.not.have.property('workingHours');
  });
});
