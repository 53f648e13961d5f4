// The report's chart data, shaped from the samples of a simulated run: time series per pool, at
// most MAX_POINTS points each (longer runs are averaged over consecutive cycles), and event counts
// per time bucket so that bars stay readable.

import type { SimRun } from './driver.js';
import type { PoolSample, Sample } from './sampler.js';

/** Enough points for a chart a few thousand pixels wide; a month of minutes would be 43,200. */
export const MAX_POINTS = 1500;
/** Aim for about this many event bars per chart. */
const EVENT_BARS = 100;
const BUCKET_MINUTES = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440];

/** One colour per series, the same in every chart, so that a colour means one thing on the page. */
export const SERIES = {
  wanted: { label: 'wanted', colour: '#111827' },
  spotRunning: { label: 'spot running', colour: '#2563eb' },
  onDemandRunning: { label: 'on-demand running', colour: '#ea580c' },
  pending: { label: 'pending', colour: '#94a3b8' },
  imageCurrent: { label: 'current image', colour: '#16a34a' },
  imageOutdated: { label: 'outdated image', colour: '#ca8a04' },
  imageDrained: { label: 'drained image', colour: '#be185d' },
  imageUnknown: { label: 'image not in manifest', colour: '#64748b' },
  pricePaid: { label: 'price paid', colour: '#2563eb' },
  cheapestSpot: { label: 'cheapest spot offer', colour: '#7c3aed' },
  cheapestOnDemand: { label: 'cheapest on-demand', colour: '#ea580c' },
  cost: { label: 'cost', colour: '#2563eb' },
  onDemandCost: { label: 'all on-demand', colour: '#ea580c' },
  hindsightCost: { label: 'hindsight optimum', colour: '#7c3aed' },
  launchesSpot: { label: 'spot launches', colour: '#2563eb' },
  launchesOnDemand: { label: 'on-demand launches', colour: '#ea580c' },
  interruptions: { label: 'interruptions', colour: '#dc2626' },
  endedByFleet: { label: 'ended by fleet', colour: '#64748b' },
  jobsRunning: { label: 'jobs running', colour: '#0d9488' },
  jobsPending: { label: 'jobs waiting', colour: '#84cc16' },
  workersRunning: { label: 'workers running', colour: '#78350f' },
  oldestWait: { label: 'longest wait', colour: '#e879f9' },
} as const;

export interface PoolSeries {
  readonly pool: string;
  /** instances, per point (averaged when points span several cycles) */
  readonly wanted: readonly number[];
  readonly spotRunning: readonly number[];
  readonly onDemandRunning: readonly number[];
  readonly pending: readonly number[];
  readonly imageCurrent: readonly number[];
  readonly imageOutdated: readonly number[];
  readonly imageDrained: readonly number[];
  readonly imageUnknown: readonly number[];
  /** $ per instance-hour; null where nothing was billed or nothing is sold */
  readonly pricePaid: readonly (number | null)[];
  readonly cheapestSpot: readonly (number | null)[];
  readonly cheapestOnDemand: readonly (number | null)[];
  /** cumulative dollars */
  readonly cost: readonly number[];
  readonly onDemandCost: readonly number[];
  readonly hindsightCost: readonly number[];
  /** instances per event bucket */
  readonly launchesSpot: readonly number[];
  readonly launchesOnDemand: readonly number[];
  readonly interruptions: readonly number[];
  readonly endedByFleet: readonly number[];
  /** the simulated CI's jobs, per point */
  readonly jobsRunning: readonly number[];
  readonly jobsPending: readonly number[];
  /** running workers (the capacity the jobs had) */
  readonly workersRunning: readonly number[];
  /** minutes the longest-waiting pending job had been queued */
  readonly oldestWait: readonly number[];
}

export interface ReportData {
  /** epoch seconds of each point (the end of the cycles it covers) */
  readonly t: readonly number[];
  /** cycles averaged into one point */
  readonly cyclesPerPoint: number;
  /** epoch seconds of each event bucket's middle */
  readonly eventT: readonly number[];
  readonly eventBucketMinutes: number;
  readonly pools: readonly PoolSeries[];
  readonly series: typeof SERIES;
}

