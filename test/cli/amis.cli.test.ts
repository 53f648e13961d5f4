import { expect } from 'chai';
import {
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import type { FaultProxy } from '../support/fault-proxy.js';
import { useMoto } from '../support/moto.js';
import { fleet } from '../support/cli.js';
import { motoFleet } from '../support/moto-fleet.js';

describe('cli against moto_server: drain, undrain, amis list and prune', function () {
  this.timeout(90_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let ec2: EC2Client;
  let config: string;
  let subnet: string;
  /** oldest first */
  const golden: { id: string; snapshotId: string }[] = [];

  async function bake(): Promise<{ id: string; snapshotId: string }> {
    const base = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find(
      (i) => String(i.Platform ?? '').toLowerCase() !== 'windows',
    )?.ImageId;
    const builder = (await ec2.send(new RunInstancesCommand({ ImageId: base, InstanceType: 'c5.xlarge', MinCount: 1, MaxCount: 1 })))
      .Instances?.[0]?.InstanceId as string;
    const tags = [{ Key: 'fleet:managed-by', Value: 'releng' }];
    const id = (
      await ec2.send(
        new CreateImageCommand({
          InstanceId: builder,
          Name: `bld-linux64-${golden.length}`,
          TagSpecifications: [{ ResourceType: 'image', Tags: tags }],
        }),
      )
    ).ImageId as string;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [builder] }));
    const snapshotId = (await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0]?.BlockDeviceMappings?.find(
      (m) => m.Ebs?.SnapshotId,
    )?.Ebs?.SnapshotId as string;
    await ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: tags }));
    return { id, snapshotId };
  }

  const exists = async (id: string) =>
    ((await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [id] }] }))).Images ?? []).length > 0;
  const snapshotExists = async (id: string) =>
    ((await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: [id] }] }))).Snapshots ?? []).length > 0;
  const mutating = () => proxy.calls.filter((c) => /^(Run|Terminate|Deregister|Delete|Create)/.test(c.action)).map((c) => c.action);

  before(async () => {
    // The manifest lists three images of fleet's own, baked a day apart; it is published once they exist.
    const world = await motoFleet(moto().endpoint, {
      desired: 2,
      manifest: () => ({ images: [] }),
      config: { manifest: 's3://fleet-control/amis.json' },
    });
    ({ proxy, env, ec2, config } = world);
    subnet = world.subnets[0]?.id as string;
    for (let n = 0; n < 3; n++) golden.push(await bake());
    const day = 86_400_000;
    const images = golden.map((g, n) => ({
      id: g.id,
      pool: 'bld-linux64',
      region: 'us-east-1',
      created: new Date(Date.now() - (3 - n) * day).toISOString(),
      name: `bld-linux64-${n}`,
    }));
    await world.put('fleet-control', 'amis.json', { images });
    const first = await fleet(['reconcile', '--once', '--config', config], env);
    expect(first.code, first.stderr).to.equal(0);
  });
  after(async () => proxy?.close());

  it('amis list shows current, previous and the instances on each', async () => {
    const r = await fleet(['amis', 'list', '--json', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    const { images } = JSON.parse(r.stdout);
    expect(images.map((i: { id: string; status: string; instances: number }) => [i.id, i.status, i.instances])).to.deep.equal([
      [golden[2]?.id, 'current', 2],
      [golden[1]?.id, 'outdated', 0],
      [golden[0]?.id, 'outdated', 0],
    ]);
    const table = await fleet(['amis', 'list', '--config', config], env);
    expect(table.stdout).to.match(/bld-linux64\s+us-east-1\s+ami-\w+\s+previous/);
  });

  it('amis prune --dry-run says what it would deregister and changes nothing', async () => {
    proxy.clearCalls();
    const r = await fleet(['amis', 'prune', '--keep', '1', '--dry-run', '--json', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    const { images } = JSON.parse(r.stdout);
    const byId = Object.fromEntries(images.map((i: { ami: string; action: string }) => [i.ami, i.action]));
    expect(byId).to.deep.equal({
      [golden[2]?.id as string]: 'keep',
      [golden[1]?.id as string]: 'deregister',
      [golden[0]?.id as string]: 'deregister',
    });
    expect(mutating()).to.deep.equal([]);
  });

  it('amis prune never deregisters the current image nor one an instance uses, even with --keep 0', async () => {
    // Someone else's instance (not managed by fleet) still runs the previous image.
    await ec2.send(
      new RunInstancesCommand({ ImageId: golden[1]?.id, InstanceType: 'c5.xlarge', MinCount: 1, MaxCount: 1, SubnetId: subnet }),
    );
    proxy.clearCalls();
    const r = await fleet(['amis', 'prune', '--keep', '0', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`kept ${golden[2]?.id} (bld-linux64, us-east-1`);
    expect(r.stdout).to.match(new RegExp(`kept ${golden[1]?.id} .*: in use by an instance`));
    expect(r.stdout).to.match(new RegExp(`deregistered ${golden[0]?.id} .*; snapshots ${golden[0]?.snapshotId}`));
    expect(await exists(golden[0]?.id as string)).to.equal(false);
    expect(await snapshotExists(golden[0]?.snapshotId as string)).to.equal(false);
    expect(await exists(golden[1]?.id as string)).to.equal(true);
    expect(await exists(golden[2]?.id as string)).to.equal(true);
    expect(mutating().sort()).to.deep.equal(['DeleteSnapshot', 'DeregisterImage']);
  });

  it('drain --dry-run changes nothing; drain --now retires every instance on the AMI at once', async () => {
    const bad = golden[2]?.id as string;
    proxy.clearCalls();
    const dry = await fleet(['drain', '--ami', bad, '--now', '--dry-run', '--config', config], env);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.match(/would drain .*\nwould terminate now:\n {2}i-\w+ {2}bld-linux64-spot-001/);
    expect(mutating()).to.deep.equal([]);

    const r = await fleet(['drain', '--ami', bad, '--reason', 'kernel panic on boot', '--now', '--json', '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out).to.include({ ami: bad, reason: 'kernel panic on boot', drained: true, now: true });
    expect(out.instances).to.have.length(2);
    expect(out.instances.every((i: { terminated: boolean }) => i.terminated)).to.equal(true);
    const states = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'image-id', Values: [bad] }] }))).Reservations?.flatMap(
      (x) => x.Instances ?? [],
    ).map((i) => i.State?.Name);
    expect(states?.every((s) => s === 'shutting-down' || s === 'terminated')).to.equal(true);

    // Never launched again: the plan uses the previous image.
    const plan = JSON.parse((await fleet(['plan', '--json', '--config', config], env)).stdout);
    expect(plan.actions).to.have.length(2);
    for (const a of plan.actions) expect(a).to.include({ kind: 'launch', ami: golden[1]?.id });
    const list = JSON.parse((await fleet(['amis', 'list', '--json', '--config', config], env)).stdout);
    const drained = list.images.find((i: { id: string }) => i.id === bad);
    expect(drained.status).to.equal('drained');
    expect(drained.drained).to.include({ by: 'operator', reason: 'kernel panic on boot' });
  });

  it('undrain lifts the mark', async () => {
    const bad = golden[2]?.id as string;
    const r = await fleet(['undrain', '--ami', bad, '--config', config], env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`undrained ${bad}: it may be launched again when it is current\n`);
    const again = await fleet(['undrain', '--ami', bad, '--config', config], env);
    expect(again.stdout).to.equal(`${bad} was not drained\n`);
    const list = JSON.parse((await fleet(['amis', 'list', '--json', '--config', config], env)).stdout);
    expect(list.images.find((i: { id: string }) => i.id === bad).status).to.equal('current');
  });

  it('refuses a malformed AMI id and a missing --keep with exit 2', async () => {
    const bad = await fleet(['drain', '--ami', 'not-an-ami', '--config', config], env);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--ami: "not-an-ami" is not an AMI id/);
    expect((await fleet(['amis', 'prune', '--config', config], env)).code).to.equal(2);
    expect((await fleet(['amis', 'prune', '--keep', 'two', '--config', config], env)).code).to.equal(2);
  });
});
