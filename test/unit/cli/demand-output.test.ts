import { expect } from 'chai';
import { planTable } from '../../../src/cli/commands/plan.js';
import { statusTable } from '../../../src/cli/commands/status.js';
import { statusView } from '../../../src/plan/status.js';
import { FleetMetrics } from '../../../src/service/metrics.js';
import { policy } from '../../support/builders.js';
import { SimFleet } from '../../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };
const POOL = 'bld-linux64';

async function sample(metrics: FleetMetrics, series: string): Promise<number | undefined> {
  const line = (await metrics.metrics()).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('operators see demand: plan, status and /metrics', () => {
  it('shows the queue, the idle workers and how desired was worked out', async () => {
    const fleet = new SimFleet({
      policies: [policy({ regions: SUBNETS, demand: { minIdle: 2, schedule: [{ cron: '0 9 * * *', durationSeconds: 3630, min: 10 }] } })],
    });
    fleet.publishRaw('desired.json', JSON.stringify({ [POOL]: { pending: 5, running: 3, oldestPendingSeconds: 42 } }));
    const result = await fleet.cycle();
    expect(planTable(result.plan)).to.include(
      `DEMAND: ${POOL} pending 5, running 3, oldest wait 42s, idle workers 0; desired 10: pending 5 + running 3 ×1 + minIdle 2 = 10; schedule min 10`,
    );

    const metrics = new FleetMetrics({ policies: fleet.policies });
    metrics.observeCycle(result, undefined, 100, fleet.runtime.calls);
    expect(await sample(metrics, `fleet_demand_pending_jobs{pool="${POOL}"}`)).to.equal(5);
    expect(await sample(metrics, `fleet_demand_running_jobs{pool="${POOL}"}`)).to.equal(3);
    expect(await sample(metrics, `fleet_demand_oldest_wait_seconds{pool="${POOL}"}`)).to.equal(42);
    expect(await sample(metrics, `fleet_demand_desired{pool="${POOL}"}`)).to.equal(10);

    // The jobs are gone: status shows the estimate held until idleTimeout (600 s) has passed.
    fleet.publishRaw('desired.json', JSON.stringify({ [POOL]: { pending: 0, running: 0 } }));
    await fleet.cycle();
    fleet.advance(60_000);
    const observed = await fleet.runtime.observer.observe();
    const view = statusView(observed.snapshot, fleet.policies);
    const row = view.pools.find((p) => p.pool === POOL);
    expect(row?.desired).to.equal(10);
    expect(row?.demand).to.include({ pending: 0, running: 0, holding: 10 });
    expect(row?.running).to.be.above(0);
    expect(row?.demand?.idle).to.equal(row?.running); // no job runs: every running worker is idle
    expect(statusTable(view)).to.match(/demand pending 0, running 0, idle workers \d+; desired 10: .* holding 10 until \d\d:\d\dZ/);
  });
});
