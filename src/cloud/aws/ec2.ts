import {
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeSpotPriceHistoryCommand,
  DescribeSubnetsCommand,
  EC2Client,
  type Instance as Ec2Instance,
  type RunInstancesCommandInput,
  RunInstancesCommand,
  TerminateInstancesCommand,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import type { Instance, InstanceState, SpotPrice, Subnet } from '../../domain/types.js';
import { normaliseProductDescription } from '../../domain/types.js';
import { CAUSE_TAG, MANAGED_BY_TAG, POOL_TAG, REPLACES_TAG } from '../../domain/tags.js';
import type { CallOptions, ImageRecord, LaunchRequest, LaunchSlot, Page, RegionCompute, RetireRequest, SpotPriceQuery } from '../port.js';
import { endCauseOf } from '../state-reason.js';
import { lacksNameTag, retireFromTags, retireTags, slotFromTags } from '../tags.js';

const INSTANCE_STATES: readonly InstanceState[] = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'];

/** EC2 in one region, through SDK v3. Errors are thrown as the SDK raises them. */
export class Ec2Compute implements RegionCompute {
  constructor(
    readonly region: string,
    private readonly ec2: EC2Client,
  ) {}

  async listInstancesPage(fleet: string, next?: string, options: CallOptions = {}): Promise<Page<Instance>> {
    const out = await this.ec2.send(
      new DescribeInstancesCommand({
        Filters: [{ Name: `tag:${MANAGED_BY_TAG}`, Values: [fleet] }],
        MaxResults: 1000,
        ...(next ? { NextToken: next } : {}),
      }),
      sendOptions(options),
    );
    const items: Instance[] = [];
    for (const reservation of out.Reservations ?? []) {
      for (const raw of reservation.Instances ?? []) {
        // Checked again here: a resource without our exact ownership tag is never ours.
        if (tag(raw, MANAGED_BY_TAG) !== fleet) continue;
        const instance = toInstance(this.region, raw);
        if (instance) items.push(instance);
      }
    }
    return { items, ...(out.NextToken ? { next: out.NextToken } : {}) };
  }

  async describeSubnets(ids: readonly string[], options: CallOptions = {}): Promise<Subnet[]> {
    if (ids.length === 0) return [];
    // A filter (not SubnetIds) so that one missing subnet does not fail the whole call.
    const out = await this.ec2.send(
      new DescribeSubnetsCommand({ Filters: [{ Name: 'subnet-id', Values: [...ids] }] }),
      sendOptions(options),
    );
    return (out.Subnets ?? [])
      .filter((s) => s.SubnetId && s.AvailabilityZone)
      .map((s) => ({ id: s.SubnetId as string, region: this.region, az: s.AvailabilityZone as string }));
  }

  async spotPriceHistoryPage(query: SpotPriceQuery, next?: string, options: CallOptions = {}): Promise<Page<SpotPrice>> {
    const wanted = normaliseProductDescription(query.productDescription);
    const out = await this.ec2.send(
      new DescribeSpotPriceHistoryCommand({
        InstanceTypes: [...query.instanceTypes] as never,
        ProductDescriptions: [wanted, `${wanted} (Amazon VPC)`],
        StartTime: new Date(query.since),
        ...(query.until !== undefined ? { EndTime: new Date(query.until) } : {}),
        MaxResults: 1000,
        ...(next ? { NextToken: next } : {}),
      }),
      sendOptions(options),
    );
    const items: SpotPrice[] = [];
    for (const p of out.SpotPriceHistory ?? []) {
      const productDescription = normaliseProductDescription(p.ProductDescription ?? '');
      // Never another OS's price, whatever the endpoint returned.
      if (productDescription !== wanted || !p.AvailabilityZone || !p.InstanceType || !p.SpotPrice) continue;
      const price = Number(p.SpotPrice);
      if (!Number.isFinite(price)) continue;
      items.push({
        region: this.region,
        az: p.AvailabilityZone,
        instanceType: p.InstanceType,
        productDescription,
        price,
        timestamp: p.Timestamp?.getTime() ?? 0,
      });
    }
    // An empty NextToken means the last page.
    return { items, ...(out.NextToken ? { next: out.NextToken } : {}) };
  }

  async launch(request: LaunchRequest, options: CallOptions = {}): Promise<Instance[]> {
    const out = await this.ec2.send(new RunInstancesCommand(runInstancesInput(request)), sendOptions(options));
    const instances = (out.Instances ?? [])
      .map((raw) => toInstance(this.region, raw, request))
      .filter((i): i is Instance => i !== undefined)
      .sort((a, b) => (a.launchIndex ?? 0) - (b.launchIndex ?? 0));
    if (instances.length === 0) throw Object.assign(new Error('RunInstances returned no instance'), { name: 'InternalError' });
    return instances;
  }

  async nameInstance(id: string, slot: LaunchSlot, options: CallOptions = {}): Promise<void> {
    // CreateTags takes one set of tags for all its resources: one call per instance, each its own Name.
    const tags = [
      { Key: 'Name', Value: slot.name },
      ...(slot.replaces ? [{ Key: REPLACES_TAG, Value: slot.replaces }] : []),
      ...(slot.replaces && slot.cause ? [{ Key: CAUSE_TAG, Value: slot.cause }] : []),
    ];
    await this.ec2.send(new CreateTagsCommand({ Resources: [id], Tags: tags }), sendOptions(options));
  }

  async terminate(fleet: string, ids: readonly string[], options: CallOptions = {}): Promise<string[]> {
    if (ids.length === 0) return [];
    const owned = await ownedBy(this.ec2, fleet, ids, options);
    const targets = ids.filter((id) => owned.has(id));
    for (let start = 0; start < targets.length; start += 1000) {
      await this.ec2.send(new TerminateInstancesCommand({ InstanceIds: targets.slice(start, start + 1000) }), sendOptions(options));
    }
    return targets;
  }

  async retire(fleet: string, requests: readonly RetireRequest[], options: CallOptions = {}): Promise<string[]> {
    const owned = await ownedBy(
      this.ec2,
      fleet,
      requests.map((r) => r.id),
      options,
    );
    const targets = requests.filter((r) => owned.has(r.id));
    // CreateTags takes one set of tags for all its resources: one call per deadline and cause.
    const byTags = new Map<string, { tags: Record<string, string>; ids: string[] }>();
    for (const r of targets) {
      const tags = retireTags(r.deadline, r.cause);
      const key = JSON.stringify(tags);
      const group = byTags.get(key) ?? { tags, ids: [] };
      group.ids.push(r.id);
      byTags.set(key, group);
    }
    for (const { tags, ids } of byTags.values()) {
      await this.ec2.send(
        new CreateTagsCommand({ Resources: ids, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }),
        sendOptions(options),
      );
    }
    return targets.map((r) => r.id);
  }

  async describeImages(ids: readonly string[], options: CallOptions = {}): Promise<ImageRecord[]> {
    if (ids.length === 0) return [];
    // A filter, not ImageIds: an id that no longer exists must not fail the whole call.
    const out = await this.ec2.send(
      new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'image-id', Values: [...ids] }] }),
      sendOptions(options),
    );
    return (out.Images ?? []).flatMap((image) => {
      if (!image.ImageId) return [];
      const managedBy = image.Tags?.find((t) => t.Key === MANAGED_BY_TAG)?.Value;
      return [
        {
          id: image.ImageId,
          region: this.region,
          name: image.Name ?? '',
          state: image.State ?? 'unknown',
          ...(managedBy !== undefined ? { managedBy } : {}),
          snapshotIds: (image.BlockDeviceMappings ?? []).flatMap((m) => (m.Ebs?.SnapshotId ? [m.Ebs.SnapshotId] : [])),
        },
      ];
    });
  }

  async imagesOwnedBy(owners: readonly string[], ids: readonly string[], options: CallOptions = {}): Promise<Set<string>> {
    const owned = new Set<string>();
    if (ids.length === 0 || owners.length === 0) return owned;
    // A filter, not ImageIds: an id that no longer exists must not fail the whole call (200 values per filter).
    for (let start = 0; start < ids.length; start += 200) {
      const out = await this.ec2.send(
        new DescribeImagesCommand({ Owners: [...owners], Filters: [{ Name: 'image-id', Values: ids.slice(start, start + 200) }] }),
        sendOptions(options),
      );
      for (const image of out.Images ?? []) if (image.ImageId) owned.add(image.ImageId);
    }
    return owned;
  }

  async imagesInUse(ids: readonly string[], options: CallOptions = {}): Promise<Set<string>> {
    const used = new Set<string>();
    if (ids.length === 0) return used;
    const pages = paginateDescribeInstances(
      { client: this.ec2, pageSize: 1000 },
      {
        Filters: [
          { Name: 'image-id', Values: [...ids] },
          { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped', 'shutting-down'] },
        ],
      },
      sendOptions(options),
    );
    for await (const page of pages)
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) if (i.ImageId) used.add(i.ImageId);
    return used;
  }

  async deregisterImage(
    fleet: string,
    id: string,
    options: CallOptions = {},
  ): Promise<{ deregistered: boolean; snapshotsDeleted: string[] }> {
    const [image] = await this.describeImages([id], options);
    if (!image || image.managedBy !== fleet) return { deregistered: false, snapshotsDeleted: [] };
    await this.ec2.send(new DeregisterImageCommand({ ImageId: id }), sendOptions(options));
    const snapshotsDeleted: string[] = [];
    if (image.snapshotIds.length > 0) {
      const out = await this.ec2.send(
        new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'snapshot-id', Values: [...image.snapshotIds] }] }),
        sendOptions(options),
      );
      for (const snapshot of out.Snapshots ?? []) {
        if (!snapshot.SnapshotId || snapshot.Tags?.find((t) => t.Key === MANAGED_BY_TAG)?.Value !== fleet) continue;
        await this.ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshot.SnapshotId }), sendOptions(options));
        snapshotsDeleted.push(snapshot.SnapshotId);
      }
    }
    return { deregistered: true, snapshotsDeleted };
  }
}

