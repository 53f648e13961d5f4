// A takeover episode: the leader stalls inside a cycle (a call's answer is held) for longer than its
// lease, a second replica sharing the state store takes the lease over and runs cycles, then the
// stalled leader resumes. The judge then checks that the stalled one changed nothing after the
// other's first launch, and that every pool settles at exactly its desired size.

import type { PoolPolicy } from '../../src/domain/policy.js';
import type { SimCloud } from '../../src/fake-cloud/cloud.js';
import { instanceFact } from './judge.js';
import type { Prng } from '../../src/fake-cloud/prng.js';
import {
  type MutatingCall,
  type TakeoverWindow,
  checkStalledLeader,
  checkTakeoverConverged,
  reachedDesired,
} from './invariants/leadership.js';
import { type Finding, clampedDesired, livePool } from './invariants/types.js';
import type { SentCall } from './process.js';
import type { Replica, Tick } from './replica.js';
import { SOAK_FLEET } from './scenario.js';

/** Cycles after the resume within which every pool must have been exactly at desired. */
export const CONVERGE_CYCLES = 20;
/** Cycles the resumed replica keeps running as a standby before it is retired. */
const STANDBY_CYCLES = 3;

export class Takeover {
  private aTurn: Promise<Tick[]> | undefined;
  private resumed: number | undefined;
  private over = false;
  private readonly sent: MutatingCall[] = [];
  private readonly liveAtEnds = new Map<string, number[]>();
  private readonly instancesAtEnds = new Map<string, number[]>();
  private readonly allAtEnds = new Map<string, number[]>();

  private constructor(
    readonly stalled: Replica,
    readonly successor: Replica,
    readonly startCycle: number,
    readonly resumeCycle: number,
    /** the call whose answer was held */
    readonly stalledOn: string,
  ) {}

  /**
   * Stall `leader` at one of its next calls and start its minute (`Replica.turn`, until `until`).
   * Resolves with the episode once the stall springs, or with the minute's turns if the cycle made
   * fewer calls than that.
   */
  static async begin(
    leader: Replica,
    successor: () => Replica,
    rng: Prng,
    cycle: number,
    expectedCalls: number,
    until: number,
  ): Promise<Takeover | Tick[]> {
    // Anywhere in the cycle, or right where it matters most: the journal write before launches, or a launch.
    const where = rng.pick(['anywhere', 'journal', 'launch'] as const);
    const trap =
      where === 'anywhere'
        ? { kind: 'stall' as const, atCall: rng.int(1, Math.max(2, expectedCalls)) }
        : { kind: 'stall' as const, atCall: 1, on: where === 'journal' ? 'PutObject state/reconciler.json' : 'RunInstances' };
    const sprung = leader.process.arm(trap);
    // Only the turn is stalled, not the wait after it.
    const turn = leader.turn(until, () => {
      if (leader.process.sprungOn === undefined) leader.process.disarm();
    });
    const first = await Promise.race([turn, sprung.then(() => 'stalled' as const)]);
    if (first !== 'stalled') return first;
    const episode = new Takeover(leader, successor(), cycle, cycle + rng.int(4, 7), leader.process.sprungOn ?? '?');
    episode.aTurn = turn;
    return episode;
  }

  get done(): boolean {
    return this.over;
  }

  /** The replicas that take their turn this cycle, in order (the stalled one is stuck in its turn). */
  replicas(cycle: number): Replica[] {
    if (this.resumed === undefined) return [this.successor];
    return cycle <= this.resumed + STANDBY_CYCLES ? [this.successor, this.stalled] : [this.successor];
  }

  /**
   * At the resume cycle, after the successor's minute: let the stalled call's answer through and
   * finish that turn (its loop then ends: its minute is long over). Returns the turns it finished.
   */
  async resumeIfDue(cycle: number): Promise<Tick[]> {
    if (this.resumed !== undefined || cycle < this.resumeCycle || !this.aTurn) return [];
    this.stalled.process.release();
    const ticks = await this.aTurn;
    this.resumed = cycle;
    return ticks;
  }

  /** Note the cycle's changes, and the pools' sizes once resumed; the findings once the episode is over. */
  observe(
    cycle: number,
    sent: readonly SentCall[],
    cloud: SimCloud,
    policies: readonly PoolPolicy[],
    desired: Readonly<Record<string, number>>,
  ): Finding[] | undefined {
    for (const s of sent) {
      if (s.replica !== this.stalled.id && s.replica !== this.successor.id) continue;
      this.sent.push({
        t: s.t,
        replica: s.replica,
        action: s.action,
        what: s.name ?? s.instanceIds?.join(',') ?? s.imageId ?? s.key ?? '',
      });
    }
    if (this.resumed === undefined) return undefined;
    const instances = [...cloud.world.instances.values()].map(instanceFact);
    for (const p of policies) {
      // Workers, as the policy counts them: a replacement and the instance it replaces are one.
      // A worker asked to leave (fleet:retire) no longer counts.
      const all = livePool(instances, SOAK_FLEET, p.pool);
      const live = all.filter((i) => i.retireAt === undefined);
      const ids = new Set(live.map((i) => i.id));
      const workers = live.filter((i) => i.replaces === undefined || !ids.has(i.replaces)).length;
      this.liveAtEnds.set(p.pool, [...(this.liveAtEnds.get(p.pool) ?? []), workers]);
      this.instancesAtEnds.set(p.pool, [...(this.instancesAtEnds.get(p.pool) ?? []), live.length]);
      this.allAtEnds.set(p.pool, [...(this.allAtEnds.get(p.pool) ?? []), all.length]);
    }
    const windows: TakeoverWindow[] = policies.map((p) => ({
      pool: p.pool,
      desired: clampedDesired(p, desired),
      scaleDown: p.scaleDown,
      liveAtCycleEnds: this.liveAtEnds.get(p.pool) ?? [],
      instancesAtCycleEnds: this.instancesAtEnds.get(p.pool) ?? [],
      max: p.size.max,
      allInstancesAtCycleEnds: this.allAtEnds.get(p.pool) ?? [],
    }));
    const converged = windows.every(reachedDesired);
    if (cycle < this.resumed + STANDBY_CYCLES || (!converged && cycle < this.resumed + CONVERGE_CYCLES)) return undefined;
    this.over = true;
    const silent = checkStalledLeader(this.sent, this.stalled.id, this.successor.id).map((f) => ({
      ...f,
      detail: `${f.detail} (stalled on ${this.stalledOn})`,
    }));
    return [...silent, ...checkTakeoverConverged(windows)];
  }
}
