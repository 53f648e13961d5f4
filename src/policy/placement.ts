import type { PoolPolicy } from '../domain/policy.js';
import type { Image, Lifecycle, Offer, Subnet } from '../domain/types.js';
import { offerKey } from '../domain/types.js';
import { type PriceBook, spotPriceCap } from './prices.js';

export interface PlacementInput {
  readonly policy: PoolPolicy;
  /** Regions this fleet manages; a policy's other regions are ignored. */
  readonly regions: readonly string[];
  readonly subnets: Readonly<Record<string, Subnet>>;
  readonly prices: PriceBook;
  readonly unavailable: Readonly<Record<string, number>>;
  /** offerKey() → when its instances were interrupted lately (episodes) */
  readonly interruptions?: Readonly<Record<string, readonly number[]>>;
  readonly now: number;
}

/**
 * What an interruption costs, in hours of the instance's price: the work it was doing and the
 * replacement's boot. An offer interrupted once in a 6-hour horizon costs 1/12 more than its price.
 */
const INTERRUPTION_COST_HOURS = 0.5;

export interface Candidate extends Offer {
  readonly ami: string;
  /** price divided by weight */
  readonly unitPrice?: number;
  /**
   * what placement compares: the price per unit of weight expected over the rebalance horizon, from
   * the offer's recent prices and interruptions (`offerScore`)
   */
  readonly score?: number;
  /** the spot max price to send with the launch, when fleet sets one */
  readonly maxPrice?: number;
  /** `spreadKey()` of the offer, worked out once: placement compares it for every launch */
  readonly spread: string;
}

export interface Candidates {
  /** cheapest first */
  readonly offers: readonly Candidate[];
  /** why offers were left out, one line per cause */
  readonly skipped: readonly string[];
}

/**
 * Every offer of the pool that may take a launch now, cheapest per unit of weight first, each with the
 * image a launch there uses (`imageOf`: the rollout's launch image, or its candidate for canaries).
 */
export function candidateOffers(input: PlacementInput, lifecycle: Lifecycle, imageOf: (region: string) => Image | undefined): Candidates {
  const { policy, prices } = input;
  const offers: Candidate[] = [];
  const skipped = new Set<string>();
  // Most snapshots hold no offer out: then no key is made for every offer of every pool to look it up.
  const unavailable = isEmpty(input.unavailable) ? undefined : input.unavailable;
  for (const [region, placement] of Object.entries(policy.regions)) {
    if (!input.regions.includes(region)) continue;
    const image = imageOf(region);
    if (!image) {
      skipped.add(`${region}: no current AMI for ${policy.pool}`);
      continue;
    }
    for (const subnetId of placement.subnets) {
      const subnet = input.subnets[subnetId];
      if (!subnet || subnet.region !== region) {
        skipped.add(`${region}: subnet ${subnetId} not found`);
        continue;
      }
      if (policy.ignoredAzs.includes(subnet.az)) continue;
      for (const { type, weight } of policy.instanceTypes) {
        const spread = spreadKey({ az: subnet.az, instanceType: type });
        const base = { region, az: subnet.az, subnetId, instanceType: type, weight, lifecycle, ami: image.id, spread };
        const until = unavailable?.[offerKey(base)];
        if (until !== undefined && until > input.now) {
          skipped.add(`${lifecycle} ${type} in ${subnet.az}: insufficient capacity, retry after ${new Date(until).toISOString()}`);
          continue;
        }
        const onDemandPrice = prices.onDemand(policy, region, type);
        if (lifecycle === 'on-demand') {
          offers.push(withPrice(base, onDemandPrice));
          continue;
        }
        const price = prices.spot(region, subnet.az, type, policy.productDescription);
        if (price === undefined) {
          skipped.add(`spot ${type} in ${subnet.az}: no ${policy.productDescription} spot price`);
          continue;
        }
        const cap = spotPriceCap(policy, onDemandPrice);
        if (cap === null) {
          skipped.add(`spot ${type} in ${region}: max price is a share of an unknown on-demand price`);
          continue;
        }
        if (cap !== undefined && price > cap) {
          skipped.add(`spot ${type} in ${subnet.az}: $${price} above max price $${round(cap)}`);
          continue;
        }
        const score = scoreAt(input, base, price, cap ?? onDemandPrice);
        const { az, ami } = base;
        // Written out, not spread from `base`: spreading into a literal with more keys is V8's slow path, and this runs per offer and pool.
        const offer: Candidate =
          cap !== undefined
            ? {
                region,
                az,
                subnetId,
                instanceType: type,
                weight,
                lifecycle,
                ami,
                price,
                unitPrice: price / weight,
                score,
                maxPrice: round(cap),
                spread,
              }
            : { region, az, subnetId, instanceType: type, weight, lifecycle, ami, price, unitPrice: price / weight, score, spread };
        offers.push(offer);
      }
    }
  }
  offers.sort(cheapestFirst);
  return { offers, skipped: [...skipped] };
}

function withPrice(base: Omit<Candidate, 'price' | 'unitPrice'>, price: number | undefined): Candidate {
  return price === undefined ? base : { ...base, price, unitPrice: price / base.weight, score: price / base.weight };
}

/**
 * A pool's canary offers in one region: its spot offers there (`spot`, from `candidateOffers`), each
 * with the candidate image instead of the launch image. Price, score and order do not depend on the image.
 */
