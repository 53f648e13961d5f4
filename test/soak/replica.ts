// A replica of the service in the soak: the real runtime (createRuntime) and leader lease, as
// `fleet reconcile` wires them, on its own ProcessCloud. A restart is a fresh process of the same
// replica (same lease holder, as a supervisor restarting a pod of stable identity), with nothing
// kept in memory.

import type { Logger } from 'pino';
import type { FleetConfig } from '../../src/config/config.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { LeaderLease, leaseGate, leaseTtlMs } from '../../src/service/lease.js';
import { runLoop } from '../../src/service/loop.js';
import type { CycleResult } from '../../src/service/reconciler.js';
import { type Runtime, createRuntime } from '../../src/service/runtime.js';
import type { SimCloud } from '../../src/fake-cloud/cloud.js';
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
   * This replica's service loop (service/loop.ts, `runLoop`, as `fleet reconcile` runs it) on the
   * simulated clock from now until `until`: a turn at once (the lease, then a cycle if held), then
   * the wait, spent as the service spends it: the lease holder long-polls the event queue, and an
   * interruption warning starts a turn at once. A standby, or a dead process, only waits. Returns
   * every turn, in order; `first` hears the first one as soon as it ends.
   */
  async turn(until: number, first?: (tick: Tick) => void): Promise<Tick[]> {
    const { cloud, config, log } = this.deps;
    const { clock } = cloud;
    const ticks: Tick[] = [];
    const record = (tick: Tick) => {
      ticks.push(tick);
      if (ticks.length === 1) first?.(tick);
    };
    const process = `${this.id}#${this.incarnation}`;
    let turn = { start: clock.now(), calls: 0, leader: false };
    const gate = leaseGate(this.lease, log, (status) => {
      turn.leader = status.held;
    });
    const ended = (result?: CycleResult, thrown?: unknown): Tick => ({
      process,
      start: turn.start,
      end: clock.now(),
      leader: turn.leader,
      ...(result ? { result } : {}),
      ...(thrown !== undefined ? { error: errorOf(thrown) } : {}),
      killed: this.process.dead,
      calls: this.process.callCount - turn.calls,
    });
    const inbox = this.runtime.inbox;
    // Only the lease holder consumes the queue; a dead process does nothing at all.
    const mayPoll = () => !this.process.dead && this.lease.holds();
    const stop = new AbortController();
    await clock.run(async () => {
      void clock.sleep(Math.max(0, until - clock.now())).then(() => stop.abort());
      await runLoop({
        reconciler: this.runtime.reconciler,
        intervalMs: config.interval * 1000,
        dryRun: false,
        log,
        signal: stop.signal,
        clock,
        beforeCycle: async () => {
          turn = { start: clock.now(), calls: this.process.callCount, leader: false };
          try {
            if (await gate()) return true;
            record(ended());
          } catch (e) {
            record(ended(undefined, e));
          }
          return false;
        },
        onCycle: (result, error) => record(result ? ended(result) : ended(undefined, error)),
        ...(inbox ? { events: { inbox, mayPoll } } : {}),
      });
    });
    return ticks;
  }

  /** One turn of the service loop, ended right after it (no wait). */
  async tick(): Promise<Tick> {
    return (await this.turn(this.deps.cloud.clock.now()))[0] as Tick;
  }
}

function errorOf(e: unknown): NonNullable<Tick['error']> {
  const thrown = e as { name?: unknown; code?: unknown; message?: unknown };
  return {
    name: typeof thrown?.name === 'string' ? thrown.name : 'Error',
    ...(typeof thrown?.code === 'string' ? { code: thrown.code } : {}),
    message: String(thrown?.message ?? e),
  };
}
