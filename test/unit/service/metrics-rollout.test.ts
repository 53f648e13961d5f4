// The rollout's metrics on real cycles of the simulated cloud: fleet_rollout_phase per pool, region
// and image, fleet_guard_drains_total, and the guard's log line naming the instances that tripped it.

import { expect } from 'chai';
import { FleetMetrics } from '../../../src/service/metrics.js';
import { policy } from '../../support/builders.js';
import { capturedLogger } from '../../support/log-capture.js';
import { SimFleet } from '../../support/sim-fleet.js';

const POOL = 'bld-linux64';
const QUIET = { market: { crunchesPerDay: 0, spotCapacity: 500 }, world: { interruptionRatePerHour: 0 } };

/** The series of fleet_rollout_phase with value 1, as "ami phase". */
async function phases(metrics: FleetMetrics): Promise<string[]> {
  const text = await metrics.metrics();
  return text
    .split('\n')
    .filter((l) => l.startsWith('fleet_rollout_phase{') && l.endsWith(' 1'))
    .map((l) => {
      const labels = Object.fromEntries([...l.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      expect(labels).to.include({ pool: POOL, region: 'us-east-1' });
      return `${labels.ami} ${labels.phase}`;
    })
    .sort();
}

async function guardDrains(metrics: FleetMetrics): Promise<number | undefined> {
  const line = (await metrics.metrics())
    .split('\n')
    .find((l) => l.startsWith(`fleet_guard_drains_total{pool="${POOL}",region="us-east-1"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('metrics: rollouts', () => {
  async function setup() {
    const p = policy({
      regions: { 'us-east-1': { subnets: ['subnet-1a', 'subnet-1b'], securityGroups: [] } },
      freshness: { canary: 1, bake: 300, guard: { window: 600, failures: 2 } },
    });
    const fleet = new SimFleet({ policies: [p], cloud: QUIET });
    const captured = capturedLogger();
    fleet.restart({ log: captured.log, seed: 5 });
    const metrics = new FleetMetrics({ policies: fleet.policies });
    const cycle = async () => {
      const result = await fleet.cycle();
      metrics.observeCycle(result, undefined, 100, fleet.runtime.calls);
      fleet.advance(60_000);
      return result;
    };
    fleet.publishDesired({ [POOL]: 3 });
    for (let k = 0; k < 8; k++) await cycle();
    const old = fleet.instances(POOL)[0]?.ami as string;
    return { fleet, metrics, cycle, captured, old };
  }

  it('fleet_rollout_phase: current, then a new image canary, baking, and current once it proved itself', async () => {
    const { fleet, metrics, cycle, old } = await setup();
    expect(await phases(metrics)).to.deep.equal([`${old} current`]);
    const fresh = fleet.bakeImage(POOL, 'us-east-1', fleet.cloud.clock.now());
    fleet.publishManifest();
    await cycle();
    expect(await phases(metrics)).to.deep.equal([`${fresh} canary`, `${old} current`].sort());
    const seen = new Set<string>();
    for (let k = 0; k < 20 && !seen.has(`${fresh} current`); k++) {
      await cycle();
      for (const s of await phases(metrics)) seen.add(s);
    }
    expect([...seen]).to.include.members([`${fresh} baking`, `${fresh} current`]);
    expect(await phases(metrics)).to.deep.equal([`${fresh} current`]);
  });

  it('fleet_guard_drains_total counts the guard’s drains, the drained image shows as drained, and the log line names the instances', async () => {
    const { fleet, metrics, cycle, captured, old } = await setup();
    expect(await guardDrains(metrics)).to.equal(0);
    const broken = fleet.bakeImage(POOL, 'us-east-1', fleet.cloud.clock.now());
    const image = fleet.cloud.world.images.get(broken);
    if (image) image.broken = true;
    fleet.publishManifest();
    for (let k = 0; k < 20 && (await guardDrains(metrics)) === 0; k++) await cycle();
    expect(await guardDrains(metrics)).to.equal(1);
    expect(await phases(metrics)).to.deep.equal([`${broken} drained`, `${old} current`].sort());
    const line = captured.lines().find((l) => l.msg === 'guard drains the AMI');
    const failed = [...fleet.cloud.world.instances.values()]
      .filter((i) => i.ami === broken && i.stateReason === 'Client.InstanceInitiatedShutdown')
      .map((i) => i.id);
    expect(line).to.include({ pool: POOL, region: 'us-east-1', ami: broken });
    expect(line?.instances).to.have.members(failed);
    // Counted once: the image is drained, the guard no longer watches it.
    for (let k = 0; k < 3; k++) await cycle();
    expect(await guardDrains(metrics)).to.equal(1);
  });
});
