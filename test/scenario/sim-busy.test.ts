// Work on the workers, end to end on the simulated cloud: with the CI's busy list (queue form) and
// workers that honour fleet:retire, fleet throws away no job of its own doing; with plain counts it does.

import { expect } from 'chai';
import { type SimRun, type SimRunOptions, runSimulation } from '../../src/sim/driver.js';
import { jobSimOptions } from '../support/sim-jobs.js';

const options = (more: Partial<SimRunOptions> = {}): SimRunOptions => jobSimOptions(4, more);

/** Jobs thrown away by workers fleet ended (not the market's reclaims). */
const killedByFleet = (run: SimRun) =>
  Object.entries(run.summary.jobs.killed)
    .filter(([cause]) => cause !== 'spot-interruption')
    .reduce((sum, [, n]) => sum + n, 0);

describe('sim: busy workers', function () {
  this.timeout(240_000);

  it('plain counts: fleet ends workers under their jobs', async () => {
    expect(killedByFleet(await runSimulation(options()))).to.be.greaterThan(0);
  });

  it('queue form with the worker agent: no job thrown away by fleet, and busy workers were asked to leave', async () => {
    const run = await runSimulation(options({ desiredForm: 'queue', workerAgent: true }));
    expect(killedByFleet(run)).to.equal(0);
    expect(run.summary.jobs.completed).to.be.greaterThan(100);
    const tagged = run.cloud.calls.filter((c) => c.action === 'CreateTags' && c.result === 'ok' && c.detail?.retire !== undefined);
    expect(tagged.length, 'some busy worker was asked to leave').to.be.greaterThan(0);
  });
});
