// SDK clients that answer from a small in-memory account instead of the network, and record every
// command sent with its input: what the AWS adapter asks of AWS, for the IAM policy check.

import { EC2Client } from '@aws-sdk/client-ec2';
import { PricingClient } from '@aws-sdk/client-pricing';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';

export const ACCOUNT = '123456789012';

export interface RecordedCall {
  readonly service: 'ec2' | 's3' | 'sqs' | 'pricing';
  readonly region: string;
  /** the SDK command's name without "Command" (EC2's API action) */
  readonly command: string;
  readonly input: Record<string, unknown>;
}

type Tags = Record<string, string>;
export interface FakeInstance {
  readonly id: string;
  tags: Tags;
  readonly imageId: string;
}
export interface FakeImage {
  readonly id: string;
  readonly ownerId: string;
  readonly tags: Tags;
  readonly snapshotId: string;
  deregistered?: boolean;
}

/** The state of the fake account: what the answers are made of, and the resources' tags at each call. */
export class FakeAccount {
  readonly calls: RecordedCall[] = [];
  readonly instances = new Map<string, FakeInstance>();
  readonly images = new Map<string, FakeImage>();
  readonly snapshots = new Map<string, Tags>();
  private next = 1;

  ec2(region: string): EC2Client {
    return this.attach(new EC2Client({ region, credentials: FAKE_CREDENTIALS }), 'ec2', region, (command, input) =>
      this.answerEc2(command, input),
    );
  }
  s3(region: string, answer: (command: string, input: Record<string, unknown>) => unknown): S3Client {
    return this.attach(new S3Client({ region, credentials: FAKE_CREDENTIALS }), 's3', region, answer);
  }
  sqs(region: string, answer: (command: string, input: Record<string, unknown>) => unknown): SQSClient {
    return this.attach(new SQSClient({ region, credentials: FAKE_CREDENTIALS }), 'sqs', region, answer);
  }
  pricing(answer: (command: string, input: Record<string, unknown>) => unknown): PricingClient {
    return this.attach(new PricingClient({ region: 'us-east-1', credentials: FAKE_CREDENTIALS }), 'pricing', 'us-east-1', answer);
  }

  instance(tags: Tags, imageId = 'ami-own'): FakeInstance {
    const instance = { id: `i-${String(this.next++).padStart(17, '0')}`, tags: { ...tags }, imageId };
    this.instances.set(instance.id, instance);
    return instance;
  }

  image(id: string, ownerId: string, tags: Tags): FakeImage {
    const image = { id, ownerId, tags, snapshotId: `snap-${id.slice(4)}` };
    this.images.set(id, image);
    this.snapshots.set(image.snapshotId, { ...tags });
    return image;
  }

