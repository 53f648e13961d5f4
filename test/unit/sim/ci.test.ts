// The simulated CI: jobs arrive along the curve, run one per worker once it has booted and passed
// its boot check, and a worker that ends under a job loses it back to the front of the queue.

import { expect } from 'chai';
import type { Cause } from '../../../src/domain/causes.js';
import { arrivalsBetween } from '../../../src/sim/ci/arrivals.js';
import { BOOT_MS } from '../../../src/sim/ci/world-workers.js';
import { curveDocument, desiredDocument } from '../../../src/sim/ci/desired.js';
import { defaultDurations, drawDurationMs, meanMinutes } from '../../../src/sim/ci/durations.js';
import { jobFigures, percentile } from '../../../src/sim/ci/figures.js';
import { Prng } from '../../../src/fake-cloud/prng.js';
import type { SimInstance } from '../../../src/fake-cloud/world.js';
import { CI_POOL, CI_START, ciWorld } from '../../support/sim-ci.js';

const START = CI_START;
const MIN = 60_000;
const POOL = CI_POOL;
/** Launches become running after exactly a minute. */
const RUNNING_AFTER = MIN;

describe('sim CI', () => {
  it('draws lognormal run times around each pool kind’s median, with a long tail', () => {
    const rng = new Prng(11);
    for (const [pool, median] of [
      ['bld-linux64', 20],
      ['tst-linux64', 8],
      ['try-linux64', 20],
    ] as const) {
      const minutes = Array.from({ length: 4000 }, () => drawDurationMs(defaultDurations(pool), rng) / MIN).sort((a, b) => a - b);
      expect(percentile(minutes, 0.5), pool).to.be.closeTo(median, median * 0.08);
      // The tail: the 95th percentile is several times the median, the mean above the median.
      expect(percentile(minutes, 0.95), pool).to.be.greaterThan(3 * median);
      expect(minutes.reduce((a, b) => a + b, 0) / minutes.length, pool).to.be.closeTo(meanMinutes(defaultDurations(pool)), median * 0.1);
    }
  });

  it('makes jobs arrive at the curve’s rate: workers wanted / mean run time', () => {
    const rng = new Prng(5);
    const count = (perMinute: number) => arrivalsBetween(START, START + 600 * MIN, perMinute, rng).length / 600;
    expect(count(0.5)).to.be.closeTo(0.5, 0.06);
    expect(count(4)).to.be.closeTo(4, 0.2);
    expect(count(50)).to.be.closeTo(50, 1.5);
    expect(count(0)).to.equal(0);
    const times = arrivalsBetween(START, START + MIN, 20, rng);
    expect(times.every((t) => t > START && t <= START + MIN)).to.equal(true);
    expect([...times].sort((a, b) => a - b)).to.deep.equal(times);
  });

  it('follows the load it is given: jobs in flight settle near the workers the curve wants', () => {
    const { launch, at } = ciWorld();
    for (let n = 0; n < 40; n++) launch(`w-${n}`);
    let inFlight = 0;
    for (let m = 1; m <= 600; m++) {
      const q = at(START + m * MIN, { [POOL]: 10 });
      if (m > 120 && q) inFlight += q.pending + q.running;
    }
    expect(inFlight / 480).to.be.closeTo(10, 2.5);
  });

  it('runs one job per worker, and none before the worker has booted and passed its check', () => {
    const { ci, launch, at } = ciWorld({ durationMinutes: 10 });
    launch('w-1');
    ci.submit(POOL, 10 * MIN);
    ci.submit(POOL, 10 * MIN);
    // Running after a minute, ready BOOT_MS later.
    expect(at(START + RUNNING_AFTER + BOOT_MS - 1000)).to.include({ pending: 2, running: 0 });
    const busy = at(START + RUNNING_AFTER + BOOT_MS);
    expect(busy).to.include({ pending: 1, running: 1 });
    expect(busy?.busy).to.deep.equal(['w-1']);
    // The second job starts the moment the first ends, on the same worker.
    const next = at(START + RUNNING_AFTER + BOOT_MS + 10 * MIN + 30_000);
    expect(next).to.include({ pending: 0, running: 1 });
    const tally = ci.tally(POOL);
    expect(tally.completed).to.equal(1);
    expect(tally.waitsMs).to.deep.equal([RUNNING_AFTER + BOOT_MS]);
  });

  it('never gives a job to a worker whose image fails its boot check', () => {
    const { cloud, ci, launch, at, image } = ciWorld();
    const bad = cloud.world.registerImage('us-east-1', 'bad', START);
    bad.broken = true;
    launch('w-bad', bad.id);
    ci.submit(POOL, 5 * MIN);
    expect(at(START + 30 * MIN)).to.include({ pending: 1, running: 0 });
    expect(ci.tally(POOL).killed).to.deep.equal({});
    launch('w-good', image.id);
    expect(at(START + 35 * MIN)).to.include({ pending: 0, running: 1 });
  });

  it('puts a job lost with its worker back at the front of the queue and counts its lost minutes by cause', () => {
    const { cloud, ci, workers, launch, at } = ciWorld();
    const w1 = launch('w-1');
    ci.submit(POOL, 30 * MIN, START);
    const ready = START + RUNNING_AFTER + BOOT_MS;
    at(ready);
    ci.submit(POOL, 30 * MIN, ready + MIN);
    at(ready + 5 * MIN);
    workers.fleetCauses.set(w1.id, 'scale-down');
    cloud.world.endInstance(w1, 'Client.UserInitiatedShutdown', 'terminated', ready + 4 * MIN);
    const after = at(ready + 6 * MIN);
    expect(after).to.include({ pending: 2, running: 0 });
    // Requeued at the worker's end, so it is the longest-queued: 2 minutes ago, not 6.
    expect(after?.oldestPendingSeconds).to.equal(5 * 60);
    const tally = ci.tally(POOL);
    expect(tally.killed).to.deep.equal({ 'scale-down': 1 });
    expect(tally.lostMs).to.equal(4 * MIN);
    expect(tally.lostRuns).to.deep.equal({ 'scale-down': [4 * MIN] });
    // The lost job (the first to arrive) runs first on the next worker, and completes.
    launch('w-2');
    at(ready + 6 * MIN + RUNNING_AFTER + BOOT_MS);
    at(ready + 6 * MIN + RUNNING_AFTER + BOOT_MS + 30 * MIN);
    expect(ci.tally(POOL).completed).to.equal(1);
    expect(ci.tally(POOL).waitsMs[0]).to.equal(ready + 6 * MIN + RUNNING_AFTER + BOOT_MS - START);
  });

  it('names the cause of a worker’s end: spot interruption, its own shutdown, fleet’s action', () => {
    const { cloud, workers, launch } = ciWorld();
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => launch(n));
    cloud.world.endInstance(a as SimInstance, 'Server.SpotInstanceTermination', 'interrupted');
    cloud.world.endInstance(b as SimInstance, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
    cloud.world.endInstance(c as SimInstance, 'Client.UserInitiatedShutdown');
    cloud.world.endInstance(d as SimInstance, 'Client.UserInitiatedShutdown');
    workers.fleetCauses.set((d as SimInstance).id, 'rebalance');
    expect([a, b, c, d].map((i) => workers.endCause((i as SimInstance).id))).to.deep.equal([
      'spot-interruption',
      'instance-initiated',
      'user',
      'rebalance',
    ]);
  });

  it("takes the cause of fleet's terminations from the actions a cycle carried out", () => {
    const { cloud, workers, launch } = ciWorld();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => launch(n));
    const action = (i: SimInstance, cause: Cause = 'scale-up') => ({
      kind: 'terminate' as const,
      pool: POOL,
      region: 'us-east-1',
      az: i.az,
      instanceType: i.instanceType,
      lifecycle: i.lifecycle,
      ami: i.ami,
      name: '',
      instanceId: i.id,
      reason: 'test',
      cause,
    });
    workers.noteTerminations([
      {
        launches: [],
        terminations: [
          { action: action(a as SimInstance, 'scale-down'), terminated: true },
          { action: action(b as SimInstance, 'spread'), terminated: true },
          { action: action(c as SimInstance, 'rebalance'), terminated: false },
        ],
      },
    ]);
    for (const i of [a, b, c] as SimInstance[]) cloud.world.endInstance(i, 'Client.UserInitiatedShutdown');
    expect([a, b].map((i) => workers.endCause((i as SimInstance).id))).to.deep.equal(['scale-down', 'spread']);
    // Not terminated by that action: nothing is known of why it ended.
    expect(workers.endCause((c as SimInstance).id)).to.equal('user');
  });

  it('publishes plain counts (pending + running) or the queue form with the busy workers’ slot names', () => {
    const queues = {
      [POOL]: { pending: 3, running: 2, oldestPendingSeconds: 240, busy: ['bld-linux64-spot-001', 'bld-linux64-spot-004'] },
    };
    expect(desiredDocument(queues, 'counts')).to.deep.equal({ [POOL]: 5 });
    expect(desiredDocument(queues, 'queue')).to.deep.equal({
      [POOL]: { pending: 3, running: 2, oldestPendingSeconds: 240, busy: ['bld-linux64-spot-001', 'bld-linux64-spot-004'] },
    });
  });

  it('publishes a fixed demand curve as counts, or in the queue form as desired beside the busy workers', () => {
    const queues = { [POOL]: { pending: 9, running: 2, oldestPendingSeconds: 60, busy: ['bld-linux64-spot-002'] } };
    expect(curveDocument({ [POOL]: 10 }, queues, 'counts')).to.deep.equal({ [POOL]: 10 });
    expect(curveDocument({ [POOL]: 10 }, queues, 'queue')).to.deep.equal({ [POOL]: { desired: 10, busy: ['bld-linux64-spot-002'] } });
  });

  it('reads a batch worker’s slot name from fleet:names when it has no Name yet', () => {
    const { cloud, ci, at, image } = ciWorld();
    for (const launchIndex of [0, 1]) {
      cloud.world.createInstance({
        subnetId: 'subnet-a',
        instanceType: 'c5.xlarge',
        lifecycle: 'spot',
        productDescription: 'Linux/UNIX',
        ami: image.id,
        tags: { 'fleet:pool': POOL, 'fleet:names': 'bld-{nnn} 7-8' },
        visibilityDelayMs: 0,
        launchIndex,
      });
    }
    ci.submit(POOL, 30 * MIN);
    ci.submit(POOL, 30 * MIN);
    expect(at(START + 10 * MIN)?.busy).to.deep.equal(['bld-007', 'bld-008']);
  });

  it('sums tallies into figures: percentiles of waits, kills by cause, cost per completed job', () => {
    const figures = jobFigures(
      [
        { completed: 3, waitsMs: [0, 60_000, 120_000], killed: { 'spot-interruption': 1 }, lostMs: 90_000 },
        { completed: 1, waitsMs: [600_000], killed: { 'spot-interruption': 1, 'scale-down': 2 }, lostMs: 30_000 },
      ],
      2,
    );
    expect(figures).to.deep.equal({
      completed: 4,
      waitSeconds: { p50: 60, p95: 600, max: 600 },
      killed: { 'scale-down': 2, 'spot-interruption': 2 },
      lostJobMinutes: 2,
      costPerJob: 0.5,
    });
    expect(jobFigures([], 1).costPerJob).to.equal(null);
  });
});
