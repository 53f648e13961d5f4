// Small builders for the pure core's inputs: a policy, instances, a snapshot.

import { parsePolicy } from '../../src/config/policy-schema.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import type { PendingLaunch, Snapshot } from '../../src/domain/snapshot.js';
import type { Image, Instance, SpotPrice, Subnet } from '../../src/domain/types.js';

export const T0 = Date.parse('2026-11-20T12:00:00Z');

export const SUBNETS: Record<string, Subnet> = {
  'subnet-a': { id: 'subnet-a', region: 'us-east-1', az: 'us-east-1a' },
  'subnet-b': { id: 'subnet-b', region: 'us-east-1', az: 'us-east-1b' },
  'subnet-c': { id: 'subnet-c', region: 'us-east-1', az: 'us-east-1c' },
};

export function policy(overrides: Record<string, unknown> = {}): PoolPolicy {
  return parsePolicy(
    {
      pool: 'bld-linux64',
      instanceTypes: [
        { type: 'c5.xlarge', weight: 1 },
        { type: 'm5.xlarge', weight: 1 },
      ],
      regions: { 'us-east-1': { subnets: ['subnet-a', 'subnet-b', 'subnet-c'], securityGroups: ['sg-1'] } },
      size: { min: 0, max: 100 },
      onDemandPrice: 0.2,
      names: 'bld-linux64-spot-{nnn}',
      // Placement by price alone, and no moves between offers, so that each test sees the behaviour
      // it is about; spread and rebalancing have tests of their own (test/unit/policy/placement.test.ts).
      spread: '100%',
      rebalance: { enabled: false },
      ...overrides,
    },
    'test-policy',
  );
}

export function image(id: string, createdHoursAgo: number, pool = 'bld-linux64', region = 'us-east-1'): Image {
  return { id, pool, region, created: T0 - createdHoursAgo * 3600_000, name: id };
}

let serial = 0;
export function instance(overrides: Partial<Instance> = {}): Instance {
  serial++;
  return {
    id: `i-${String(serial).padStart(6, '0')}`,
    name: `bld-linux64-spot-${String(serial).padStart(3, '0')}`,
    pool: 'bld-linux64',
    region: 'us-east-1',
    az: 'us-east-1a',
    subnetId: 'subnet-a',
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    state: 'running',
    ami: 'ami-new',
    launchTime: T0 - 3600_000,
    ...overrides,
  };
}

export function spot(az: string, instanceType: string, price: number, productDescription = 'Linux/UNIX'): SpotPrice {
  return { region: 'us-east-1', az, instanceType, productDescription, price, timestamp: T0 - 60_000 };
}

/** Spot prices for every zone and type of the default policy: c5 cheapest in 1b. */
export const DEFAULT_PRICES: SpotPrice[] = [
  spot('us-east-1a', 'c5.xlarge', 0.07),
  spot('us-east-1b', 'c5.xlarge', 0.06),
  spot('us-east-1c', 'c5.xlarge', 0.08),
  spot('us-east-1a', 'm5.xlarge', 0.09),
  spot('us-east-1b', 'm5.xlarge', 0.085),
  spot('us-east-1c', 'm5.xlarge', 0.095),
];

export function snapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return {
    now: T0,
    regions: ['us-east-1'],
    desired: { 'bld-linux64': 0 },
    images: [image('ami-old', 48), image('ami-new', 24)],
    drained: new Set(),
    instances: [],
    pendingLaunches: [],
    subnets: SUBNETS,
    spotPrices: DEFAULT_PRICES,
    onDemandPrices: {},
    unavailable: {},
    timers: {},
    terminatedByFleet: new Set(),
    ...overrides,
  };
}

export function pendingLaunch(overrides: Partial<PendingLaunch> = {}): PendingLaunch {
  return {
    clientToken: `token-${++serial}`,
    resendable: true,
    pool: 'bld-linux64',
    region: 'us-east-1',
    az: 'us-east-1b',
    subnetId: 'subnet-b',
    instanceType: 'c5.xlarge',
    lifecycle: 'spot',
    ami: 'ami-new',
    name: `bld-linux64-spot-${String(900 + serial).padStart(3, '0')}`,
    requestedAt: T0 - 30_000,
    ...overrides,
  };
}