function sendOptions(options: CallOptions): { abortSignal?: AbortSignal } {
  return options.signal ? { abortSignal: options.signal } : {};
}

export function runInstancesInput(r: LaunchRequest): RunInstancesCommandInput {
  const tags = Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value }));
  return {
    ImageId: r.ami,
    InstanceType: r.instanceType as never,
    // All or nothing: a call that cannot be filled whole is refused, and the executor's growing
    // batches find how much the offer holds.
    MinCount: r.minCount ?? r.slots.length,
    MaxCount: r.slots.length,
    ClientToken: r.clientToken,
    // EC2 creates the interface at launch: no pre-created ENI, so any name can run in any zone.
    NetworkInterfaces: [
      {
        DeviceIndex: 0,
        SubnetId: r.subnetId,
        Groups: [...r.securityGroups],
        DeleteOnTermination: true,
        ...(r.publicIp !== undefined ? { AssociatePublicIpAddress: r.publicIp } : {}),
      },
    ],
    ...(r.lifecycle === 'spot'
      ? {
          InstanceMarketOptions: {
            MarketType: 'spot',
            SpotOptions: {
              SpotInstanceType: 'one-time',
              InstanceInterruptionBehavior: 'terminate',
              ...(r.maxPrice !== undefined ? { MaxPrice: r.maxPrice.toFixed(6) } : {}),
            },
          },
        }
      : {}),
    MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' },
    // A worker that powers itself off (fleet check-ami on a stale image) is gone, not stopped and billed for its volumes.
    InstanceInitiatedShutdownBehavior: 'terminate',
    TagSpecifications: [
      { ResourceType: 'instance', Tags: tags },
      { ResourceType: 'volume', Tags: tags },
    ],
    ...(r.keyName ? { KeyName: r.keyName } : {}),
    ...(r.instanceProfile ? { IamInstanceProfile: { Name: r.instanceProfile } } : {}),
    ...(r.userData !== undefined ? { UserData: Buffer.from(r.userData, 'utf8').toString('base64') } : {}),
  };
}

