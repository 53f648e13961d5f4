import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import type { Cloud } from '../cloud/port.js';
import { listInstances } from '../cloud/pages.js';
import type { FleetConfig } from '../config/config.js';
import type { Clock } from '../domain/clock.js';
import type { PoolPolicy } from '../domain/policy.js';
import { type Snapshot, onDemandKey } from '../domain/snapshot.js';
import type { Image, Instance, SpotPrice, Subnet } from '../domain/types.js';
import { normaliseProductDescription, offerKey } from '../domain/types.js';
import { type EventFacts, NO_EVENT_FACTS } from '../domain/events.js';
import type { CapacityMemory } from './capacity-memory.js';
import { MAX_EVENT_SKEW_MS } from '../events/parse.js';
import { ImageOwnership } from './image-owners.js';
import type { DesiredInput, InputReader, InputSource } from '../shared/inputs.js';
import type { PoolDemand } from '../domain/demand.js';
import type { QueueFacts } from '../policy/estimator.js';
import { Journal } from './journal.js';
import type { PriceCache } from './price-cache.js';
import { readDrained } from '../shared/worker-docs.js';
import type { StateStore } from '../shared/state-store.js';

export interface Observation {
  readonly snapshot: Snapshot;
  /** the journal as read this cycle, settled against the listing */
  readonly journal: Journal;
  /** instance id → when fleet first saw it ended (for ends the cloud does not date), to keep */
  readonly endsSeen: Readonly<Record<string, number>>;
  readonly inputs: { readonly desired: InputSource; readonly manifest: InputSource };
  /** why a fresh copy of an input could not be used, when it could not */
  readonly inputProblems?: { readonly desired?: string; readonly manifest?: string };
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
  readonly desired: InputReader<DesiredInput>;
  readonly manifest: InputReader<Image[]>;
  /** EC2's events (events.queue), when configured: what they said about which instance */
  readonly events?: { readFacts(): Promise<EventFacts> };
  /** the sources of demand the policies name (demand.source): their pools' queue facts */
  readonly demand?: { readonly pools: ReadonlySet<string>; read(): Promise<Record<string, QueueFacts>> };
  /** how long (ms) an offer whose instance was warned of an interruption stays out of placement */
  readonly capacityTtlMs: number;
}

const MISSING_SUBNET_RETRY_MS = 10 * 60_000;

/** Gathers one immutable snapshot per cycle. All of a cycle's reads happen here. */
export class Observer {
  private readonly subnets = new Map<string, Subnet>();
  private readonly missingSubnets = new Map<string, number>();
  /** interrupted instances already reported, pruned to those the cloud still lists */
  private interruptionsSeen = new Set<string>();
  private readonly ownership: ImageOwnership;

  constructor(private readonly deps: ObserverDeps) {
    this.ownership = new ImageOwnership(deps.config.imageOwners, deps.cloud, deps.log);
  }

