// The pools the cost replay runs on, and how often their cheapest offer changes: a pool is a set of
// instance types (weight 1 each: every instance is one worker) in every zone the recording has
// them. Candidates from the 2016 set: each type recorded in two zones or more, and each group of
// types with the same vCPU count (a CI job runs on any of them).

import { simOnDemandPrice } from '../../src/fake-cloud/catalog.js';
import { PriceTrace } from '../../src/fake-cloud/price-traces.js';
import type { PriceRecording } from '../../src/fake-cloud/price-recording.js';

export const REGION = 'us-east-1';
export const PRODUCT = 'Linux/UNIX';
const STEP_MS = 60_000;

export interface PoolSpec {
  readonly name: string;
  readonly types: readonly string[];
  /** the recording narrowed to this pool's offers */
  readonly recording: PriceRecording;
}

export interface Offer {
  readonly az: string;
  readonly instanceType: string;
  /** EC2's default max price, and the on-demand price of the type */
  readonly onDemand: number;
}

export function poolOffers(pool: PoolSpec): Offer[] {
  return pool.recording
    .offers()
    .filter((o) => o.region === REGION && o.productDescription === PRODUCT)
    .map((o) => ({ az: o.az, instanceType: o.instanceType, onDemand: simOnDemandPrice(REGION, o.instanceType, PRODUCT) as number }));
}

export function poolOf(name: string, types: readonly string[], recording: PriceRecording): PoolSpec {
  return {
    name,
    types,
    recording: recording.subset((o) => o.region === REGION && o.productDescription === PRODUCT && types.includes(o.instanceType)),
  };
}

/** Single types recorded in two zones or more, and groups of types with as many vCPUs. */
export function candidatePools(recording: PriceRecording, vcpusOf: (type: string) => number | undefined): PoolSpec[] {
  const types = recording.instanceTypes(REGION).filter((t) => simOnDemandPrice(REGION, t, PRODUCT) !== undefined);
  const zonesOf = (type: string) =>
    new Set(
      recording
        .offers()
        .filter((o) => o.instanceType === type && o.productDescription === PRODUCT)
        .map((o) => o.az),
    );
  const singles = types.filter((t) => zonesOf(t).size >= 2).map((t) => poolOf(t, [t], recording));
  const byVcpus = new Map<number, string[]>();
  for (const t of types) {
    const vcpus = vcpusOf(t);
    if (vcpus !== undefined) byVcpus.set(vcpus, [...(byVcpus.get(vcpus) ?? []), t]);
  }
  const groups = [...byVcpus]
    .filter(([, list]) => list.length >= 2)
    .sort(([a], [b]) => a - b)
    .map(([vcpus, list]) => poolOf(`${vcpus}-vcpu`, list, recording));
  return [...singles, ...groups];
}

export interface CheapestChanges {
  /** how many times the cheapest spot offer changed */
  readonly changes: number;
  /** the offers that were cheapest at some minute ("type az") */
  readonly leaders: readonly string[];
}

/** How often the cheapest spot offer (type and zone) changes within [start, end), minute by minute. */
export function cheapestChanges(pool: PoolSpec, start: number, end: number): CheapestChanges {
  const offers = poolOffers(pool);
  const traces = offers.map((o) => new PriceTrace(pool.recording.points(REGION, o.az, o.instanceType, PRODUCT) ?? []));
  const leaders = new Set<number>();
  let last = -1;
  let changes = 0;
  for (let t = start; t < end; t += STEP_MS) {
    let best = -1;
    let bestPrice = Number.POSITIVE_INFINITY;
    traces.forEach((trace, n) => {
      const price = trace.priceAt(t);
      if (price < bestPrice) [best, bestPrice] = [n, price];
    });
    if (last >= 0 && best !== last) changes++;
    last = best;
    leaders.add(best);
  }
  return { changes, leaders: [...leaders].map((n) => `${offers[n]?.instanceType} ${offers[n]?.az}`).sort() };
}
