// The simulated spot market: a price trace per offer and product description, and a capacity
// trace per offer (how many instances this account can hold there at a time). Price traces are
// generated lazily from the seed, one independent stream per offer, or replayed from recorded
// history (then only the recorded offers are sold on spot).
//
// Two rules decide when spot instances end. 'capacity', today's: prices stay below on-demand and
// capacity comes and goes (the capacity traces, and the world's background reclaim). 'price',
// EC2's rule before December 2017: an instance is interrupted when the price rises above its max
// price (EC2's default: the on-demand price); the price is the only limit, so spot capacity is not
// traced.

import type { Lifecycle } from '../domain/types.js';
import { normaliseProductDescription } from '../domain/types.js';
import { simOnDemandPrice } from './catalog.js';
import { type PricePoint, type PriceRegime, PriceTrace, generatePriceTrace } from './price-traces.js';
import type { Prng } from './prng.js';
import type { PriceRecording } from './price-recording.js';

export type MarketRule = 'price' | 'capacity';

/** The rule EC2 applied at a time: bids and price interruptions until the change of December 2017. */
export function marketRuleAt(t: number): MarketRule {
  return t < Date.UTC(2017, 11, 1) ? 'price' : 'capacity';
}

export interface MarketOptions {
  readonly start: number;
  /** traces cover [start, start + horizonMs] */
  readonly horizonMs: number;
  readonly regime: PriceRegime;
  /** typical spot capacity of one offer, instances */
  readonly spotCapacity: number;
  readonly onDemandCapacity: number;
  /** expected capacity crunches per offer per day (capacity falls to a fraction for an hour or two) */
  readonly crunchesPerDay: number;
  /** replay these prices instead of generating them */
  readonly recorded?: PriceRecording;
  /** default 'capacity' */
  readonly rule?: MarketRule;
}

export const DEFAULT_MARKET: Omit<MarketOptions, 'start'> = {
  horizonMs: 30 * 24 * 3600_000,
  regime: 'modern',
  spotCapacity: 60,
  onDemandCapacity: 1000,
  crunchesPerDay: 0.25,
};

interface Step {
  readonly t: number;
  readonly value: number;
}

/** Piecewise-constant capacity over time. */
class CapacityTrace {
  constructor(private readonly steps: readonly Step[]) {}

  at(t: number): number {
    let lo = 0;
    let hi = this.steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.steps[mid] as Step).t <= t) lo = mid;
      else hi = mid - 1;
    }
    return (this.steps[lo] as Step).value;
  }
}

export class Market {
  private readonly prices = new Map<string, PriceTrace>();
  private readonly capacities = new Map<string, CapacityTrace>();
  private readonly capacityOverrides = new Map<string, number>();

  constructor(
    private readonly rng: Prng,
    private readonly options: MarketOptions,
  ) {}

  get rule(): MarketRule {
    return this.options.rule ?? 'capacity';
  }

  /** Zones of `region` that recorded prices cover (none when prices are generated). */
  recordedZones(region: string): readonly string[] {
    return this.options.recorded?.zones(region) ?? [];
  }

  /** The spot price in effect, or undefined when the type or OS is not sold. */
  spotPrice(region: string, az: string, instanceType: string, productDescription: string, t: number): number | undefined {
    return this.priceTrace(region, az, instanceType, productDescription)?.priceAt(t);
  }

  /** Price changes in [from, to], plus the price in effect at `from` (DescribeSpotPriceHistory). */
  spotHistory(region: string, az: string, instanceType: string, productDescription: string, from: number, to: number): PricePoint[] {
    const trace = this.priceTrace(region, az, instanceType, productDescription);
    if (!trace) return [];
    const points = trace.pointsBetween(from, to);
    // Before a recorded offer's first point its first price is in effect: report that point.
    return points.length === 0 && to >= from && this.options.recorded ? [trace.first()] : points;
  }