  async observe(): Promise<Observation> {
    const { config, state, clock, log } = this.deps;
    const now = clock.now();
    const [desired, manifest, drained, journal, regional, events, sourced] = await Promise.all([
      this.deps.desired.read(),
      this.deps.manifest.read(),
      readDrained(state),
      Journal.open(state),
      Promise.all(config.regions.map((region) => this.observeRegion(region, now))),
      this.deps.events?.readFacts() ?? Promise.resolve(NO_EVENT_FACTS),
      this.deps.demand?.read() ?? Promise.resolve({}),
    ]);
    const unobserved = regional.filter((r) => r.failed).map((r) => r.region);
    // Planning on a partial view would over-launch: a region that cannot be listed freezes its pools.
    if (unobserved.length === config.regions.length) throw (regional[0] as { error: unknown }).error;
    const listed = applyStateEvents(
      regional.flatMap((r) => r.instances),
      events.states,
      now,
    );
    const { instances, endsSeen } = dateEnds(listed, journal.document.endsSeen, now);
    this.rememberInterruptions(instances, now, events.warned);
    const settled = journal.settle(instances, now, config.visibilityTimeout * 1000, new Set(unobserved));
    for (const sent of settled.expired) {
      log.warn(
        { pool: sent.request.pool, names: sent.request.slots.map((s) => s.name), instances: sent.instanceIds, region: sent.request.region },
        'launch never became visible; giving up on it',
      );
    }
    const doc = journal.document;
    const owned = await this.ownership.filter(
      manifest.value,
      config.regions.filter((r) => !unobserved.includes(r)),
    );
    const snapshot: Snapshot = {
      now,
      regions: config.regions,
      ...(unobserved.length > 0 ? { unobservedRegions: unobserved } : {}),
      ...withSources(desired.value, this.deps.demand?.pools, sourced),
      images: owned.images,
      ...(owned.unusable.length > 0 ? { unusableImages: owned.unusable } : {}),
      drained: new Set(Object.keys(drained?.doc.amis ?? {})),
      guardDrained: new Set(Object.entries(drained?.doc.amis ?? {}).flatMap(([ami, mark]) => (mark.by === 'guard' ? [ami] : []))),
      undrainedAt: drained?.doc.undrained ?? {},
      instances,
      pendingLaunches: settled.pending,
      subnets: Object.fromEntries([...this.subnets].map(([id, s]) => [id, s])),
      spotPrices: regional.flatMap((r) => r.spotPrices),
      onDemandPrices: Object.assign({}, ...regional.map((r) => r.onDemandPrices)) as Record<string, number>,
      unavailable: withWarnedOffers(this.deps.capacity.active(now), instances, events.warned, now, this.deps.capacityTtlMs),
      interruptions: this.deps.capacity.interruptions(now),
      timers: doc.timers,
      terminatedByFleet: new Set(Object.keys(doc.terminated)),
      established: doc.established,
      events: { warned: events.warned, rebalance: events.rebalance },
      trials: doc.trials,
    };
    const inputProblems = {
      ...(desired.problem ? { desired: desired.problem } : {}),
      ...(manifest.problem ? { manifest: manifest.problem } : {}),
    };
    return { snapshot, journal, endsSeen, inputs: { desired: desired.source, manifest: manifest.source }, inputProblems };
  }

  private async observeRegion(region: string, now: number): Promise<RegionView> {
    const { cloud, policies, prices } = this.deps;
    const compute = cloud.compute(region);
    const here = policies.filter((p) => p.regions[region]);
    let instances: Instance[];
    try {
      [instances] = await Promise.all([listInstances(compute, this.deps.config.fleet), this.learnSubnets(region, here, now)]);
    } catch (e) {
      const error = classify(e);
      this.deps.log.error(
        { region, code: error.code, error: error.message },
        'region could not be listed; its pools change nothing this cycle',
      );
      return { region, failed: true, error, instances: [], spotPrices: [], onDemandPrices: {} };
    }
    const spotPrices: SpotPrice[] = [];
    const onDemandPrices: Record<string, number> = {};
    // Placement weighs each offer's prices over the policies' rebalance horizon.
    const historyMs = Math.max(0, ...here.map((p) => p.rebalance.horizon)) * 1000;
    for (const [productDescription, types] of typesByProduct(here)) {
      const [spot, listed] = await Promise.all([
        prices.spot(compute, types, productDescription, now, historyMs),
        prices.onDemand(cloud.priceList, region, types, productDescription, now),
      ]);
      spotPrices.push(...spot);
      for (const [type, price] of Object.entries(listed)) onDemandPrices[onDemandKey(region, type, productDescription)] = price;
    }
    return { region, failed: false, instances, spotPrices, onDemandPrices };
  }

