// One seed's world for the soak: which pools (2-3, one that never terminates), regions (1-2),
// policies (small, with short grace and guard windows so rollouts and guard trips happen within a
// run) and market. Everything is drawn from the seed.

import type { FleetConfig } from '../../src/config/config.js';
import { parsePolicy } from '../../src/config/policy-schema.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import type { MarketOptions } from '../../src/fake-cloud/market.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import { SIM_EVENTS_QUEUE_URL } from '../../src/fake-cloud/sqs.js';
import type { WorldOptions } from '../../src/fake-cloud/world.js';
import { testConfig } from '../support/sim-fleet.js';
import type { CiTraits } from './ci.js';

export const SOAK_BUCKET = 'fleet-soak';
export const SOAK_FLEET = 'releng';
export const MANIFEST_KEY = 'amis.json';
export const DESIRED_KEY = 'desired.json';
export const STATE_PREFIX = 'state/';

export interface SoakScenario {
  readonly seed: number;
  /** epoch ms of the first cycle */
  readonly start: number;
  readonly config: FleetConfig;
  readonly policies: readonly PoolPolicy[];
  readonly market: Partial<Omit<MarketOptions, 'start'>>;
  readonly world: Partial<WorldOptions>;
  /** the image pipeline bakes every this many hours (nightly would be too rare for a run) */
  readonly bakePeriodHours: number;
  /** what the CI publishes and how its workers behave */
  readonly ci: CiTraits;
}

/** Subnets per region, each in its own zone (the simulator adopts them in order). */
const SUBNETS: Readonly<Record<string, readonly string[]>> = {
  'us-east-1': ['subnet-e1a', 'subnet-e1b', 'subnet-e1c'],
  'us-west-2': ['subnet-w2a', 'subnet-w2b', 'subnet-w2c'],
};
const POOLS = ['bld-linux64', 'tst-linux64', 'try-linux64'];
const TYPES = ['c5.xlarge', 'm5.xlarge', 'c5a.xlarge', 'c6i.xlarge', 'm5a.xlarge'];

/** Price and capacity traces cover this much time (runs longer than a week see flat prices after it). */
const MARKET_HORIZON_MS = 8 * 24 * 3600_000;

export function soakScenario(seed: number): SoakScenario {
  const rng = new Prng(seed).fork('scenario');
  const regions = rng.chance(0.5) ? ['us-east-1'] : ['us-east-1', 'us-west-2'];
  const pools = POOLS.slice(0, rng.int(2, 3));
  const idlePool = rng.int(0, pools.length - 1);
  // Drawn from forks of their own, so that the rest of the world is what it was before workers had jobs.
  const work = new Prng(seed).fork('work');
  const policies = pools.map((pool, n) =>
    soakPolicy(rng.fork(pool), pool, regions, n === idlePool ? 'none' : 'terminate', work.fork(pool)),
  );
  const startHour = rng.int(0, 23);
  // Most seeds' CI publishes the queue form for one pool or more; a few publish plain counts only.
  const queueFirst = work.int(0, pools.length - 1);
  const plainOnly = work.chance(0.1);
  return {
    seed,
    start: Date.parse('2026-11-16T00:00:00Z') + startHour * 3600_000,
    config: soakConfig(regions),
    policies,
    market: {
      // Not derived from the run's length, so that a shorter run replays the start of a longer one.
      horizonMs: MARKET_HORIZON_MS,
      regime: rng.chance(0.15) ? 'volatile' : 'modern',
      spotCapacity: rng.int(6, 16),
      crunchesPerDay: rng.pick([2, 4, 8]),
    },
    world: { interruptionRatePerHour: rng.pick([0.02, 0.05, 0.1]) },
    bakePeriodHours: rng.pick([2, 3, 4]),
    ci: {
      queuePools: plainOnly ? [] : pools.filter((pool, n) => n === queueFirst || work.fork(`queue ${pool}`).chance(0.7)),
      agentShare: work.pick([0, 0.5, 0.8, 1]),
      load: work.pick([0.5, 0.8, 1, 1.3]),
    },
  };
}

export function soakConfig(regions: readonly string[]): FleetConfig {
  return testConfig({
    fleet: SOAK_FLEET,
    regions,
    manifest: `s3://${SOAK_BUCKET}/${MANIFEST_KEY}`,
    desired: `s3://${SOAK_BUCKET}/${DESIRED_KEY}`,
    state: `s3://${SOAK_BUCKET}/${STATE_PREFIX}`,
    policies: 'soak',
    events: { queue: SIM_EVENTS_QUEUE_URL },
  });
}

/** `work`: how long a worker asked to leave may take (short, so deadlines come within a run), and maybe a lifetime. */
function soakPolicy(rng: Prng, pool: string, regions: readonly string[], scaleDown: 'none' | 'terminate', work: Prng): PoolPolicy {
  const types = shuffled(TYPES, rng).slice(0, 2);
  const placement = Object.fromEntries(
    regions.map((region) => {
      const subnets = (SUBNETS[region] ?? []).slice(0, rng.int(2, 3));
      return [region, { subnets, securityGroups: [`sg-${pool.slice(0, 3)}1`] }];
    }),
  );
  return parsePolicy(
    {
      pool,
      instanceTypes: types,
      regions: placement,
      keyName: 'releng',
      userData: '#cloud-config\nhostname: {name}\npool: {pool}\n',
      size: { min: rng.int(0, 1), max: rng.int(4, 10) },
      spot: { maxPrice: rng.pick(['100%', '100%', '70%']), fallbackAfter: rng.pick([120, 180, 300]) },
      onDemand: { max: rng.int(1, 3), replaceBudget: 1 },
      ...(rng.chance(0.7) ? { onDemandPrice: 0.2 } : {}),
      scaleDown,
      scaleDownAfter: rng.pick([0, 120, 300]),
      freshness: {
        grace: rng.pick([600, 900, 1800]),
        retireBudget: rng.pick([1, 2, '25%', '50%']),
        drainBudget: rng.pick([1, 2, '50%']),
        guard: { window: rng.pick([300, 600]), failures: rng.pick([2, 3]) },
      },
      spread: rng.pick(['50%', '34%', 3]),
      names: `${pool}-{nnn}`,
      stopTimeout: work.pick([600, 900, 1800]),
      maxLifetime: work.pick([0, 0, 4 * 3600, 6 * 3600]),
    },
    `soak policy ${pool}`,
  );
}

/** The same policy with its launch parameters edited (security groups, key name or user data), as an operator might. */
export function editPolicy(policy: PoolPolicy, rng: Prng, revision: number): PoolPolicy {
  const what = rng.pick(['securityGroups', 'keyName', 'userData'] as const);
  if (what === 'keyName') return { ...policy, keyName: `releng-${revision}` };
  if (what === 'userData') return { ...policy, userData: `#cloud-config\nhostname: {name}\npool: {pool}\nrevision: ${revision}\n` };
  const regions = Object.fromEntries(
    Object.entries(policy.regions).map(([region, p]) => [
      region,
      { ...p, securityGroups: [`sg-${policy.pool.slice(0, 3)}${revision + 1}`] },
    ]),
  );
  return { ...policy, regions };
}

/** A copy of `items` in an order drawn from `rng` (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], rng: Prng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
