// The two implementations of the Cloud port, behind one test-facing interface, so that one
// contract suite runs against both: the simulated cloud, and the AWS adapter on moto_server
// (through a fault-injecting proxy that also logs every call on the wire).

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateImageCommand,
  CreateTagsCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { awsCloud } from '../../src/cloud/aws/index.js';
import type { Cloud } from '../../src/cloud/port.js';
import { type Clock, systemClock } from '../../src/domain/clock.js';
import type { Subnet } from '../../src/domain/types.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { MOTO_CREDENTIALS, type Moto, motoEnv, startMoto } from '../support/moto.js';

export const REGION = 'us-east-1';

/** Actions that change something in the cloud. */
export const MUTATING =
  /^(Run|Terminate|Create|Delete|Modify|Attach|Detach|Associate|Request|Cancel|Register|Deregister|Start|Stop|Put|Post)/;

export interface Fault {
  readonly action: string;
  readonly code: string;
  readonly status: number;
  readonly times?: number;
}

export interface ContractTarget {
  readonly name: string;
  /** the raw port implementation, as the runtime receives it */
  cloud(): Cloud;
  /** the target's own time (the simulated clock, or the wall clock) */
  now(): number;
  clock(): Clock;
  subnets(): Promise<Subnet[]>;
  ami(): Promise<string>;
  /** imageOwners that allow ami() and goldenImage() */
  imageOwners(): Promise<string[]>;
  createBucket(bucket: string): Promise<void>;
  putObject(bucket: string, key: string, body: string): Promise<void>;
  /** An image of this account, its root snapshot tagged separately (undefined: untagged). */
  goldenImage(imageManagedBy: string | undefined, snapshotManagedBy: string | undefined): Promise<{ id: string; snapshotId: string }>;
  imageExists(id: string): Promise<boolean>;
  snapshotExists(id: string): Promise<boolean>;
  /** An instance that does not carry the given fleet's ownership tag. */
  foreignInstance(subnetId: string, ami: string, managedBy?: string): Promise<string>;
  /** Every call since the last clear, as "Action" (S3 calls as "S3 <method>"). */
  calls(): string[];
  clearCalls(): void;
  inject(fault: Fault): void;
  /** true when the target honours ClientToken (moto alone does not; the proxy in front of it does) */
  readonly honoursClientToken: boolean;
  reset(): Promise<void>;
  close(): Promise<void>;
}

export function simTarget(): ContractTarget {
  let sim = fresh();
  function fresh(): SimCloud {
    const cloud = new SimCloud({ seed: 11, start: Date.parse('2026-11-20T10:00:00Z'), defaultSubnets: [REGION] });
    cloud.world.registerImage(REGION, 'golden', Date.parse('2026-11-19T04:00:00Z'));
    return cloud;
  }
  let mark = 0;
  let s3Mark = 0;
  return {
    name: 'simulated cloud',
    honoursClientToken: true,
    cloud: () => sim,
    now: () => sim.clock.now(),
    clock: () => sim.clock,
    subnets: async () => [...sim.world.subnets.values()].map((s) => ({ id: s.id, region: s.region, az: s.az })),
    ami: async () => [...sim.world.images.values()][0]?.id as string,
    imageOwners: async () => ['self'],
    goldenImage: async (imageManagedBy, snapshotManagedBy) => {
      const image = sim.world.registerImage(
        REGION,
        `golden-${sim.world.images.size}`,
        sim.clock.now(),
        'Linux/UNIX',
        undefined,
        imageManagedBy ? { 'fleet:managed-by': imageManagedBy } : {},
      );
      const snapshotId = image.snapshotIds[0] as string;
      const snapshot = sim.world.snapshots.get(snapshotId);
      if (snapshot) {
        delete snapshot.tags['fleet:managed-by'];
        if (snapshotManagedBy) snapshot.tags['fleet:managed-by'] = snapshotManagedBy;
      }
      return { id: image.id, snapshotId };
    },
    imageExists: async (id) => sim.world.images.get(id)?.deregistered === false,
    snapshotExists: async (id) => sim.world.snapshots.get(id)?.deleted === false,
    createBucket: async (bucket) => sim.objects.createBucket(bucket),
    putObject: async (bucket, key, body) => sim.objects.publish(bucket, key, body),
    foreignInstance: async (subnetId, ami, managedBy) =>
      sim.world.createInstance({
        subnetId,
        instanceType: 'c5.xlarge',
        lifecycle: 'on-demand',
        productDescription: 'Linux/UNIX',
        ami,
        tags: managedBy ? { 'fleet:managed-by': managedBy } : {},
        launchIndex: 0,
        visibilityDelayMs: 0,
      }).id,
    calls: () => [
      ...sim.calls.slice(mark).map((c) => c.action),
      ...sim.objects.log.slice(s3Mark).map((o) => `S3 ${o.action === 'PutObject' ? 'PUT' : 'GET'}`),
    ],
    clearCalls: () => {
      mark = sim.calls.length;
      s3Mark = sim.objects.log.length;
    },
    inject: (f) =>
      sim.faults.addScripted({ action: f.action, code: f.code, status: f.status, ...(f.times !== undefined ? { times: f.times } : {}) }),
    reset: async () => {
      sim = fresh();
      mark = 0;
      s3Mark = 0;
    },
    close: async () => undefined,
  };
}

