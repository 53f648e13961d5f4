// The world the CLI tests give `fleet` on moto_server: SDK clients straight to moto for setting up
// and checking, a fault-injecting proxy in front of it for the binary, default subnets, an image,
// the buckets, the inputs, and a workspace with a config and a policy.

import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeImagesCommand, DescribeInstancesCommand, DescribeSubnetsCommand, EC2Client, type Instance } from '@aws-sdk/client-ec2';
import { workspace } from './cli.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { motoClientConfig, motoEnv } from './moto.js';

export interface MotoFleet {
  readonly proxy: FaultProxy;
  /** environment for the binary: endpoints at the proxy, test credentials */
  readonly env: Record<string, string>;
  readonly ec2: EC2Client;
  readonly s3: S3Client;
  /** default subnets, by zone */
  readonly subnets: readonly { readonly id: string; readonly az: string }[];
  /** a Linux image moto ships */
  readonly ami: string;
  /** path of the config file */
  readonly config: string;
  put(bucket: string, key: string, body: unknown): Promise<void>;
}

export interface MotoFleetOptions {
  /** index of the default subnet the policy uses */
  readonly subnetIndex?: number;
  readonly desired?: number;
  /** manifest body; default: Mozilla's amis.json form listing `ami` for bld-linux64 */
  readonly manifest?: (ami: string) => unknown;
  readonly config?: Record<string, unknown>;
  /** indexes of the default subnets the policy uses (instead of `subnetIndex`): one offer per zone */
  readonly subnetIndexes?: readonly number[];
  /** keys merged into the bld-linux64 policy */
  readonly policy?: Record<string, unknown>;
}

export async function motoFleet(endpoint: string, options: MotoFleetOptions = {}): Promise<MotoFleet> {
  const proxy = await startFaultProxy(endpoint);
  const client = motoClientConfig(endpoint);
  const ec2 = new EC2Client(client);
  const s3 = new S3Client({ ...client, forcePathStyle: true });
  const described = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }));
  const subnets = (described.Subnets ?? [])
    .map((s) => ({ id: s.SubnetId as string, az: s.AvailabilityZone as string }))
    .sort((a, b) => a.az.localeCompare(b.az));
  const images = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const image = images.Images?.find((i) => String(i.Platform ?? '').toLowerCase() !== 'windows');
  const ami = image?.ImageId as string;
  // moto's preloaded images belong to Amazon's accounts: the fleet may launch from those it lists.
  const imageOwners = ['self', ...new Set((images.Images ?? []).flatMap((i) => (i.OwnerId ? [i.OwnerId] : [])))];
  const put = async (bucket: string, key: string, body: unknown) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: typeof body === 'string' ? body : JSON.stringify(body) }));
  };
  await s3.send(new CreateBucketCommand({ Bucket: 'golden-amis' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'fleet-control' }));
  // By default the manifest is in Mozilla's amis.json form, as the image pipeline publishes it.
  const mozilla = (id: string) => ({
    [id]: {
      id,
      region: 'us-east-1',
      name: 'bld-linux64-2026-11-21',
      state: 'available',
      tags: { 'moz-type': 'bld-linux64', 'moz-created': '1763697600' },
    },
  });
  await put('golden-amis', 'amis.json', (options.manifest ?? mozilla)(ami));
  await put('fleet-control', 'desired.json', { 'bld-linux64': options.desired ?? 3 });
  const policySubnets = (options.subnetIndexes ?? [options.subnetIndex ?? 0]).map((n) => subnets[n]?.id as string);
  const { config } = workspace(
    {
      fleet: 'releng',
      regions: ['us-east-1'],
      manifest: 's3://golden-amis/amis.json',
      desired: 's3://fleet-control/desired.json',
      state: 's3://fleet-control/state/',
      log: { level: 'info' },
      imageOwners: imageOwners,
      ...options.config,
    },
    [
      {
        pool: 'bld-linux64',
        instanceTypes: ['c5.xlarge'],
        regions: { 'us-east-1': { subnets: policySubnets, securityGroups: [] } },
        size: { min: 0, max: 10 },
        onDemandPrice: 0.17,
        names: 'bld-linux64-spot-{nnn}',
        ...options.policy,
      },
    ],
  );
  return { proxy, env: motoEnv(proxy.endpoint), ec2, s3, subnets, ami, config, put };
}

/** Every instance carrying the test fleet's ownership tag, whatever its state. */
export async function fleetInstances(ec2: EC2Client): Promise<Instance[]> {
  const out = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fleet:managed-by', Values: ['releng'] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

export const live = (i: Instance) => i.State?.Name === 'pending' || i.State?.Name === 'running';

/** An instance's tags as a record. */
export const tagsOf = (i: Instance): Record<string, string | undefined> =>
  Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value]));
