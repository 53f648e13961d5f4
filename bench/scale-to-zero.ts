// The scale-to-zero day: one `size.min: 0` pool whose desired comes from the simulated CI's queue
// (`--desired-form queue`), on the office workload (jobs 08:00-18:00 UTC only, opening with a
// burst), from Monday noon to Tuesday noon; without and with a `demand.schedule` window that opens
// at 07:50 on weekdays. Simulated, not AWS. Part of `npm run bench`; alone,
// `npm run bench:scale-to-zero` writes bench/results/scale-to-zero.{json,md}.

import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { loadPolicies } from '../src/config/policies.js';
import { DEFAULT_WORLD } from '../src/fake-cloud/world.js';
import { silentLogger } from '../src/service/logger.js';
import { BOOT_MS } from '../src/sim/ci/world-workers.js';
import { percentile } from '../src/sim/ci/figures.js';
import { type SimRun, runSimulation } from '../src/sim/driver.js';
import { writeResults } from './sim-cli.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const HOUR = 3600_000;
const START = '2026-11-16T12:00:00Z';
const T0 = Date.parse(START);
const HOURS = 24;
const SEED = 42;
const RESULTS = new URL('./results/scale-to-zero', import.meta.url).pathname;
const RUNS = { withoutWindow: 'without-window', withWindow: 'with-window' } as const;

/** Tuesday, the night and the morning: no job arrives from 18:00 to 08:00; the window opens at 07:50. */
export const NIGHT = { from: T0 + 12 * HOUR, to: T0 + 19.5 * HOUR } as const;
export const MORNING = { from: T0 + 18 * HOUR, burstEnd: T0 + 20.5 * HOUR } as const;

export const commandOf = (run: string) =>
  `node dist/cli/main.js -c bench/scale-to-zero/${run}.json sim --workload office --desired-form queue --start ${START} --hours ${HOURS} --seed ${SEED} --json`;

/** Boot time: the slowest launch the simulated EC2 makes, then the boot check and the CI agent. */
export function bootSeconds(): number {
  return (DEFAULT_WORLD.launchLatencyMs[1] + BOOT_MS) / 1000;
}

/** The run `fleet sim` makes with the world's config (bench/scale-to-zero/<run>.json). */
export async function simulateOfficeDay(run: string, hours = HOURS, start = T0): Promise<SimRun> {
  const config = loadConfig(fileURLToPath(new URL(`./scale-to-zero/${run}.json`, import.meta.url)));
  return runSimulation({
    config,
    policies: loadPolicies(config.policies),
    seed: SEED,
    start,
    hours,
    desiredForm: 'queue',
    workload: 'office',
    log: silentLogger(),
  });
}

/** The completed jobs that arrived in [from, to), with their waits (ms), by arrival. */
export function jobsArriving(run: SimRun, from: number, to: number): { arrivedAt: number; waitMs: number }[] {
  return run.summary.pools
    .flatMap((p) => {
      const t = run.ci.tally(p.pool);
      return t.waitsMs.map((waitMs, k) => ({ arrivedAt: t.arrivalsMs[k] as number, waitMs }));
    })
    .filter((j) => j.arrivedAt >= from && j.arrivedAt < to)
    .sort((a, b) => a.arrivedAt - b.arrivedAt);
}

/** Worker-hours billed in [from, to), from the simulated world's instances. */
export function workerHoursBetween(run: SimRun, from: number, to: number): number {
  const all = [...run.cloud.world.instances.values(), ...run.cloud.world.archive];
  return all.reduce((sum, i) => sum + Math.max(0, Math.min(i.billedUntil, to) - Math.max(i.launchTime, from)) / HOUR, 0);
}

/** The longest stretch of cycles with no live worker: [first such sample, first sample with one again). */
function longestAtZero(run: SimRun): { from: string; to: string } | null {
  let best: { from: number; to: number } | null = null;
  let since: number | undefined;
  for (const s of run.samples) {
    const live = Object.values(s.pools).reduce((n, p) => n + p.running + p.pending, 0);
    if (live === 0) since ??= s.t;
    else if (since !== undefined) {
      if (!best || s.t - since > best.to - best.from) best = { from: since, to: s.t };
      since = undefined;
    }
  }
  return best && { from: new Date(best.from).toISOString(), to: new Date(best.to).toISOString() };
}

const seconds = (ms: number) => Math.round(ms / 1000);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

function figuresOf(run: SimRun) {
  const burst = jobsArriving(run, MORNING.from, MORNING.burstEnd);
  const waits = burst.map((j) => j.waitMs).sort((a, b) => a - b);
  const first = burst[0];
  return {
    cost: run.summary.cost,
    completed: run.summary.jobs.completed,
    costPerJob: run.summary.jobs.costPerJob,
    workerHours: run.summary.instanceHours,
    nightWorkerHours: round(workerHoursBetween(run, NIGHT.from, NIGHT.to), 3),
    atZero: longestAtZero(run),
    firstMorningJob: first ? { arrived: new Date(first.arrivedAt).toISOString(), waitSeconds: seconds(first.waitMs) } : null,
    morningBurst: {
      jobs: burst.length,
      waitSeconds: { p50: seconds(percentile(waits, 0.5)), p95: seconds(percentile(waits, 0.95)), max: seconds(waits.at(-1) ?? 0) },
    },
    workingHours: run.summary.jobs.workingHours ?? null,
  };
}