  /** Replace an offer's price from time `t` on (tests and fault scenarios). */
  setSpotPrice(region: string, az: string, instanceType: string, productDescription: string, price: number, t: number): void {
    const key = priceKey(region, az, instanceType, productDescription);
    const before = this.priceTrace(region, az, instanceType, productDescription);
    const kept = before ? before.pointsBetween(this.options.start, t).filter((p) => p.t < t) : [];
    this.prices.set(key, new PriceTrace([...(kept.length > 0 ? kept : [{ t: Math.min(t, this.options.start), price }]), { t, price }]));
  }

  capacity(az: string, instanceType: string, lifecycle: Lifecycle, t: number): number {
    const key = capacityKey(az, instanceType, lifecycle);
    const override = this.capacityOverrides.get(key);
    if (override !== undefined) return override;
    if (lifecycle === 'on-demand' || this.rule === 'price') return this.options.onDemandCapacity;
    let trace = this.capacities.get(key);
    if (!trace) {
      trace = this.generateCapacity(key);
      this.capacities.set(key, trace);
    }
    return trace.at(t);
  }

  /** Pin an offer's capacity (undefined: back to the generated trace). */
  setCapacity(az: string, instanceType: string, lifecycle: Lifecycle, capacity: number | undefined): void {
    const key = capacityKey(az, instanceType, lifecycle);
    if (capacity === undefined) this.capacityOverrides.delete(key);
    else this.capacityOverrides.set(key, capacity);
  }

  private priceTrace(region: string, az: string, instanceType: string, productDescription: string): PriceTrace | undefined {
    const key = priceKey(region, az, instanceType, productDescription);
    let trace = this.prices.get(key);
    if (!trace && this.options.recorded) {
      const points = this.options.recorded.points(region, az, instanceType, productDescription);
      if (!points) return undefined;
      trace = new PriceTrace(points);
      this.prices.set(key, trace);
    }
    if (!trace) {
      const onDemandPrice = simOnDemandPrice(region, instanceType, productDescription);
      if (onDemandPrice === undefined) return undefined;
      const { start, horizonMs, regime } = this.options;
      trace = new PriceTrace(
        generatePriceTrace({ rng: this.rng.fork(`price:${key}`), start, end: start + horizonMs, onDemandPrice, regime }),
      );
      this.prices.set(key, trace);
    }
    return trace;
  }

  /**
   * Capacity drifts around the offer's own level every half hour or so, and now and then a crunch
   * takes most of it away for an hour or two: the moments when spot launches fail and running
   * spot instances are reclaimed.
   */
  private generateCapacity(key: string): CapacityTrace {
    const rng = this.rng.fork(`capacity:${key}`);
    const { start, horizonMs, spotCapacity, crunchesPerDay } = this.options;
    const level = Math.max(1, Math.round(spotCapacity * rng.between(0.5, 1.5)));
    const steps: Step[] = [{ t: start, value: level }];
    const crunchRatePerMs = crunchesPerDay / (24 * 3600_000);
    let t = start;
    let value = level;
    while (t < start + horizonMs) {
      const gap = rng.exponential(40 * 60_000);
      const crunchDue = crunchRatePerMs > 0 && rng.chance(1 - Math.exp(-crunchRatePerMs * gap));
      t += gap;
      if (crunchDue) {
        steps.push({ t, value: Math.floor(level * rng.between(0, 0.2)) });
        t += rng.between(45, 150) * 60_000;
        steps.push({ t, value });
        continue;
      }
      // Mean-reverting drift in log space.
      const logValue = Math.log(Math.max(1, value)) * 0.7 + Math.log(level) * 0.3 + rng.normal() * 0.15;
      value = Math.max(1, Math.round(Math.exp(logValue)));
      steps.push({ t, value });
    }
    return new CapacityTrace(steps);
  }
}

function priceKey(region: string, az: string, instanceType: string, productDescription: string): string {
  return `${region}:${az}:${instanceType}:${normaliseProductDescription(productDescription)}`;
}

function capacityKey(az: string, instanceType: string, lifecycle: Lifecycle): string {
  return `${lifecycle}:${instanceType}:${az}`;
}