export function reportData(run: SimRun): ReportData {
  const start = Date.parse(run.summary.start);
  const end = Date.parse(run.summary.end);
  const pools = run.summary.pools.map((p) => p.pool);
  const groups = chunk(run.samples, Math.max(1, Math.ceil(run.samples.length / MAX_POINTS)));
  const bucketMinutes = eventBucketMinutes(end - start, intervalOf(run.samples));
  const bucketMs = bucketMinutes * 60_000;
  const buckets = Math.max(1, Math.ceil((end - start) / bucketMs));
  return {
    t: groups.map((g) => Math.round((g[g.length - 1] as Sample).t / 1000)),
    cyclesPerPoint: groups[0]?.length ?? 1,
    eventT: Array.from({ length: buckets }, (_, i) => Math.round((start + (i + 0.5) * bucketMs) / 1000)),
    eventBucketMinutes: bucketMinutes,
    pools: pools.map((pool) =>
      poolSeries(pool, run.samples, groups, (t) => Math.min(buckets - 1, Math.max(0, Math.floor((t - start) / bucketMs))), buckets),
    ),
    series: SERIES,
  };
}

function poolSeries(
  pool: string,
  samples: readonly Sample[],
  groups: readonly (readonly Sample[])[],
  bucketOf: (t: number) => number,
  buckets: number,
): PoolSeries {
  const of = (s: Sample): PoolSample | undefined => s.pools[pool];
  const mean = (g: readonly Sample[], f: (p: PoolSample) => number) =>
    round(g.reduce((sum, s) => sum + (of(s) ? f(of(s) as PoolSample) : 0), 0) / g.length, 2);
  const sum = (g: readonly Sample[], f: (p: PoolSample) => number) =>
    g.reduce((total, s) => total + (of(s) ? f(of(s) as PoolSample) : 0), 0);
  const meanPrice = (g: readonly Sample[], f: (p: PoolSample) => number | null) => {
    const prices = g.map((s) => (of(s) ? f(of(s) as PoolSample) : null)).filter((p): p is number => p !== null);
    return prices.length === 0 ? null : round(prices.reduce((a, b) => a + b, 0) / prices.length, 5);
  };
  const cumulative = (f: (p: PoolSample) => number) => {
    let running = 0;
    return groups.map((g) => round((running += sum(g, f)), 4));
  };
  const events = (f: (p: PoolSample) => number) => {
    const counts = new Array<number>(buckets).fill(0);
    for (const s of samples) if (of(s)) counts[bucketOf(s.t)] = (counts[bucketOf(s.t)] as number) + f(of(s) as PoolSample);
    return counts;
  };
  return {
    pool,
    wanted: groups.map((g) => mean(g, (p) => p.wanted)),
    spotRunning: groups.map((g) => mean(g, (p) => p.spotRunning)),
    onDemandRunning: groups.map((g) => mean(g, (p) => p.onDemandRunning)),
    pending: groups.map((g) => mean(g, (p) => p.pending)),
    imageCurrent: groups.map((g) => mean(g, (p) => p.imageCurrent)),
    imageOutdated: groups.map((g) => mean(g, (p) => p.imageOutdated)),
    imageDrained: groups.map((g) => mean(g, (p) => p.imageDrained)),
    imageUnknown: groups.map((g) => mean(g, (p) => p.imageUnknown)),
    pricePaid: groups.map((g) => {
      const hours = sum(g, (p) => p.instanceHours);
      return hours > 0 ? round(sum(g, (p) => p.cost) / hours, 5) : null;
    }),
    cheapestSpot: groups.map((g) => meanPrice(g, (p) => p.cheapestSpot)),
    cheapestOnDemand: groups.map((g) => meanPrice(g, (p) => p.cheapestOnDemand)),
    cost: cumulative((p) => p.cost),
    onDemandCost: cumulative((p) => p.onDemandCost),
    hindsightCost: cumulative((p) => p.hindsightCost),
    launchesSpot: events((p) => p.launchesSpot),
    launchesOnDemand: events((p) => p.launchesOnDemand),
    interruptions: events((p) => p.interruptions),
    endedByFleet: events((p) => p.endedByFleet),
    jobsRunning: groups.map((g) => mean(g, (p) => p.jobsRunning)),
    jobsPending: groups.map((g) => mean(g, (p) => p.jobsPending)),
    workersRunning: groups.map((g) => mean(g, (p) => p.running)),
    oldestWait: groups.map((g) => mean(g, (p) => p.oldestPendingSeconds / 60)),
  };
}

/** The smallest round bucket (not shorter than a cycle) that keeps a run to about EVENT_BARS bars. */
export function eventBucketMinutes(durationMs: number, intervalMs: number): number {
  const minutes = durationMs / 60_000;
  const fits = BUCKET_MINUTES.find((m) => m * 60_000 >= intervalMs && minutes / m <= EVENT_BARS);
  return fits ?? Math.ceil(minutes / EVENT_BARS / 1440) * 1440;
}

function intervalOf(samples: readonly Sample[]): number {
  const [a, b] = samples;
  return a && b ? b.t - a.t : 60_000;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function round(n: number, digits: number): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}
