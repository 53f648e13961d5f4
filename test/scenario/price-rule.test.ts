import { expect } from 'chai';
import type { LaunchRequest } from '../../src/cloud/port.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import type { MarketRule } from '../../src/fake-cloud/market.js';
import type { RecordedRow } from '../../src/fake-cloud/price-files.js';
import { PriceRecording } from '../../src/fake-cloud/price-recording.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';

// c5.xlarge costs $0.17 an hour on demand in the simulated catalog.
const ON_DEMAND = 0.17;
const T0 = Date.parse('2016-03-01T00:00:00Z');
const MIN = 60_000;

function row(az: string, minute: number, price: number): RecordedRow {
  return { region: 'us-east-1', az, instanceType: 'c5.xlarge', productDescription: 'Linux/UNIX', price, t: T0 + minute * MIN };
}

// 1a: cheap, then exactly on-demand at minute 10 (not above it), then above it at minute 20.
// 1b: cheap, 0.09 at minute 15, 0.12 at minute 25.
const RECORDING = new PriceRecording('fixture', [
  row('us-east-1a', 0, 0.05),
  row('us-east-1a', 10, ON_DEMAND),
  row('us-east-1a', 20, 0.18),
  row('us-east-1b', 0, 0.05),
  row('us-east-1b', 15, 0.09),
  row('us-east-1b', 25, 0.12),
]);

function cloud(rule: MarketRule): { cloud: SimCloud; launch: (az: string, maxPrice?: number) => Promise<SimInstance> } {
  // A background reclaim rate that would end every instance within minutes, and capacity to spare:
  // under the price rule only the price may interrupt.
  const sim = new SimCloud({
    seed: 3,
    start: T0,
    market: { recorded: RECORDING, rule, crunchesPerDay: 0, spotCapacity: 1000 },
    world: { interruptionRatePerHour: rule === 'price' ? 100 : 0 },
  });
  const subnets = Object.fromEntries(['us-east-1a', 'us-east-1b', 'us-east-1c'].map((az) => [az, sim.world.addSubnet('us-east-1', az).id]));
  const image = sim.world.registerImage('us-east-1', 'bld-linux64-2016-02-29', T0 - 86_400_000);
  let n = 0;
  const launch = async (az: string, maxPrice?: number) => {
    n++;
    const request: LaunchRequest = {
      fleet: 'releng',
      pool: 'bld-linux64',
      slots: [{ name: `bld-linux64-spot-00${n}` }],
      tags: { 'fleet:managed-by': 'releng' },
      region: 'us-east-1',
      az,
      subnetId: subnets[az] as string,
      securityGroups: [],
      instanceType: 'c5.xlarge',
      lifecycle: 'spot',
      ami: image.id,
      clientToken: `token-${n}`,
      ...(maxPrice !== undefined ? { maxPrice } : {}),
    };
    const [made] = await sim.compute('us-east-1').launch(request);
    return sim.world.instances.get(made?.id ?? '') as SimInstance;
  };
  return { cloud: sim, launch };
}

const live = (i: SimInstance) => i.state === 'pending' || i.state === 'running';

describe('scenario: the price rule of the 2016 spot market', () => {
  it("interrupts an instance without a max price exactly when the replayed price rises above on-demand, EC2's default", async () => {
    const { cloud: sim, launch } = cloud('price');
    const noMax = await launch('us-east-1a');
    const highMax = await launch('us-east-1a', 0.5);
    expect(noMax.maxPrice).to.equal(undefined);
    // At on-demand exactly, the price has not passed the max: still up.
    sim.world.advanceTo(T0 + 20 * MIN - 1);
    expect(live(noMax), 'up until the price passes on-demand').to.equal(true);
    // Warned when the price passes on-demand, reclaimed two minutes later as EC2 does.
    sim.world.advanceTo(T0 + 20 * MIN);
    expect(noMax.warnedAt).to.equal(T0 + 20 * MIN);
    sim.world.advanceTo(T0 + 22 * MIN);
    expect(noMax.state).to.equal('shutting-down');
    expect(noMax.stateReason).to.equal('Server.SpotInstanceTermination');
    expect(noMax.endedAt).to.equal(T0 + 22 * MIN);
    // An explicit max price above the spike keeps it; no background reclaim under this rule.
    sim.world.advanceTo(T0 + 60 * MIN);
    expect(live(highMax)).to.equal(true);
    expect(sim.world.events.filter((e) => e.kind === 'interrupted').map((e) => e.instance.id)).to.deep.equal([noMax.id]);
  });

  it('interrupts an instance with an explicit max price exactly when the price passes it', async () => {
    const { cloud: sim, launch } = cloud('price');
    const capped = await launch('us-east-1b', 0.1);
    sim.world.advanceTo(T0 + 25 * MIN - 1);
    expect(live(capped), 'at 0.09 it is below its max price 0.10').to.equal(true);
    sim.world.advanceTo(T0 + 25 * MIN);
    expect(capped.warnedAt).to.equal(T0 + 25 * MIN);
    sim.world.advanceTo(T0 + 27 * MIN);
    expect(capped.state).to.equal('shutting-down');
    expect(capped.endedAt).to.equal(T0 + 27 * MIN);
  });

  it("refuses a launch whose max price, explicit or EC2's default, is below the price, and a spot launch into an offer never recorded", async () => {
    const { cloud: sim, launch } = cloud('price');
    sim.clock.advanceTo(T0 + 21 * MIN);
    await launch('us-east-1a').then(
      () => expect.fail('launched above the default max price'),
      (e: Error) => expect(e.name).to.equal('SpotMaxPriceTooLow'),
    );
    await launch('us-east-1b', 0.04).then(
      () => expect.fail('launched above its max price'),
      (e: Error) => expect(e.name).to.equal('SpotMaxPriceTooLow'),
    );
    await launch('us-east-1c').then(
      () => expect.fail('launched on spot where nothing was recorded'),
      (e: Error) => expect(e.name).to.equal('Unsupported'),
    );
    expect(live(await launch('us-east-1b'))).to.equal(true);
  });

  it('under the capacity rule an instance without a max price is not interrupted by the price, one with a max price still is', async () => {
    const { cloud: sim, launch } = cloud('capacity');
    const noMax = await launch('us-east-1a');
    const capped = await launch('us-east-1b', 0.1);
    sim.world.advanceTo(T0 + 25 * MIN - 1);
    expect(live(capped)).to.equal(true);
    sim.world.advanceTo(T0 + 25 * MIN);
    expect(capped.warnedAt).to.equal(T0 + 25 * MIN);
    sim.world.advanceTo(T0 + 27 * MIN);
    expect(capped.endedAt).to.equal(T0 + 27 * MIN);
    sim.world.advanceTo(T0 + 60 * MIN);
    expect(live(noMax), 'still up at 0.18, above on-demand').to.equal(true);
  });
});
