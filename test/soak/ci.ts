// The CI around the soak's fleet: the simulated CI (src/sim/ci) runs jobs on fleet's booted
// workers, and publishes per pool what a real CI's desired document says (pending, running,
// oldest wait, the busy workers by slot name), with the faults a real CI's list has: a worker that
// has just ended still named busy, a list left stale for a few cycles, a busy worker left out for a
// cycle. Some workers run `fleet worker` (they take no new job once asked to leave, and power off
// within minutes once idle); the others never hear the request, so fleet's deadlines are reached.

import { RETIRE_TAG, slotFromTags } from '../../src/cloud/tags.js';
import type { PoolPolicy } from '../../src/domain/policy.js';
import type { Prng } from '../../src/fake-cloud/prng.js';
import type { SimInstance, SimWorld } from '../../src/fake-cloud/world.js';
import { type CiWorker, type QueueState, SimCi, type WorkerSource } from '../../src/sim/ci/ci.js';
import { BOOT_MS } from '../../src/sim/ci/world-workers.js';
import type { FaultKind } from './chaos.js';
import { SOAK_FLEET } from './scenario.js';

/** A pool's entry in the desired document, queue form. */
export interface QueueEntry {
  readonly pending: number;
  readonly running: number;
  readonly oldestPendingSeconds: number;
  readonly busy: readonly string[];
}

/** How the seed's CI behaves. */
export interface CiTraits {
  /** pools whose document entry is the queue form (with busy); the rest publish plain counts */
  readonly queuePools: readonly string[];
  /** share of workers that run `fleet worker` */
  readonly agentShare: number;
  /** jobs in flight per desired worker */
  readonly load: number;
}

const CHANCE = { stale: 1 / 40, endedNamed: 1 / 15, omitted: 1 / 25 };
/** An idle worker asked to leave powers off within a few minutes: its agent polls, its hook returns. */
const AGENT_MEAN_MINUTES = 2;
/** How recently a worker must have ended for a lagging CI to still name it busy. */
const RECENT_END_MS = 3 * 60_000;

export class SoakCi implements WorkerSource {
  private readonly ci: SimCi;
  private readonly agents = new Map<string, boolean>();
  /** per pool: the entry last published, and until which cycle it is left stale */
  private readonly published = new Map<string, QueueEntry>();
  private readonly staleUntil = new Map<string, number>();

  constructor(
    private readonly world: SimWorld,
    private readonly policies: readonly PoolPolicy[],
    readonly traits: CiTraits,
    private readonly rng: Prng,
    start: number,
  ) {
    this.ci = new SimCi(
      this,
      policies.map((p) => p.pool),
      rng.fork('jobs'),
      start,
    );
  }

  /** Whether a worker runs `fleet worker` (drawn once per instance from the seed). */
  runsAgent(id: string): boolean {
    let agent = this.agents.get(id);
    if (agent === undefined) {
      agent = this.rng.fork(`agent ${id}`).chance(this.traits.agentShare);
      this.agents.set(id, agent);
    }
    return agent;
  }

  workers(pool: string, from: number, holdsRun: (id: string) => boolean): CiWorker[] {
    const out: CiWorker[] = [];
    for (const i of this.world.instances.values()) {
      if (i.tags['fleet:managed-by'] !== SOAK_FLEET || i.tags['fleet:pool'] !== pool) continue;
      if (i.endedAt !== undefined && i.endedAt <= from && !holdsRun(i.id)) continue;
      out.push({
        id: i.id,
        name: slotFromTags(i.tags, i.launchIndex).name,
        // A worker on a broken image never passes its boot check.
        readyAt: this.world.images.get(i.ami)?.broken ? undefined : i.runningAt + BOOT_MS,
        endedAt: i.endedAt,
        ...(i.tags[RETIRE_TAG] !== undefined && this.runsAgent(i.id) ? { leaving: true } : {}),
      });
    }
    return out;
  }

  endCause(id: string): string {
    const i = this.world.instances.get(id) ?? this.world.archive.find((a) => a.id === id);
    if (i?.stateReason === 'Server.SpotInstanceTermination') return 'spot interruptions';
    if (i?.stateReason === 'Client.InstanceInitiatedShutdown') return 'workers’ own shutdowns';
    if (i?.stateReason === 'Client.UserInitiatedShutdown')
      return this.traits.queuePools.includes(i.tags['fleet:pool'] ?? '') ? 'fleet, queue-form pools' : 'fleet, plain-count pools';
    return 'other ends';
  }

