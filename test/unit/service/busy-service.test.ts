// A cycle of the service on the simulated cloud with the CI's busy list: the busy worker is tagged,
// the metrics count the request by cause, `fleet status` shows the deadline, `fleet plan --json` the action.

import { expect } from 'chai';
import { planJson } from '../../../src/cli/commands/plan.js';
import { statusTable } from '../../../src/cli/commands/status.js';
import { statusView } from '../../../src/plan/status.js';
import { FleetMetrics } from '../../../src/service/metrics.js';
import { policy } from '../../support/builders.js';
import { SimFleet } from '../../support/sim-fleet.js';

const SUBNETS = { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: ['sg-1'] } };

describe('service: busy workers', () => {
  it('asks the busy worker to leave, counts it by cause, and shows its deadline', async () => {
    const fleet = new SimFleet({
      policies: [policy({ regions: SUBNETS, instanceTypes: ['c5.xlarge'], scaleDownAfter: 0, stopTimeout: 900 })],
    });
    const metrics = new FleetMetrics({ policies: fleet.policies });
    fleet.publishDesired({ 'bld-linux64': 2 });
    await fleet.cycle();
    fleet.advance(300_000);
    const seen = await fleet.cycle();
    const [busy, idle] = [...seen.observation.snapshot.instances].sort((a, b) => a.name.localeCompare(b.name));
    fleet.publishRaw('desired.json', JSON.stringify({ 'bld-linux64': { desired: 0, running: 1, busy: [busy?.name] } }));
    fleet.advance(60_000);

    const down = await fleet.cycle();
    metrics.observeCycle(down, undefined, 100, fleet.runtime.calls);
    const actions = planJson(down.plan).actions as { kind: string; instanceId: string; deadline?: string }[];
    expect(actions.map((a) => [a.kind, a.instanceId]).sort()).to.deep.equal(
      [
        ['retire', busy?.id],
        ['terminate', idle?.id],
      ].sort(),
    );
    expect(actions.find((a) => a.kind === 'retire')?.deadline).to.be.a('string');
    expect(await metrics.metrics()).to.include(
      'fleet_actions_total{kind="retire",pool="bld-linux64",cause="scale-down",lifecycle="spot",result="ok"} 1',
    );

    fleet.advance(60_000);
    const after = await fleet.cycle();
    const view = statusView(after.observation.snapshot, fleet.policies);
    const row = view.instances.find((i) => i.id === busy?.id);
    expect(row).to.include({ state: 'running', retireCause: 'scale-down' });
    // The tag holds whole seconds: now + stopTimeout, to the second.
    expect(Date.parse(row?.retireBy as string) - down.observation.snapshot.now).to.be.within(899_000, 900_000);
    expect(statusTable(view)).to.match(/running, leaving by \S+ \(scale-down\)/);
    // Still busy before its deadline: nothing ends it.
    expect(after.plan.actions).to.deep.equal([]);
  });
});
