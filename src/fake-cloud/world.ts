// The simulated cloud's state: subnets, images, instances, and how they change as time passes
// (launch latency, shutdown, spot interruptions when capacity shrinks or the price passes a
// bid, each announced two minutes ahead as EC2 does, rebalance recommendations ahead of capacity
// shrinking, per-second billing). Everything here is simulated, the replayed prices aside.

import { groupBy } from '../domain/group-by.js';
import type { InstanceState, Lifecycle } from '../domain/types.js';
import { INTERRUPTION_NOTICE_MS } from '../events/parse.js';
import { SIM_REGIONS, simOnDemandPrice } from './catalog.js';
import type { Market } from './market.js';
import type { Prng } from './prng.js';

export interface SimSubnet {
  readonly id: string;
  readonly region: string;
  readonly az: string;
  /** first three octets of the subnet's /24 */
  readonly prefix: string;
  readonly mapPublicIp: boolean;
  nextHost: number;
}

/** The simulated account fleet runs in: its own images are owned by it ("self"). */
export const SIM_ACCOUNT = '000000000000';

export interface SimImage {
  readonly id: string;
  readonly region: string;
  readonly name: string;
  readonly created: number;
  readonly productDescription: string;
  deregistered: boolean;
  /** a bad bake: its workers fail to boot and shut themselves down a minute or two in */
  broken: boolean;
  readonly snapshotIds: readonly string[];
  readonly tags: Record<string, string>;
  /** the account that owns it: SIM_ACCOUNT (the simulated fleet's own, "self") unless registered otherwise */
  readonly ownerId: string;
}

export interface SimSnapshot {
  readonly id: string;
  readonly tags: Record<string, string>;
  deleted: boolean;
}

export interface SimInstance {
  readonly id: string;
  readonly region: string;
  readonly az: string;
  readonly subnetId: string;
  readonly instanceType: string;
  readonly lifecycle: Lifecycle;
  readonly productDescription: string;
  readonly ami: string;
  readonly privateIp: string;
  readonly publicIp?: string;
  readonly tags: Record<string, string>;
  readonly clientToken?: string;
  /** position in its launch call */
  readonly launchIndex: number;
  readonly maxPrice?: number;
  readonly launchTime: number;
  readonly visibleAt: number;
  runningAt: number;
  state: InstanceState;
  stateReason?: string;
  endedAt?: number;
  /** when EC2 warned it of a spot interruption; it is reclaimed INTERRUPTION_NOTICE_MS later */
  warnedAt?: number;
  /** when EC2 recommended rebalancing it away (at most once) */
  rebalanceAt?: number;
  /** dollars accrued so far */
  cost: number;
  billedUntil: number;
}

export interface WorldOptions {
  readonly launchLatencyMs: readonly [number, number];
  /** background reclaim rate per spot instance-hour, on top of capacity crunches */
  readonly interruptionRatePerHour: number;
  readonly shutdownMs: number;
  /** how long ended instances stay listed */
  readonly endedListedMs: number;
}

export const DEFAULT_WORLD: WorldOptions = {
  launchLatencyMs: [20_000, 90_000],
  interruptionRatePerHour: 0.005,
  shutdownMs: 45_000,
  endedListedMs: 3600_000,
};

const STEP_MS = 60_000;
/** How long a worker on a broken image runs before it gives up and shuts down. */
const BOOT_FAILURE_MS = 90_000;
/** How far ahead a capacity drop is announced by rebalance recommendations (EC2 gives no fixed lead; 10-20 minutes is typical). */
export const REBALANCE_LEAD_MS = 15 * 60_000;

/** Why the world reclaims a spot instance. */
export type ReclaimCause = 'capacity' | 'price' | 'background';

export interface WorldEvent {
  readonly t: number;
  /**
   * launch (pending), running, the start of a shutdown (interrupted, terminated by a user,
   * self-shutdown, boot-failure), gone (the shutdown finished: terminated), and EC2's two notices.
   */
  readonly kind:
    | 'launch'
    | 'running'
    | 'interrupted'
    | 'terminated'
    | 'self-shutdown'
    | 'boot-failure'
    | 'gone'
    | 'interruption-warning'
    | 'rebalance-recommendation';
  readonly instance: SimInstance;
  /** interruption warnings: why */
  readonly cause?: ReclaimCause;
}

