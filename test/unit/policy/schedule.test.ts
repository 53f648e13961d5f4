import { expect } from 'chai';
import { inWindow, scheduledMinimum } from '../../../src/policy/schedule.js';

const at = (iso: string) => Date.parse(iso);
const workingHours = { cron: '0 13 * * 1-5', durationSeconds: 9 * 3600, min: 10, timezone: 'UTC' };

describe('schedule windows', () => {
  it('is open from a cron start for its duration, and closed before and after', () => {
    // 2026-12-07 is a Monday.
    expect(inWindow(workingHours, at('2026-12-07T12:59:59Z'))).to.equal(false);
    expect(inWindow(workingHours, at('2026-12-07T13:00:00Z'))).to.equal(true);
    expect(inWindow(workingHours, at('2026-12-07T21:59:59Z'))).to.equal(true);
    expect(inWindow(workingHours, at('2026-12-07T22:00:00Z'))).to.equal(false);
    expect(inWindow(workingHours, at('2026-12-06T14:00:00Z')), 'Sunday').to.equal(false);
  });

  it('reads the cron in the named time zone', () => {
    const berlinMornings = { cron: '0 8 * * *', durationSeconds: 3600, min: 2, timezone: 'Europe/Berlin' };
    // 08:00 in Berlin is 07:00 UTC in winter.
    expect(inWindow(berlinMornings, at('2026-12-07T07:30:00Z'))).to.equal(true);
    expect(inWindow(berlinMornings, at('2026-12-07T08:30:00Z'))).to.equal(false);
  });

  it('takes the largest minimum of the open windows', () => {
    const night = { cron: '0 0 * * *', durationSeconds: 24 * 3600, min: 1, timezone: 'UTC' };
    expect(scheduledMinimum([night, workingHours], at('2026-12-07T14:00:00Z'))).to.equal(10);
    expect(scheduledMinimum([night, workingHours], at('2026-12-07T23:00:00Z'))).to.equal(1);
    expect(scheduledMinimum([], at('2026-12-07T14:00:00Z'))).to.equal(0);
  });
});
