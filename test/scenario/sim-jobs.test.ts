// `fleet sim` with the simulated CI: jobs run on the workers fleet keeps, the desired counts come
// from the CI's queues, and the summary's work figures agree with the world.

import { expect } from 'chai';
import { type SimRun, type SimRunOptions, runSimulation } from '../../src/sim/driver.js';
import { type QueueDesired, desiredDocument } from '../../src/sim/ci/desired.js';
import { summaryText } from '../../src/sim/summary.js';
import { jobSimOptions } from '../support/sim-jobs.js';

const options = (more: Partial<SimRunOptions> = {}): SimRunOptions => jobSimOptions(2, more);

describe('sim with jobs', function () {
  this.timeout(120_000);
  let run: SimRun;

  before(async () => {
    run = await runSimulation(options());
  });

  it('completes jobs, never more at once on a pool than it has running workers', () => {
    expect(run.summary.jobs.completed).to.be.greaterThan(100);
    for (const s of run.samples) {
      for (const [pool, p] of Object.entries(s.pools))
        expect(p.jobsRunning, `${pool} at ${new Date(s.t).toISOString()}`).to.be.at.most(p.running);
    }
  });

  it('publishes pending + running jobs as the desired counts', () => {
    const published = JSON.parse(run.cloud.objects.peek('fleet-sim', 'desired.json')?.body as string) as Record<string, number>;
    const queues = run.ci.queueState();
    for (const [pool, n] of Object.entries(published)) expect(typeof n, pool).to.equal('number');
    // The last publication was at most five minutes before the end: the counts are near the queues'.
    const inFlight = Object.values(queues).reduce((sum, q) => sum + q.pending + q.running, 0);
    expect(Object.values(published).reduce((a, b) => a + b, 0)).to.be.closeTo(inFlight, Math.max(10, inFlight * 0.5));
  });

  it('adds pools up to the run, and counts kills by why the worker ended', () => {
    const { summary } = run;
    expect(summary.jobs.completed).to.equal(summary.pools.reduce((sum, p) => sum + p.jobs.completed, 0));
    const killed = (k: Readonly<Record<string, number>>) => Object.values(k).reduce((a, b) => a + b, 0);
    expect(killed(summary.jobs.killed)).to.equal(summary.pools.reduce((sum, p) => sum + killed(p.jobs.killed), 0));
    expect(killed(summary.jobs.killed)).to.be.greaterThan(0);
    expect(
      summary.pools.some((p) => p.terminatedByFleet > 0),
      'fleet scaled down under jobs',
    ).to.equal(true);
    for (const p of summary.pools) {
      // A job is killed only by a worker's end: never more kills of a cause than workers ended by it.
      for (const [cause, n] of Object.entries(p.jobs.killed))
        expect(n, `${p.pool} ${cause}`).to.be.at.most((p.ended as Record<string, number>)[cause] ?? 0);
      expect(p.ended['spot-interruption'] ?? 0, p.pool).to.equal(p.interruptions);
      // Every other cause is one of fleet's actions (its typed cause, or `fleet`): all its terminations.
      const byFleet = Object.entries(p.ended).filter(([cause]) => cause !== 'spot-interruption' && cause !== 'instance-initiated');
      expect(
        byFleet.reduce((sum, [, n]) => sum + n, 0),
        p.pool,
      ).to.equal(p.terminatedByFleet);
      if (p.jobs.completed > 0) expect(p.jobs.costPerJob, p.pool).to.be.closeTo(p.cost / p.jobs.completed, 0.01);
      expect(p.jobs.waitSeconds.p50).to.be.at.most(p.jobs.waitSeconds.p95);
      expect(p.jobs.waitSeconds.p95).to.be.at.most(p.jobs.waitSeconds.max);
      expect(p.idleWorkerHours).to.be.greaterThan(0);
    }
    expect(summaryText(summary)).to.match(/jobs +completed +wait p50/);
  });

  it('gives the same run for the same seed', async () => {
    const again = await runSimulation(options());
    expect(again.summary.jobs).to.deep.equal(run.summary.jobs);
    expect(again.summary.ended).to.deep.equal(run.summary.ended);
  });

  it('with a demand curve, jobs arrive at `jobLoad` of its workers while the desired counts stay the curve', async () => {
    const curve = { hours: 2, demand: () => 6 };
    const full = await runSimulation(options(curve));
    const part = await runSimulation(options({ ...curve, jobLoad: 0.5 }));
    const wanted = (r: SimRun) => r.summary.pools.map((p) => p.peakWanted);
    expect(wanted(part)).to.deep.equal(wanted(full));
    // Every job that arrived: completed, still queued or running.
    const arrived = (r: SimRun) =>
      r.summary.pools.reduce((n, p) => {
        const q = r.ci.queueState()[p.pool];
        return n + r.ci.tally(p.pool).completed + (q?.pending ?? 0) + (q?.running ?? 0);
      }, 0);
    expect(arrived(part) / arrived(full)).to.be.within(0.35, 0.65);
  });

  it('publishes the queue form on request: pending, running, the oldest wait and the busy workers by slot name', async () => {
    // The form itself, as a run publishes it (whether fleet reads it is fleet's side).
    const queued = await runSimulation(options({ hours: 0.25, desiredForm: 'queue' }));
    const doc = JSON.parse(queued.cloud.objects.peek('fleet-sim', 'desired.json')?.body as string) as Record<string, unknown>;
    expect(Object.keys(doc).sort()).to.deep.equal(queued.summary.pools.map((p) => p.pool).sort());
    for (const [pool, q] of Object.entries(doc)) expect(q, pool).to.have.all.keys('pending', 'running', 'oldestPendingSeconds', 'busy');
    // The busy workers of a run with jobs running: the slot names fleet gave the workers running them.
    const queues = desiredDocument(run.ci.queueState(), 'queue') as Record<string, QueueDesired>;
    const busyIds = run.ci.busyWorkers();
    let busy = 0;
    for (const [pool, q] of Object.entries(queues)) {
      const named = [...run.cloud.world.instances.values()]
        .filter((i) => busyIds.has(i.id) && i.tags['fleet:pool'] === pool)
        .map((i) => i.tags.Name);
      expect(q.busy, pool).to.deep.equal([...named].sort());
      expect(q.busy.length, pool).to.equal(q.running);
      for (const name of q.busy) expect(name, pool).to.match(new RegExp(`^${pool}-spot-\\d{3}$`));
      busy += q.busy.length;
    }
    expect(busy).to.be.greaterThan(0);
  });
});
