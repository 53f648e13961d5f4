// The rules fleet is compared with, as tiny controllers over the same replayed market: each minute
// the market interrupts (the rule of the era), outdated instances are replaced after a nightly
// image (launch first), and the pool is scaled to demand. They run outside the reconciler, on
// purpose: each is a few lines that can be checked by reading them. A launch is ready a minute
// later (fleet's simulated launches take 20–90 s, plus up to a minute until its next cycle).
// Also the hindsight optimum, computed directly.

import { INTERRUPTION_NOTICE_MS } from '../../src/events/parse.js';
import { type CiWorker, SimCi, type WorkerSource } from '../../src/sim/ci/ci.js';
import { waitFigures } from '../../src/sim/ci/figures.js';
import { BOOT_MS } from '../../src/sim/ci/world-workers.js';
import type { Market, MarketRule } from '../../src/fake-cloud/market.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import { latestBake } from './demand.js';
import { type Offer, PRODUCT, REGION } from './pools.js';

const STEP = 60_000;
const HOUR = 3600_000;

export interface Scenario {
  readonly offers: readonly Offer[];
  /** built exactly as fleet's run builds it: the same replayed prices and capacity traces */
  readonly market: Market;
  readonly rule: MarketRule;
  /** background reclaim per spot instance-hour (the capacity rule's) */
  readonly reclaimPerHour: number;
  readonly start: number;
  readonly end: number;
  readonly demand: (t: number) => number;
  /** jobs arrive at this share of the demand curve's workers [1] */
  readonly jobLoad?: number;
  /**
   * nightly images, outdated instances replaced `graceMs` after each bake, each leaving once its
   * replacement has run `bakeMs` (fleet's rollout rule, so turnover costs every strategy the same);
   * undefined: one image
   */
  readonly images?: { readonly graceMs: number; readonly bakeMs: number };
  readonly seed: number;
}

export interface Outcome {
  /** dollars */
  readonly cost: number;
  /** worker-hours wanted and had */
  readonly servedHours: number;
  /** worker-hours wanted and not had */
  readonly unmetHours: number;
  readonly interruptions: number;
  readonly launches: number;
  /** the simulated CI's jobs on the strategy's workers (none for the optimum, which has no workers) */
  readonly jobs?: { readonly completed: number; readonly killed: number; readonly waitP95Seconds: number };
  /** dollars of it spent on on-demand instances, where the strategy uses them */
  readonly onDemandCost?: number;
}

type Lifecycle = 'spot' | 'on-demand';

interface Placement {
  readonly offer: Offer;
  readonly lifecycle: Lifecycle;
}

/** Where the next instance goes at `t`, among what the market accepts now; undefined: nowhere. */
export type Rule = (t: number, accepts: (offer: Offer) => boolean) => Placement | undefined;

interface Instance extends Placement {
  readonly id: string;
  readonly launchedAt: number;
  readonly readyAt: number;
  readonly image: number;
  /** the outdated instance this one replaces, until this one is ready */
  replaces?: Instance;
  /** set on an outdated instance while its replacement boots */
  replacement?: Instance;
}

export function spotPrice(s: Scenario, offer: Offer, t: number): number {
  return s.market.spotPrice(REGION, offer.az, offer.instanceType, PRODUCT, t) ?? Number.POSITIVE_INFINITY;
}

/** (b), (c): always this one offer. */
export function fixedOffer(offer: Offer): Rule {
  return (_t, accepts) => (accepts(offer) ? { offer, lifecycle: 'spot' } : undefined);
}

/** (d) watch_pending: each launch goes to the offer cheapest at that moment; instances never move. */
export function cheapestAtLaunch(s: Scenario): Rule {
  return (t, accepts) => {
    const open = s.offers.filter(accepts).sort((a, b) => spotPrice(s, a, t) - spotPrice(s, b, t));
    return open[0] && { offer: open[0], lifecycle: 'spot' };
  };
}

/** (e): on demand, the cheapest type. */
export function allOnDemand(s: Scenario): Rule {
  const cheapest = [...s.offers].sort((a, b) => a.onDemand - b.onDemand)[0] as Offer;
  return () => ({ offer: cheapest, lifecycle: 'on-demand' });
}

