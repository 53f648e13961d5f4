// npm run bench: figures about fleet, written to bench/results/figures.json and printed.
// Benchmarks, not tests: nothing here asserts; docs/performance.md reads the figures written by this command.
// Everything but the planner timing and the price comparison runs on the simulated cloud; the
// cost replay runs it on recorded spot prices.

import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config/config.js';
import { loadPolicies } from '../src/config/policies.js';
import type { Instance } from '../src/domain/types.js';
import { silentLogger } from '../src/service/logger.js';
import { type SimRunOptions, runSimulation } from '../src/sim/driver.js';
import type { SimSummary } from '../src/sim/summary.js';
import { DEFAULT_PRICES, T0, image, policy, snapshot } from '../test/support/builders.js';
import { SimFleet } from '../test/support/sim-fleet.js';
import { WARM_UP_RUNS, plan } from './compiled-planner.js';
import { costReplayArgs, measureCostReplay } from './cost-replay.js';
import { writeDemandEstimator } from './demand-estimator.js';
import { eventsLine, measureEvents } from './events.js';
import { measurePriceRealism } from './price-realism.js';
import { measureScale } from './scale/index.js';
import { writeScaleToZero } from './scale-to-zero.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const RESULTS = new URL('./results/figures.json', import.meta.url);
const START = Date.parse('2026-11-16T00:00:00Z');
const config = loadConfig(new URL('../config/default.json', import.meta.url).pathname);
const policies = loadPolicies(config.policies);

async function simulate(label: string, options: Partial<SimRunOptions>): Promise<Record<string, unknown>> {
  const { summary } = await runSimulation({ config, policies, seed: 42, start: START, hours: 24, log: silentLogger(), ...options });
  return { label, ...digest(summary) };
}

function digest(s: SimSummary) {
  return {
    hours: (Date.parse(s.end) - Date.parse(s.start)) / 3600_000,
    cycles: s.cycles,
    failedCycles: s.failedCycles,
    spotShare: s.spotShare,
    instanceHours: s.instanceHours,
    cost: s.cost,
    onDemandCost: s.onDemandCost,
    saved: s.onDemandCost > 0 ? Math.round((1 - s.cost / s.onDemandCost) * 1000) / 1000 : 0,
    jobs: s.jobs,
    jobsKilled: Object.values(s.jobs.killed).reduce((a, b) => a + b, 0),
    idleWorkerHours: s.idleWorkerHours,
    ended: s.ended,
    pools: s.pools,
    rollouts: s.rollouts,
    drained: s.drained.map((d) => `${d.ami} (${d.by})`),
    launchesPerZone: s.launchesPerZone,
    apiCalls: s.api.total,
    callsPerQuietCycle: s.api.perQuietCycle,
    refused: s.api.failed,
    createNetworkInterface: s.api.createNetworkInterface,
  };
}

/** Calls in steady-state cycles (nothing to change), 3 pools × 2 regions, at two fleet sizes. */
async function steadyState(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const scale of [1, 10, 50]) {
    const regions = {
      'us-east-1': { subnets: ['subnet-1a', 'subnet-1b', 'subnet-1c'], securityGroups: [] },
      'us-west-2': { subnets: ['subnet-2a', 'subnet-2b'], securityGroups: [] },
    };
    const pools = ['bld-linux64', 'tst-linux64', 'try-linux64'].map((pool) =>
      policy({ pool, names: `${pool}-{nnn}`, regions, size: { min: 0, max: 1000 }, instanceTypes: ['c5.xlarge', 'm5.xlarge'] }),
    );
    // A quiet market (no crunches, no reclaims): only the calls a steady fleet costs are counted.
    const fleet = new SimFleet({
      policies: pools,
      config: { regions: ['us-east-1', 'us-west-2'] },
      cloud: { market: { crunchesPerDay: 0, spotCapacity: 1000 }, world: { interruptionRatePerHour: 0 } },
    });
    fleet.publishDesired({ 'bld-linux64': 4 * scale, 'tst-linux64': 6 * scale, 'try-linux64': 2 * scale });
    await fleet.cycles(6);
    const ec2Before = fleet.cloud.calls.length;
    const s3Before = fleet.cloud.objects.log.length;
    const cycles = 30;
    await fleet.cycles(cycles);
    const ec2 = fleet.cloud.calls.slice(ec2Before);
    const byAction: Record<string, number> = {};
    for (const c of ec2) byAction[c.action] = (byAction[c.action] ?? 0) + 1;
    out[`${12 * scale} instances`] = {
      cycles,
      ec2PerCycle: round(ec2.length / cycles),
      s3PerCycle: round((fleet.cloud.objects.log.length - s3Before) / cycles),
      ec2ByAction: byAction,
    };
  }
  return out;
}

