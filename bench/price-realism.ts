// How realistic are the simulator's spot prices? Computes the same statistics on real EC2 spot
// price history and on generated traces (src/fake-cloud/price-traces.ts) and prints them side by side:
// 'modern' against us-east-1 c5a.2xlarge from 2023, 'volatile' against us-east-1 from 2016.
//
// Run from anywhere: node --import tsx bench/price-realism.ts
// The real data is read from ../shared/data/spot-prices/ next to the repository (see its
// SOURCE.md); it is never copied into the repository. The figures go to
// bench/results/price-realism.json.

import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { generatePriceTrace, type PricePoint, type PriceRegime } from '../src/fake-cloud/price-traces.js';
import { Prng } from '../src/fake-cloud/prng.js';

const DATA_DIR = new URL('../../shared/data/spot-prices/', import.meta.url);
const RESULTS_FILE = new URL('./results/price-realism.json', import.meta.url);
const COMMAND = 'node --import tsx bench/price-realism.ts';
const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const DAY = 24 * 3600_000;

/** On-demand list price of c5a.2xlarge Linux in us-east-1 (2023). */
const ON_DEMAND_2023: Readonly<Record<string, number>> = { 'c5a.2xlarge': 0.308 };

/**
 * The published on-demand list prices, Linux, us-east-1, at the time of the 2016 data ($/h).
 * Types without a known price are left out of the comparison.
 */
const ON_DEMAND_2016: Readonly<Record<string, number>> = {
  'm3.medium': 0.067,
  'm3.large': 0.133,
  'c1.medium': 0.13,
  'c1.xlarge': 0.52,
  'm1.small': 0.044,
  'm1.large': 0.175,
  'r3.large': 0.166,
  'd2.xlarge': 0.69,
};

interface Series {
  readonly type: string;
  readonly az: string;
  readonly onDemand: number;
  readonly from: number;
  readonly to: number;
  /** ascending by t */
  readonly points: readonly PricePoint[];
}

interface Stats {
  readonly days: number;
  readonly changesPerDay: number;
  readonly meanPrice: number;
  readonly meanToOnDemand: number;
  readonly medianPrice: number;
  readonly medianToOnDemand: number;
  /** coefficient of variation of the time-weighted price */
  readonly cv: number;
  readonly maxToMedian: number;
  /** share of time with the price above 2× its median */
  readonly spikeTimeShare: number;
  /** share of time with the price above on-demand */
  readonly aboveOnDemandShare: number;
  /** median |log(price / previous price)| over the changes */
  readonly medianStep: number;
}

type StatKey = Exclude<keyof Stats, 'days'>;

/** Statistics of a piecewise-constant price over [from, to]. */
function seriesStats(points: readonly PricePoint[], from: number, to: number, onDemand: number): Stats {
  const segments: { price: number; ms: number }[] = [];
  let changes = 0;
  const steps: number[] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as PricePoint;
    const prev = points[i - 1];
    if (p.t > to) break;
    if (prev && p.t > from && p.price !== prev.price) {
      changes++;
      steps.push(Math.abs(Math.log(p.price / prev.price)));
    }
    const segStart = Math.max(p.t, from);
    const segEnd = Math.min(points[i + 1]?.t ?? to, to);
    if (segEnd > segStart) segments.push({ price: p.price, ms: segEnd - segStart });
  }
  const total = segments.reduce((s, x) => s + x.ms, 0);
  const mean = segments.reduce((s, x) => s + x.price * x.ms, 0) / total;
  const variance = segments.reduce((s, x) => s + (x.price - mean) ** 2 * x.ms, 0) / total;
  const byPrice = [...segments].sort((a, b) => a.price - b.price);
  let acc = 0;
  let median = byPrice.at(-1)?.price ?? NaN;
  for (const s of byPrice) {
    acc += s.ms;
    if (acc >= total / 2) {
      median = s.price;
      break;
    }
  }
  const max = Math.max(...segments.map((s) => s.price));
  const share = (pred: (price: number) => boolean): number =>
    segments.filter((s) => pred(s.price)).reduce((sum, s) => sum + s.ms, 0) / total;
  const days = (to - from) / DAY;
  return {
    days,
    changesPerDay: changes / days,
    meanPrice: mean,
    meanToOnDemand: mean / onDemand,
    medianPrice: median,
    medianToOnDemand: median / onDemand,
    cv: Math.sqrt(variance) / mean,
    maxToMedian: max / median,
    spikeTimeShare: share((price) => price > 2 * median),
    aboveOnDemandShare: share((price) => price > onDemand),
    medianStep: quantile(steps, 0.5),
  };
}

function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

function toSeries(type: string, az: string, onDemand: number, points: PricePoint[]): Series | undefined {
  points.sort((a, b) => a.t - b.t);
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || last.t <= first.t) return undefined;
  return { type, az, onDemand, from: first.t, to: last.t, points };
}

