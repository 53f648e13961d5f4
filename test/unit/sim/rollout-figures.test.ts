// The simulation's rollout figures: workers that booted each image published during a run, how its
// canary phase ended and when, how long its turnover took, and the lowest capacity while it was under way.

import { expect } from 'chai';
import type { Image } from '../../../src/domain/types.js';
import { rolloutKey } from '../../../src/policy/rollout.js';
import { RolloutTracker, type RolloutView } from '../../../src/sim/rollout-figures.js';
import type { SimInstance } from '../../../src/fake-cloud/world.js';

const T = Date.parse('2026-11-20T04:00:00Z');
const MIN = 60_000;
const POOL = 'bld-linux64';
const img = (id: string, created: number, region = 'us-east-1'): Image => ({ id, pool: POOL, region, created, name: id });
const OLD = img('ami-old', T - 24 * 60 * MIN);

let serial = 0;
/** Just what the tracker reads of a simulated instance. */
function worker(ami: string, state: SimInstance['state'], region = 'us-east-1', pool = POOL): SimInstance {
  return { id: `i-${++serial}`, ami, state, region, tags: { 'fleet:pool': pool } } as unknown as SimInstance;
}

function view(t: number, instances: SimInstance[], more: Partial<RolloutView> = {}): RolloutView {
  return { t, images: [OLD], drained: {}, established: {}, instances, wanted: { [POOL]: 3 }, ...more };
}

describe('sim rollout figures', () => {
  it('a broken image: workers that booted it, drained after its canaries, no turnover, the lowest capacity meanwhile', () => {
    const tracker = new RolloutTracker([OLD], T - MIN);
    const bad = img('ami-bad', T);
    const images = [OLD, bad];
    const old = [worker('ami-old', 'running'), worker('ami-old', 'running'), worker('ami-old', 'running')];
    const canaries = [worker('ami-bad', 'running'), worker('ami-bad', 'terminated'), worker('ami-bad', 'terminated')];
    tracker.observe(view(T + MIN, [...old, canaries[0] as SimInstance], { images }));
    // The canary died and took a worker with it (someone else's doing): running on launchable images 2 of 3.
    (canaries[0] as SimInstance).state = 'terminated';
    (old[2] as SimInstance).state = 'terminated';
    tracker.observe(view(T + 4 * MIN, [...old, ...canaries], { images }));
    const drained = { 'ami-bad': { at: T + 6 * MIN, by: 'guard' } };
    tracker.observe(view(T + 6 * MIN, [...old, ...canaries], { images, drained }));
    // Not under way any more: a lower count later is not the rollout's.
    (old[1] as SimInstance).state = 'terminated';
    tracker.observe(view(T + 9 * MIN, [...old, ...canaries], { images, drained }));
    const archived = worker('ami-bad', 'terminated');
    const [figures] = tracker.figures([...old, ...canaries, archived, worker('ami-bad', 'running', 'us-east-1', 'other-pool')]);
    expect(figures).to.deep.equal({
      pool: POOL,
      region: 'us-east-1',
      ami: 'ami-bad',
      published: new Date(T).toISOString(),
      booted: 4,
      canaryEnd: 'drained',
      drainedBy: 'guard',
      canarySeconds: 360,
      turnoverSeconds: null,
    });
    expect(tracker.lowestCapacity(POOL)).to.deep.equal({ at: new Date(T + 4 * MIN).toISOString(), running: 2, wanted: 3 });
  });

  it('a good image: established when fleet’s journal says so, turned over once nothing older runs; images from before the run are not tracked', () => {
    const tracker = new RolloutTracker([OLD], T - MIN);
    const good = img('ami-good', T);
    const images = [OLD, good];
    const old = [worker('ami-old', 'running'), worker('ami-old', 'running')];
    const fresh = [worker('ami-good', 'running')];
    tracker.observe(view(T + MIN, [...old, ...fresh], { images }));
    const established = { [rolloutKey(POOL, 'us-east-1', 'ami-good')]: T + 15 * MIN };
    tracker.observe(view(T + 15 * MIN, [...old, ...fresh], { images, established }));
    for (const o of old) o.state = 'shutting-down';
    fresh.push(worker('ami-good', 'pending'));
    tracker.observe(view(T + 40 * MIN, [...old, ...fresh], { images, established }));
    const figures = tracker.figures([...old, ...fresh]);
    expect(figures).to.have.length(1);
    expect(figures[0]).to.include({ ami: 'ami-good', booted: 2, canaryEnd: 'established', canarySeconds: 900, turnoverSeconds: 2400 });
    expect(tracker.lowestCapacity(POOL)).to.deep.include({ running: 1, wanted: 3 });
  });

  it('a region with nothing older never turns over before the image is proved; a newer proved image ends the rollout unfinished', () => {
    const tracker = new RolloutTracker([OLD], T - MIN);
    const first = img('ami-first', T);
    const second = img('ami-second', T + 24 * 60 * MIN);
    tracker.observe(view(T + MIN, [], { images: [OLD, first] }));
    tracker.observe(view(T + 2 * MIN, [worker('ami-old', 'running')], { images: [OLD, first] }));
    const established = { [rolloutKey(POOL, 'us-east-1', 'ami-second')]: T + 25 * 60 * MIN };
    tracker.observe(view(T + 25 * 60 * MIN, [worker('ami-old', 'running')], { images: [OLD, first, second], established }));
    const [a, b] = tracker.figures([]);
    expect(a).to.include({ ami: 'ami-first', canaryEnd: 'open', canarySeconds: null, turnoverSeconds: null });
    expect(b).to.include({ ami: 'ami-second', canaryEnd: 'established', canarySeconds: 3600 });
  });
});
