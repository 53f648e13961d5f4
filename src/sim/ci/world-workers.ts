// The simulated world's instances as the CI's workers: a worker takes jobs once it has run for
// its boot time on an image that passes the boot check, and is gone from the moment it starts to
// shut down, whoever ended it.

import { RETIRE_TAG, slotFromTags } from '../../cloud/tags.js';
import type { Outcome } from '../../domain/outcome.js';
import type { SimInstance, SimWorld } from '../../fake-cloud/world.js';
import type { CiWorker, WorkerSource } from './ci.js';

/** From running to taking jobs: the OS boots, `check-ami` passes, the CI agent registers. */
export const BOOT_MS = 120_000;

export class WorldWorkers implements WorkerSource {
  /** instance id → the cause of the fleet action that terminated it */
  readonly fleetCauses = new Map<string, string>();

  constructor(
    private readonly world: SimWorld,
    private readonly bootMs = BOOT_MS,
    /** workers run `fleet worker`: one tagged `fleet:retire` takes no new job */
    private readonly agent = false,
  ) {}

  workers(pool: string, from: number, holdsRun: (id: string) => boolean): CiWorker[] {
    const out: CiWorker[] = [];
    for (const i of this.world.instances.values()) {
      if (i.tags['fleet:pool'] !== pool || (i.endedAt !== undefined && i.endedAt <= from && !holdsRun(i.id))) continue;
      // A worker on a bad image never passes its boot check: it takes no job and powers itself off.
      const readyAt = this.world.images.get(i.ami)?.broken ? undefined : i.runningAt + this.bootMs;
      out.push({
        id: i.id,
        name: slotFromTags(i.tags, i.launchIndex).name,
        readyAt,
        endedAt: i.endedAt,
        ...(this.agent && i.tags[RETIRE_TAG] !== undefined ? { leaving: true } : {}),
      });
    }
    return out;
  }

  /** Remember the cause of each terminate action a cycle carried out . */
  noteTerminations(outcomes: readonly Outcome[]): void {
    for (const o of outcomes) {
      for (const t of o.terminations) if (t.terminated) this.fleetCauses.set(t.action.instanceId, t.action.cause);
    }
  }

  endCause(id: string): string {
    const i = this.world.instances.get(id) ?? this.world.archive.find((a) => a.id === id);
    return i ? this.causeOf(i) : 'unknown';
  }

  /** Why an instance ended: the market's reclaim, its own poweroff, or fleet's action (by its cause). */
  causeOf(i: SimInstance): string {
    if (i.stateReason === 'Server.SpotInstanceTermination') return 'spot-interruption';
    if (i.stateReason === 'Client.InstanceInitiatedShutdown') return 'instance-initiated';
    if (i.stateReason === 'Client.UserInitiatedShutdown') return this.fleetCauses.get(i.id) ?? 'user';
    return i.stateReason ?? 'unknown';
  }
}

/**
 * What `fleet worker` and its hook do on each worker asked to leave (tag `fleet:retire`, read from its
 * metadata): once its job is done (the CI no longer runs one on it), it powers itself off.
 */
export function retiredWorkersLeave(world: SimWorld, busy: ReadonlySet<string>): number {
  let left = 0;
  for (const i of world.instances.values()) {
    if (i.state !== 'running' || i.tags[RETIRE_TAG] === undefined || busy.has(i.id)) continue;
    world.endInstance(i, 'Client.InstanceInitiatedShutdown', 'self-shutdown');
    left++;
  }
  return left;
}