/** 2016: one gzipped `describe-spot-price-history` JSON file per type and AZ, newest first. */
async function load2016(dir: URL): Promise<Series[]> {
  const out: Series[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json.gz')).sort()) {
    const json = JSON.parse(gunzipSync(await readFile(new URL(name, dir))).toString('utf8')) as {
      SpotPriceHistory: {
        Timestamp: string;
        InstanceType: string;
        SpotPrice: string;
        AvailabilityZone: string;
        ProductDescription: string;
      }[];
    };
    const rows = json.SpotPriceHistory.filter((r) => r.ProductDescription === 'Linux/UNIX');
    const type = rows[0]?.InstanceType;
    const az = rows[0]?.AvailabilityZone;
    const onDemand = type === undefined ? undefined : ON_DEMAND_2016[type];
    if (type === undefined || az === undefined || onDemand === undefined) continue;
    const points = rows.map((r) => ({ t: Date.parse(r.Timestamp), price: Number(r.SpotPrice) }));
    const series = toSeries(type, az, onDemand, points);
    if (series) out.push(series);
  }
  return out;
}

/** 2023: one CSV of Timestamp,InstanceType,ProductDescription,SpotPrice,AvailabilityZone. */
async function load2023(file: URL): Promise<Series[]> {
  const byKey = new Map<string, PricePoint[]>();
  const lines = (await readFile(file, 'utf8')).split(/\r?\n/).filter((l) => l.trim() !== '');
  for (const line of lines.slice(1)) {
    const [timestamp, type, product, price, az] = line.split(',');
    if (!timestamp || !type || !price || !az || product !== 'Linux/UNIX' || !(type in ON_DEMAND_2023)) continue;
    const key = `${type}|${az}`;
    const points = byKey.get(key) ?? [];
    points.push({ t: Date.parse(timestamp.replace(' ', 'T')), price: Number(price) });
    byKey.set(key, points);
  }
  const out: Series[] = [];
  for (const [key, points] of [...byKey].sort(([a], [b]) => a.localeCompare(b))) {
    const [type, az] = key.split('|') as [string, string];
    const series = toSeries(type, az, ON_DEMAND_2023[type] as number, points);
    if (series) out.push(series);
  }
  return out;
}

/** For every real series and seed, a generated trace over the same window. */
function simulate(real: readonly Series[], regime: PriceRegime): (Series & { seed: number })[] {
  return SEEDS.flatMap((seed) =>
    real.map((r) => ({
      ...r,
      seed,
      points: generatePriceTrace({
        rng: new Prng(seed).fork(`price:${r.type}/${r.az}`),
        start: r.from,
        end: r.to,
        onDemandPrice: r.onDemand,
        regime,
      }),
    })),
  );
}

interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function summarise(values: readonly number[]): Summary {
  const finite = values.filter(Number.isFinite);
  return { median: quantile(finite, 0.5), min: Math.min(...finite), max: Math.max(...finite) };
}

/** The statistics summarised per group (the absolute prices are kept per series only). */
const STAT_KEYS = [
  'changesPerDay',
  'meanToOnDemand',
  'medianToOnDemand',
  'cv',
  'maxToMedian',
  'spikeTimeShare',
  'aboveOnDemandShare',
  'medianStep',
] as const satisfies readonly StatKey[];
type SummaryKey = (typeof STAT_KEYS)[number];

export interface Group {
  readonly name: string;
  readonly seriesCount: number;
  readonly stats: Record<SummaryKey, Summary>;
  /** share of series whose price ever exceeds on-demand */
  readonly seriesAboveOnDemand: number;
  /** per type (and seed, for generated ones): highest / lowest per-AZ median price */
  readonly azSpread: Summary;
}

function group(name: string, series: readonly (Series & { seed?: number })[]): { group: Group; rows: ReturnType<typeof row>[] } {
  const rows = series.map(row);
  const stats = Object.fromEntries(STAT_KEYS.map((k) => [k, summarise(rows.map((r) => r.stats[k]))])) as Record<SummaryKey, Summary>;
  const medians = new Map<string, number[]>();
  for (const r of rows) {
    const key = `${r.type}|${r.seed ?? ''}`;
    medians.set(key, [...(medians.get(key) ?? []), r.stats.medianPrice]);
  }
  const spreads = [...medians.values()].filter((m) => m.length > 1).map((m) => Math.max(...m) / Math.min(...m));
  return {
    group: {
      name,
      seriesCount: rows.length,
      stats,
      seriesAboveOnDemand: rows.filter((r) => r.maxPrice > r.onDemand).length / rows.length,
      azSpread: summarise(spreads),
    },
    rows,
  };
}

