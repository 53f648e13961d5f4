import type { PoolPolicy } from '../domain/policy.js';
import { keepShape } from '../domain/shapes.js';
import { onDemandKey } from '../domain/snapshot.js';
import type { Lifecycle, SpotPrice } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';

/** One offer's spot market in a snapshot: its prices, and the spikes asked of it so far. */
interface SpotMarket {
  /** oldest first */
  readonly points: SpotPrice[];
  /** spotSpikes' answers: cap → those asked over [from, to] (few: one per horizon) */
  readonly spikes: Map<number, { from: number; to: number; starts: number[] }[]>;
}

/** Nested maps, one level per part of a key: a lookup by parts the caller already holds makes no joined string. */
type ByParts<T> = Map<string, Map<string, Map<string, Map<string, T>>>>;

/**
 * Price lookups over one snapshot. Spot prices are only ever read for the asked product description.
 * Every offer of every pool asks, so answers are found through the parts of the key (region, zone,
 * type, description) once first asked, rather than by a string joined for every ask.
 */
export class PriceBook {
  /** by spotKey() */
  private readonly markets = new Map<string, SpotMarket>();
  private readonly marketByParts: ByParts<SpotMarket | undefined> = new Map();
  /** region → type → description (as asked) → the Pricing API's figure */
  private readonly onDemandByParts = new Map<string, Map<string, Map<string, number | undefined>>>();
  /** product description as asked → as EC2 names it; a handful per snapshot, asked for on every lookup */
  private readonly descriptions = new Map<string, string>();

  constructor(
    spotPrices: readonly SpotPrice[],
    private readonly onDemandPrices: Readonly<Record<string, number>>,
  ) {
    for (const p of spotPrices) {
      const key = this.spotKey(p.region, p.az, p.instanceType, p.productDescription);
      const market = this.markets.get(key);
      if (market) market.points.push(p);
      else this.markets.set(key, { points: [p], spikes: new Map() });
    }
    for (const { points } of this.markets.values()) points.sort(oldestFirst);
  }

  private market(region: string, az: string, instanceType: string, productDescription: string): SpotMarket | undefined {
    const byDescription = child(child(child(this.marketByParts, region), az), instanceType);
    if (byDescription.has(productDescription)) return byDescription.get(productDescription);
    const market = this.markets.get(this.spotKey(region, az, instanceType, productDescription));
    byDescription.set(productDescription, market);
    return market;
  }

  private spotKey(region: string, az: string, instanceType: string, productDescription: string): string {
    return `${region}:${az}:${instanceType}:${this.normalised(productDescription)}`;
  }

  private normalised(productDescription: string): string {
    let known = this.descriptions.get(productDescription);
    if (known === undefined) {
      known = normaliseProductDescription(productDescription);
      this.descriptions.set(productDescription, known);
    }
    return known;
  }

  /** The latest spot price. */
  spot(region: string, az: string, instanceType: string, productDescription: string): number | undefined {
    return this.market(region, az, instanceType, productDescription)?.points.at(-1)?.price;
  }

  /**
   * When the offer's price rose above `cap` (where an instance is interrupted, or refused) during
   * [from, to]: the start of each run of prices above it.
   */
  spotSpikes(
    region: string,
    az: string,
    instanceType: string,
    productDescription: string,
    from: number,
    to: number,
    cap: number,
  ): number[] {
    const market = this.market(region, az, instanceType, productDescription);
    if (market === undefined) return [];
    // Keyed by the cap itself, a number: no string made of a float for every ask.
    let asked = market.spikes.get(cap);
    if (asked === undefined) {
      asked = [];
      market.spikes.set(cap, asked);
    }
    for (const known of asked) if (known.from === from && known.to === to) return known.starts;
    const points = market.points;
    const starts: number[] = [];
    for (let n = 0; n < points.length; n++) {
      const p = points[n] as SpotPrice;
      const end = points[n + 1]?.timestamp ?? to;
      const above = p.price > cap;
      const wasAbove = n > 0 && (points[n - 1] as SpotPrice).price > cap;
      if (above && !wasAbove && end > from && p.timestamp <= to) starts.push(Math.max(p.timestamp, from));
    }
    asked.push({ from, to, starts });
    return starts;
  }

  /**
   * The offer's price over [from, to], weighted by how long each price held, each capped at `cap`
   * (above it an instance is interrupted, not billed); the latest price when none held for a while.
   */
  spotMean(
    region: string,
    az: string,
    instanceType: string,
    productDescription: string,
    from: number,
    to: number,
    cap: number,
  ): number | undefined {
    const points = this.market(region, az, instanceType, productDescription)?.points;
    if (points === undefined || points.length === 0) return undefined;
    let sum = 0;
    let span = 0;
    for (let n = 0; n < points.length; n++) {
      const p = points[n] as SpotPrice;
      const start = Math.max(p.timestamp, from);
      const end = Math.min(points[n + 1]?.timestamp ?? to, to);
      if (end <= start) continue;
      sum += Math.min(p.price, cap) * (end - start);
      span += end - start;
    }
    return span > 0 ? sum / span : Math.min((points.at(-1) as SpotPrice).price, cap);
  }

  /** The Pricing API's figure, or the policy's own `onDemandPrice`, or undefined. */
  onDemand(policy: PoolPolicy, region: string, instanceType: string): number | undefined {
    const byDescription = child(child(this.onDemandByParts, region), instanceType);
    let listed = byDescription.get(policy.productDescription);
    if (listed === undefined && !byDescription.has(policy.productDescription)) {
      listed = this.onDemandPrices[onDemandKey(region, instanceType, this.normalised(policy.productDescription))];
      byDescription.set(policy.productDescription, listed);
    }
    return listed ?? policy.onDemandPrice;
  }

  price(policy: PoolPolicy, lifecycle: Lifecycle, region: string, az: string, instanceType: string): number | undefined {
    return lifecycle === 'spot'
      ? this.spot(region, az, instanceType, policy.productDescription)
      : this.onDemand(policy, region, instanceType);
  }
}

/**
 * The most fleet will pay for spot in this region and type: undefined means no cap of our own
 * (EC2 then caps at the on-demand price); null means the policy's cap cannot be evaluated.
 */
export function spotPriceCap(policy: PoolPolicy, onDemandPrice: number | undefined): number | undefined | null {
  const max = policy.spot.maxPrice;
  if (max.kind === 'dollars') return max.value;
  if (onDemandPrice !== undefined) return (max.value / 100) * onDemandPrice;
  return max.value >= 100 ? undefined : null;
}

const oldestFirst = (a: SpotPrice, b: SpotPrice) => a.timestamp - b.timestamp;

keepShape(new PriceBook([], {}));

/** The map under `key`, made when first asked for. */
function child<T>(parent: Map<string, Map<string, T>>, key: string): Map<string, T> {
  let map = parent.get(key);
  if (map === undefined) {
    map = new Map();
    parent.set(key, map);
  }
  return map;
}
