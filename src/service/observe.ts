import type { Logger } from 'pino';
import type { Cloud } from '../cloud/port.js';
import type { FleetConfig } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import type { PoolPolicy } from '../domain/policy.js';
import { type Snapshot, onDemandKey } from '../domain/snapshot.js';
import type { Image, Instance, SpotPrice, Subnet } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';
import { type SettledLaunches, settlePendingLaunches } from '../policy/pending-launches.js';
import type { CapacityMemory } from './capacity-memory.js';
import type { InputReader, InputSource } from './inputs.js';
import type { PriceCache } from './price-cache.js';
import { type DrainedDoc, DRAINED_DOC, EMPTY_RECONCILER_DOC, RECONCILER_DOC, type ReconcilerDoc } from './state-docs.js';
import type { StateStore } from './state-store.js';

export interface Observation {
  readonly snapshot: Snapshot;
  readonly reconciler: { readonly doc: ReconcilerDoc; readonly etag: string | undefined };
  readonly settled: SettledLaunches;
  readonly inputs: { readonly desired: InputSource; readonly manifest: InputSource };
}

export interface ObserverDeps {
  readonly config: FleetConfig;
  readonly policies: readonly PoolPolicy[];
  readonly cloud: Cloud;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly prices: PriceCache;
  readonly capacity: CapacityMemory;
  readonly desired: InputReader<Record<string, number>>;
  readonly manifest: InputReader<Image[]>;
}

const MISSING_SUBNET_RETRY_MS = 10 * 60_000;

/** Gathers one immutable snapshot per cycle. All of a cycle's reads happen here. */
export class Observer {
  private readonly subnets = new Map<string, Subnet>();
  private readonly missingSubnets = new Map<string, number>();
  private readonly interruptionsSeen = new Set<string>();

  constructor(private readonly deps: ObserverDeps) {}

  async observe(): Promise<Observation> {
    const { config, state, clock } = this.deps;
    const now = clock.now();
    const [desired, manifest, drained, reconciler, regional] = await Promise.all([
      this.deps.desired.read(),
      this.deps.manifest.read(),
      state.read<DrainedDoc>(DRAINED_DOC),
      state.read<ReconcilerDoc>(RECONCILER_DOC),
      Promise.all(config.regions.map((region) => this.observeRegion(region, now))),
    ]);
    const instances = regional.flatMap((r) => r.instances);
    this.rememberInterruptions(instances, now);
    const doc = { ...EMPTY_RECONCILER_DOC, ...reconciler?.doc };
    const settled = settlePendingLaunches(doc.pendingLaunches, instances, now, config.visibilityTimeout * 1000);
    for (const launch of settled.expired) {
      this.deps.log.warn({ pool: launch.pool, name: launch.name, instance: launch.instanceId, region: launch.region }, 'launch never became visible; giving up on it');
    }
    const snapshot: Snapshot = {
      now,
      regions: config.regions,
      desired: desired.value,
      images: manifest.value,
      drained: new Set(Object.keys(drained?.doc.amis ?? {})),
      instances,
      pendingLaunches: settled.pending,
      subnets: Object.fromEntries([...this.subnets].map(([id, s]) => [id, s])),
      spotPrices: regional.flatMap((r) => r.spotPrices),
      onDemandPrices: Object.assign({}, ...regional.map((r) => r.onDemandPrices)) as Record<string, number>,
      unavailable: this.deps.capacity.active(now),
      timers: doc.timers,
      terminatedByFleet: new Set(Object.keys(doc.terminated)),
    };
    return { snapshot, reconciler: { doc, etag: reconciler?.etag }, settled, inputs: { desired: desired.source, manifest: manifest.source } };
  }

  private async observeRegion(region: string, now: number) {
    const { cloud, policies, prices } = this.deps;
    const compute = cloud.compute(region);
    const here = policies.filter((p) => p.regions[region]);
    // Listing instances must succeed: planning on a partial view would over-launch.
    const [instances] = await Promise.all([compute.listInstances(this.deps.config.fleet), this.learnSubnets(region, here, now)]);
    const spotPrices: SpotPrice[] = [];
    const onDemandPrices: Record<string, number> = {};
    for (const [productDescription, types] of typesByProduct(here)) {
      const [spot, listed] = await Promise.all([
        prices.spot(compute, types, productDescription, now),
        prices.onDemand(cloud.priceList, region, types, productDescription, now),
      ]);
      spotPrices.push(...spot);
      for (const [type, price] of Object.entries(listed)) onDemandPrices[onDemandKey(region, type, productDescription)] = price;
    }
    return { instances, spotPrices, onDemandPrices };
  }

  /** Subnets never change zone: each is described once, a missing one again after a while. */
  private async learnSubnets(region: string, policies: readonly PoolPolicy[], now: number): Promise<void> {
    const wanted = new Set(policies.flatMap((p) => p.regions[region]?.subnets ?? []));
    const unknown = [...wanted].filter((id) => !this.subnets.has(id) && now - (this.missingSubnets.get(id) ?? -Infinity) >= MISSING_SUBNET_RETRY_MS);
    if (unknown.length === 0) return;
    const found = await this.deps.cloud.compute(region).describeSubnets(unknown);
    for (const subnet of found) this.subnets.set(subnet.id, subnet);
    for (const id of unknown) {
      if (this.subnets.has(id)) continue;
      this.missingSubnets.set(id, now);
      this.deps.log.warn({ region, subnet: id }, 'subnet named in a policy does not exist; its offers are skipped');
    }
  }

  /** An interrupted spot instance's offer counts as a capacity failure. */
  private rememberInterruptions(instances: readonly Instance[], now: number): void {
    for (const i of instances) {
      if (i.endCause !== 'spot-interruption' || this.interruptionsSeen.has(i.id)) continue;
      this.interruptionsSeen.add(i.id);
      this.deps.capacity.markUnavailable(i, now);
      this.deps.log.info({ pool: i.pool, instance: i.id, name: i.name, az: i.az, instanceType: i.instanceType }, 'spot interruption; offer kept out of placement for a while');
    }
  }
}

function typesByProduct(policies: readonly PoolPolicy[]): Map<string, string[]> {
  const out = new Map<string, Set<string>>();
  for (const p of policies) {
    const pd = normaliseProductDescription(p.productDescription);
    const set = out.get(pd) ?? new Set<string>();
    for (const t of p.instanceTypes) set.add(t.type);
    out.set(pd, set);
  }
  return new Map([...out].map(([pd, set]) => [pd, [...set].sort()]));
}
