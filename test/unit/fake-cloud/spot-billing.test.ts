// What the simulated cloud charges a spot instance: the spot price in effect, never above the
// instance's max price, also through the two-minute interruption notice. Simulated.

import { expect } from 'chai';
import { SimCloud } from '../../../src/fake-cloud/cloud.js';
import type { RecordedRow } from '../../../src/fake-cloud/price-files.js';
import { PriceRecording } from '../../../src/fake-cloud/price-recording.js';

const T0 = Date.parse('2016-03-01T00:00:00Z');
const MIN = 60_000;

const row = (minute: number, price: number): RecordedRow => ({
  region: 'us-east-1',
  az: 'us-east-1a',
  instanceType: 'm3.large',
  productDescription: 'Linux/UNIX',
  price,
  t: T0 + minute * MIN,
});

function spotInstance(maxPrice: number) {
  // A price of $0.02, a spike to $5 at minute 30 (far above any max price), back to $0.02 at minute 40.
  const recording = new PriceRecording('fixture', [row(0, 0.02), row(30, 5), row(40, 0.02)]);
  const cloud = new SimCloud({ seed: 1, start: T0, market: { recorded: recording, rule: 'price' }, defaultSubnets: [] });
  const subnet = cloud.world.addSubnet('us-east-1', 'us-east-1a');
  const instance = cloud.world.createInstance({
    subnetId: subnet.id,
    instanceType: 'm3.large',
    lifecycle: 'spot',
    productDescription: 'Linux/UNIX',
    ami: 'ami-1',
    maxPrice,
    tags: {},
    visibilityDelayMs: 0,
  });
  return { world: cloud.world, instance };
}

describe('sim: spot billing', () => {
  it('charges the spot price in effect while it is below the max price', () => {
    const { world, instance } = spotInstance(0.1);
    world.advanceTo(T0 + 29 * MIN);
    expect(instance.cost).to.be.closeTo((0.02 * 29) / 60, 1e-9);
    expect(instance.warnedAt).to.equal(undefined);
  });

  it('never charges above the max price, also while the interruption notice runs', () => {
    const { world, instance } = spotInstance(0.1);
    world.advanceTo(T0 + 40 * MIN);
    expect(instance.warnedAt).to.equal(T0 + 30 * MIN);
    expect(instance.state).to.not.equal('running');
    // 30 minutes at $0.02, then the two-minute notice at the $0.10 max price, not at the $5 spike.
    expect(instance.cost).to.be.closeTo(0.01 + (0.1 * 2) / 60, 1e-9);
  });
});
