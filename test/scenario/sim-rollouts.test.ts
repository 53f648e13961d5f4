// `fleet sim`'s rollout figures over a whole simulated run of the example pools in two regions: a
// broken nightly image (its workers fail at boot) and a good one with a short grace and bake.

import { join } from 'node:path';
import { expect } from 'chai';
import { loadPolicies } from '../../src/config/policies.js';
import { resolveBudget } from '../../src/domain/policy.js';
import { silentLogger } from '../../src/service/logger.js';
import { runSimulation } from '../../src/sim/driver.js';
import { summaryText } from '../../src/sim/summary.js';
import { testConfig } from '../support/sim-fleet.js';

const POLICIES = loadPolicies(join(import.meta.dirname, '..', '..', 'policies'));
const START = Date.parse('2026-11-16T03:00:00Z');

describe('sim: rollout figures', function () {
  this.timeout(120_000);

  it('a broken nightly image: every pool and region drains it after at most max(canary, guard.failures) workers booted it', async () => {
    const run = await runSimulation({
      config: testConfig({ regions: ['us-east-1', 'us-west-2'] }),
      policies: POLICIES,
      seed: 11,
      start: START,
      hours: 4,
      badImageAfterHour: 0.5,
      log: silentLogger(),
    });
    const broken = new Set([...run.cloud.world.images.values()].filter((i) => i.broken).map((i) => i.id));
    const rollouts = run.summary.rollouts.filter((r) => broken.has(r.ami));
    expect(rollouts.length).to.be.greaterThan(0);
    for (const r of rollouts) {
      const p = POLICIES.find((x) => x.pool === r.pool);
      const bound = Math.max(resolveBudget(p?.freshness.canary ?? { kind: 'count', value: 1 }, 100), p?.freshness.guard.failures ?? 3);
      // The world's own count: every instance it ever had on that image.
      const booted = [...run.cloud.world.instances.values(), ...run.cloud.world.archive].filter((i) => i.ami === r.ami).length;
      expect(r.booted, `${r.pool} ${r.region}`).to.equal(booted);
      if (r.booted === 0) continue;
      expect(r.booted, `${r.pool} ${r.region}`).to.be.at.most(bound);
      expect(r).to.include({ canaryEnd: 'drained', drainedBy: 'guard', turnoverSeconds: null });
      expect(r.canarySeconds).to.be.within(0, 3600);
    }
    expect(summaryText(run.summary)).to.match(/Rollouts of the images published during the run[\s\S]*drained \(guard\) after \d+m/);
  });

  it('a good image with a short grace and bake: established after the bake, every pool and region turned over, capacity kept', async () => {
    const quick = POLICIES.map((p) => ({
      ...p,
      scaleDownAfter: 600,
      freshness: { ...p.freshness, grace: 1800, bake: 300, guard: { ...p.freshness.guard, window: 300 } },
    }));
    const flat = (pool: string) => ({ 'bld-linux64': 12, 'tst-linux64': 10, 'try-linux64': 6 })[pool] ?? 0;
    const run = await runSimulation({
      config: testConfig({ regions: ['us-east-1', 'us-west-2'] }),
      policies: quick,
      seed: 11,
      start: START,
      hours: 5,
      demand: flat,
      market: { crunchesPerDay: 0 },
      world: { interruptionRatePerHour: 0 },
      log: silentLogger(),
    });
    const used = run.summary.rollouts.filter((r) => r.booted > 0);
    expect(used.length).to.be.greaterThan(0);
    for (const r of used) {
      expect(r.canaryEnd, `${r.pool} ${r.region}`).to.equal('established');
      expect(r.canarySeconds, `${r.pool} ${r.region}`).to.be.at.least(300);
      expect(r.turnoverSeconds, `${r.pool} ${r.region}`).to.be.a('number').and.at.least(1800);
    }
    for (const p of run.summary.pools) {
      // A flat demand and a quiet market: nothing but the rollout moves, and it never takes a running worker below wanted.
      expect(p.rolloutCapacity, p.pool).to.not.equal(null);
      expect(p.rolloutCapacity?.running, p.pool).to.be.at.least(p.rolloutCapacity?.wanted ?? Infinity);
    }
  });
});
