// fleet itself in the cost replay: the real reconciler through `fleet sim`'s driver, with the
// default policy for the pool's types and zones, over the replayed market.

import type { FleetConfig } from '../../src/config/config.js';
import { parsePolicy } from '../../src/config/policy-schema.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { silentLogger } from '../../src/service/logger.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { runSimulation } from '../../src/sim/driver.js';
import type { Market, MarketOptions, MarketRule } from '../../src/fake-cloud/market.js';
import type { DesiredForm } from '../../src/sim/ci/desired.js';
import type { Outcome } from './baselines.js';
import { type PoolSpec, REGION } from './pools.js';

const HOUR = 3600_000;

export interface FleetRow {
  readonly pool: PoolSpec;
  readonly rule: MarketRule;
  readonly start: number;
  readonly hours: number;
  readonly demand: (t: number) => number;
  readonly nightlyImages: boolean;
  readonly seed: number;
  /** jobs arrive at this share of the demand curve's workers [1] */
  readonly jobLoad?: number;
  /**
   * What the CI tells fleet: `queue`, the desired count with the busy workers' names, each worker running
   * `fleet worker` (it honours `fleet:retire`); `counts`, the plain count, and workers that hear nothing.
   */
  readonly form: DesiredForm;
  /** policy keys over the pool's default policy (the like-for-like runs' `onDemand`) */
  readonly policy?: Record<string, unknown>;
}

/** The market options of a run: fleet's SimCloud and the baselines' market are built from these. */
export function marketOptions(row: Pick<FleetRow, 'pool' | 'rule' | 'hours'>): Partial<Omit<MarketOptions, 'start'>> {
  return { recorded: row.pool.recording, rule: row.rule, horizonMs: (row.hours + 24) * HOUR };
}

/** The same market fleet's run has: same seed, same options, same construction. */
export function replayedMarket(row: Pick<FleetRow, 'pool' | 'rule' | 'hours' | 'start' | 'seed'>): {
  market: Market;
  reclaimPerHour: number;
} {
  const cloud = new SimCloud({ seed: row.seed, start: row.start, market: marketOptions(row) });
  return { market: cloud.world.market, reclaimPerHour: cloud.world.options.interruptionRatePerHour };
}

/** fleet's default policy for the pool's types and zones (weight 1 each, up to 40 workers). */
export function poolPolicy(pool: PoolSpec, overrides: Record<string, unknown> = {}): PoolPolicy {
  // Subnet ids sort in zone order, so the driver adopts the n-th into the n-th recorded zone.
  const zones = pool.recording.zones(REGION);
  return parsePolicy(
    {
      pool: pool.name,
      instanceTypes: pool.types,
      regions: { [REGION]: { subnets: zones.map((_, n) => `subnet-${String(n + 1).padStart(8, '0')}`), securityGroups: [] } },
      size: { min: 0, max: 40 },
      names: 'worker-{nnn}',
      ...overrides,
    },
    `cost-replay ${pool.name}`,
  );
}

export async function runFleet(row: FleetRow, baseConfig: FleetConfig): Promise<Outcome> {
  const name = row.pool.name;
  const policy = poolPolicy(row.pool, row.policy);
  const config = { ...baseConfig, regions: [REGION] };
  const run = await runSimulation({
    config,
    policies: [policy],
    seed: row.seed,
    start: row.start,
    hours: row.hours,
    log: silentLogger(),
    market: marketOptions(row),
    demand: (_pool, t) => row.demand(t),
    ...(row.jobLoad !== undefined ? { jobLoad: row.jobLoad } : {}),
    nightlyImages: row.nightlyImages,
    desiredForm: row.form,
    workerAgent: row.form === 'queue',
  });
  const intervalHours = config.interval / 3600;
  let served = 0;
  let unmet = 0;
  for (const sample of run.samples) {
    const p = sample.pools[name];
    if (!p) continue;
    served += Math.min(p.wanted, p.running) * intervalHours;
    unmet += Math.max(0, p.wanted - p.running) * intervalHours;
  }
  const instances = [...run.cloud.world.instances.values(), ...run.cloud.world.archive];
  const pool = run.summary.pools[0];
  return {
    // Unrounded: the summary rounds to cents, a visible share of a cheap 2016 pool's bill.
    cost: instances.reduce((sum, i) => sum + i.cost, 0),
    onDemandCost: instances.reduce((sum, i) => sum + (i.lifecycle === 'on-demand' ? i.cost : 0), 0),
    servedHours: served,
    unmetHours: unmet,
    interruptions: pool?.interruptions ?? 0,
    launches: (pool?.launches.spot ?? 0) + (pool?.launches.onDemand ?? 0),
    jobs: {
      completed: pool?.jobs.completed ?? 0,
      killed: Object.values(pool?.jobs.killed ?? {}).reduce((a, b) => a + b, 0),
      waitP95Seconds: pool?.jobs.waitSeconds.p95 ?? 0,
    },
  };
}
