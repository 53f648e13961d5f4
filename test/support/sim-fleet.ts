// A whole fleet on the simulated cloud, for scenario tests: the real runtime (observe → plan →
// execute) against SimCloud, with helpers to publish inputs and move simulated time.

import type { Logger } from 'pino';
import type { FleetConfig } from '../../src/config/config.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import type { CycleResult } from '../../src/service/reconciler.js';
import { type Runtime, createRuntime } from '../../src/service/runtime.js';
import { silentLogger } from '../../src/service/logger.js';
import { SimCloud, type SimCloudOptions } from '../../src/fake-cloud/cloud.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import { Prng } from '../../src/fake-cloud/prng.js';

export const SIM_START = Date.parse('2026-11-20T10:00:00Z');
export const BUCKET = 'fleet-test';

export function testConfig(overrides: Partial<FleetConfig> = {}): FleetConfig {
  return {
    fleet: 'releng',
    regions: ['us-east-1'],
    events: { queue: '' },
    manifest: `s3://${BUCKET}/amis.json`,
    desired: `s3://${BUCKET}/desired.json`,
    state: `s3://${BUCKET}/state/`,
    policies: 'unused',
    interval: 60,
    log: { level: 'silent' },
    metrics: { port: 0, host: '127.0.0.1' },
    manifestTags: { pool: 'moz-type', created: 'moz-created' },
    capacityTtl: 180,
    priceTtl: 300,
    visibilityTimeout: 600,
    imageOwners: ['self'],
    ...overrides,
  };
}

export interface SimFleetOptions {
  readonly policies: readonly PoolPolicy[];
  readonly config?: Partial<FleetConfig>;
  readonly cloud?: Partial<SimCloudOptions>;
}

/** A cycle that ran to its end: it has its observation and plan. */
export type CompletedCycle = CycleResult & {
  readonly plan: NonNullable<CycleResult['plan']>;
  readonly observation: NonNullable<CycleResult['observation']>;
};

export class SimFleet {
  readonly cloud: SimCloud;
  readonly config: FleetConfig;
  readonly policies: readonly PoolPolicy[];
  runtime: Runtime;
  private readonly images: { id: string; pool: string; region: string; created: string; name: string }[] = [];

  constructor(options: SimFleetOptions) {
    this.policies = options.policies;
    this.config = testConfig(options.config);
    this.cloud = new SimCloud({ seed: 7, start: SIM_START, ...options.cloud, faults: { ...options.cloud?.faults } });
    this.cloud.objects.createBucket(BUCKET);
    for (const region of this.config.regions) {
      const named = new Set(this.policies.flatMap((p) => p.regions[region]?.subnets ?? []));
      this.cloud.world.adoptSubnets(region, [...named].sort());
    }
    for (const policy of this.policies) {
      for (const region of this.config.regions) if (policy.regions[region]) this.bakeImage(policy.pool, region, SIM_START - 86_400_000);
    }
    this.publishManifest();
    this.runtime = this.restart();
  }

  /**
   * A fresh reconciler process on the same cloud and state store: everything in memory is lost. It may
   * run other `policies` (an edit), log to `log`, and draw its jitter from `seed`.
   */
  restart(options: { policies?: readonly PoolPolicy[]; log?: Logger; seed?: number } = {}): Runtime {
    const rng = new Prng(options.seed ?? 99);
    this.runtime = createRuntime({
      config: this.config,
      policies: options.policies ?? this.policies,
      cloud: this.cloud,
      clock: this.cloud.clock,
      log: options.log ?? silentLogger(),
      random: () => rng.next(),
    });
    return this.runtime;
  }

  /** An image in the manifest; `ownerId`: another account's (default: the simulated account's own). */
  bakeImage(pool: string, region: string, created: number, ownerId?: string): string {
    const name = `${pool}-${new Date(created).toISOString()}`;
    const image = this.cloud.world.registerImage(region, name, created, undefined, undefined, undefined, ownerId);
    this.images.push({ id: image.id, pool, region, created: new Date(created).toISOString(), name });
    return image.id;
  }

  publishManifest(): void {
    this.cloud.objects.publish(BUCKET, 'amis.json', JSON.stringify({ images: this.images }));
  }

  publishDesired(counts: Record<string, number>): void {
    this.cloud.objects.publish(BUCKET, 'desired.json', JSON.stringify(counts));
  }

  publishRaw(key: 'amis.json' | 'desired.json', body: string): void {
    this.cloud.objects.publish(BUCKET, key, body);
  }

  /** One cycle that must not stop early (a fault test that expects it to uses cycleResult()). */
  async cycle(): Promise<CompletedCycle> {
    const result = await this.cycleResult();
    if (result.error || !result.plan || !result.observation) throw new Error(`cycle stopped: ${result.error?.message ?? 'no plan'}`);
    return result as CompletedCycle;
  }

  /** One cycle, whatever its end. */
  async cycleResult(): Promise<CycleResult> {
    const result = await this.cloud.clock.run(() => this.runtime.reconciler.cycle({ dryRun: false }));
    this.cloud.settle();
    return result;
  }

  /** Move simulated time forward (the world advances: launches finish, capacity changes). */
  advance(ms: number): void {
    this.cloud.clock.advanceTo(this.cloud.clock.now() + ms);
    this.cloud.settle();
  }

  /** Run `n` cycles, one interval apart. */
  async cycles(n: number): Promise<void> {
    for (let k = 0; k < n; k++) {
      await this.cycle();
      this.advance(this.config.interval * 1000);
    }
  }

  /** The cloud's own view (not fleet's): instances of a pool, by state. */
  instances(pool?: string, states: readonly string[] = ['pending', 'running']): SimInstance[] {
    return [...this.cloud.world.instances.values()].filter((i) => (!pool || i.tags['fleet:pool'] === pool) && states.includes(i.state));
  }

  calls(action: string, result?: string): number {
    return this.cloud.calls.filter((c) => c.action === action && (result === undefined || c.result === result)).length;
  }
}
