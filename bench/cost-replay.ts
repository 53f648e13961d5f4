// What does fleet's placement cost on real spot markets, next to simple rules? Replays recorded
// EC2 spot price history (../shared/data/spot-prices/, never copied into the repository) through
// `fleet sim` and through tiny controllers for the rules, under the market rule of each era, and
// reports per pool, demand and image schedule: $ per worker-hour, the ratio to the hindsight
// optimum, interruptions, unmet worker-hours and launches. It measures; nothing here is tuned.
//
//   node --import tsx bench/cost-replay.ts            # 3 pools of 2016 over 7 days, 2023 over 14 days
//   node --import tsx bench/cost-replay.ts --full     # every 2016 pool whose cheapest offer changes, whole periods
//   ... --pools N --days N                            # or choose
//   ... --data DIR                                    # the recordings elsewhere than ../shared/data/spot-prices
//   ... --spread 100%                                 # fleet with another `spread` than its default (results apart)
//   ... --job-load 0.85                               # jobs at that share of the demand curve [1] (results apart)
//
// Also run by `npm run bench` (which passes these flags on). Writes bench/results/cost-replay.json
// and a table, cost-replay.md (cost-replay-full.* with --full, cost-replay-spread-<value>.* with --spread).

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { simVcpus } from '../src/fake-cloud/catalog.js';
import { type MarketRule, marketRuleAt } from '../src/fake-cloud/market.js';
import { type PriceRecording, readPriceRecording } from '../src/fake-cloud/price-recording.js';
import {
  type Outcome,
  type Scenario,
  allOnDemand,
  bestFixedInHindsight,
  cheapestAtLaunch,
  cheapestAtStart,
  fixedOffer,
  hindsightOptimum,
  simulateRule,
} from './cost-replay/baselines.js';
import { type DemandName, demandAt } from './cost-replay/demand.js';
import { textFlag, wholeFlag } from './flags.js';
import { poolPolicy, replayedMarket, runFleet } from './cost-replay/fleet-run.js';
import { type PoolSpec, candidatePools, cheapestChanges, poolOf, poolOffers } from './cost-replay/pools.js';

/** The recordings, beside the repository; `--data DIR` points elsewhere (a checkout that lives deeper). */
const DATA_DIR = new URL('../../shared/data/spot-prices/', import.meta.url);
const DAY = 24 * 3600_000;
const SEED = 42;

/** Whole UTC days, from the first day every 2016 series has begun (the 25th starts at noon). */
const SETS = {
  '2016': { path: 'hshazly-us-east-1-2016', start: Date.parse('2016-02-26T00:00:00Z'), defaultDays: 7 },
  '2023': { path: 'soso0024-us-east-1-2023/spot_price_history.csv', start: Date.parse('2023-11-12T00:00:00Z'), defaultDays: 14 },
} as const;

const STRATEGIES = [
  'fleet',
  'fleet, plain counts',
  'fleet, on-demand fallback',
  'optimum',
  'best fixed offer',
  'cheapest at start',
  'watch_pending',
  'on-demand',
] as const;
type Strategy = (typeof STRATEGIES)[number];

export interface CostReplayOptions {
  /** every 2016 pool whose cheapest offer changes, over the whole recorded periods */
  readonly full?: boolean;
  /** how many 2016 pools (most changes of the cheapest offer first) [3] */
  readonly pools?: number;
  /** days per run (capped by each recording) */
  readonly days?: number;
  readonly print?: boolean;
  /** the directory of the recordings [../shared/data/spot-prices/ beside the repository] */
  readonly data?: string;
  /** fleet's `spread` in all its runs, instead of the policy default */
  readonly spread?: string;
  /** jobs arrive at this share of the demand curve's workers [1: as many as it wants] */
  readonly jobLoad?: number;
}

interface Row {
  readonly set: string;
  readonly pool: string;
  readonly types: readonly string[];
  readonly zones: readonly string[];
  readonly rule: MarketRule;
  readonly from: string;
  readonly days: number;
  readonly demand: DemandName;
  readonly nightlyImage: boolean;
  readonly strategies: Record<Strategy, ReturnType<typeof figures>>;
}

