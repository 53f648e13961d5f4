// The `fleet sim` run the job-level scenario tests share: the example policies on two regions, a
// crunch-prone market and a background interruption rate, so some workers are reclaimed under their jobs.

import { join } from 'node:path';
import { loadPolicies } from '../../src/config/policies.js';
import { silentLogger } from '../../src/service/logger.js';
import type { SimRunOptions } from '../../src/sim/driver.js';
import { testConfig } from './sim-fleet.js';

export function jobSimOptions(hours: number, more: Partial<SimRunOptions> = {}): SimRunOptions {
  return {
    config: testConfig({ regions: ['us-east-1', 'us-west-2'] }),
    policies: loadPolicies(join(import.meta.dirname, '..', '..', 'policies')),
    seed: 9,
    start: Date.parse('2026-11-16T12:00:00Z'),
    hours,
    market: { crunchesPerDay: 4 },
    world: { interruptionRatePerHour: 0.05, launchLatencyMs: [20_000, 90_000], shutdownMs: 45_000, endedListedMs: 3600_000 },
    log: silentLogger(),
    ...more,
  };
}
