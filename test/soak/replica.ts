// A replica of the service in the soak: the real runtime (createRuntime) and leader lease, as
// `fleet reconcile` wires them, on its own ProcessCloud. A restart is a fresh process of the same
// replica (same lease holder, as a supervisor restarting a pod of stable identity), with nothing
// kept in memory.

import type { Logger } from 'pino';
import type { FleetConfig } from '../../src/config/config.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { LeaderLease, leaseTtlMs } from '../../src/service/lease.js';
import type { CycleResult } from '../../src/service/reconciler.js';
import { type Runtime, createRuntime } from '../../src/service/runtime.js';
import type { SimCloud } from '../../src/fake-cloud/cloud.js';
import { spendWaitOnEvents } from '../../src/sim/event-wait.js';
import type { Prng } from '../../src/fake-cloud/prng.js';
import { ProcessCloud } from './process.js';

export interface ReplicaDeps {
  readonly cloud: SimCloud;
  readonly config: FleetConfig;
  readonly rng: Prng;
  readonly log: Logger;
  readonly watchReads: (bucket: string, key: string) => boolean;
}

/** One turn of the service loop: take or renew the lease, then a cycle if held. */
export interface Tick {
  readonly process: string;
  readonly start: number;
  readonly end: number;
  readonly leader: boolean;
  readonly result?: CycleResult;
  readonly error?: { readonly name: string; readonly code?: string; readonly message: string };
  readonly killed: boolean;
  /** calls the process made during the turn */
  readonly calls: number;
}

export class Replica {
  private incarnation = 0;
  process!: ProcessCloud;
  runtime!: Runtime;
  lease!: LeaderLease;

  constructor(
    readonly id: string,
    private policies: readonly PoolPolicy[],
    private readonly deps: ReplicaDeps,
  ) {
    this.restart();
  }

  get processName(): string {
    return this.process.dead ? `${this.id}#${this.incarnation} (dead)` : `${this.id}#${this.incarnation}`;
  }

  /** A fresh process of this replica (optionally with edited policies): everything in memory is lost. */
  restart(policies: readonly PoolPolicy[] = this.policies): void {
    this.policies = policies;
    this.incarnation++;
    const { cloud, config, log } = this.deps;
    const random = this.deps.rng.fork(`${this.id}#${this.incarnation}`);
    this.process = new ProcessCloud(cloud, {
      replica: this.id,
      process: `${this.id}#${this.incarnation}`,
      clock: cloud.clock,
      watchReads: this.deps.watchReads,
    });
    this.runtime = createRuntime({
      config,
      policies,
      cloud: this.process,
      clock: cloud.clock,
      log,
      random: () => random.next(),
      leaseFor: (state) => new LeaderLease(state, this.id, leaseTtlMs(config.interval), cloud.clock, log),
    });
    this.lease = this.runtime.lease as LeaderLease;
  }

  /**
   * The rest of the interval, until `until`, spent as the service spends it (service/loop.ts): the
   * lease holder long-polls the event queue, and an interruption warning runs a turn at once. A
   * standby, or a dead process, only waits. Returns the turns run early.
   */
  async wait(lastTurnAt: number, until: number): Promise<Tick[]> {
    const { clock } = this.deps.cloud;
    const inbox = this.runtime.inbox;
    const early: Tick[] = [];
    if (inbox) {
      const mayPoll = () => !this.process.dead && this.lease.holds();
      await spendWaitOnEvents({
        inbox,
        clock,
        lastCycleAt: lastTurnAt,
        until,
        mayPoll,
        log: this.deps.log,
        cycle: async () => early.push(await this.tick()),
      });
    }
    clock.advanceTo(until);
    return early;
  }

  /** One turn of the service loop on the simulated clock, as `fleet reconcile` runs it. */
  async tick(): Promise<Tick> {
    const { clock } = this.deps.cloud;
    const process = `${this.id}#${this.incarnation}`;
    const start = clock.now();
    const callsBefore = this.process.callCount;
    let leader = false;
    let result: CycleResult | undefined;
    let error: Tick['error'];
    try {
      result = await clock.run(async () => {
        leader = (await this.lease.acquireOrRenew()).held;
        return leader ? this.runtime.reconciler.cycle({ dryRun: false }) : undefined;
      });
    } catch (e) {
      const thrown = e as { name?: unknown; code?: unknown; message?: unknown };
      error = {
        name: typeof thrown?.name === 'string' ? thrown.name : 'Error',
        ...(typeof thrown?.code === 'string' ? { code: thrown.code } : {}),
        message: String(thrown?.message ?? e),
      };
    }
    return {
      process,
      start,
      end: clock.now(),
      leader,
      ...(result ? { result } : {}),
      ...(error ? { error } : {}),
      killed: this.process.dead,
      calls: this.process.callCount - callsBefore,
    };
  }
}