/**
 * A strategy's figures. `onDemand` prices what it left unmet: a rule that cannot place a worker skips
 * the dearest minutes (the optimum serves them on demand), so its $ per worker-hour flatters it;
 * `ratioWithUnmetOnDemand` counts each unmet worker-hour at the on-demand price, what serving it costs.
 */
function figures(o: Outcome, optimum: Outcome, onDemand: number, where?: string) {
  const perWorkerHour = o.servedHours > 0 ? o.cost / o.servedHours : Number.NaN;
  const best = optimum.cost / optimum.servedHours;
  const withUnmet = (o.cost + o.unmetHours * onDemand) / (o.servedHours + o.unmetHours);
  return {
    ...(where ? { offer: where } : {}),
    dollarsPerWorkerHour: round(perWorkerHour, 5),
    ratioToOptimum: round(perWorkerHour / best, 3),
    ratioWithUnmetOnDemand: round(withUnmet / best, 3),
    cost: round(o.cost, 2),
    workerHours: round(o.servedHours, 1),
    unmetWorkerHours: round(o.unmetHours, 1),
    interruptions: o.interruptions,
    launches: o.launches,
    jobsCompleted: o.jobs?.completed ?? null,
    jobsKilled: o.jobs?.killed ?? null,
    waitP95Seconds: o.jobs?.waitP95Seconds ?? null,
    costPerJob: o.jobs && o.jobs.completed > 0 ? round(o.cost / o.jobs.completed, 6) : null,
    ...(o.onDemandCost !== undefined ? { onDemandCost: round(o.onDemandCost, 2) } : {}),
  };
}

/** The policy keys of fleet's like-for-like runs: no on-demand fallback, as no baseline has one. */
const SPOT_ONLY = { onDemand: { max: 0 } };

/** What the command line changes in every row: fleet's policy keys, and the jobs' share of the demand. */
interface Variant {
  readonly fleetKeys: Record<string, unknown>;
  readonly jobLoad: number;
}

const config = loadConfig(new URL('../config/default.json', import.meta.url).pathname);

async function runRow(
  set: string,
  pool: PoolSpec,
  start: number,
  days: number,
  demand: DemandName,
  nightlyImage: boolean,
  { fleetKeys, jobLoad }: Variant,
): Promise<Row> {
  const rule = marketRuleAt(start);
  const hours = days * 24;
  const demandOf = (t: number) => demandAt(demand, t);
  const fleetRun = { pool, rule, start, hours, demand: demandOf, nightlyImages: nightlyImage, seed: SEED, jobLoad };
  // Like for like: the baselines never use on-demand, so neither does fleet in the two runs judged against them.
  const fleet = await runFleet({ ...fleetRun, form: 'queue', policy: { ...fleetKeys, ...SPOT_ONLY } }, config);
  const plain = await runFleet({ ...fleetRun, form: 'counts', policy: { ...fleetKeys, ...SPOT_ONLY } }, config);
  const fallback = await runFleet({ ...fleetRun, form: 'queue', policy: fleetKeys }, config);
  const { market, reclaimPerHour } = replayedMarket({ pool, rule, hours, start, seed: SEED });
  const scenario: Scenario = {
    offers: poolOffers(pool),
    market,
    rule,
    reclaimPerHour,
    start,
    end: start + hours * 3600_000,
    demand: demandOf,
    jobLoad,
    ...(nightlyImage
      ? { images: { graceMs: poolPolicy(pool).freshness.grace * 1000, bakeMs: poolPolicy(pool).freshness.bake * 1000 } }
      : {}),
    seed: SEED,
  };
  const optimum = hindsightOptimum(scenario);
  const fixed = bestFixedInHindsight(scenario);
  const first = cheapestAtStart(scenario);
  const name = (o: { az: string; instanceType: string }) => `${o.instanceType} ${o.az}`;
  const onDemand = Math.min(...scenario.offers.map((o) => o.onDemand));
  const f = (o: Outcome, where?: string) => figures(o, optimum, onDemand, where);
  return {
    set,
    pool: pool.name,
    types: pool.types,
    zones: pool.recording.zones('us-east-1'),
    rule,
    from: new Date(start).toISOString(),
    days,
    demand,
    nightlyImage,
    strategies: {
      fleet: f(fleet),
      'fleet, plain counts': f(plain),
      'fleet, on-demand fallback': f(fallback),
      optimum: f(optimum),
      'best fixed offer': f(simulateRule(scenario, fixedOffer(fixed)), name(fixed)),
      'cheapest at start': f(simulateRule(scenario, fixedOffer(first)), name(first)),
      watch_pending: f(simulateRule(scenario, cheapestAtLaunch(scenario))),
      'on-demand': f(simulateRule(scenario, allOnDemand(scenario))),
    },
  };
}

