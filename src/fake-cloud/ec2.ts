// Simulated EC2 for one region, behind the same Cloud port as the AWS adapter. It answers with
// AWS's error codes (capacity, throttling, not-found, idempotency mismatch) so fleet's own error
// handling is what gets exercised.

import { createHash } from 'node:crypto';
import type {
  CallOptions,
  ImageRecord,
  LaunchRequest,
  LaunchSlot,
  Page,
  RegionCompute,
  RetireRequest,
  SpotPriceQuery,
} from '../cloud/port.js';
import { CAUSE_TAG, MANAGED_BY_TAG, REPLACES_TAG, lacksNameTag, retireFromTags, retireTags, slotFromTags } from '../cloud/tags.js';
import type { Clock } from '../domain/clock.js';
import { endCauseOf } from '../cloud/state-reason.js';
import type { Instance, SpotPrice, Subnet } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';
import { isSimInstanceType } from './catalog.js';
import { type FaultInjector, SimAwsError, SimNetworkError } from './faults.js';
import { SIM_ACCOUNT, type SimImage, type SimInstance, type SimWorld } from './world.js';

const MANAGED_BY = MANAGED_BY_TAG;
/** DescribeInstances and DescribeSpotPriceHistory answer at most this many items per page, as EC2 does. */
const PAGE_SIZE = 1000;

export interface SimCall {
  readonly t: number;
  readonly region: string;
  readonly action: string;
  /** 'ok' or the error code */
  readonly result: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * Every parameter of a launch request but its token, hashed: EC2 answers a client token reused with
 * any other parameter (security groups, key, user data, names, ...) with IdempotentParameterMismatch.
 */
export function launchParameters(r: LaunchRequest): string {
  const { clientToken: _token, ...parameters } = r;
  return createHash('sha256')
    .update(JSON.stringify(canonical(parameters)))
    .digest('hex')
    .slice(0, 16);
}

/** The same parameters in any key order are the same request, as for EC2. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
  );
}

/** Per-call latency of the simulated API, milliseconds. */
const API_LATENCY_MS = 80;

export class SimCompute implements RegionCompute {
  /** client token → what that call made (EC2 keeps tokens at least for the request's lifetime; here: forever) */
  private readonly tokens = new Map<string, { instanceIds: string[]; fingerprint: string }>();

  constructor(
    readonly region: string,
    private readonly world: SimWorld,
    private readonly faults: FaultInjector,
    private readonly clock: Clock,
    private readonly calls: SimCall[],
  ) {}

  private async enter(action: string, detail: Readonly<Record<string, unknown>> = {}, resources = 0): Promise<void> {
    await this.clock.sleep(API_LATENCY_MS);
    this.world.advanceTo(this.clock.now());
    try {
      this.faults.check(this.region, action, detail, resources);
    } catch (e) {
      this.calls.push({ t: this.clock.now(), region: this.region, action, result: (e as Error).name, detail });
      throw e;
    }
  }

  private record(action: string, result: string, detail?: Readonly<Record<string, unknown>>): void {
    this.calls.push({ t: this.clock.now(), region: this.region, action, result, ...(detail ? { detail } : {}) });
  }

  async listInstancesPage(fleet: string, next?: string): Promise<Page<Instance>> {
    await this.enter('DescribeInstances');
    const now = this.clock.now();
    const all = [...this.world.instances.values()].filter(
      (i) => i.region === this.region && i.visibleAt <= now && i.tags[MANAGED_BY] === fleet,
    );
    this.record('DescribeInstances', 'ok');
    return page(all.map(toInstance), next);
  }

  async describeSubnets(ids: readonly string[]): Promise<Subnet[]> {
    await this.enter('DescribeSubnets');
    const out = ids.flatMap((id) => {
      const s = this.world.subnets.get(id);
      return s && s.region === this.region ? [{ id: s.id, region: s.region, az: s.az }] : [];
    });
    this.record('DescribeSubnets', 'ok');
    return out;
  }

