// A quiet simulated cloud with the simulated CI of one pool on its workers, for tests of the CI and
// its workers: no interruptions or crunches, launches running after exactly a minute, one subnet,
// one good image. Simulated.

import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import type { SimInstance } from '../../src/fake-cloud/world.js';
import { SimCi } from '../../src/sim/ci/ci.js';
import { BOOT_MS, WorldWorkers, retiredWorkersLeave } from '../../src/sim/ci/world-workers.js';

export const CI_START = Date.parse('2026-11-20T10:00:00Z');
export const CI_POOL = 'bld-linux64';
const MIN = 60_000;

export interface CiWorldOptions {
  /** workers run `fleet worker`: one tagged `fleet:retire` finishes its job and powers off [false] */
  readonly agent?: boolean;
  /** every job runs exactly this long [the pool's heavy-tailed defaults] */
  readonly durationMinutes?: number;
}

export function ciWorld(options: CiWorldOptions = {}) {
  const agent = options.agent ?? false;
  const cloud = new SimCloud({
    seed: 3,
    start: CI_START,
    world: { interruptionRatePerHour: 0, launchLatencyMs: [MIN, MIN] },
    market: { crunchesPerDay: 0 },
  });
  cloud.world.adoptSubnets('us-east-1', ['subnet-a']);
  const image = cloud.world.registerImage('us-east-1', 'good', CI_START - 86400_000);
  const minutes = options.durationMinutes;
  const durations = minutes === undefined ? undefined : () => ({ medianMinutes: minutes, sigma: 0, maxMinutes: 240 });
  const workers = new WorldWorkers(cloud.world, BOOT_MS, agent);
  const ci = new SimCi(workers, [CI_POOL], new Prng(7), CI_START, durations ? { durations } : {});
  /** A worker of the pool named `name` (its slot name), on `ami` [the good image]. */
  const launch = (name: string, ami = image.id, tags: Readonly<Record<string, string>> = {}): SimInstance =>
    cloud.world.createInstance({
      subnetId: 'subnet-a',
      instanceType: 'c5.xlarge',
      lifecycle: 'spot',
      productDescription: 'Linux/UNIX',
      ami,
      tags: { 'fleet:pool': CI_POOL, Name: name, ...tags },
      visibilityDelayMs: 0,
    });
  /** The world and the CI moved to `t` (and, with the agent, workers asked to leave gone); the pool's queue then. */
  const at = (t: number, load: Readonly<Record<string, number>> = {}) => {
    cloud.world.advanceTo(t);
    ci.advance(t, load);
    if (agent) retiredWorkersLeave(cloud.world, ci.busyWorkers());
    return ci.queueState()[CI_POOL];
  };
  return { cloud, ci, workers, image, launch, at };
}