/** Wall-clock time of one plan() over a large snapshot (compiled, warmed up; this machine; a bench, not a test). */
function plannerTiming(): Record<string, unknown> {
  const pools = Array.from({ length: 10 }, (_, n) => policy({ pool: `pool-${n}`, names: `pool-${n}-{nnnn}`, size: { min: 0, max: 2000 } }));
  const instances: Instance[] = [];
  for (const p of pools) {
    for (let k = 1; k <= 500; k++) {
      instances.push({
        id: `i-${p.pool}-${k}`,
        name: `${p.pool}-${String(k).padStart(4, '0')}`,
        pool: p.pool,
        region: 'us-east-1',
        az: ['us-east-1a', 'us-east-1b', 'us-east-1c'][k % 3] as string,
        instanceType: k % 2 ? 'c5.xlarge' : 'm5.xlarge',
        lifecycle: k % 10 === 0 ? 'on-demand' : 'spot',
        state: 'running',
        ami: 'ami-new',
        launchTime: T0 - k * 60_000,
      });
    }
  }
  const images = pools.map((p) => image('ami-new', 1, p.pool));
  const desired = Object.fromEntries(pools.map((p, n) => [p.pool, 400 + n * 40]));
  const snap = snapshot({ desired, images, instances, spotPrices: DEFAULT_PRICES });
  const times: number[] = [];
  let actions = 0;
  for (let k = 0; k < WARM_UP_RUNS; k++) plan(snap, pools, 'bench');
  for (let k = 0; k < 30; k++) {
    const t = performance.now();
    actions = plan(snap, pools, 'bench').actions.length;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return {
    pools: pools.length,
    instances: instances.length,
    actions,
    medianMs: round(times[15] as number),
    p90Ms: round(times[27] as number),
  };
}

/** The scale section in one line: planner medians, steady calls per region, the ramp against EC2's bound. */
function scaleLine(scale: Record<string, unknown>) {
  const planner = (scale.planner as { rows: { instances: number; medianMs: number }[] }).rows.map(
    (r) => `${r.instances}: ${r.medianMs} ms`,
  );
  const steady = (scale.steadyCalls as { rows: { instances: number; ec2CallsPerCyclePerRegion: number }[] }).rows.map(
    (r) => `${r.instances}: ${r.ec2CallsPerCyclePerRegion}`,
  );
  const ramp = scale.rampTo1000 as { secondsTo1000Running: number; boundSeconds: number; runInstancesCalls: number };
  return {
    planner,
    steadyEc2CallsPerRegion: steady,
    rampTo1000: `${ramp.secondsTo1000Running} s (bound ${ramp.boundSeconds} s), ${ramp.runInstancesCalls} RunInstances`,
  };
}

/** The example pools with a short grace and bake, so that a nightly image turns every pool over within hours. */
const quickTurnover = policies.map((p) => ({ ...p, freshness: { ...p.freshness, grace: 1800, bake: 300 } }));
/** A flat demand: what moves capacity is the rollout alone. */
const FLAT: Readonly<Record<string, number>> = { 'bld-linux64': 40, 'tst-linux64': 60, 'try-linux64': 20 };

/** One line per image published during a run: who booted it, how its canary phase ended, its turnover. */
function rolloutLines(f: Record<string, unknown>): string[] {
  const minutes = (s: number | null) => (s === null ? '-' : `${Math.round(s / 60)} min`);
  const rollouts = f.rollouts as SimSummary['rollouts'];
  const pools = f.pools as SimSummary['pools'];
  return [
    ...rollouts.map(
      (r) =>
        `  ${r.pool} ${r.region}: booted ${r.booted}, canary phase ${r.canaryEnd} after ${minutes(r.canarySeconds)}, turnover ${minutes(r.turnoverSeconds)}`,
    ),
    ...pools.map(
      (p) =>
        `  ${p.pool}: lowest running on launchable images during rollouts ${p.rolloutCapacity ? `${p.rolloutCapacity.running} of ${p.rolloutCapacity.wanted} wanted` : '-'}`,
    ),
  ];
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

const figures = {
  command: 'npm run bench',
  machine: { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
  simulatedDay: await simulate('one simulated day, example pools, default market (seed 42)', {}),
  spotExhausted: await simulate('8 hours, every spot offer out of capacity from hour 2 to 4', {
    hours: 8,
    exhaust: [{ lifecycle: 'spot', instanceType: '*', az: '*', fromHour: 2, toHour: 4 }],
  }),
  throttled: await simulate('6 hours, 30% of API calls answered RequestLimitExceeded', { hours: 6, faults: { throttleRate: 0.3 } }),
  volatileMarket: await simulate('one simulated day, 2016-style volatile spot market', { market: { regime: 'volatile' } }),
  brokenImage: await simulate('two days; the nightly image after hour 12 is broken (its workers fail to boot)', {
    hours: 48,
    badImageAfterHour: 12,
  }),
  goodImage: await simulate('12 hours, flat demand, no interruptions; the 04:00 nightly image rolls out with grace 1800 s and bake 300 s', {
    hours: 12,
    policies: quickTurnover,
    demand: (pool) => FLAT[pool] ?? 0,
    // No capacity crunch, no drift below use, no background reclaim: nothing is interrupted.
    market: { crunchesPerDay: 0, spotCapacity: 1000 },
    world: { interruptionRatePerHour: 0 },
  }),
  // `fleet sim --hours 24 --crunches 2` without and with --events (alone: npm run bench:events).
  events: await measureEvents(),
  steadyState: await steadyState(),
  planner: plannerTiming(),
  // The planner at 1k–100k instances, API calls per steady cycle at scale, 0 → 1,000 in one pool.
  scale: await measureScale(),
  priceRealism: (await measurePriceRealism(false)) ?? 'skipped: ../shared/data/spot-prices not found',
  // Recorded spot markets replayed; `npm run bench -- --full` runs every pool over whole periods.
  costReplay: (await measureCostReplay(costReplayArgs())) ?? 'skipped: ../shared/data/spot-prices not found',
};

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(RESULTS, `${JSON.stringify(figures, null, 2)}\n`);
const line = (label: string, f: Record<string, unknown>) =>
  `${label}: spot share ${(Number(f.spotShare) * 100).toFixed(1)}%, cost $${f.cost} vs $${f.onDemandCost} all on-demand, ${f.apiCalls} API calls, ${f.callsPerQuietCycle} EC2 calls per quiet cycle; ${jobsText(f)}`;
function jobsText(f: Record<string, unknown>): string {
  const jobs = f.jobs as SimSummary['jobs'];
  return `${jobs.completed} jobs, $${jobs.costPerJob ?? '-'} per job, ${f.jobsKilled} killed (${
    Object.entries(jobs.killed)
      .map(([c, n]) => `${c} ${n}`)
      .join(', ') || 'none'
  }), wait p95 ${jobs.waitSeconds.p95} s`;
}
console.log(line('simulated day', figures.simulatedDay));
console.log(line('spot exhausted', figures.spotExhausted));
console.log(line('throttled', figures.throttled));
console.log(line('volatile market', figures.volatileMarket));
console.log(line('broken image', figures.brokenImage), JSON.stringify(figures.brokenImage.drained));
console.log(rolloutLines(figures.brokenImage).join('\n'));
console.log(line('good image', figures.goodImage));
console.log(rolloutLines(figures.goodImage).join('\n'));
console.log(eventsLine(figures.events));
console.log('steady state:', JSON.stringify(figures.steadyState));
console.log('planner:', JSON.stringify(figures.planner));
console.log('scale:', JSON.stringify(scaleLine(figures.scale)));
console.log(`written: ${RESULTS.pathname}`);
// The demand estimator against the CI's own counts, and the scale-to-zero day: their own result files.
await writeDemandEstimator();
await writeScaleToZero();
console.log('written: bench/results/demand-estimator.{json,md}, bench/results/scale-to-zero.{json,md}');