/** Which of `ids` carry this fleet's ownership tag, asked of the cloud itself right before a change. */
async function ownedBy(ec2: EC2Client, fleet: string, ids: readonly string[], options: CallOptions): Promise<Set<string>> {
  const owned = new Set<string>();
  for (let start = 0; start < ids.length; start += 1000) {
    const pages = paginateDescribeInstances(
      { client: ec2, pageSize: 1000 },
      {
        Filters: [
          { Name: 'instance-id', Values: ids.slice(start, start + 1000) },
          { Name: `tag:${MANAGED_BY_TAG}`, Values: [fleet] },
        ],
      },
      sendOptions(options),
    );
    for await (const page of pages) {
      for (const r of page.Reservations ?? [])
        for (const i of r.Instances ?? []) if (i.InstanceId && tag(i, MANAGED_BY_TAG) === fleet) owned.add(i.InstanceId);
    }
  }
  return owned;
}

function tag(raw: Ec2Instance, key: string): string | undefined {
  return raw.Tags?.find((t) => t.Key === key)?.Value;
}

function toInstance(region: string, raw: Ec2Instance, launched?: LaunchRequest): Instance | undefined {
  if (!raw.InstanceId) return undefined;
  const state = raw.State?.Name ?? 'pending';
  const ending = state === 'shutting-down' || state === 'terminated' || state === 'stopping' || state === 'stopped';
  const cause = ending ? endCauseOf(raw.StateReason?.Code) : undefined;
  const tags = Object.fromEntries((raw.Tags ?? []).flatMap((t) => (t.Key !== undefined ? [[t.Key, t.Value ?? '']] : [])));
  const launchIndex = raw.AmiLaunchIndex ?? 0;
  // A launch answer may come before tags are readable: the request says what each index holds.
  const slot = launched ? { ...launched.slots[launchIndex], ...slotFromTags(tags, launchIndex) } : slotFromTags(tags, launchIndex);
  const name = slot.name || (launched?.slots[launchIndex]?.name ?? '');
  const replaces = slot.replaces ?? launched?.slots[launchIndex]?.replaces;
  const launchCause = slot.cause ?? launched?.slots[launchIndex]?.cause;
  return {
    id: raw.InstanceId,
    name,
    pool: tags[POOL_TAG] ?? launched?.pool ?? '',
    region,
    az: raw.Placement?.AvailabilityZone ?? launched?.az ?? '',
    ...(raw.SubnetId ? { subnetId: raw.SubnetId } : {}),
    instanceType: raw.InstanceType ?? launched?.instanceType ?? '',
    lifecycle: raw.InstanceLifecycle === 'spot' ? 'spot' : 'on-demand',
    state: INSTANCE_STATES.includes(state) ? state : 'pending',
    ...(raw.PrivateIpAddress ? { privateIp: raw.PrivateIpAddress } : {}),
    ...(raw.PublicIpAddress ? { publicIp: raw.PublicIpAddress } : {}),
    ami: raw.ImageId ?? launched?.ami ?? '',
    launchTime: raw.LaunchTime?.getTime() ?? 0,
    ...(raw.ClientToken ? { clientToken: raw.ClientToken } : {}),
    launchIndex,
    ...(cause ? { endCause: cause } : {}),
    ...(ending && endedAt(raw.StateTransitionReason) !== undefined ? { endedAt: endedAt(raw.StateTransitionReason) } : {}),
    ...(replaces ? { replaces } : {}),
    ...(replaces && launchCause ? { cause: launchCause } : {}),
    ...(lacksNameTag(tags, launchIndex) ? { nameTagMissing: true as const } : {}),
    ...retireFromTags(tags),
  };
}

/** EC2 dates some transitions in its reason text: "User initiated (2026-11-20 10:02:03 GMT)". */
export function endedAt(reason: string | undefined): number | undefined {
  const match = /\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/.exec(reason ?? '');
  if (!match) return undefined;
  const t = Date.parse(`${match[1]}T${match[2]}Z`);
  return Number.isFinite(t) ? t : undefined;
}