export class SimWorld {
  readonly subnets = new Map<string, SimSubnet>();
  readonly images = new Map<string, SimImage>();
  readonly snapshots = new Map<string, SimSnapshot>();
  readonly instances = new Map<string, SimInstance>();
  /** instances no longer listed, kept for accounting */
  readonly archive: SimInstance[] = [];
  readonly events: WorldEvent[] = [];
  private t: number;
  private subnetCount = 0;

  constructor(
    readonly market: Market,
    private readonly rng: Prng,
    start: number,
    readonly options: WorldOptions = DEFAULT_WORLD,
  ) {
    this.t = start;
  }

  get now(): number {
    return this.t;
  }

  regions(): string[] {
    return Object.keys(SIM_REGIONS);
  }

  /** The region's zones, with those that replayed price history adds. */
  azs(region: string): readonly string[] {
    const zones = SIM_REGIONS[region] ?? [];
    const recorded = zones.length > 0 ? this.market.recordedZones(region).filter((az) => !zones.includes(az)) : [];
    return recorded.length === 0 ? zones : [...zones, ...recorded].sort();
  }

  /**
   * The price above which a spot instance is interrupted (and refused at launch): its own max
   * price, or under the market's 'price' rule EC2's default, the on-demand price.
   */
  spotMaxPrice(region: string, instanceType: string, productDescription: string, maxPrice: number | undefined): number | undefined {
    return maxPrice ?? (this.market.rule === 'price' ? simOnDemandPrice(region, instanceType, productDescription) : undefined);
  }

  newId(prefix: string): string {
    let hex = '';
    while (hex.length < 17) hex += Math.floor(this.rng.next() * 16).toString(16);
    return `${prefix}-${hex}`;
  }

  addSubnet(region: string, az: string, id = this.newId('subnet'), mapPublicIp = true): SimSubnet {
    if (!this.azs(region).includes(az)) throw new Error(`simulated cloud has no zone ${az} in ${region}`);
    this.subnetCount++;
    const subnet: SimSubnet = {
      id,
      region,
      az,
      prefix: `10.${(this.subnetCount >> 8) & 255}.${this.subnetCount & 255}`,
      mapPublicIp,
      nextHost: 4,
    };
    this.subnets.set(id, subnet);
    return subnet;
  }

  /**
   * Subnets the simulation did not define (named in policies): the n-th new one of a region goes
   * to the region's n-th zone (of `zones`, by default all), so a policy's subnets spread over zones
   * as real ones would.
   */
  adoptSubnets(region: string, ids: readonly string[], zones: readonly string[] = this.azs(region)): void {
    const azs = zones.length > 0 ? zones : this.azs(region);
    let n = [...this.subnets.values()].filter((s) => s.region === region).length;
    for (const id of ids) {
      if (this.subnets.has(id)) continue;
      this.addSubnet(region, azs[n % azs.length] as string, id);
      n++;
    }
  }

  /** An image and its root snapshot, both tagged `tags` (as an image pipeline would tag them). */
  registerImage(
    region: string,
    name: string,
    created: number,
    productDescription = 'Linux/UNIX',
    id = this.newId('ami'),
    tags: Record<string, string> = {},
    ownerId = SIM_ACCOUNT,
  ): SimImage {
    const snapshot: SimSnapshot = { id: this.newId('snap'), tags: { ...tags }, deleted: false };
    this.snapshots.set(snapshot.id, snapshot);
    const image: SimImage = {
      id,
      region,
      name,
      created,
      productDescription,
      deregistered: false,
      broken: false,
      snapshotIds: [snapshot.id],
      tags: { ...tags },
      ownerId,
    };
    this.images.set(id, image);
    return image;
  }

  /** Occupied capacity of one offer: instances pending or running there. */
  usage(az: string, instanceType: string, lifecycle: Lifecycle): number {
    let n = 0;
    for (const i of this.instances.values()) {
      if (i.az === az && i.instanceType === instanceType && i.lifecycle === lifecycle && (i.state === 'pending' || i.state === 'running'))
        n++;
    }
    return n;
  }