/**
 * (b): the offer that would have cost least for this demand, known only afterwards. Minutes above
 * the max price count at on-demand: no one pays a spike, they lose the instance instead.
 */
export function bestFixedInHindsight(s: Scenario): Offer {
  const cost = (o: Offer) => {
    let sum = 0;
    for (let t = s.start; t < s.end; t += STEP) sum += s.demand(t) * Math.min(spotPrice(s, o, t), o.onDemand);
    return sum;
  };
  return [...s.offers].sort((a, b) => cost(a) - cost(b))[0] as Offer;
}

/** (c): the offer cheapest when the run starts. */
export function cheapestAtStart(s: Scenario): Offer {
  return [...s.offers].sort((a, b) => spotPrice(s, a, s.start) - spotPrice(s, b, s.start))[0] as Offer;
}

/** (a): every worker-minute at the cheapest price of that minute, spot or on-demand; moves are free. */
export function hindsightOptimum(s: Scenario): Outcome {
  let cost = 0;
  let served = 0;
  for (let t = s.start; t < s.end; t += STEP) {
    const want = s.demand(t);
    const cheapest = Math.min(...s.offers.map((o) => Math.min(spotPrice(s, o, t), o.onDemand)));
    cost += (want * cheapest * STEP) / HOUR;
    served += (want * STEP) / HOUR;
  }
  return { cost, servedHours: served, unmetHours: 0, interruptions: 0, launches: 0 };
}

/** A baseline's instances as the CI's workers: ready for jobs after the boot check, gone when removed. */
interface Tracked {
  readonly worker: { -readonly [K in keyof CiWorker]: CiWorker[K] };
  cause?: string;
}

class BaselineWorkers implements WorkerSource {
  private readonly all: Tracked[] = [];
  private readonly byId = new Map<string, Tracked>();

  add(i: Instance): void {
    const entry: Tracked = { worker: { id: i.id, name: i.id, readyAt: i.readyAt + BOOT_MS, endedAt: undefined } };
    this.all.push(entry);
    this.byId.set(i.id, entry);
  }

  end(i: Instance, t: number, cause: string): void {
    const entry = this.byId.get(i.id);
    if (!entry || entry.worker.endedAt !== undefined) return;
    entry.worker.endedAt = t;
    entry.cause = cause;
  }

  workers(_pool: string, from: number, holdsRun: (id: string) => boolean): CiWorker[] {
    return this.all
      .filter((e) => e.worker.endedAt === undefined || e.worker.endedAt > from || holdsRun(e.worker.id))
      .map((e) => ({ ...e.worker }));
  }

  endCause(id: string): string {
    return this.byId.get(id)?.cause ?? 'unknown';
  }
}

/** The pool name the baselines' CI queues under (one pool per scenario). */
const POOL = 'pool';