export type OfficeDayFigures = ReturnType<typeof figuresOf>;

export async function measureScaleToZero() {
  const [without, withWindow] = [
    figuresOf(await simulateOfficeDay(RUNS.withoutWindow)),
    figuresOf(await simulateOfficeDay(RUNS.withWindow)),
  ];
  const interval = loadConfig(fileURLToPath(new URL('./scale-to-zero/without-window.json', import.meta.url))).interval;
  return {
    commands: { withoutWindow: commandOf(RUNS.withoutWindow), withWindow: commandOf(RUNS.withWindow) },
    seed: SEED,
    note: 'simulated cloud and simulated CI, not AWS',
    pool: 'ci-linux64: size 0-40, demand from the queue (policy demand defaults, idleTimeout 600), scaleDownAfter 300',
    window: { cron: '50 7 * * 1-5', durationSeconds: 3600, min: 24, timezone: 'UTC' },
    night: { from: new Date(NIGHT.from).toISOString(), to: new Date(NIGHT.to).toISOString() },
    morningBurst: { from: new Date(MORNING.from).toISOString(), to: new Date(MORNING.burstEnd).toISOString() },
    bootSeconds: bootSeconds(),
    intervalSeconds: interval,
    targetSeconds: bootSeconds() + interval,
    runs: { withoutWindow: without, withWindow },
    windowCost: {
      dollars: round(withWindow.cost - without.cost),
      share: round((withWindow.cost - without.cost) / without.cost, 3),
      workerHours: round(withWindow.workerHours - without.workerHours, 1),
    },
  };
}

export type ScaleToZero = Awaited<ReturnType<typeof measureScaleToZero>>;

export function scaleToZeroMarkdown(f: ScaleToZero): string {
  const w = f.runs.withoutWindow;
  const s = f.runs.withWindow;
  const at = (iso: string | undefined) => (iso ? iso.slice(11, 16) : '-');
  const zero = (r: OfficeDayFigures) => (r.atZero ? `${at(r.atZero.from)} → ${at(r.atZero.to)}` : 'never');
  const row = (label: string, r: OfficeDayFigures) =>
    `| ${label} | ${r.nightWorkerHours} | ${zero(r)} | ${r.firstMorningJob?.waitSeconds ?? '-'} s | ${r.morningBurst.jobs} | ${r.morningBurst.waitSeconds.p50} s | ${r.morningBurst.waitSeconds.p95} s | ${r.morningBurst.waitSeconds.max} s | $${r.cost.toFixed(2)} | ${r.workerHours} | $${r.costPerJob?.toFixed(4) ?? '-'} |`;
  return [
    '# Scale to zero: an office day on a `size.min: 0` pool',
    '',
    `Made with \`npm run bench:scale-to-zero\` (bench/scale-to-zero.ts): the same runs as, on seed ${f.seed},`,
    '',
    '```sh',
    'npm run build',
    f.commands.withoutWindow,
    f.commands.withWindow,
    '```',
    '',
    `One pool, ${f.pool}. The simulated CI's \`office\` workload: jobs arrive 08:00–18:00 UTC only,`,
    'the first half hour at 2.4 times the day’s rate (the morning’s pushes), none at night. The run goes from',
    'Monday 12:00 to Tuesday 12:00 UTC. The second run adds one `demand.schedule` window,',
    `\`${JSON.stringify(f.window)}\`. Everything here comes from the simulated cloud and CI, not from AWS.`,
    '',
    `Night: ${f.night.from.slice(0, 16)} → ${f.night.to.slice(11, 16)}Z. Morning burst: the jobs arriving ${f.morningBurst.from.slice(11, 16)} → ${f.morningBurst.to.slice(11, 16)}Z`,
    `(the first arrives just before 08:00). Boot time ${f.bootSeconds} s (launch up to 90 s, then 120 s to boot and`,
    `register); interval ${f.intervalSeconds} s; target for the first job: ${f.targetSeconds} s.`,
    '',
    '| run | worker-hours at night | pool at zero (UTC) | first morning job waited | burst jobs | burst wait p50 | burst wait p95 | burst wait max | cost | worker-hours | $ per job |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    row('no window', w),
    row('window 07:50, min 24, 1 h', s),
    '',
    `The window costs $${f.windowCost.dollars.toFixed(2)} more over the day (${(f.windowCost.share * 100).toFixed(1)}%, ${f.windowCost.workerHours} worker-hours).`,
    '',
  ].join('\n');
}

/** Measure and write bench/results/scale-to-zero.{json,md}; the Markdown is returned. */
export async function writeScaleToZero(): Promise<string> {
  const figures = await measureScaleToZero();
  return writeResults(RESULTS, figures, scaleToZeroMarkdown(figures));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await writeScaleToZero());
