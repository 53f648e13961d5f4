import type { Cloud, EventQueue, PriceList, RegionCompute } from '../cloud/port.js';
import { SimClock } from './clock.js';
import { simOnDemandPrice } from './catalog.js';
import { SimCompute, type SimCall } from './ec2.js';
import { FaultInjector, type FaultOptions, NO_FAULTS, SimAwsError } from './faults.js';
import { DEFAULT_MARKET, Market, type MarketOptions } from './market.js';
import { Prng } from './prng.js';
import { SimObjects } from './s3.js';
import { MissingQueue, SIM_EVENTS_QUEUE_URL, SimEventQueue } from './sqs.js';
import { DEFAULT_WORLD, SimWorld, type WorldOptions } from './world.js';

export interface SimCloudOptions {
  readonly seed: number;
  /** epoch ms the simulation starts at */
  readonly start: number;
  readonly market?: Partial<Omit<MarketOptions, 'start'>>;
  readonly world?: Partial<WorldOptions>;
  readonly faults?: Partial<FaultOptions>;
  /** one default subnet per zone in each of these regions */
  readonly defaultSubnets?: readonly string[];
  /** an EventBridge rule delivers EC2's events to the queue at SIM_EVENTS_QUEUE_URL (default: off, the queue stays empty) */
  readonly events?: boolean;
}

/**
 * The simulated AWS: EC2 per region, S3 and the Price List, on a simulated clock.
 * It implements the same Cloud port as the AWS adapter.
 */
export class SimCloud implements Cloud {
  readonly clock: SimClock;
  readonly world: SimWorld;
  readonly faults: FaultInjector;
  readonly objects: SimObjects;
  readonly calls: SimCall[] = [];
  readonly priceList: PriceList;
  /** the queue the simulated EventBridge rule feeds */
  readonly eventQueue: SimEventQueue;
  private readonly computes = new Map<string, SimCompute>();

  constructor(options: SimCloudOptions) {
    const rng = new Prng(options.seed);
    this.clock = new SimClock(options.start);
    const market = new Market(rng.fork('market'), { ...DEFAULT_MARKET, ...options.market, start: options.start });
    // Under the price rule, prices alone interrupt: no background reclaim.
    const reclaim = market.rule === 'price' ? { interruptionRatePerHour: 0 } : {};
    this.world = new SimWorld(market, rng.fork('world'), options.start, { ...DEFAULT_WORLD, ...options.world, ...reclaim });
    this.faults = new FaultInjector({ ...NO_FAULTS, ...options.faults }, rng.fork('faults'), this.clock);
    this.objects = new SimObjects(this.faults);
    this.eventQueue = new SimEventQueue(SIM_EVENTS_QUEUE_URL, this.world, this.clock, options.events ?? false);
    for (const region of options.defaultSubnets ?? []) {
      for (const az of this.world.azs(region)) this.world.addSubnet(region, az);
    }
    this.priceList = {
      onDemandPrices: async (region, instanceTypes, productDescription) => {
        this.calls.push({
          t: this.clock.now(),
          region: 'us-east-1',
          action: 'GetProducts',
          result: this.faults.pricingUnavailable ? 'ServiceUnavailable' : 'ok',
        });
        if (this.faults.pricingUnavailable)
          throw new SimAwsError('ServiceUnavailableException', 'Price List API unavailable (simulated)', 503);
        const out: Record<string, number> = {};
        for (const type of instanceTypes) {
          const price = simOnDemandPrice(region, type, productDescription);
          if (price !== undefined) out[type] = price;
        }
        return out;
      },
    };
  }

  compute(region: string): RegionCompute {
    let compute = this.computes.get(region);
    if (!compute) {
      if (this.world.azs(region).length === 0) {
        throw new SimAwsError('UnauthorizedOperation', `the simulated cloud has no region ${region}`, 403);
      }
      compute = new SimCompute(region, this.world, this.faults, this.clock, this.calls);
      this.computes.set(region, compute);
    }
    return compute;
  }

  events(queueUrl: string): EventQueue {
    return queueUrl === this.eventQueue.url ? this.eventQueue : new MissingQueue(queueUrl);
  }

  /** Bring the world up to the clock. */
  settle(): void {
    this.world.advanceTo(this.clock.now());
  }
}