function row(s: Series & { seed?: number }) {
  return {
    type: s.type,
    az: s.az,
    ...(s.seed === undefined ? {} : { seed: s.seed }),
    onDemand: s.onDemand,
    from: new Date(s.from).toISOString(),
    to: new Date(s.to).toISOString(),
    points: s.points.length,
    maxPrice: Math.max(...s.points.filter((p) => p.t <= s.to).map((p) => p.price)),
    stats: seriesStats(s.points, s.from, s.to, s.onDemand),
  };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return '-';
  if (x === 0) return '0';
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 1) return x.toFixed(2);
  if (Math.abs(x) >= 0.01) return x.toFixed(3);
  return x.toPrecision(2);
}

function cell(s: Summary): string {
  return `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]`;
}

const LABELS: Record<SummaryKey, string> = {
  changesPerDay: 'changes/day',
  meanToOnDemand: 'mean / on-demand',
  medianToOnDemand: 'median / on-demand',
  cv: 'coeff. of variation',
  maxToMedian: 'max / median',
  spikeTimeShare: 'time > 2x median',
  aboveOnDemandShare: 'time > on-demand',
  medianStep: 'median |step| (log)',
};

function printTable(groups: readonly Group[]): void {
  const header = ['statistic: median [min–max]', ...groups.map((g) => `${g.name} (n=${g.seriesCount})`)];
  const lines = [
    ...STAT_KEYS.map((k) => [LABELS[k], ...groups.map((g) => cell(g.stats[k]))]),
    ['series ever > on-demand', ...groups.map((g) => fmt(g.seriesAboveOnDemand))],
    ['AZ spread of medians', ...groups.map((g) => cell(g.azSpread))],
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  for (const l of [header, ...lines]) console.log(l.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
}

function printPerType(real: ReturnType<typeof row>[], sim: ReturnType<typeof row>[]): void {
  console.log('\n2016 per type, real vs volatile (medians over AZs / AZs × seeds):');
  const keys: SummaryKey[] = ['changesPerDay', 'medianToOnDemand', 'maxToMedian', 'spikeTimeShare'];
  console.log(['type', ...keys.map((k) => LABELS[k])].map((c, i) => c.padEnd(i === 0 ? 10 : 22)).join(''));
  for (const type of [...new Set(real.map((r) => r.type))]) {
    const pick = (rows: typeof real, k: StatKey): string =>
      fmt(
        quantile(
          rows.filter((r) => r.type === type).map((r) => r.stats[k]),
          0.5,
        ),
      );
    console.log([type, ...keys.map((k) => `${pick(real, k)} / ${pick(sim, k)}`)].map((c, i) => c.padEnd(i === 0 ? 10 : 22)).join(''));
  }
}

/** The comparison's summary rows, or undefined when the real data is not beside the repository. */
export async function measurePriceRealism(print = false): Promise<Group[] | undefined> {
  if (!existsSync(DATA_DIR)) {
    console.log(`price-realism: skipped, no real spot price data at ${fileURLToPath(DATA_DIR)}`);
    return undefined;
  }
  const real2023 = await load2023(new URL('soso0024-us-east-1-2023/spot_price_history.csv', DATA_DIR));
  const real2016 = await load2016(new URL('hshazly-us-east-1-2016/', DATA_DIR));
  const sets = [
    group('real 2023', real2023),
    group('sim modern', simulate(real2023, 'modern')),
    group('real 2016', real2016),
    group('sim volatile', simulate(real2016, 'volatile')),
  ];

  if (print) {
    printTable(sets.map((s) => s.group));
    printPerType((sets[2] as (typeof sets)[number]).rows, (sets[3] as (typeof sets)[number]).rows);
  }

  await mkdir(new URL('.', RESULTS_FILE), { recursive: true });
  const result = {
    command: COMMAND,
    generatedAt: new Date().toISOString(),
    seeds: SEEDS,
    data: {
      dir: '../shared/data/spot-prices/',
      '2023': 'soso0024-us-east-1-2023/spot_price_history.csv (compared with regime modern)',
      '2016': 'hshazly-us-east-1-2016/*.json.gz (compared with regime volatile)',
    },
    onDemandPrices: { '2023': ON_DEMAND_2023, '2016': ON_DEMAND_2016 },
    notes: [
      'Statistics are time-weighted over each series window [first point, last point]; generated traces use the same windows.',
      'changesPerDay counts points whose price differs from the previous one.',
      'AZ spread: per type (and seed), highest / lowest per-AZ median price.',
    ],
    groups: sets.map((s) => s.group),
  };
  // Six significant digits are plenty for these figures and keep the file readable.
  const round = (_key: string, value: unknown): unknown => (typeof value === 'number' ? Number(value.toPrecision(6)) : value);
  await writeFile(RESULTS_FILE, `${JSON.stringify(result, round, 2)}\n`);
  if (print) console.log(`\nwritten: ${fileURLToPath(RESULTS_FILE)}`);
  return sets.map((s) => s.group);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await measurePriceRealism(true);