/** The AWS adapter against moto_server. Undefined when moto is not installed (outside CI). */
export async function motoTarget(): Promise<ContractTarget | undefined> {
  const moto: Moto | undefined = await startMoto();
  if (!moto) return undefined;
  const proxy: FaultProxy = await startFaultProxy(moto.endpoint);
  const env = motoEnv(proxy.endpoint);
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env); // the SDK reads endpoints and credentials from the environment
  const config = { region: REGION, endpoint: proxy.endpoint, credentials: MOTO_CREDENTIALS, maxAttempts: 1 };
  const ec2 = new EC2Client(config);
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  let cloud = awsCloud();
  return {
    name: 'AWS adapter on moto_server',
    // moto ignores ClientToken; the proxy in front of it keeps tokens as EC2 does.
    honoursClientToken: true,
    cloud: () => cloud,
    now: () => Date.now(),
    clock: () => systemClock,
    subnets: async () => {
      const out = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
      return (out.Subnets ?? [])
        .map((s) => ({ id: s.SubnetId as string, region: REGION, az: s.AvailabilityZone as string }))
        .sort((a, b) => a.az.localeCompare(b.az));
    },
    ami: async () => {
      const out = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
      return (out.Images ?? []).find((i) => i.ImageId && String(i.Platform ?? '').toLowerCase() !== 'windows')?.ImageId as string;
    },
    // moto's preloaded images belong to Amazon's accounts: the one ami() picks is allowed by its owner id.
    imageOwners: async () => {
      const out = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
      return ['self', (out.Images ?? []).find((i) => i.ImageId && String(i.Platform ?? '').toLowerCase() !== 'windows')?.OwnerId as string];
    },
    goldenImage: async (imageManagedBy, snapshotManagedBy) => {
      const base = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images?.find(
        (i) => String(i.Platform ?? '').toLowerCase() !== 'windows',
      )?.ImageId;
      const builder = await ec2.send(new RunInstancesCommand({ ImageId: base, InstanceType: 'c5.xlarge', MinCount: 1, MaxCount: 1 }));
      const builderId = builder.Instances?.[0]?.InstanceId as string;
      const tags = (owner: string | undefined) => (owner ? [{ Key: 'fleet:managed-by', Value: owner }] : []);
      // moto tags images at creation but not snapshots: the snapshot is tagged afterwards.
      const created = await ec2.send(
        new CreateImageCommand({
          InstanceId: builderId,
          Name: `golden-${Math.random().toString(16).slice(2)}`,
          ...(imageManagedBy ? { TagSpecifications: [{ ResourceType: 'image', Tags: tags(imageManagedBy) }] } : {}),
        }),
      );
      await ec2.send(new TerminateInstancesCommand({ InstanceIds: [builderId] }));
      const id = created.ImageId as string;
      const described = await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }));
      const snapshotId = described.Images?.[0]?.BlockDeviceMappings?.find((m) => m.Ebs?.SnapshotId)?.Ebs?.SnapshotId as string;
      if (snapshotManagedBy) await ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: tags(snapshotManagedBy) }));
      return { id, snapshotId };
    },
    imageExists: async (id) =>
      ((await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: [id] }] }))).Images ?? []).length > 0,
    snapshotExists: async (id) =>
      ((await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'snapshot-id', Values: [id] }] }))).Snapshots ?? []).length > 0,
    createBucket: async (bucket) => {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    putObject: async (bucket, key, body) => {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    foreignInstance: async (subnetId, ami, managedBy) => {
      const tags = managedBy ? [{ ResourceType: 'instance' as const, Tags: [{ Key: 'fleet:managed-by', Value: managedBy }] }] : undefined;
      const out = await ec2.send(
        new RunInstancesCommand({
          ImageId: ami,
          InstanceType: 'c5.xlarge',
          MinCount: 1,
          MaxCount: 1,
          SubnetId: subnetId,
          ...(tags ? { TagSpecifications: tags } : {}),
        }),
      );
      return out.Instances?.[0]?.InstanceId as string;
    },
    calls: () => proxy.calls.map((c) => (c.service === 's3' ? `S3 ${c.method}` : c.action)),
    clearCalls: () => proxy.clearCalls(),
    inject: (f) =>
      proxy.addRule({ action: f.action, code: f.code, status: f.status, ...(f.times !== undefined ? { times: f.times } : {}) }),
    reset: async () => {
      await moto.reset();
      proxy.clearRules();
      proxy.clearCalls();
      proxy.forgetTokens();
      cloud = awsCloud();
    },
    close: async () => {
      await proxy.close();
      await moto.stop();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

const TARGETS: readonly [string, () => Promise<ContractTarget | undefined>][] = [
  ['simulated cloud', async () => simTarget()],
  ['AWS adapter on moto_server', motoTarget],
];

/**
 * Declare the same suite once per target. `body` receives a getter for the running target (valid
 * inside hooks and tests). Without moto_server the moto suite is skipped with a printed reason,
 * except under CI=true, where startMoto fails instead.
 */
export function forEachTarget(title: string, body: (target: () => ContractTarget) => void): void {
  for (const [name, make] of TARGETS) {
    describe(`${title}: ${name}`, function () {
      this.timeout(60_000);
      let target: ContractTarget | undefined;
      before(async function () {
        target = await make();
        if (!target) {
          console.log(`    skipping "${name}": moto_server is not installed`);
          this.skip();
        }
      });
      after(async () => target?.close());
      body(() => target as ContractTarget);
    });
  }
}