  createInstance(
    fields: Omit<
      SimInstance,
      | 'id'
      | 'privateIp'
      | 'publicIp'
      | 'launchTime'
      | 'visibleAt'
      | 'runningAt'
      | 'state'
      | 'cost'
      | 'billedUntil'
      | 'az'
      | 'region'
      | 'launchIndex'
    > & {
      publicIp?: boolean;
      visibilityDelayMs: number;
      /** position in its launch call; 0 for an instance launched alone */
      launchIndex?: number;
    },
  ): SimInstance {
    const subnet = this.subnets.get(fields.subnetId);
    if (!subnet) throw new Error(`no subnet ${fields.subnetId}`);
    const [minLatency, maxLatency] = this.options.launchLatencyMs;
    const host = subnet.nextHost++;
    const wantsPublic = fields.publicIp ?? subnet.mapPublicIp;
    const { visibilityDelayMs, publicIp: _ignored, launchIndex = 0, ...rest } = fields;
    const instance: SimInstance = {
      ...rest,
      launchIndex,
      id: this.newId('i'),
      region: subnet.region,
      az: subnet.az,
      privateIp: `${subnet.prefix}.${(host % 250) + 4}`,
      ...(wantsPublic ? { publicIp: `54.${this.rng.int(1, 254)}.${this.rng.int(1, 254)}.${this.rng.int(1, 254)}` } : {}),
      launchTime: this.t,
      visibleAt: this.t + visibilityDelayMs,
      runningAt: this.t + this.rng.between(minLatency, maxLatency),
      state: 'pending',
      cost: 0,
      billedUntil: this.t,
    };
    this.instances.set(instance.id, instance);
    this.events.push({ t: this.t, kind: 'launch', instance });
    return instance;
  }

  /** Begin shutting an instance down at `at` (now by default); `reason` is EC2's state reason code. */
  endInstance(instance: SimInstance, reason: string, kind: WorldEvent['kind'] = 'terminated', at = this.t): void {
    if (instance.state === 'shutting-down' || instance.state === 'terminated') return;
    this.bill(instance, at);
    instance.state = 'shutting-down';
    instance.stateReason = reason;
    instance.endedAt = at;
    this.events.push({ t: at, kind, instance });
  }

  /** Move the world forward to `t`, in steps of at most a minute. */
  advanceTo(t: number): void {
    while (this.t < t) {
      const next = Math.min(t, this.t + STEP_MS);
      this.step(next);
    }
  }

  private step(next: number): void {
    const dt = next - this.t;
    for (const i of this.instances.values()) {
      if (i.state === 'pending' && i.runningAt <= next) {
        i.state = 'running';
        this.events.push({ t: i.runningAt, kind: 'running', instance: i });
      }
      if (i.state === 'running' && this.images.get(i.ami)?.broken && next - i.runningAt >= BOOT_FAILURE_MS) {
        this.endInstance(i, 'Client.InstanceInitiatedShutdown', 'boot-failure');
      }
      const reclaimAt = i.warnedAt === undefined ? undefined : i.warnedAt + INTERRUPTION_NOTICE_MS;
      if (reclaimAt !== undefined && reclaimAt <= next)
        this.endInstance(i, 'Server.SpotInstanceTermination', 'interrupted', Math.max(this.t, reclaimAt));
      if (i.state === 'shutting-down' && (i.endedAt ?? next) + this.options.shutdownMs <= next) {
        i.state = 'terminated';
        this.events.push({ t: (i.endedAt ?? next) + this.options.shutdownMs, kind: 'gone', instance: i });
      }
      if (i.state === 'pending' || i.state === 'running') this.bill(i, next);
    }
    const minuteTurned = Math.floor(next / STEP_MS) !== Math.floor(this.t / STEP_MS);
    this.t = next;
    this.reclaimSpot(dt);
    // Once a simulated minute is enough for a signal that comes a quarter of an hour ahead.
    if (minuteTurned) this.recommendRebalance();
    for (const [id, i] of this.instances) {
      if (i.state === 'terminated' && (i.endedAt ?? 0) + this.options.endedListedMs < this.t) {
        this.instances.delete(id);
        this.archive.push(i);
      }
    }
  }

