import type { PoolPolicy } from '../domain/policy.js';
import { onDemandKey } from '../domain/snapshot.js';
import type { Lifecycle, SpotPrice } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';

/** Price lookups over one snapshot. Spot prices are only ever read for the asked product description. */
export class PriceBook {
  /** per offer, oldest first */
  private readonly spotHistory = new Map<string, SpotPrice[]>();
  /** spotSpikes' answers: offer → cap → those asked over [from, to] (few: one per horizon) */
  private readonly spikes = new Map<string, Map<number, { from: number; to: number; starts: number[] }[]>>();
  /** product description as asked → as EC2 names it; a handful per snapshot, asked for on every lookup */
  private readonly descriptions = new Map<string, string>();

  constructor(
    spotPrices: readonly SpotPrice[],
    private readonly onDemandPrices: Readonly<Record<string, number>>,
  ) {
    for (const p of spotPrices) {
      const key = this.spotKey(p.region, p.az, p.instanceType, p.productDescription);
      const points = this.spotHistory.get(key);
      if (points) points.push(p);
      else this.spotHistory.set(key, [p]);
    }
    for (const points of this.spotHistory.values()) points.sort((a, b) => a.timestamp - b.timestamp);
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
    return this.spotHistory.get(this.spotKey(region, az, instanceType, productDescription))?.at(-1)?.price;
  }

  /**
   * When the offer's price rose above `cap` (where an instance is interrupted, or refused) during
   * [from, to]: the start of each run of prices above it.
   */
  spotSpikes(region: string, az: string, instanceType: string, productDescription: string, from: number, to: number, cap: number): number[] {
    const key = this.spotKey(region, az, instanceType, productDescription);
    // Keyed by the cap itself, a number: no string made of a float for every ask.
    let byCap = this.spikes.get(key);
    if (byCap === undefined) {
      byCap = new Map();
      this.spikes.set(key, byCap);
    }
    let asked = byCap.get(cap);
    if (asked === undefined) {
      asked = [];
      byCap.set(cap, asked);
    }
    const known = asked.find((a) => a.from === from && a.to === to);
    if (known) return known.starts;
    const points = this.spotHistory.get(key) ?? [];
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

  /** The Pricing API's figure, or the policy's own `onDemandPrice`, or undefined. */
  onDemand(policy: PoolPolicy, region: string, instanceType: string): number | undefined {
    const listed = this.onDemandPrices[onDemandKey(region, instanceType, this.normalised(policy.productDescription))];
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