  /** The record is taken before the answer, so a call sees resources as they were when it was sent. */
  private attach<C extends { middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string }): void } }>(
    client: C,
    service: RecordedCall['service'],
    region: string,
    answer: (command: string, input: Record<string, unknown>) => unknown,
  ): C {
    const middleware = (_next: unknown, context: { commandName?: string }) => async (args: { input: unknown }) => {
      const command = String(context.commandName).replace(/Command$/, '');
      const input = structuredClone(args.input as Record<string, unknown>);
      this.calls.push({ service, region, command, input, ...{ snapshot: this.resourceTags() } });
      return { output: { $metadata: {}, ...(answer(command, input) as object) }, response: {} };
    };
    client.middlewareStack.add(middleware as never, { step: 'initialize', name: 'fakeAccount' });
    return client;
  }

  /** Tags of every resource, as they are now. */
  resourceTags(): Map<string, Tags> {
    const tags = new Map<string, Tags>();
    for (const i of this.instances.values()) tags.set(i.id, { ...i.tags });
    for (const i of this.images.values()) tags.set(i.id, { ...i.tags });
    for (const [id, t] of this.snapshots) tags.set(id, { ...t });
    return tags;
  }

  private answerEc2(command: string, input: Record<string, unknown>): unknown {
    const filters = new Map(((input.Filters ?? []) as { Name: string; Values: string[] }[]).map((f) => [f.Name, f.Values]));
    const passes = (name: string, value: string | undefined) =>
      !filters.has(name) || (value !== undefined && (filters.get(name) as string[]).includes(value));
    switch (command) {
      case 'DescribeInstances': {
        const listed = [...this.instances.values()].filter(
          (i) =>
            passes('instance-id', i.id) &&
            passes('image-id', i.imageId) &&
            [...filters.keys()].filter((k) => k.startsWith('tag:')).every((k) => passes(k, i.tags[k.slice(4)])),
        );
        return { Reservations: [{ Instances: listed.map(describeInstance) }] };
      }
      case 'DescribeSubnets':
        return { Subnets: [{ SubnetId: 'subnet-1', AvailabilityZone: 'us-east-1a' }] };
      case 'DescribeSpotPriceHistory':
        return {
          SpotPriceHistory: [
            {
              AvailabilityZone: 'us-east-1a',
              InstanceType: 'c5.large',
              ProductDescription: 'Linux/UNIX',
              SpotPrice: '0.03',
              Timestamp: new Date(0),
            },
          ],
        };
      case 'RunInstances': {
        const spec = (input.TagSpecifications as { ResourceType: string; Tags: { Key: string; Value: string }[] }[]).find(
          (s) => s.ResourceType === 'instance',
        );
        const tags = Object.fromEntries((spec?.Tags ?? []).map((t) => [t.Key, t.Value]));
        const made = Array.from({ length: input.MaxCount as number }, () => this.instance(tags, input.ImageId as string));
        return { Instances: made.map((i, n) => ({ ...describeInstance(i), AmiLaunchIndex: n, ClientToken: input.ClientToken })) };
      }
      case 'CreateTags':
      case 'DeleteTags':
        for (const id of input.Resources as string[]) {
          const instance = this.instances.get(id);
          if (!instance) continue;
          for (const t of (input.Tags ?? []) as { Key: string; Value?: string }[]) {
            if (command === 'CreateTags') instance.tags[t.Key] = t.Value ?? '';
            else delete instance.tags[t.Key];
          }
        }
        return {};
      case 'TerminateInstances':
        return { TerminatingInstances: (input.InstanceIds as string[]).map((InstanceId) => ({ InstanceId })) };
      case 'DescribeImages': {
        const owners = (input.Owners ?? []) as string[];
        const ownerOk = (i: FakeImage) =>
          owners.length === 0 || owners.some((o) => (o === 'self' ? i.ownerId === ACCOUNT : o === i.ownerId));
        const wantedIds = (input.ImageIds as string[] | undefined) ?? filters.get('image-id');
        const listed = [...this.images.values()].filter((i) => !i.deregistered && ownerOk(i) && (!wantedIds || wantedIds.includes(i.id)));
        return {
          Images: listed.map((i) => ({
            ImageId: i.id,
            OwnerId: i.ownerId,
            Name: i.id,
            State: 'available',
            Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
            BlockDeviceMappings: [{ Ebs: { SnapshotId: i.snapshotId } }],
          })),
        };
      }
      case 'DeregisterImage':
        (this.images.get(input.ImageId as string) as FakeImage).deregistered = true;
        return {};
      case 'DescribeSnapshots':
        return {
          Snapshots: (filters.get('snapshot-id') ?? []).flatMap((id) =>
            this.snapshots.has(id)
              ? [{ SnapshotId: id, Tags: Object.entries(this.snapshots.get(id) as Tags).map(([Key, Value]) => ({ Key, Value })) }]
              : [],
          ),
        };
      case 'DeleteSnapshot':
        this.snapshots.delete(input.SnapshotId as string);
        return {};
      default:
        throw new Error(`the fake account does not answer EC2 ${command}`);
    }
  }
}

/** The tags of resources at the time of the call (kept with the recorded call). */
export function tagsAtCall(call: RecordedCall): Map<string, Tags> {
  return (call as unknown as { snapshot: Map<string, Tags> }).snapshot;
}

const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFAKE', secretAccessKey: 'fake' };

function describeInstance(i: FakeInstance): Record<string, unknown> {
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    State: { Name: 'running' },
    Placement: { AvailabilityZone: 'us-east-1a' },
    InstanceType: 'c5.large',
    Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
  };
}
