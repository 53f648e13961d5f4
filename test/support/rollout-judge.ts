// A judge of image rollouts on the simulated cloud, from the cloud's own view: the world's instances
// and events, the drained marks as stored. Of fleet's reports only the guard's trips, which say which
// ends drained an image. Used by the rollout scenarios.

import { DRAINED_DOC, type DrainedDoc } from '../../src/service/state-docs.js';
import { checkRunningCapacity } from '../soak/invariants/running-capacity.js';
import { instanceFact } from '../soak/judge.js';
import type { Finding, InstanceFact } from '../soak/invariants/types.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import type { GuardTrip } from '../../src/policy/freshness.js';
import { BUCKET, type CompletedCycle, type SimFleet } from './sim-fleet.js';

/** Ended by someone other than fleet: what the launch guard is for. */
const ENDED_BY_OTHERS = new Set(['interrupted', 'self-shutdown', 'boot-failure']);

export class RolloutJudge {
  /** one per cycle whose retirements took running capacity on launchable images below desired */
  readonly capacityFindings: Finding[] = [];
  /** cycles run so far */
  cycleCount = 0;
  /** the launch guard's trips the cycles recorded as drain marks, in order */
  readonly trips: GuardTrip[] = [];
  private eventsSeen: number;

  constructor(
    readonly fleet: SimFleet,
    readonly pool: string,
    private readonly desired: () => number,
  ) {
    this.eventsSeen = fleet.cloud.world.events.length;
  }

  /** One cycle judged for running capacity, then an interval of simulated time. */
  async cycle(): Promise<CompletedCycle> {
    const before = this.facts();
    const drained = this.drainedAmis();
    const result = await this.fleet.cycle();
    this.trips.push(...(result.guardDrains ?? []));
    const events = this.fleet.cloud.world.events.slice(this.eventsSeen);
    this.eventsSeen = this.fleet.cloud.world.events.length;
    this.capacityFindings.push(
      ...checkRunningCapacity({
        pool: this.pool,
        before,
        after: this.facts(),
        drained: new Set([...drained, ...this.drainedAmis()]),
        terminatedByFleet: new Set(events.filter((e) => e.kind === 'terminated').map((e) => e.instance.id)),
        endedByOthers: new Set(events.filter((e) => ENDED_BY_OTHERS.has(e.kind)).map((e) => e.instance.id)),
        desiredLow: this.desired(),
      }),
    );
    this.cycleCount++;
    this.fleet.advance(this.fleet.config.interval * 1000);
    return result;
  }

  /** Cycles until `done` holds after one (at most `limit`); returns how many ran. */
  async until(done: () => boolean, limit: number): Promise<number> {
    for (let k = 1; k <= limit; k++) {
      await this.cycle();
      if (done()) return k;
    }
    throw new Error(`not done after ${limit} cycles`);
  }

  /** Every instance of the pool the world ever had (listed or archived), optionally only on `ami`. */
  everyInstance(ami?: string): SimInstance[] {
    const world = this.fleet.cloud.world;
    return [...world.instances.values(), ...world.archive].filter(
      (i) => i.tags['fleet:pool'] === this.pool && (ami === undefined || i.ami === ami),
    );
  }

  /** Workers that ever booted `ami` (in `region`, when given), however they ended. */
  booted(ami: string, region?: string): number {
    return this.everyInstance(ami).filter((i) => region === undefined || i.region === region).length;
  }

  live(ami?: string, region?: string): SimInstance[] {
    return this.fleet
      .instances(this.pool)
      .filter((i) => (ami === undefined || i.ami === ami) && (region === undefined || i.region === region));
  }

  running(ami?: string): SimInstance[] {
    return this.fleet.instances(this.pool, ['running']).filter((i) => ami === undefined || i.ami === ami);
  }

  /** The drain marks as stored in the state store. */
  marks(): DrainedDoc['amis'] {
    const body = this.fleet.cloud.objects.peek(BUCKET, `state/${DRAINED_DOC}`)?.body;
    return body === undefined ? {} : (JSON.parse(body) as DrainedDoc).amis;
  }

  /** The last trip of the launch guard on `ami`. */
  lastTrip(ami: string): GuardTrip | undefined {
    return this.trips.filter((t) => t.ami === ami).at(-1);
  }

  drainedAmis(): string[] {
    return Object.keys(this.marks());
  }

  /** Fleet's terminations (the world's events), with when they happened. */
  terminations(): { readonly t: number; readonly instance: SimInstance }[] {
    return this.fleet.cloud.world.events.filter((e) => e.kind === 'terminated' && e.instance.tags['fleet:pool'] === this.pool);
  }

  private facts(): InstanceFact[] {
    return this.fleet.instances(this.pool, ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped']).map(instanceFact);
  }
}
