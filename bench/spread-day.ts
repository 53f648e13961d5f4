// What the automatic spread buys and costs on the default simulated day: the example pools as
// written (`spread` "auto", the default) against the same pools with `spread` "100%" (no cap), the
// CI publishing the queue form with its busy workers and the workers running `fleet worker`, as
// `fleet sim --hours 24 --json --desired-form queue` runs it, on two seeds. Simulated cloud and
// simulated CI, not AWS. `npm run bench:spread` writes bench/results/spread-day.{json,md}.

import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/config.js';
import { parsePolicy } from '../src/config/policy-schema.js';
import { loadPolicies } from '../src/config/policies.js';
import type { PoolPolicy } from '../src/domain/policy.js';
import { silentLogger } from '../src/service/logger.js';
import { runSimulation } from '../src/sim/driver.js';
import { writeResults } from './sim-cli.js';

const RESULTS = fileURLToPath(new URL('./results/spread-day', import.meta.url));
const START = Date.parse('2026-11-16T00:00:00Z');
const SEEDS = [42, 11];
const config = loadConfig(fileURLToPath(new URL('../config/default.json', import.meta.url)));
const examples = loadPolicies(config.policies);

/** The example pools with `spread` set in each, parsed as their files saying so would be. */
function withSpread(spread: string): PoolPolicy[] {
  return readdirSync(config.policies)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const path = join(config.policies, f);
      return parsePolicy({ ...(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>), spread }, path);
    });
}

async function day(policies: readonly PoolPolicy[], seed: number) {
  const { summary } = await runSimulation({ config, policies, seed, start: START, hours: 24, log: silentLogger(), desiredForm: 'queue' });
  const killed = summary.jobs.killed;
  return {
    cost: summary.cost,
    jobsCompleted: summary.jobs.completed,
    costPerJob: summary.jobs.costPerJob,
    waitP95Seconds: summary.jobs.waitSeconds.p95,
    killedBySpot: killed['spot-interruption'] ?? 0,
    killedByFleet: Object.entries(killed).reduce((n, [cause, k]) => n + (cause === 'spot-interruption' ? 0 : k), 0),
    interruptions: summary.interruptions,
  };
}

type Day = Awaited<ReturnType<typeof day>>;
const runs: Record<string, Record<string, Day>> = {};
for (const [label, policies] of [
  ['auto (the default)', examples],
  ['100% (no cap)', withSpread('100%')],
] as const) {
  const bySeed: Record<string, Day> = {};
  for (const seed of SEEDS) bySeed[`seed ${seed}`] = await day(policies, seed);
  runs[label] = bySeed;
}

const rows = Object.entries(runs).flatMap(([label, bySeed]) =>
  Object.entries(bySeed).map(
    ([seed, r]) =>
      `| ${label} | ${seed} | $${r.cost.toFixed(2)} | ${r.jobsCompleted} | $${r.costPerJob} | ${r.waitP95Seconds} s | ${r.killedByFleet} | ${r.killedBySpot} | ${r.interruptions} |`,
  ),
);
const markdown = [
  '# The automatic spread on the default simulated day',
  '',
  'Made with `npm run bench:spread` (bench/spread-day.ts): the example pools of `policies/` on the default',
  'simulated day (24 h from 2026-11-16, the capacity rule with crunches), the CI publishing the queue form with',
  'its busy workers, workers running `fleet worker`, as `fleet sim --hours 24 --json --desired-form queue` runs it;',
  'then the same pools with `"spread": "100%"`. Simulated cloud and simulated CI, not AWS.',
  '',
  '| spread | seed | cost | jobs completed | $ per job | wait p95 | jobs killed by fleet | jobs killed by spot interruptions | spot interruptions |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
writeResults(RESULTS, { command: 'npm run bench:spread', note: 'simulated cloud and simulated CI, not AWS', runs }, markdown);
console.log(markdown);
