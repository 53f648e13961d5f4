import type { Logger } from 'pino';
import { classify } from '../cloud/errors.js';
import { spotPriceHistory } from '../cloud/pages.js';
import type { PriceList, RegionCompute } from '../cloud/port.js';
import type { SpotPrice } from '../domain/types.js';

const DAY_MS = 24 * 3600_000;
const PRICE_LIST_RETRY_MS = 15 * 60_000;

interface Entry<T> {
  readonly value: T;
  readonly at: number;
}

/**
 * Spot prices are asked again after `spotTtlMs` (minutes): the first time for the last `historyMs`
 * (placement weighs an offer's recent past, not only this minute's price), then only for what changed
 * since the previous answer, so a steady cycle costs one call per region. On-demand list prices once a day.
 * When a refresh fails, the previous answer is kept and the failure logged; a Price List API that
 * cannot be reached is asked again after 15 minutes, and meanwhile the policies' own
 * `onDemandPrice` figures apply.
 */
export class PriceCache {
  private readonly spotPrices = new Map<string, Entry<SpotPrice[]>>();
  private readonly listPrices = new Map<string, Entry<Record<string, number>>>();
  private readonly listFailures = new Map<string, number>();

  constructor(
    private readonly spotTtlMs: number,
    private readonly log: Logger,
  ) {}

  /** Every price in effect during the last `historyMs`, per offer oldest first. */
  async spot(
    compute: RegionCompute,
    instanceTypes: readonly string[],
    productDescription: string,
    now: number,
    historyMs = 0,
  ): Promise<SpotPrice[]> {
    const key = `${compute.region}|${productDescription}|${[...instanceTypes].sort().join(',')}`;
    const cached = this.spotPrices.get(key);
    if (cached && now - cached.at < this.spotTtlMs) return cached.value;
    try {
      const since = cached ? Math.min(cached.at, now) : now - historyMs;
      const fresh = await spotPriceHistory(compute, { instanceTypes, productDescription, since });
      const value = recentHistory([...(cached?.value ?? []), ...fresh], now - historyMs);
      this.spotPrices.set(key, { value, at: now });
      return value;
    } catch (e) {
      const error = classify(e);
      this.log.warn(
        { region: compute.region, error: error.message, code: error.code },
        'spot price history unavailable; keeping the previous prices',
      );
      return cached?.value ?? [];
    }
  }

  async onDemand(
    priceList: PriceList,
    region: string,
    instanceTypes: readonly string[],
    productDescription: string,
    now: number,
  ): Promise<Record<string, number>> {
    const key = `${region}|${productDescription}|${[...instanceTypes].sort().join(',')}`;
    const cached = this.listPrices.get(key);
    if (cached && now - cached.at < DAY_MS) return cached.value;
    const failedAt = this.listFailures.get(key);
    if (failedAt !== undefined && now - failedAt < PRICE_LIST_RETRY_MS) return cached?.value ?? {};
    try {
      const value = await priceList.onDemandPrices(region, instanceTypes, productDescription);
      this.listPrices.set(key, { value, at: now });
      this.listFailures.delete(key);
      return value;
    } catch (e) {
      const error = classify(e);
      this.listFailures.set(key, now);
      this.log.warn(
        { region, error: error.message, code: error.code },
        'on-demand prices unavailable from the Price List API; using policy onDemandPrice where set',
      );
      return cached?.value ?? {};
    }
  }
}

/**
 * The prices of each offer from `from` on, plus the one in effect at `from`, oldest first, each
 * change once (a later answer repeats the price in effect at its start time).
 */
export function recentHistory(prices: readonly SpotPrice[], from: number): SpotPrice[] {
  const byOffer = new Map<string, Map<number, SpotPrice>>();
  for (const p of prices) {
    const offer = `${p.region}|${p.az}|${p.instanceType}|${p.productDescription}`;
    const points = byOffer.get(offer) ?? new Map<number, SpotPrice>();
    points.set(p.timestamp, p);
    byOffer.set(offer, points);
  }
  const out: SpotPrice[] = [];
  for (const points of byOffer.values()) {
    const sorted = [...points.values()].sort((a, b) => a.timestamp - b.timestamp);
    const inEffect = sorted.findLastIndex((p) => p.timestamp <= from);
    out.push(...sorted.slice(Math.max(0, inEffect)));
  }
  return out;
}