export function withImage(spot: readonly Candidate[], region: string, image: Image): Candidate[] {
  return spot.filter((o) => o.region === region).map((o) => ({ ...o, ami: image.id }));
}

/** Interruptions and spikes of one offer this close together are one episode (one spike, one crunch). */
export const EPISODE_MS = 10 * 60_000;

/**
 * What a spot instance in this offer can expect to cost per unit of weight and hour over the policy's
 * rebalance horizon: its price now, plus the expected cost of interruptions at the rate the offer had
 * them over the last horizon (its instances interrupted, or its price above `cap`, where EC2 would
 * have interrupted them). Ranks offers the way EC2 Fleet's price-capacity-optimized does in spirit:
 * cheap, and likely to stay up.
 */
export function offerScore(
  input: Pick<PlacementInput, 'policy' | 'prices' | 'interruptions' | 'now'>,
  offer: Pick<Offer, 'region' | 'az' | 'instanceType' | 'weight'>,
  cap = Number.POSITIVE_INFINITY,
): number | undefined {
  const price = input.prices.spot(offer.region, offer.az, offer.instanceType, input.policy.productDescription);
  return price === undefined ? undefined : scoreAt(input, offer, price, cap);
}

/** `offerScore` of an offer whose spot price now is `price`. */
function scoreAt(
  input: Pick<PlacementInput, 'policy' | 'prices' | 'interruptions' | 'now'>,
  offer: Pick<Offer, 'region' | 'az' | 'instanceType' | 'weight'>,
  price: number,
  cap = Number.POSITIVE_INFINITY,
): number {
  const { policy, prices, now } = input;
  const horizonMs = policy.rebalance.horizon * 1000;
  if (horizonMs <= 0) return price / offer.weight;
  const from = now - horizonMs;
  const interruptions =
    input.interruptions === undefined || isEmpty(input.interruptions)
      ? undefined
      : input.interruptions[offerKey({ lifecycle: 'spot', instanceType: offer.instanceType, az: offer.az })];
  const interrupted = interruptions === undefined ? [] : interruptions.filter((t) => t > from && t <= now);
  const spikes = prices.spotSpikes(offer.region, offer.az, offer.instanceType, policy.productDescription, from, now, cap);
  // Most offers have neither: nothing to join and sort.
  if (interrupted.length === 0 && spikes.length === 0) return price / offer.weight;
  const perHour = episodes([...interrupted, ...spikes]) / (horizonMs / 3600_000);
  return (price * (1 + perHour * INTERRUPTION_COST_HOURS)) / offer.weight;
}

/** How many episodes the times make: times within EPISODE_MS of the episode's first are one. */
function episodes(times: readonly number[]): number {
  let count = 0;
  let since = Number.NEGATIVE_INFINITY;
  for (const t of [...times].sort((a, b) => a - b)) {
    if (t - since < EPISODE_MS) continue;
    count++;
    since = t;
  }
  return count;
}

function isEmpty(record: Readonly<Record<string, unknown>>): boolean {
  for (const _ in record) return false;
  return true;
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function cheapestFirst(a: Candidate, b: Candidate): number {
  const sa = a.score ?? Number.POSITIVE_INFINITY;
  const sb = b.score ?? Number.POSITIVE_INFINITY;
  if (sa !== sb) return sa - sb;
  const pa = a.unitPrice ?? Number.POSITIVE_INFINITY;
  const pb = b.unitPrice ?? Number.POSITIVE_INFINITY;
  if (pa !== pb) return pa - pb;
  return (
    a.region.localeCompare(b.region) ||
    a.az.localeCompare(b.az) ||
    a.instanceType.localeCompare(b.instanceType) ||
    a.subnetId.localeCompare(b.subnetId)
  );
}

/** Spread is counted per zone and instance type, whatever the subnet or lifecycle. */
export function spreadKey(o: { az: string; instanceType: string }): string {
  return `${o.az}:${o.instanceType}`;
}

/**
 * Most instances of a pool one offer may hold: a share of the desired size, at least one, and never
 * less than an even share over the `offers` the pool has: a spread the pool's offers cannot honour
 * would leave it short.
 */
export function spreadCap(share: { kind: 'count' | 'percent'; value: number }, desired: number, offers: number): number {
  const cap = share.kind === 'count' ? share.value : Math.ceil((share.value / 100) * desired);
  return Math.max(1, cap, Math.ceil(desired / Math.max(1, offers)));
}

/**
 * Place `count` launches one by one on the cheapest offer that still has room under the spread cap.
 * `occupancy` (spreadKey → instances already there) is updated as launches are placed.
 */
export function allocate(offers: readonly Candidate[], count: number, occupancy: Map<string, number>, cap: number): Candidate[] {
  const placed: Candidate[] = [];
  for (let n = 0; n < count; n++) {
    const offer = firstWithRoom(offers, occupancy, cap);
    if (!offer) break;
    occupancy.set(offer.spread, (occupancy.get(offer.spread) ?? 0) + 1);
    placed.push(offer);
  }
  return placed;
}

/** The first of `offers` (cheapest first) whose zone × type holds fewer than `cap`, other than `except`'s. */
export function firstWithRoom(
  offers: readonly Candidate[],
  occupancy: ReadonlyMap<string, number>,
  cap: number,
  except?: string,
): Candidate | undefined {
  for (const o of offers) if (o.spread !== except && (occupancy.get(o.spread) ?? 0) < cap) return o;
  return undefined;
}