  /** Subnets never change zone: each is described once, a missing one again after a while. */
  private async learnSubnets(region: string, policies: readonly PoolPolicy[], now: number): Promise<void> {
    const wanted = new Set(policies.flatMap((p) => p.regions[region]?.subnets ?? []));
    const unknown = [...wanted].filter(
      (id) => !this.subnets.has(id) && now - (this.missingSubnets.get(id) ?? -Infinity) >= MISSING_SUBNET_RETRY_MS,
    );
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
  private rememberInterruptions(instances: readonly Instance[], now: number, warned: EventFacts['warned']): void {
    const seen = new Set<string>();
    for (const i of instances) {
      const warning = warned[i.id];
      if (warning && i.lifecycle === 'spot') this.deps.capacity.recordInterruption(i, warning.at);
      if (i.endCause !== 'spot-interruption') continue;
      seen.add(i.id);
      if (this.interruptionsSeen.has(i.id)) continue;
      this.deps.capacity.markUnavailable(i, now);
      this.deps.capacity.recordInterruption(i, i.endedAt ?? now);
      this.deps.log.info(
        { pool: i.pool, instance: i.id, name: i.name, az: i.az, instanceType: i.instanceType },
        'spot interruption; offer kept out of placement for a while',
      );
    }
    // Only what the cloud still lists is remembered: the set never outgrows the listing.
    this.interruptionsSeen = seen;
  }
}

interface RegionView {
  readonly region: string;
  readonly failed: boolean;
  readonly error?: unknown;
  readonly instances: readonly Instance[];
  readonly spotPrices: readonly SpotPrice[];
  readonly onDemandPrices: Readonly<Record<string, number>>;
}

const ENDED = new Set(['shutting-down', 'terminated', 'stopping', 'stopped']);

/**
 * How long the listing may lag an end EC2 announced. Past this, a listing that still shows the
 * instance live wins: a wrong or forged event must not hide a running worker (and launch a second
 * one under its name) for longer than this.
 */
export const LISTING_LAG_MS = 3 * 60_000;

/**
 * A state-change event is a faster view of an end than the listing: an instance the listing still
 * shows live that EC2 said has ended is taken as ended, at the time EC2 said, for LISTING_LAG_MS;
 * an end the listing does not date gets the event's time. A fact dated after `now` is ignored.
 */
export function applyStateEvents(instances: readonly Instance[], states: EventFacts['states'], now: number): Instance[] {
  return instances.map((i) => {
    const fact = states[i.id];
    if (!fact || !ENDED.has(fact.state) || fact.at > now + MAX_EVENT_SKEW_MS) return i;
    if (!ENDED.has(i.state) && now > fact.at + LISTING_LAG_MS) return i;
    if (ENDED.has(i.state)) return i.endedAt === undefined ? { ...i, endedAt: fact.at } : i;
    return { ...i, state: fact.state, endedAt: fact.at };
  });
}

/**
 * An offer whose instance EC2 warned of an interruption is kept out of placement like one that
 * refused capacity, from the warning on: its replacement goes elsewhere.
 */
export function withWarnedOffers(
  unavailable: Readonly<Record<string, number>>,
  instances: readonly Instance[],
  warned: EventFacts['warned'],
  now: number,
  ttlMs: number,
): Record<string, number> {
  const out: Record<string, number> = { ...unavailable };
  for (const i of instances) {
    const fact = warned[i.id];
    if (!fact || i.lifecycle !== 'spot' || fact.at + ttlMs <= now) continue;
    const key = offerKey(i);
    out[key] = Math.max(out[key] ?? 0, fact.at + ttlMs);
  }
  return out;
}

/**
 * Every ended instance gets an end time: the cloud's own when it gives one, otherwise when fleet
 * first saw it ended (remembered in the journal while the cloud lists the instance), so the launch
 * guard's window slides instead of counting an end for as long as it is listed.
 */
export function dateEnds(
  instances: readonly Instance[],
  remembered: Readonly<Record<string, number>>,
  now: number,
): { instances: Instance[]; endsSeen: Record<string, number> } {
  const endsSeen: Record<string, number> = {};
  const dated = instances.map((i) => {
    if (!ENDED.has(i.state) || i.endedAt !== undefined) return i;
    const seen = remembered[i.id] ?? now;
    endsSeen[i.id] = seen;
    return { ...i, endedAt: seen };
  });
  return { instances: dated, endsSeen };
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

/**
 * The desired document's counts and demand, with the queue facts of pools a source serves in place
 * of what the document says of them (its `busy` names stay). A served pool the source has never
 * answered for has no entry: the planner holds what it held.
 */
function withSources(
  doc: DesiredInput | undefined,
  served: ReadonlySet<string> | undefined,
  sourced: Record<string, QueueFacts>,
): Pick<Snapshot, 'desired' | 'demand'> {
  if (doc === undefined) return { desired: undefined };
  if (served === undefined || served.size === 0) return { desired: doc.counts, demand: doc.demand };
  const counts: Record<string, number> = { ...doc.counts };
  const demand: Record<string, PoolDemand> = { ...doc.demand };
  for (const pool of served) {
    const busy = doc.demand[pool]?.busy;
    delete counts[pool];
    delete demand[pool];
    const facts = sourced[pool];
    if (facts) demand[pool] = { ...facts, ...(busy ? { busy } : {}) };
    else if (busy) demand[pool] = { busy };
  }
  return { desired: counts, demand };
}