/** Whole days from `start` within the recording, at most `wanted`. */
function daysWithin(recording: PriceRecording, start: number, wanted: number | undefined): number {
  const available = Math.floor((recording.to - start) / DAY);
  return Math.max(1, Math.min(available, wanted ?? available));
}

export async function measureCostReplay(options: CostReplayOptions = {}): Promise<Record<string, unknown> | undefined> {
  const dataDir = options.data ? pathToFileURL(`${resolve(options.data)}/`) : DATA_DIR;
  if (!existsSync(dataDir)) {
    console.log(`cost-replay: skipped, no real spot price data at ${fileURLToPath(dataDir)}`);
    return undefined;
  }
  const began = Date.now();
  const log = (line: string) => options.print !== false && console.log(line);
  const recordings = {
    '2016': readPriceRecording(fileURLToPath(new URL(SETS['2016'].path, dataDir))),
    '2023': readPriceRecording(fileURLToPath(new URL(SETS['2023'].path, dataDir))),
  };
  const days2016 = daysWithin(
    recordings['2016'],
    SETS['2016'].start,
    options.full ? undefined : (options.days ?? SETS['2016'].defaultDays),
  );
  const days2023 = daysWithin(
    recordings['2023'],
    SETS['2023'].start,
    options.full ? undefined : (options.days ?? SETS['2023'].defaultDays),
  );

  // Pools of 2016 whose cheapest offer changes most often over the period replayed.
  const end2016 = SETS['2016'].start + days2016 * DAY;
  const candidates = candidatePools(recordings['2016'], simVcpus)
    .map((pool) => ({ pool, ...cheapestChanges(pool, SETS['2016'].start, end2016) }))
    .sort((a, b) => b.changes - a.changes || a.pool.types.length - b.pool.types.length || a.pool.name.localeCompare(b.pool.name));
  log(
    `cost-replay: changes of the cheapest spot offer (type and zone), 2016 pools, ${days2016} days from ${new Date(SETS['2016'].start).toISOString().slice(0, 10)}:`,
  );
  for (const { pool, changes, leaders } of candidates) {
    log(
      `  ${pool.name.padEnd(12)} ${String(changes).padStart(6)}  (${(changes / days2016).toFixed(1)} a day) ${pool.types.join(', ')} in ${pool.recording.zones('us-east-1').join(', ')}; cheapest at times: ${leaders.join(', ')}`,
    );
  }
  // Pools whose cheapest offer changes, most changes first; a pool whose cheapest offers are those of one already chosen adds nothing.
  const chosen: typeof candidates = [];
  for (const c of candidates) {
    if (c.changes === 0 || chosen.some((p) => p.leaders.join() === c.leaders.join())) continue;
    if (options.full || chosen.length < (options.pools ?? 3)) chosen.push(c);
  }
  const modern = poolOf('c5a.2xlarge', ['c5a.2xlarge'], recordings['2023']);
  const { changes: modernChanges } = cheapestChanges(modern, SETS['2023'].start, SETS['2023'].start + days2023 * DAY);
  log(`  2023 c5a.2xlarge: ${modernChanges} changes over ${days2023} days (${(modernChanges / days2023).toFixed(1)} a day)`);

  const runs: { set: string; pool: PoolSpec; start: number; days: number }[] = [
    ...chosen.map(({ pool }) => ({ set: '2016', pool, start: SETS['2016'].start, days: days2016 })),
    { set: '2023', pool: modern, start: SETS['2023'].start, days: days2023 },
  ];
  const fleetKeys = options.spread !== undefined ? { spread: options.spread } : {};
  const variant: Variant = { fleetKeys, jobLoad: options.jobLoad ?? 1 };
  // Checked before hours of replay: a value the policy parser refuses stops here, with its message.
  poolPolicy(modern, fleetKeys);
  const rows: Row[] = [];
  for (const run of runs) {
    for (const demand of ['constant', 'daily'] as const) {
      for (const nightlyImage of [false, true]) {
        const row = await runRow(run.set, run.pool, run.start, run.days, demand, nightlyImage, variant);
        rows.push(row);
        const s = row.strategies;
        const fig = (name: Strategy) =>
          `${s[name].ratioToOptimum}/${s[name].ratioWithUnmetOnDemand} (${s[name].interruptions} int., $${s[name].costPerJob ?? '-'}/job, ${s[name].jobsKilled ?? '-'} killed)`;
        log(
          `  ${run.set} ${run.pool.name} ${demand}${nightlyImage ? ' +image' : ''}: × optimum (/ unmet on demand) fleet ${fig('fleet')}, plain counts ${fig('fleet, plain counts')}, best fixed ${fig('best fixed offer')}, at start ${fig('cheapest at start')}, watch_pending ${fig('watch_pending')}, on-demand ${fig('on-demand')}`,
        );
      }
    }
  }

  const varied = options.spread !== undefined || options.jobLoad !== undefined;
  const flags = `${options.full ? ' --full' : ''}${options.spread !== undefined ? ` --spread ${options.spread}` : ''}${options.jobLoad !== undefined ? ` --job-load ${options.jobLoad}` : ''}`;
  const result = {
    command: `node --import tsx bench/cost-replay.ts${flags}${varied ? '' : ` (also npm run bench${options.full ? ' -- --full' : ''})`}`,
    generatedAt: new Date().toISOString(),
    seconds: Math.round((Date.now() - began) / 1000),
    data: {
      dir: '../shared/data/spot-prices/ (see its SOURCE.md; not part of the repository)',
      '2016': `${SETS['2016'].path}: us-east-1, price rule (interrupted above the max price)`,
      '2023': `${SETS['2023'].path}: us-east-1, capacity rule (simulated capacity traces and background reclaim)`,
    },
    method: [
      `fleet: the real reconciler through fleet sim, default policy for the pool (its types, one subnet per recorded zone, size 0-40, max price 100% of on-demand${options.spread !== undefined ? `, and \`spread\` ${JSON.stringify(options.spread)} instead of its default` : ''}), seed 42, 60 s cycles; "fleet" and "fleet, plain counts" with \`onDemand.max\` 0, like for like with the baselines, which have no on-demand fallback; "fleet, on-demand fallback" with the default, which serves the hours spot cannot.`,
      'Baselines (b)-(d) are minute-by-minute controllers over the same replayed market (same prices, same capacity traces under the capacity rule, same max price), the same demand and, with a nightly image, the same turnover (outdated instances replaced launch-first once the image is `grace` old, each leaving once its replacement has run `bake` seconds, the rollout rule fleet follows); a launch is ready one minute later; they never use on-demand, so what they cannot place is unmet.',
      'optimum: every wanted worker-minute at the cheapest price of that minute (spot or on-demand), moves free, no interruptions.',
      'best fixed offer: the spot offer with the lowest demand-weighted price over the run (minutes above on-demand counted at on-demand), known in hindsight. cheapest at start: the spot offer cheapest at the first minute. watch_pending: each launch into the offer cheapest at that moment; instances never move; interrupted ones are relaunched the same way.',
      "$ per worker-hour = cost / worker-hours wanted and had; ratio = that / the optimum's. Demand: constant 10 workers, or a daily CI cycle from 2 (04:00 UTC) to 20 (16:00 UTC), in five-minute steps.",
      `Jobs: the simulated CI's, the same stream for every strategy, arriving at ${variant.jobLoad === 1 ? "the demand curve's workers' worth (every wanted worker busy on average)" : `${variant.jobLoad} of the demand curve's workers' worth`}.`,
      "On-demand prices are the simulated catalog's (us-east-1 list prices of the era); spot prices are the recordings'. All infrastructure (launch latency, capacity, images) is simulated.",
    ],
    cheapestChanges2016: Object.fromEntries(candidates.map(({ pool, changes }) => [pool.name, changes])),
    pools2016: chosen.map(({ pool }) => pool.name),
    cheapestChanges2023: { 'c5a.2xlarge': modernChanges },
    rows,
  };
  const base = `cost-replay${options.full ? '-full' : ''}${options.spread !== undefined ? `-spread-${options.spread.replace('%', 'pct')}` : ''}${options.jobLoad !== undefined ? `-load-${options.jobLoad}` : ''}`;
  const RESULTS_JSON = new URL(`./results/${base}.json`, import.meta.url);
  const RESULTS_MD = new URL(`./results/${base}.md`, import.meta.url);
  await mkdir(new URL('./results/', import.meta.url), { recursive: true });
  await writeFile(RESULTS_JSON, `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(RESULTS_MD, markdown(result, rows, days2016, days2023));
  log(`cost-replay: ${rows.length} rows in ${result.seconds} s; written ${fileURLToPath(RESULTS_JSON)} and ${fileURLToPath(RESULTS_MD)}`);
  return {
    command: result.command,
    seconds: result.seconds,
    files: [RESULTS_JSON, RESULTS_MD].map((f) => `bench/results/${fileURLToPath(f).split('/').pop()}`),
    ratioToOptimum: rows.map((r) => ({
      row: `${r.set} ${r.pool} ${r.demand}${r.nightlyImage ? ' +image' : ''}`,
      ...Object.fromEntries(STRATEGIES.filter((s) => s !== 'optimum').map((s) => [s, r.strategies[s].ratioToOptimum])),
    })),
  };
}

const cell = (x: number) => (Number.isFinite(x) ? String(x) : '-');
const waitCell = (s: { waitP95Seconds: number | null }) => (s.waitP95Seconds === null ? '-' : `${s.waitP95Seconds} s`);

/** How fleet's row compares with watch_pending's: no dearer per completed job, and fewer jobs killed. */
function verdict(r: Row): string {
  const killed = (x: Row['strategies'][Strategy]) => x.jobsKilled ?? 0;
  const fleet = r.strategies.fleet;
  const rule = r.strategies.watch_pending;
  if (fleet.costPerJob === null || rule.costPerJob === null) return '-';
  const misses = [
    ...(fleet.costPerJob > rule.costPerJob ? [`${round((fleet.costPerJob / rule.costPerJob - 1) * 100, 1)}% dearer per job`] : []),
    // Where watch_pending kills none, fleet can only match it.
    ...(killed(fleet) > killed(rule) || (killed(fleet) === killed(rule) && killed(rule) > 0) ? ['kills as many or more'] : []),
  ];
  if (misses.length > 0) return misses.join(', ');
  return killed(rule) === 0 ? 'no dearer, none killed by either' : 'no dearer, fewer killed';
}

/** A markdown table of every row, one column per rule but the optimum, each cell as `show` writes a rule's figures. */
function strategyTable(rows: readonly Row[], show: (figures: Row['strategies'][Strategy]) => string): string[] {
  const rules: Strategy[] = [
    'fleet',
    'fleet, plain counts',
    'fleet, on-demand fallback',
    'best fixed offer',
    'cheapest at start',
    'watch_pending',
    'on-demand',
  ];
  return [
    `| set | pool | demand | nightly image | ${rules.join(' | ')} |`,
    `|${'---|'.repeat(4 + rules.length)}`,
    ...rows.map(
      (r) =>
        `| ${r.set} (${r.rule} rule) | ${r.pool} | ${r.demand} | ${r.nightlyImage ? 'yes' : 'no'} | ${rules.map((name) => show(r.strategies[name])).join(' | ')} |`,
    ),
  ];
}

function markdown(
  result: { command: string; method: readonly string[]; generatedAt: string },
  rows: readonly Row[],
  days2016: number,
  days2023: number,
): string {
  const lines = [
    '# Cost replay: fleet against simple rules on recorded spot markets',
    '',
    `Produced by \`${result.command}\` on ${result.generatedAt.slice(0, 10)}. 2016 rows replay ${days2016} days, the 2023 rows ${days2023} days.`,
    '',
    ...result.method.map((m) => `- ${m}`),
    '',
    '## Per completed job: fleet against watch_pending',
    '',
    '$ per completed job, then jobs killed, then the p95 queue wait. fleet: the queue form with the busy workers, workers running `fleet worker`; plain counts: the count alone, workers that do not hear `fleet:retire`; both spot only, like watch_pending. On-demand fallback: fleet with its default on-demand fallback (the queue form), its dollars on on-demand of its total: it serves hours that every spot offer is above the max price, which the spot-only rules leave unserved (their jobs wait).',
    '',
    '| set | pool | demand | nightly image | fleet | fleet, plain counts | watch_pending | fleet against watch_pending | fleet, on-demand fallback | its on-demand |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => {
      const s = r.strategies;
      const job = (x: Row['strategies'][Strategy]) => `$${x.costPerJob ?? '-'} (${x.jobsKilled ?? '-'}, ${waitCell(x)})`;
      const fallback = s['fleet, on-demand fallback'];
      return `| ${r.set} | ${r.pool} | ${r.demand} | ${r.nightlyImage ? 'yes' : 'no'} | ${job(s.fleet)} | ${job(s['fleet, plain counts'])} | ${job(s.watch_pending)} | ${verdict(r)} | ${job(fallback)} | $${fallback.onDemandCost ?? 0} of $${fallback.cost} |`;
    }),
    '',
    '## Ratio of $ per worker-hour to the hindsight optimum',
    '',
    'In brackets: unmet worker-hours, then interruptions. A ratio below 1 comes with unmet hours: a rule that cannot place a worker while the price is above its max price skips the dearest minutes, which the optimum serves on demand.',
    '',
    ...strategyTable(rows, (s) => `${cell(s.ratioToOptimum)} (${s.unmetWorkerHours}, ${s.interruptions})`),
    '',
    '## The same, each unmet worker-hour priced at on-demand',
    '',
    "What it would have cost to serve the whole demand: a rule's unmet worker-hours counted at the on-demand price of the pool's cheapest type.",
    '',
    ...strategyTable(rows, (s) => cell(s.ratioWithUnmetOnDemand)),
    '',
    '## Every strategy',
    '',
    "Jobs: the simulated CI's jobs on the strategy's workers, the same arrivals and run times for every strategy (docs/simulator-jobs.md); killed: runs lost when their worker ended.",
    '',
    '| set | pool | demand | image | strategy | $ / worker-hour | × optimum | × optimum, unmet on demand | cost $ | interruptions | unmet worker-h | launches | jobs | killed | wait p95 | $ / job |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows.flatMap((r) =>
      STRATEGIES.map((name) => {
        const s = r.strategies[name];
        const label = 'offer' in s && s.offer ? `${name} (${s.offer})` : name;
        const launches = name === 'optimum' ? '-' : String(s.launches);
        return `| ${r.set} | ${r.pool} | ${r.demand} | ${r.nightlyImage ? 'nightly' : 'none'} | ${label} | ${cell(s.dollarsPerWorkerHour)} | ${cell(s.ratioToOptimum)} | ${cell(s.ratioWithUnmetOnDemand)} | ${s.cost} | ${s.interruptions} | ${s.unmetWorkerHours} | ${launches} | ${s.jobsCompleted ?? '-'} | ${s.jobsKilled ?? '-'} | ${waitCell(s)} | ${s.costPerJob === null ? '-' : cell(s.costPerJob)} |`;
      }),
    ),
    '',
  ];
  return lines.join('\n');
}

function round(n: number, digits: number): number {
  return Number.isFinite(n) ? Math.round(n * 10 ** digits) / 10 ** digits : n;
}

/** Options from the command line: --full, --pools N, --days N, --data DIR, --spread VALUE, --job-load SHARE. */
export function costReplayArgs(): CostReplayOptions {
  const pools = wholeFlag('--pools');
  const days = wholeFlag('--days');
  const data = textFlag('--data', 'the directory of the recorded spot prices');
  const spread = textFlag('--spread', 'a spread value, e.g. 100% or 5');
  const load = textFlag('--job-load', 'a share of the demand curve above 0 and at most 1, e.g. 0.85');
  const jobLoad = load === undefined ? undefined : Number(load);
  if (jobLoad !== undefined && !(jobLoad > 0 && jobLoad <= 1))
    throw new Error(`--job-load: expected a share of the demand curve above 0 and at most 1, e.g. 0.85; got ${load}`);
  return {
    full: process.argv.includes('--full'),
    ...(pools ? { pools } : {}),
    ...(days ? { days } : {}),
    ...(data ? { data } : {}),
    ...(spread ? { spread } : {}),
    ...(jobLoad !== undefined ? { jobLoad } : {}),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await measureCostReplay(costReplayArgs());