  /** Run the CI to `t`: jobs arrive for `desired` workers' worth of load, start and finish on the workers. */
  advance(t: number, desired: Readonly<Record<string, number>>): void {
    const load = Object.fromEntries(Object.entries(desired).map(([pool, n]) => [pool, n * this.traits.load]));
    this.ci.advance(t, load);
  }

  /** Instance ids running a job now. */
  busyIds(): ReadonlySet<string> {
    return this.ci.busyWorkers();
  }

  /** Instance ids of queue-form pools' workers running a job now. */
  queueFormRunning(): ReadonlySet<string> {
    const ids = [...this.busyIds()].filter((id) => this.traits.queuePools.includes(this.world.instances.get(id)?.tags['fleet:pool'] ?? ''));
    return new Set(ids);
  }

  /** What each worker's agent does this minute: an idle one asked to leave powers off, sooner or later. Returns how many did. */
  agentsLeave(rng: Prng): number {
    const busy = this.busyIds();
    let left = 0;
    for (const i of [...this.world.instances.values()]) {
      if (!this.asked(i) || busy.has(i.id) || !this.runsAgent(i.id)) continue;
      if (!rng.chance(1 - Math.exp(-1 / AGENT_MEAN_MINUTES))) continue;
      this.world.endInstance(i, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
      left++;
    }
    return left;
  }

  private asked(i: SimInstance): boolean {
    return i.state === 'running' && i.tags['fleet:managed-by'] === SOAK_FLEET && i.tags[RETIRE_TAG] !== undefined;
  }

  /**
   * The queue-form entries to publish this cycle, with the CI's faults (when `faulty`) drawn from
   * `rng`; `fault` is told each one injected.
   */
  entries(rng: Prng, cycle: number, now: number, fault: (kind: FaultKind) => void, faulty = true): Record<string, QueueEntry> {
    const queues = this.ci.queueState();
    const out: Record<string, QueueEntry> = {};
    for (const pool of this.traits.queuePools) {
      const q = queues[pool] as QueueState;
      const was = this.published.get(pool);
      if (was && faulty && this.stale(pool, cycle, rng, fault)) {
        out[pool] = was;
        continue;
      }
      const busy = faulty ? this.faultyBusy(pool, q.busy, now, rng, fault) : [...q.busy];
      const entry = { pending: q.pending, running: q.running, oldestPendingSeconds: q.oldestPendingSeconds, busy };
      this.published.set(pool, entry);
      out[pool] = entry;
    }
    return out;
  }

  /** Whether the CI leaves the pool's entry as it was: it stops updating it now and then, for a few cycles. */
  private stale(pool: string, cycle: number, rng: Prng, fault: (kind: FaultKind) => void): boolean {
    if (cycle < (this.staleUntil.get(pool) ?? -1)) return true;
    if (!rng.chance(CHANCE.stale)) return false;
    this.staleUntil.set(pool, cycle + rng.int(1, 4));
    fault('ci-stale-list');
    return true;
  }

  /** The busy list as a lagging CI may give it: a busy worker left out, or one that has just ended still named. */
  private faultyBusy(pool: string, names: readonly string[], now: number, rng: Prng, fault: (kind: FaultKind) => void): string[] {
    const busy = [...names];
    if (busy.length > 0 && rng.chance(CHANCE.omitted)) {
      busy.splice(rng.int(0, busy.length - 1), 1);
      fault('ci-omitted-busy');
    }
    const ended = this.recentlyEnded(pool, now).filter((name) => !busy.includes(name));
    if (ended.length > 0 && rng.chance(CHANCE.endedNamed)) {
      busy.push(rng.pick(ended));
      fault('ci-ended-worker');
    }
    return busy.sort();
  }

  /** Slot names of the pool's workers that ended in the last few minutes. */
  private recentlyEnded(pool: string, now: number): string[] {
    const names: string[] = [];
    for (const i of this.world.instances.values()) {
      if (i.tags['fleet:managed-by'] !== SOAK_FLEET || i.tags['fleet:pool'] !== pool) continue;
      if (i.endedAt === undefined || now - i.endedAt > RECENT_END_MS) continue;
      const name = slotFromTags(i.tags, i.launchIndex).name;
      if (name !== '') names.push(name);
    }
    return names.sort();
  }

  /** Jobs completed and thrown away (by why their worker ended), over every pool. */
  tally(): { completed: number; killed: Record<string, number> } {
    let completed = 0;
    const killed: Record<string, number> = {};
    for (const p of this.policies) {
      const t = this.ci.tally(p.pool);
      completed += t.completed;
      for (const [cause, n] of Object.entries(t.killed)) killed[cause] = (killed[cause] ?? 0) + n;
    }
    return { completed, killed };
  }
}