/** Run one rule over the scenario, minute by minute, with the simulated CI's jobs on its workers. */
export function simulateRule(s: Scenario, rule: Rule): Outcome {
  const rng = new Prng(s.seed).fork('baseline-reclaim');
  const workers = new BaselineWorkers();
  // The same arrivals and run times as fleet's run (the driver's CI stream), so jobs compare.
  const ci = new SimCi(workers, [POOL], new Prng(s.seed).fork('workload').fork('ci'), s.start);
  let live: Instance[] = [];
  // Interrupted spot instances still billed through EC2's two-minute notice (as fleet's are in its run).
  let noticed: { instance: Instance; until: number }[] = [];
  let cost = 0;
  let served = 0;
  let unmet = 0;
  let interruptions = 0;
  let launches = 0;
  const price = (i: Placement, t: number) => (i.lifecycle === 'spot' ? spotPrice(s, i.offer, t) : i.offer.onDemand);
  const imageAt = (t: number) => (s.images ? latestBake(t) : 0);
  const usage = (o: Offer) => live.filter((i) => i.lifecycle === 'spot' && i.offer === o).length;
  // A spot launch needs the price at or below the max price (on-demand, as fleet's default "100%") and room in the offer.
  const acceptsAt = (t: number) => (o: Offer) =>
    spotPrice(s, o, t) <= o.onDemand && usage(o) < s.market.capacity(o.az, o.instanceType, 'spot', t);
  const launch = (t: number): Instance | undefined => {
    const where = rule(t, acceptsAt(t));
    if (!where) return undefined;
    const instance: Instance = { ...where, id: `i-${launches}`, launchedAt: t, readyAt: t + STEP, image: imageAt(t) };
    live.push(instance);
    workers.add(instance);
    launches++;
    return instance;
  };
  const remove = (gone: ReadonlySet<Instance>, t: number, cause: string) => {
    for (const i of gone) workers.end(i, t, cause);
    live = live.filter((i) => !gone.has(i));
    for (const i of live) {
      if (i.replaces && gone.has(i.replaces)) i.replaces = undefined;
      if (i.replacement && gone.has(i.replacement)) i.replacement = undefined;
    }
  };

  for (let t = s.start; t < s.end; t += STEP) {
    // 1. The market: the price passing the max price, and under the capacity rule background
    //    reclaim and offers holding more than their capacity (the newest go first).
    const interrupted = new Set<Instance>();
    for (const i of live) {
      if (i.lifecycle !== 'spot') continue;
      if (spotPrice(s, i.offer, t) > i.offer.onDemand) interrupted.add(i);
      else if (s.reclaimPerHour > 0 && rng.chance(1 - Math.exp((-s.reclaimPerHour * STEP) / HOUR))) interrupted.add(i);
    }
    if (s.rule === 'capacity') {
      for (const o of s.offers) {
        const here = live
          .filter((i) => i.lifecycle === 'spot' && i.offer === o && !interrupted.has(i))
          .sort((a, b) => b.launchedAt - a.launchedAt);
        const excess = here.length - s.market.capacity(o.az, o.instanceType, 'spot', t);
        for (const i of here.slice(0, Math.max(0, excess))) interrupted.add(i);
      }
    }
    interruptions += interrupted.size;
    remove(interrupted, t, 'spot-interruption');
    noticed.push(...[...interrupted].map((instance) => ({ instance, until: t + INTERRUPTION_NOTICE_MS })));

    // 2. A replacement that has been ready for the bake time retires the instance it replaces.
    const bakeMs = s.images?.bakeMs ?? 0;
    remove(new Set(live.filter((i) => i.replaces && i.readyAt + bakeMs <= t).map((i) => i.replaces as Instance)), t, 'outdated');

    // 3. After a nightly image, outdated instances get a replacement (launch first).
    if (s.images && t >= latestBake(t) + s.images.graceMs) {
      for (const old of live.filter((i) => i.image < latestBake(t) && !i.replacement && !i.replaces)) {
        const fresh = launch(t);
        if (!fresh) break;
        fresh.replaces = old;
        old.replacement = fresh;
      }
    }

    // 4. Scale to demand. A pair (outdated instance and its replacement) is one worker.
    const want = s.demand(t);
    const workers = () => live.filter((i) => !i.replacement);
    for (let n = workers().length; n < want; n++) if (!launch(t)) break;
    const surplus = workers().length - want;
    if (surplus > 0) {
      const leaving = workers()
        .sort((a, b) => price(b, t) - price(a, t) || b.launchedAt - a.launchedAt)
        .slice(0, surplus);
      remove(new Set(leaving.flatMap((i) => (i.replaces ? [i, i.replaces] : [i]))), t, 'scale-down');
    }

    // 5. The minute's bill and service.
    for (const i of live) cost += (price(i, t) * STEP) / HOUR;
    // Never above the max price (the on-demand price), what EC2 charges during the notice.
    for (const { instance } of noticed) cost += (Math.min(price(instance, t), instance.offer.onDemand) * STEP) / HOUR;
    noticed = noticed.filter((n) => n.until > t + STEP);
    const ready = workers().filter((i) => i.readyAt <= t || (i.replaces !== undefined && i.replaces.readyAt <= t)).length;
    served += (Math.min(want, ready) * STEP) / HOUR;
    unmet += (Math.max(0, want - ready) * STEP) / HOUR;
    ci.advance(t + STEP, { [POOL]: want * (s.jobLoad ?? 1) });
  }
  const work = ci.tally(POOL);
  return {
    cost,
    servedHours: served,
    unmetHours: unmet,
    interruptions,
    launches,
    jobs: {
      completed: work.completed,
      killed: Object.values(work.killed).reduce((a, b) => a + b, 0),
      waitP95Seconds: waitFigures(work.waitsMs).p95,
    },
  };
}
