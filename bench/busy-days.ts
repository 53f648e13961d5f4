// Jobs fleet throws away when it knows the busy workers: the default simulated day, the CI publishing
// the queue form with its busy workers and every worker running `fleet worker`, as
// `fleet sim --hours 24 --json --desired-form queue --seed N` runs it, over many seeds. For each job
// a fleet decision lost, how long it had run when its worker ended: a job fleet could not have seen
// (one that starts on an idle worker between the CI's list and the termination) had run for about
// as long as a cycle takes to act. Simulated cloud and simulated CI, not AWS.
//
//   npm run bench:busy-days                 # seeds 1-20
//   npm run bench:busy-days -- --seeds 50
//
// Writes bench/results/busy-days.{json,md}.

import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { loadPolicies } from '../src/config/policies.js';
import { silentLogger } from '../src/service/logger.js';
import { runSimulation } from '../src/sim/driver.js';
import { flagsOrExit, wholeFlag } from './flags.js';
import { writeResults } from './sim-cli.js';

const RESULTS = fileURLToPath(new URL('./results/busy-days', import.meta.url));
const START = Date.parse('2026-11-16T00:00:00Z');
const SPOT = 'spot-interruption';
const SEEDS = flagsOrExit(() => wholeFlag('--seeds') ?? 20);
const config = loadConfig(fileURLToPath(new URL('../config/default.json', import.meta.url)));
const policies = loadPolicies(config.policies);

async function day(seed: number) {
  const { summary, ci } = await runSimulation({
    config,
    policies,
    seed,
    start: START,
    hours: 24,
    log: silentLogger(),
    desiredForm: 'queue',
  });
  const byFleet: Record<string, number> = {};
  const ranSeconds: number[] = [];
  for (const p of policies) {
    for (const [cause, runs] of Object.entries(ci.tally(p.pool).lostRuns)) {
      if (cause === SPOT) continue;
      byFleet[cause] = (byFleet[cause] ?? 0) + runs.length;
      ranSeconds.push(...runs.map((ms) => Math.round(ms / 100) / 10));
    }
  }
  return {
    seed,
    jobsCompleted: summary.jobs.completed,
    costPerJob: summary.jobs.costPerJob,
    waitP95Seconds: summary.jobs.waitSeconds.p95,
    killedBySpot: summary.jobs.killed[SPOT] ?? 0,
    killedByFleet: byFleet,
    killedByFleetHadRunSeconds: ranSeconds.sort((a, b) => a - b),
  };
}

type Day = Awaited<ReturnType<typeof day>>;
const days: Day[] = [];
for (let seed = 1; seed <= SEEDS; seed++) days.push(await day(seed));
const total = (f: (d: Day) => number) => days.reduce((n, d) => n + f(d), 0);
const fleetKills = (d: Day) => Object.values(d.killedByFleet).reduce((a, b) => a + b, 0);
const ran = days.flatMap((d) => d.killedByFleetHadRunSeconds).sort((a, b) => a - b);
const totals = {
  days: days.length,
  jobsCompleted: total((d) => d.jobsCompleted),
  killedBySpot: total((d) => d.killedBySpot),
  killedByFleet: total(fleetKills),
  daysWithNoneKilledByFleet: days.filter((d) => fleetKills(d) === 0).length,
  longestRunLostToFleetSeconds: ran.at(-1) ?? 0,
};
const markdown = [
  '# Jobs fleet ends on days it knows the busy workers',
  '',
  `Made with \`npm run bench:busy-days\` (bench/busy-days.ts): the default simulated day (24 h from 2026-11-16) on`,
  `seeds 1–${SEEDS}, the CI publishing the queue form with its busy workers and every worker running \`fleet worker\`,`,
  'as `fleet sim --hours 24 --json --desired-form queue --seed N` runs it. Simulated cloud and simulated CI, not AWS.',
  '',
  `Over ${totals.days} days: ${totals.jobsCompleted} jobs completed, ${totals.killedBySpot} lost to spot interruptions,`,
  `${totals.killedByFleet} lost to fleet's decisions (none on ${totals.daysWithNoneKilledByFleet} of the days). The longest any of`,
  `those had run when its worker ended: ${totals.longestRunLostToFleetSeconds} s.`,
  '',
  '| seed | jobs completed | $ per job | wait p95 | killed by spot | killed by fleet, by cause | how long each had run (s) |',
  '|---|---|---|---|---|---|---|',
  ...days.map(
    (d) =>
      `| ${d.seed} | ${d.jobsCompleted} | $${d.costPerJob} | ${d.waitP95Seconds} s | ${d.killedBySpot} | ${fleetKills(d) === 0 ? '0' : JSON.stringify(d.killedByFleet)} | ${d.killedByFleetHadRunSeconds.join(', ')} |`,
  ),
  '',
].join('\n');
writeResults(RESULTS, { command: 'npm run bench:busy-days', note: 'simulated cloud and simulated CI, not AWS', totals, days }, markdown);
console.log(markdown);
