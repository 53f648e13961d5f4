// fleet's demand estimator on the default simulated day: the simulated CI publishes its queue
// (`--desired-form queue`) and fleet works desired out, against the same run with the CI's own
// plain counts (pending + running: the oracle). Same seed, the built CLI with its default config.
// Simulated, not AWS. Part of `npm run bench`; alone, `npm run bench:demand` writes
// bench/results/demand-estimator.{json,md}.

import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import type { JobFigures } from '../src/sim/ci/figures.js';
import type { SimSummary } from '../src/sim/summary.js';
import { bootSeconds } from './scale-to-zero.js';
import { simJson, writeResults } from './sim-cli.js';

const RESULTS = new URL('./results/demand-estimator', import.meta.url).pathname;
const SEED = 42;
const COMMAND = {
  oracle: 'node dist/cli/main.js sim --hours 24 --json',
  estimator: 'node dist/cli/main.js sim --hours 24 --json --desired-form queue',
};
/** The cost per completed job the estimator may add to the oracle's. */
const COST_MARGIN = 0.05;

interface Run {
  readonly cost: number;
  readonly jobs: JobFigures;
  readonly unmetShare: number;
  readonly idleWorkerHours: number;
  readonly pools: readonly { readonly pool: string; readonly jobs: JobFigures; readonly cost: number; readonly launches: number }[];
}

async function sim(command: string): Promise<Run> {
  const s = await simJson<SimSummary>([...command.split(' ').slice(2), '--seed', String(SEED)]);
  return {
    cost: s.cost,
    jobs: s.jobs,
    unmetShare: s.unmetShare,
    idleWorkerHours: s.idleWorkerHours,
    pools: s.pools.map((p) => ({ pool: p.pool, jobs: p.jobs, cost: p.cost, launches: p.launches.spot + p.launches.onDemand })),
  };
}

/** Both runs (in parallel: they are independent processes), and the estimator against its target. */
export async function measureDemandEstimator() {
  const [counts, queue] = await Promise.all([sim(COMMAND.oracle), sim(COMMAND.estimator)]);
  const interval = loadConfig(fileURLToPath(new URL('../config/default.json', import.meta.url))).interval;
  const targetSeconds = bootSeconds() + interval;
  const p95 = queue.jobs.workingHours?.waitSeconds.p95 ?? Number.POSITIVE_INFINITY;
  const costRatio = (queue.jobs.costPerJob ?? Number.POSITIVE_INFINITY) / (counts.jobs.costPerJob ?? Number.NaN);
  return {
    command: COMMAND,
    seed: SEED,
    note: 'simulated cloud and simulated CI, not AWS',
    target: {
      workingHours: queue.jobs.workingHours?.utc ?? null,
      bootSeconds: bootSeconds(),
      intervalSeconds: interval,
      waitP95Seconds: targetSeconds,
      costPerJobAtMost: `oracle + ${COST_MARGIN * 100}%`,
    },
    verdict: {
      workingHoursWaitP95Seconds: p95,
      costPerJobRatio: Math.round(costRatio * 1000) / 1000,
      met: p95 <= targetSeconds && costRatio <= 1 + COST_MARGIN,
    },
    runs: { counts, queue },
  };
}

export type DemandEstimator = Awaited<ReturnType<typeof measureDemandEstimator>>;

export function demandEstimatorMarkdown(f: DemandEstimator): string {
  const killed = (j: JobFigures, cause: (c: string) => boolean) =>
    Object.entries(j.killed)
      .filter(([c]) => cause(c))
      .reduce((n, [, k]) => n + k, 0);
  const row = (label: string, j: JobFigures, cost: number) =>
    `| ${label} | $${cost.toFixed(2)} | ${j.completed} | $${j.costPerJob?.toFixed(4) ?? '-'} | ${j.waitSeconds.p50} s | ${j.waitSeconds.p95} s | ${j.waitSeconds.max} s | ${j.workingHours?.completed ?? '-'} | ${j.workingHours?.waitSeconds.p95 ?? '-'} s | ${j.workingHours?.waitSeconds.max ?? '-'} s | ${killed(j, (c) => c !== 'spot-interruption' && c !== 'instance-initiated')} | ${killed(j, (c) => c === 'spot-interruption')} |`;
  const header = [
    '| desired from | cost | jobs completed | $ per job | wait p50 | wait p95 | wait max | jobs in working hours | their wait p95 | their wait max | killed by fleet | killed by spot interruptions |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  const { counts, queue } = f.runs;
  const poolRows = queue.pools.flatMap((q) => {
    const c = counts.pools.find((p) => p.pool === q.pool);
    return c
      ? [
          row(`${q.pool}, oracle, ${c.launches} launches`, c.jobs, c.cost),
          row(`${q.pool}, estimator, ${q.launches} launches`, q.jobs, q.cost),
        ]
      : [];
  });
  const t = f.target;
  return [
    "# fleet's demand estimator against the simulated CI's own counts",
    '',
    `Made with \`npm run bench:demand\` (bench/demand-estimator.ts): \`npm run build\` and then, on the same seed (${f.seed}), the default simulated day:`,
    '',
    '```sh',
    `${f.command.oracle}       # the CI publishes plain counts (pending + running): the oracle`,
    `${f.command.estimator}   # the CI publishes its queue; fleet's estimator works desired out (policy demand defaults)`,
    '```',
    '',
    'Everything here comes from the simulated cloud and the simulated CI, not from AWS. The two forms differ in',
    "more than the estimator: the queue form also publishes the busy list (fleet's own terminations spare busy",
    'workers; with plain counts they do not) and is published every cycle, the plain counts every five minutes.',
    '',
    `**Target**: in working hours (jobs arriving ${t.workingHours} UTC, where the simulated day's curve is above the middle`,
    `of its range), the estimator's wait p95 within boot time (${t.bootSeconds} s: launch up to 90 s, then 120 s to boot and`,
    `register) plus one interval (${t.intervalSeconds} s) = ${t.waitP95Seconds} s, at no more than ${t.costPerJobAtMost} cost per completed job.`,
    `**Measured**: working-hours wait p95 ${f.verdict.workingHoursWaitP95Seconds} s; cost per job ${f.verdict.costPerJobRatio} × the oracle's: ${f.verdict.met ? 'met' : 'not met'}.`,
    '',
    ...header,
    row('oracle (plain counts: pending + running)', counts.jobs, counts.cost),
    row("fleet's estimator (queue form, policy demand defaults)", queue.jobs, queue.cost),
    '',
    'Per pool:',
    '',
    ...header,
    ...poolRows,
    '',
    'In a `scaleDown: none` pool (tst-linux64) the estimator holds nothing up for `idleTimeout`: its idle workers',
    'leave by themselves, and a held estimate would only launch others in their place.',
    '',
  ].join('\n');
}

/** Measure and write bench/results/demand-estimator.{json,md}; the Markdown is returned. */
export async function writeDemandEstimator(): Promise<string> {
  const figures = await measureDemandEstimator();
  return writeResults(RESULTS, figures, demandEstimatorMarkdown(figures));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await writeDemandEstimator());