  /**
   * Spot instances are reclaimed when their offer's capacity shrinks below use, when the price passes
   * their max price, and at a small background rate: each is warned first and reclaimed two minutes
   * later (step), running meanwhile, as in EC2.
   */
  private reclaimSpot(dtMs: number): void {
    const stillUp: SimInstance[] = [];
    for (const i of this.instances.values()) {
      if (i.lifecycle !== 'spot' || (i.state !== 'pending' && i.state !== 'running')) continue;
      // Already on its way out: it still holds capacity, but it is not reclaimed twice.
      if (i.warnedAt !== undefined) continue;
      const price = this.market.spotPrice(i.region, i.az, i.instanceType, i.productDescription, this.t);
      const maxPrice = this.spotMaxPrice(i.region, i.instanceType, i.productDescription, i.maxPrice);
      if (maxPrice !== undefined && price !== undefined && price > maxPrice) {
        this.warnOfInterruption(i, 'price');
        continue;
      }
      if (this.rng.chance(1 - Math.exp(-this.options.interruptionRatePerHour * (dtMs / 3600_000)))) {
        this.warnOfInterruption(i, 'background');
        continue;
      }
      stillUp.push(i);
    }
    for (const group of groupBy(stillUp, (i) => `${i.az}:${i.instanceType}`).values()) {
      const first = group[0] as SimInstance;
      const excess = group.length - this.market.capacity(first.az, first.instanceType, 'spot', this.t);
      if (excess <= 0) continue;
      // The newest go first, as a capacity pool gives back its latest grants.
      const victims = [...group].sort((a, b) => b.launchTime - a.launchTime).slice(0, excess);
      for (const v of victims) this.warnOfInterruption(v, 'capacity');
    }
  }

  private warnOfInterruption(i: SimInstance, cause: ReclaimCause): void {
    i.warnedAt = this.t;
    this.events.push({ t: this.t, kind: 'interruption-warning', instance: i, cause });
  }

  /**
   * Rebalance recommendations: where an offer's capacity (a trace known ahead) falls below its
   * use within REBALANCE_LEAD_MS, the instances that would be reclaimed (the newest, as in
   * reclaimSpot) are told once. A sudden drop (a pinned capacity) or a price or background
   * reclaim comes with no recommendation, as EC2's own are best effort.
   */
  private recommendRebalance(): void {
    const atRisk = [...this.instances.values()].filter(
      (i) => i.lifecycle === 'spot' && (i.state === 'pending' || i.state === 'running') && i.warnedAt === undefined,
    );
    for (const group of groupBy(atRisk, (i) => `${i.az}:${i.instanceType}`).values()) {
      const first = group[0] as SimInstance;
      let lowest = Infinity;
      for (let ahead = STEP_MS; ahead <= REBALANCE_LEAD_MS; ahead += STEP_MS) {
        lowest = Math.min(lowest, this.market.capacity(first.az, first.instanceType, 'spot', this.t + ahead));
      }
      const excess = group.length - lowest;
      if (excess <= 0) continue;
      const victims = [...group].sort((a, b) => b.launchTime - a.launchTime).slice(0, excess);
      for (const v of victims) {
        if (v.rebalanceAt !== undefined) continue;
        v.rebalanceAt = this.t;
        this.events.push({ t: this.t, kind: 'rebalance-recommendation', instance: v });
      }
    }
  }

  /**
   * What a spot instance pays per hour from `billedUntil`: the spot price, never above its max price
   * (EC2 charges the price in effect, capped at the max price, also while an interruption notice runs).
   */
  private spotCharge(i: SimInstance): number {
    const price = this.market.spotPrice(i.region, i.az, i.instanceType, i.productDescription, i.billedUntil) ?? 0;
    const cap = this.spotMaxPrice(i.region, i.instanceType, i.productDescription, i.maxPrice);
    return cap === undefined ? price : Math.min(price, cap);
  }

  private bill(i: SimInstance, until: number): void {
    if (until <= i.billedUntil) return;
    const price = i.lifecycle === 'spot' ? this.spotCharge(i) : (simOnDemandPrice(i.region, i.instanceType, i.productDescription) ?? 0);
    i.cost += price * ((until - i.billedUntil) / 3600_000);
    i.billedUntil = until;
  }
}