  async spotPriceHistoryPage(query: SpotPriceQuery, next?: string): Promise<Page<SpotPrice>> {
    await this.enter('DescribeSpotPriceHistory');
    const now = this.clock.now();
    const wanted = normaliseProductDescription(query.productDescription);
    const out: SpotPrice[] = [];
    for (const az of this.world.azs(this.region)) {
      for (const instanceType of query.instanceTypes) {
        for (const p of this.world.market.spotHistory(
          this.region,
          az,
          instanceType,
          wanted,
          query.since,
          Math.min(query.until ?? now, now),
        )) {
          out.push({ region: this.region, az, instanceType, productDescription: wanted, price: p.price, timestamp: p.t });
        }
      }
    }
    this.record('DescribeSpotPriceHistory', 'ok');
    return page(out, next);
  }

  async launch(r: LaunchRequest, _options: CallOptions = {}): Promise<Instance[]> {
    const params = launchParameters(r);
    const sentAt = this.clock.now();
    const detail = {
      sentAt,
      az: r.az,
      subnetId: r.subnetId,
      instanceType: r.instanceType,
      lifecycle: r.lifecycle,
      pool: r.pool,
      ami: r.ami,
      clientToken: r.clientToken,
      count: r.slots.length,
      names: r.slots.map((s) => s.name),
      replaces: r.slots.map((s) => s.replaces ?? null),
      params,
    };
    await this.enter('RunInstances', detail, r.slots.length);
    const fail = (code: string, message: string, status = 400): never => {
      this.record('RunInstances', code, detail);
      throw new SimAwsError(code, message, status);
    };
    const loss = this.faults.launchLoss();
    if (loss === 'request') {
      this.record('RunInstances', 'RequestLost', detail);
      throw new SimNetworkError('ECONNRESET', 'socket hang up (simulated: the request never reached EC2)');
    }
    // The answer is lost on the way back: the instances exist, the caller only gets a network error.
    const answer = (made: readonly SimInstance[], extra: Readonly<Record<string, unknown>>): Instance[] => {
      const instanceIds = made.map((i) => i.id);
      if (loss === 'response') {
        this.record('RunInstances', 'ResponseLost', { ...detail, ...extra, instanceIds });
        throw new SimNetworkError('ETIMEDOUT', 'read timed out (simulated: EC2 acted, the answer was lost)');
      }
      this.record('RunInstances', 'ok', { ...detail, ...extra, instanceIds });
      return made.map(toInstance);
    };
    // EC2 compares every parameter of a call that reuses a token, not just a few.
    const earlier = this.tokens.get(r.clientToken);
    if (earlier) {
      if (earlier.fingerprint !== params)
        fail(
          'IdempotentParameterMismatch',
          'The client token you have provided is associated with a resource that is already deleted, or the parameters of this request do not match the original request.',
        );
      const made = earlier.instanceIds.map((id) => this.world.instances.get(id)).filter((i): i is SimInstance => i !== undefined);
      return answer(made, { replayed: true });
    }
    if (r.slots.length < 1) fail('InvalidParameterValue', 'MaxCount must be at least 1');
    const subnet = this.world.subnets.get(r.subnetId);
    if (!subnet || subnet.region !== this.region) fail('InvalidSubnetID.NotFound', `The subnet ID '${r.subnetId}' does not exist`);
    const image = this.world.images.get(r.ami);
    if (!image || image.region !== this.region || image.deregistered)
      fail('InvalidAMIID.NotFound', `The image id '[${r.ami}]' does not exist`);
    if (!isSimInstanceType(r.instanceType)) fail('InvalidParameterValue', `Invalid value '${r.instanceType}' for InstanceType.`);
    const az = (subnet as NonNullable<typeof subnet>).az;
    const productDescription = (image as NonNullable<typeof image>).productDescription;
    const now = this.clock.now();
    if (r.lifecycle === 'spot') {
      const price = this.world.market.spotPrice(this.region, az, r.instanceType, productDescription, now);
      // A replayed market sells on spot only what the recording has prices for.
      if (price === undefined)
        fail(
          'Unsupported',
          `Your requested instance type (${r.instanceType}) is not supported on spot in your requested Availability Zone (${az}).`,
        );
      const maxPrice = this.world.spotMaxPrice(this.region, r.instanceType, productDescription, r.maxPrice);
      if (maxPrice !== undefined && (price as number) > maxPrice)
        fail(
          'SpotMaxPriceTooLow',
          `Your Spot request price of ${maxPrice} is lower than the minimum required Spot request fulfillment price of ${price}.`,
        );
    }
    // EC2's MinCount/MaxCount: nothing unless MinCount fit, then as many as fit up to MaxCount.
    const minCount = Math.max(1, Math.min(r.minCount ?? r.slots.length, r.slots.length));
    const free = this.world.market.capacity(az, r.instanceType, r.lifecycle, now) - this.world.usage(az, r.instanceType, r.lifecycle);
    if (free < minCount) {
      fail(
        'InsufficientInstanceCapacity',
        `We currently do not have sufficient ${r.instanceType} capacity in the Availability Zone you requested (${az}).`,
        500,
      );
    }
    const made = r.slots.slice(0, Math.min(free, r.slots.length)).map((_, launchIndex) =>
      this.world.createInstance({
        subnetId: r.subnetId,
        instanceType: r.instanceType,
        lifecycle: r.lifecycle,
        productDescription,
        ami: r.ami,
        tags: { ...r.tags },
        clientToken: r.clientToken,
        launchIndex,
        ...(r.maxPrice !== undefined ? { maxPrice: r.maxPrice } : {}),
        ...(r.publicIp !== undefined ? { publicIp: r.publicIp } : {}),
        visibilityDelayMs: this.faults.visibilityDelayMs,
      }),
    );
    this.tokens.set(r.clientToken, { instanceIds: made.map((i) => i.id), fingerprint: params });
    return answer(made, {});
  }

