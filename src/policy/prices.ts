import type { PoolPolicy } from '../domain/policy.js';
import { onDemandKey } from '../domain/snapshot.js';
import type { Lifecycle, SpotPrice } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';

/** One offer's spot market in a snapshot: its prices, and the spikes asked of it so far. */
interface SpotMarket {
  /** oldest first */
  readonly points: SpotPrice[];
  /** spotSpikes' answers by `spikesKey` (few: one per horizon and cap) */
  readonly spikes: Map<string, number[]>;
}

/** Price lookups over one snapshot. Spot prices are only ever read for the asked product description. */
export class PriceBook {
  /** by spotKey() */
  private readonly markets = new Map<string, SpotMarket>();

  constructor(
    spotPrices: readonly SpotPrice[],
    private readonly onDemandPrices: Readonly<Record<string, number>>,
  ) {
    for (const p of spotPrices) {
      const key = spotKey(p.region, p.az, p.instanceType, p.productDescription);
      const market = this.markets.get(key);
      if (market) market.points.push(p);
      else this.markets.set(key, { points: [p], spikes: new Map() });
    }
    for (const { points } of this.markets.values()) points.sort(oldestFirst);
  }

  /** The latest spot price. */
  spot(region: string, az: string, instanceType: string, productDescription: string): number | undefined {
    return this.markets.get(spotKey(region, az, instanceType, productDescription))?.points.at(-1)?.price;
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
    const market = this.markets.get(spotKey(region, az, instanceType, productDescription));
    if (market === undefined) return [];
    // Every pool with this offer asks the same: answered once.
    const key = `${from} ${to} ${cap}`;
    let starts = market.spikes.get(key);
    if (starts === undefined) {
      starts = spikeStarts(market.points, from, to, cap);
      market.spikes.set(key, starts);
    }
    return starts;
  }

  /** The Pricing API's figure, or the policy's own `onDemandPrice`, or undefined. */
  onDemand(policy: PoolPolicy, region: string, instanceType: string): number | undefined {
    const key = onDemandKey(region, instanceType, normaliseProductDescription(policy.productDescription));
    return this.onDemandPrices[key] ?? policy.onDemandPrice;
  }

  price(policy: PoolPolicy, lifecycle: Lifecycle, region: string, az: string, instanceType: string): number | undefined {
    return lifecycle === 'spot'
      ? this.spot(region, az, instanceType, policy.productDescription)
      : this.onDemand(policy, region, instanceType);
  }
}

function spotKey(region: string, az: string, instanceType: string, productDescription: string): string {
  return `${region}:${az}:${instanceType}:${normaliseProductDescription(productDescription)}`;
}

/** The start of each run of `points` (oldest first) above `cap` that overlaps [from, to]. */
function spikeStarts(points: readonly SpotPrice[], from: number, to: number, cap: number): number[] {
  const starts: number[] = [];
  for (let n = 0; n < points.length; n++) {
    const p = points[n] as SpotPrice;
    const end = points[n + 1]?.timestamp ?? to;
    const above = p.price > cap;
    const wasAbove = n > 0 && (points[n - 1] as SpotPrice).price > cap;
    if (above && !wasAbove && end > from && p.timestamp <= to) starts.push(Math.max(p.timestamp, from));
  }
  return starts;
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
