// The operator in the soak: drains the newest image while its replacements are in flight (as
// `fleet drain` does, through the drained marks in the state store) and undrains it later.

import { recordDrains } from '../../src/service/drains.js';
import { type StateStore, openStateStore } from '../../src/shared/state-store.js';
import type { SimCloud } from '../../src/fake-cloud/cloud.js';
import type { Prng } from '../../src/fake-cloud/prng.js';
import type { ImagePipeline } from '../../src/sim/workload.js';
import type { FaultWindows } from './chaos.js';
import { ProcessCloud } from './process.js';
import { SOAK_FLEET } from './scenario.js';

const DRAIN_CHANCE = 0.3;
const UNDRAIN_CHANCE = 1 / 25;
const MIN_DRAINED_CYCLES = 10;

export class Operator {
  private readonly state: StateStore;
  readonly process: ProcessCloud;
  private readonly considered = new Set<string>();
  /** AMI → cycle this operator drained it */
  private readonly drained = new Map<string, number>();

  constructor(
    private readonly cloud: SimCloud,
    stateLocation: string,
  ) {
    this.process = new ProcessCloud(cloud, { replica: 'operator', process: 'operator', clock: cloud.clock });
    this.state = openStateStore(stateLocation, this.process.objects);
  }

  /** Newest images that have replacements on them in flight (launched, target still live). */
  private rollingOut(pipeline: ImagePipeline): string[] {
    const newest = new Map<string, string>();
    for (const { image, pool } of pipeline.images()) newest.set(`${pool} ${image.region}`, image.id);
    const live = [...this.cloud.world.instances.values()].filter(
      (i) => i.tags['fleet:managed-by'] === SOAK_FLEET && (i.state === 'pending' || i.state === 'running'),
    );
    const liveIds = new Set(live.map((i) => i.id));
    const inFlight = new Set(
      live.filter((i) => i.tags['fleet:replaces'] !== undefined && liveIds.has(i.tags['fleet:replaces'])).map((i) => i.ami),
    );
    return [...newest.values()].filter((ami) => inFlight.has(ami));
  }

  /** Maybe drain a rolling-out image, maybe undrain one drained a while ago. A failed write is tried again next cycle. */
  async act(rng: Prng, cycle: number, pipeline: ImagePipeline, windows: FaultWindows): Promise<void> {
    const now = this.cloud.clock.now();
    for (const ami of this.rollingOut(pipeline)) {
      if (this.considered.has(ami) || !rng.chance(DRAIN_CHANCE)) continue;
      try {
        await recordDrains(this.state, [{ ami, reason: 'soak: operator drains the image mid-rollout', by: 'operator' }], now);
        this.considered.add(ami);
        this.drained.set(ami, cycle);
        windows.count('operator-drain');
      } catch {
        // S3 unavailable or the document unreadable: the operator tries again.
      }
    }
    for (const [ami, at] of this.drained) {
      if (cycle - at < MIN_DRAINED_CYCLES || !rng.chance(UNDRAIN_CHANCE)) continue;
      try {
        await recordDrains(this.state, [{ ami, reason: '', by: 'operator' }], now, true);
        this.drained.delete(ami);
        windows.count('operator-undrain');
      } catch {
        // tried again next cycle
      }
    }
  }
}