  async nameInstance(id: string, slot: LaunchSlot, _options: CallOptions = {}): Promise<void> {
    await this.enter('CreateTags', { instanceId: id });
    const instance = this.world.instances.get(id);
    if (!instance || instance.region !== this.region) {
      this.record('CreateTags', 'InvalidInstanceID.NotFound', { instanceId: id });
      throw new SimAwsError('InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
    }
    instance.tags.Name = slot.name;
    if (slot.replaces) instance.tags[REPLACES_TAG] = slot.replaces;
    if (slot.replaces && slot.cause) instance.tags[CAUSE_TAG] = slot.cause;
    this.record('CreateTags', 'ok', { instanceId: id, name: slot.name });
  }

  async terminate(fleet: string, ids: readonly string[], _options: CallOptions = {}): Promise<string[]> {
    // The ownership check is its own call; a failure there is a failed termination (the calls log says so).
    await this.enter('DescribeInstances', { ownershipCheckFor: 'TerminateInstances', instanceIds: [...ids] });
    const now = this.clock.now();
    const owned = ids.filter((id) => {
      const i = this.world.instances.get(id);
      return i && i.region === this.region && i.visibleAt <= now && i.tags[MANAGED_BY] === fleet;
    });
    this.record('DescribeInstances', 'ok', { ownershipCheck: ids.length });
    if (owned.length === 0) return [];
    await this.enter('TerminateInstances', { count: owned.length }, owned.length);
    for (const id of owned) this.world.endInstance(this.world.instances.get(id) as SimInstance, 'Client.UserInitiatedShutdown');
    this.record('TerminateInstances', 'ok', { instanceIds: owned });
    return owned;
  }

  async retire(fleet: string, requests: readonly RetireRequest[], _options: CallOptions = {}): Promise<string[]> {
    await this.enter('DescribeInstances');
    const now = this.clock.now();
    const owned = requests.filter((r) => {
      const i = this.world.instances.get(r.id);
      return i && i.region === this.region && i.visibleAt <= now && i.tags[MANAGED_BY] === fleet;
    });
    this.record('DescribeInstances', 'ok', { ownershipCheck: requests.length });
    // As EC2: one CreateTags call per set of tags (deadline and cause), for all its instances.
    const byTags = new Map<string, RetireRequest[]>();
    for (const r of owned) {
      const key = JSON.stringify(retireTags(r.deadline, r.cause));
      byTags.set(key, [...(byTags.get(key) ?? []), r]);
    }
    for (const [key, group] of byTags) {
      const ids = group.map((r) => r.id);
      await this.enter('CreateTags', { instanceIds: ids });
      // Tags show in DescribeInstances and in the instances' metadata (the worker's agent reads them there).
      for (const id of ids) Object.assign((this.world.instances.get(id) as SimInstance).tags, JSON.parse(key) as Record<string, string>);
      this.record('CreateTags', 'ok', {
        instanceIds: ids,
        retire: group[0]?.deadline === undefined ? '' : new Date(group[0].deadline).toISOString(),
      });
    }
    return owned.map((r) => r.id);
  }

  async describeImages(ids: readonly string[]): Promise<ImageRecord[]> {
    await this.enter('DescribeImages');
    this.record('DescribeImages', 'ok');
    return ids.flatMap((id) => {
      const image = this.world.images.get(id);
      return image && image.region === this.region && !image.deregistered && image.ownerId === SIM_ACCOUNT ? [toImageRecord(image)] : [];
    });
  }

  async imagesOwnedBy(owners: readonly string[], ids: readonly string[]): Promise<Set<string>> {
    await this.enter('DescribeImages');
    this.record('DescribeImages', 'ok', { owners: owners.join(','), imageIds: ids.length });
    const accounts = new Set(owners.map((o) => (o === 'self' ? SIM_ACCOUNT : o)));
    const owned = ids.filter((id) => {
      const image = this.world.images.get(id);
      return image !== undefined && image.region === this.region && !image.deregistered && accounts.has(image.ownerId);
    });
    return new Set(owned);
  }

  async imagesInUse(ids: readonly string[]): Promise<Set<string>> {
    await this.enter('DescribeInstances');
    this.record('DescribeInstances', 'ok', { imageIds: ids.length });
    const wanted = new Set(ids);
    const used = [...this.world.instances.values()].filter(
      (i) => i.region === this.region && i.state !== 'terminated' && wanted.has(i.ami),
    );
    return new Set(used.map((i) => i.ami));
  }

  async deregisterImage(
    fleet: string,
    id: string,
    _options: CallOptions = {},
  ): Promise<{ deregistered: boolean; snapshotsDeleted: string[] }> {
    const [image] = await this.describeImages([id]);
    if (!image || image.managedBy !== fleet) return { deregistered: false, snapshotsDeleted: [] };
    await this.enter('DeregisterImage');
    (this.world.images.get(id) as SimImage).deregistered = true;
    this.record('DeregisterImage', 'ok', { imageId: id });
    const snapshotsDeleted: string[] = [];
    for (const snapshotId of image.snapshotIds) {
      const snapshot = this.world.snapshots.get(snapshotId);
      if (!snapshot || snapshot.deleted || snapshot.tags[MANAGED_BY] !== fleet) continue;
      await this.enter('DeleteSnapshot');
      snapshot.deleted = true;
      this.record('DeleteSnapshot', 'ok', { snapshotId });
      snapshotsDeleted.push(snapshotId);
    }
    return { deregistered: true, snapshotsDeleted };
  }
}

function toImageRecord(image: SimImage): ImageRecord {
  return {
    id: image.id,
    region: image.region,
    name: image.name,
    state: 'available',
    ...(image.tags[MANAGED_BY] !== undefined ? { managedBy: image.tags[MANAGED_BY] } : {}),
    snapshotIds: image.snapshotIds,
  };
}

function page<T>(all: readonly T[], next: string | undefined): Page<T> {
  const from = next === undefined ? 0 : Number(next);
  const items = all.slice(from, from + PAGE_SIZE);
  return { items, ...(from + PAGE_SIZE < all.length ? { next: String(from + PAGE_SIZE) } : {}) };
}

function toInstance(i: SimInstance): Instance {
  const cause = endCauseOf(i.stateReason);
  const slot = slotFromTags(i.tags, i.launchIndex);
  return {
    id: i.id,
    name: slot.name,
    pool: i.tags['fleet:pool'] ?? '',
    region: i.region,
    az: i.az,
    subnetId: i.subnetId,
    instanceType: i.instanceType,
    lifecycle: i.lifecycle,
    state: i.state,
    privateIp: i.privateIp,
    ...(i.publicIp ? { publicIp: i.publicIp } : {}),
    ami: i.ami,
    launchTime: i.launchTime,
    ...(i.clientToken ? { clientToken: i.clientToken } : {}),
    launchIndex: i.launchIndex,
    ...(cause ? { endCause: cause } : {}),
    ...(cause && i.endedAt !== undefined ? { endedAt: i.endedAt } : {}),
    ...(slot.replaces ? { replaces: slot.replaces } : {}),
    ...(slot.replaces && slot.cause ? { cause: slot.cause } : {}),
    ...(lacksNameTag(i.tags, i.launchIndex) ? { nameTagMissing: true as const } : {}),
    ...retireFromTags(i.tags),
  };
}
