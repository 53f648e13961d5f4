import type { PoolPolicy } from '../domain/policy.js';
import { onDemandKey } from '../domain/snapshot.js';
import type { Lifecycle, SpotPrice } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';

/** Price lookups over one snapshot. Spot prices are only ever read for the asked product description. */
export class PriceBook {
  private readonly spotPrices = new Map<string, SpotPrice>();

  constructor(
    spotPrices: readonly SpotPrice[],
    private readonly onDemandPrices: Readonly<Record<string, number>>,
  ) {
    for (const p of spotPrices) {
      const key = PriceBook.spotKey(p.region, p.az, p.instanceType, p.productDescription);
      const seen = this.spotPrices.get(key);
      if (!seen || p.timestamp > seen.timestamp) this.spotPrices.set(key, p);
    }
  }

  private static spotKey(region: string, az: string, instanceType: string, productDescription: string): string {
    return `${region}:${az}:${instanceType}:${normaliseProductDescription(productDescription)}`;
  }

  spot(region: string, az: string, instanceType: string, productDescription: string): number | undefined {
    return this.spotPrices.get(PriceBook.spotKey(region, az, instanceType, productDescription))?.price;
  }

  /** The Pricing API's figure, or the policy's own `onDemandPrice`, or undefined. */
  onDemand(policy: PoolPolicy, region: string, instanceType: string): number | undefined {
    const listed = this.onDemandPrices[onDemandKey(region, instanceType, normaliseProductDescription(policy.productDescription))];
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
