import { expect } from 'chai';
import { endedAt, runInstancesInput } from '../../../src/cloud/aws/ec2.js';
import { onDemandPrice } from '../../../src/cloud/aws/pricing.js';
import type { LaunchRequest, LaunchSlot } from '../../../src/cloud/port.js';
import { launchTags, slotFromTags } from '../../../src/cloud/tags.js';

function slots(...list: LaunchSlot[]): Pick<LaunchRequest, 'slots' | 'tags'> {
  return { slots: list, tags: launchTags({ fleet: 'releng', pool: 'bld-linux64', slots: list }, 'bld-linux64-spot-{nnn}') };
}

const REQUEST: LaunchRequest = {
  fleet: 'releng',
  pool: 'bld-linux64',
  ...slots({ name: 'bld-linux64-spot-007' }),
  region: 'us-east-1',
  az: 'us-east-1b',
  subnetId: 'subnet-0b1d',
  securityGroups: ['sg-1', 'sg-2'],
  instanceType: 'c5.xlarge',
  lifecycle: 'spot',
  ami: 'ami-0abc',
  clientToken: 'fleet-0123',
};

describe('AWS adapter: the RunInstances request', () => {
  it('asks for one-time spot that terminates on interruption, in a subnet, with no pre-created interface', () => {
    const input = runInstancesInput({ ...REQUEST, maxPrice: 0.0612344 });
    expect(input).to.include({ ImageId: 'ami-0abc', InstanceType: 'c5.xlarge', MinCount: 1, MaxCount: 1, ClientToken: 'fleet-0123' });
    expect(input.InstanceMarketOptions).to.deep.equal({
      MarketType: 'spot',
      SpotOptions: { SpotInstanceType: 'one-time', InstanceInterruptionBehavior: 'terminate', MaxPrice: '0.061234' },
    });
    expect(input.NetworkInterfaces).to.deep.equal([
      { DeviceIndex: 0, SubnetId: 'subnet-0b1d', Groups: ['sg-1', 'sg-2'], DeleteOnTermination: true },
    ]);
    expect(input).not.to.have.any.keys('SubnetId', 'SecurityGroupIds', 'NetworkInterfaceId');
    expect(input.NetworkInterfaces?.[0]).not.to.have.key('NetworkInterfaceId');
  });

  it('requires IMDSv2 with tags in metadata, and tags instance and volumes at launch', () => {
    const input = runInstancesInput({ ...REQUEST, ...slots({ name: 'bld-linux64-spot-007', replaces: 'i-old' }) });
    expect(input.MetadataOptions).to.deep.equal({ HttpTokens: 'required', HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' });
    const tags = [
      { Key: 'fleet:managed-by', Value: 'releng' },
      { Key: 'fleet:pool', Value: 'bld-linux64' },
      { Key: 'Name', Value: 'bld-linux64-spot-007' },
      { Key: 'fleet:replaces', Value: 'i-old' },
    ];
    expect(input.TagSpecifications).to.deep.equal([
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ]);
  });

  it('launches on demand without market options; passes key, profile, public address and encoded user data', () => {
    const input = runInstancesInput({
      ...REQUEST,
      lifecycle: 'on-demand',
      keyName: 'releng',
      instanceProfile: 'bld-worker',
      publicIp: false,
      userData: 'hostname: x\n',
    });
    expect(input).not.to.have.key('InstanceMarketOptions');
    expect(input).to.include({ KeyName: 'releng' });
    expect(input.IamInstanceProfile).to.deep.equal({ Name: 'bld-worker' });
    expect(input.NetworkInterfaces?.[0]).to.include({ AssociatePublicIpAddress: false });
    expect(Buffer.from(input.UserData as string, 'base64').toString('utf8')).to.equal('hostname: x\n');
  });

  it('a batch is all or nothing (MinCount = MaxCount = n), carrying its names and replacements by launch index', () => {
    const input = runInstancesInput({
      ...REQUEST,
      ...slots({ name: 'bld-linux64-spot-003' }, { name: 'bld-linux64-spot-004', replaces: 'i-old' }, { name: 'bld-linux64-spot-009' }),
    });
    expect(input).to.include({ MinCount: 3, MaxCount: 3 });
    expect(input.TagSpecifications?.[0]?.Tags).to.deep.equal([
      { Key: 'fleet:managed-by', Value: 'releng' },
      { Key: 'fleet:pool', Value: 'bld-linux64' },
      { Key: 'fleet:names', Value: 'bld-linux64-spot-{nnn} 3-4,9' },
      { Key: 'fleet:replaces', Value: '- i-old -' },
    ]);
  });

  it('tags each replacement with its cause, by launch index, and reads it back per instance', () => {
    const batch = slots(
      { name: 'bld-linux64-spot-003' },
      { name: 'bld-linux64-spot-004', replaces: 'i-old', cause: 'outdated' },
      { name: 'bld-linux64-spot-009', replaces: 'i-od', cause: 'on-demand-swap' },
    );
    expect(batch.tags['fleet:cause']).to.equal('- outdated on-demand-swap');
    expect([0, 1, 2].map((index) => slotFromTags(batch.tags, index).cause)).to.deep.equal([undefined, 'outdated', 'on-demand-swap']);
    const same = slots(
      { name: 'bld-linux64-spot-003', replaces: 'i-a', cause: 'spread' },
      { name: 'bld-linux64-spot-004', replaces: 'i-b', cause: 'spread' },
    );
    expect(same.tags['fleet:cause'], 'one cause for the whole batch').to.equal('spread');
    expect(slotFromTags(same.tags, 1)).to.deep.include({ replaces: 'i-b', cause: 'spread' });
    expect(slotFromTags({ ...same.tags, 'fleet:cause': 'whim' }, 1), 'a value fleet does not know is no cause').not.to.have.key('cause');
    expect(slots({ name: 'bld-linux64-spot-003', cause: 'scale-up' }).tags, 'only a replacement keeps its cause').not.to.have.key(
      'fleet:cause',
    );
  });

  it('terminates, rather than stops, an instance that powers itself off', () => {
    expect(runInstancesInput(REQUEST)).to.include({ InstanceInitiatedShutdownBehavior: 'terminate' });
    expect(runInstancesInput({ ...REQUEST, lifecycle: 'on-demand' })).to.include({ InstanceInitiatedShutdownBehavior: 'terminate' });
  });

  it('leaves the max price to EC2 (the on-demand price) when fleet sets none', () => {
    expect(runInstancesInput(REQUEST).InstanceMarketOptions?.SpotOptions).not.to.have.key('MaxPrice');
  });
});

describe('AWS adapter: reading EC2 and the Price List', () => {
  it('takes the end time from a dated state transition reason', () => {
    expect(endedAt('User initiated (2026-11-20 10:02:03 GMT)')).to.equal(Date.parse('2026-11-20T10:02:03Z'));
    expect(endedAt('Service initiated (2026-01-02 00:00:59 GMT)')).to.equal(Date.parse('2026-01-02T00:00:59Z'));
    expect(endedAt('Client.UserInitiatedShutdown')).to.equal(undefined);
    expect(endedAt(undefined)).to.equal(undefined);
  });

  it('reads the hourly USD price from a Price List product document', () => {
    const product = JSON.stringify({
      product: { attributes: { instanceType: 'c5.xlarge', operatingSystem: 'Linux' } },
      terms: {
        OnDemand: {
          'ABC.JRTCKXETXF': {
            priceDimensions: {
              'ABC.JRTCKXETXF.6YS6EN2CT7': {
                unit: 'Hrs',
                pricePerUnit: { USD: '0.1700000000' },
                description: '$0.17 per On Demand Linux c5.xlarge Instance Hour',
              },
            },
          },
        },
      },
    });
    expect(onDemandPrice(product)).to.equal(0.17);
    expect(
      onDemandPrice(
        JSON.stringify({ terms: { OnDemand: { x: { priceDimensions: { y: { unit: 'Quantity', pricePerUnit: { USD: '5' } } } } } } }),
      ),
    ).to.equal(undefined);
    expect(onDemandPrice('not json')).to.equal(undefined);
    expect(
      onDemandPrice(
        JSON.stringify({ terms: { OnDemand: { x: { priceDimensions: { y: { unit: 'Hrs', pricePerUnit: { USD: '0.0000000000' } } } } } } }),
      ),
    ).to.equal(undefined);
  });
});
