// The soak's CI: busy lists as a real CI publishes them (and gets them wrong), and workers that do or
// do not run the agent that honours `fleet:retire`.

import { expect } from 'chai';
import type { PoolPolicy } from '../../src/domain/policy.js';
import { SimCloud } from '../../src/fake-cloud/cloud.js';
import { Prng } from '../../src/fake-cloud/prng.js';
import { type CiTraits, type QueueEntry, SoakCi } from '../soak/ci.js';
import type { FaultKind } from '../soak/chaos.js';
import { SOAK_FLEET } from '../soak/scenario.js';

const START = Date.parse('2026-11-20T10:00:00Z');
const MINUTE = 60_000;
const REGION = 'us-east-1';
const POOL = 'bld-linux64';

function ciWorld(traits: Partial<CiTraits>, workers = 3) {
  const cloud = new SimCloud({ seed: 5, start: START, defaultSubnets: [REGION] });
  const image = cloud.world.registerImage(REGION, 'golden', START - 3600_000);
  const subnetId = [...cloud.world.subnets.values()][0]?.id as string;
  const launch = (n: number) =>
    cloud.world.createInstance({
      subnetId,
      instanceType: 'c5.xlarge',
      lifecycle: 'spot',
      productDescription: 'Linux/UNIX',
      ami: image.id,
      tags: { 'fleet:managed-by': SOAK_FLEET, 'fleet:pool': POOL, Name: `${POOL}-${String(n).padStart(3, '0')}` },
      visibilityDelayMs: 0,
    });
  const instances = Array.from({ length: workers }, (_, n) => launch(n + 1));
  const policies = [{ pool: POOL }] as unknown as PoolPolicy[];
  const ci = new SoakCi(cloud.world, policies, { queuePools: [POOL], agentShare: 1, load: 1, ...traits }, new Prng(11), START);
  const at = (minutes: number) => {
    cloud.clock.advanceTo(START + minutes * MINUTE);
    cloud.settle();
    return START + minutes * MINUTE;
  };
  return { cloud, ci, instances, at, launch };
}

const none = () => undefined;

describe('soak CI: busy lists', () => {
  it('names the booted workers that run a job, and the queue beside them', () => {
    const { ci, instances, at } = ciWorld({ load: 4 });
    let entry: QueueEntry | undefined;
    for (let m = 1; m <= 15; m++) {
      ci.advance(at(m), { [POOL]: instances.length });
      entry = ci.entries(new Prng(m), m, START + m * MINUTE, none, false)[POOL];
    }
    expect(entry?.busy).to.deep.equal([`${POOL}-001`, `${POOL}-002`, `${POOL}-003`]);
    expect(entry?.running).to.equal(3);
    expect(entry?.pending).to.be.greaterThan(0);
    expect([...ci.busyIds()].sort()).to.deep.equal(instances.map((i) => i.id).sort());
  });

  it('gets the list wrong as a real CI does: stale for a few cycles, a busy worker left out, an ended one still named', () => {
    const { cloud, ci, instances, at, launch } = ciWorld({ load: 4 }, 6);
    const told: FaultKind[] = [];
    let was: QueueEntry | undefined;
    for (let m = 1; m <= 400; m++) {
      const t = at(m);
      // Workers end now and then and are replaced, so that a lagging list has someone to name.
      const victim = m % 7 === 0 ? instances.find((i) => i.state === 'running') : undefined;
      if (victim) {
        cloud.world.endInstance(victim, 'Server.SpotInstanceTermination', 'interrupted');
        instances.push(launch(instances.length + 1));
      }
      ci.advance(t, { [POOL]: 6 });
      const before = told.length;
      const entry = ci.entries(new Prng(1000 + m), m, t, (k) => told.push(k))[POOL];
      if (told.slice(before).includes('ci-stale-list')) expect(entry).to.equal(was);
      was = entry;
    }
    expect(new Set(told)).to.deep.equal(new Set(['ci-stale-list', 'ci-omitted-busy', 'ci-ended-worker']));
  });

  it('publishes no entry for a pool that is not in queue form', () => {
    const { ci, at } = ciWorld({ queuePools: [] });
    ci.advance(at(5), { [POOL]: 3 });
    expect(ci.entries(new Prng(1), 5, START + 5 * MINUTE, none)).to.deep.equal({});
  });
});

describe('soak CI: workers asked to leave', () => {
  it('an idle worker running the agent powers off within minutes once asked; one without it never does', () => {
    for (const [agentShare, leaves] of [
      [1, true],
      [0, false],
    ] as const) {
      const { ci, instances, at } = ciWorld({ agentShare, load: 0 }, 1);
      const worker = instances[0] as (typeof instances)[number];
      at(5);
      worker.tags['fleet:retire'] = new Date(START + 60 * MINUTE).toISOString();
      let left = 0;
      for (let m = 6; m <= 30; m++) {
        ci.advance(at(m), { [POOL]: 0 });
        left += ci.agentsLeave(new Prng(m));
      }
      expect(left).to.equal(leaves ? 1 : 0);
      expect(worker.state === 'running').to.equal(!leaves);
    }
  });

  it('a busy worker running the agent finishes its job first and takes no new one', () => {
    const { ci, instances, at } = ciWorld({ load: 4 }, 1);
    const worker = instances[0] as (typeof instances)[number];
    for (let m = 1; m <= 10; m++) ci.advance(at(m), { [POOL]: 1 });
    expect(ci.busyIds().has(worker.id)).to.equal(true);
    worker.tags['fleet:retire'] = new Date(START + 600 * MINUTE).toISOString();
    let m = 10;
    while (ci.busyIds().has(worker.id)) {
      expect(ci.agentsLeave(new Prng(m))).to.equal(0);
      ci.advance(at(++m), { [POOL]: 1 });
    }
    for (let k = 0; k < 30 && worker.state === 'running'; k++) {
      ci.advance(at(++m), { [POOL]: 1 });
      expect(ci.busyIds().has(worker.id)).to.equal(false);
      ci.agentsLeave(new Prng(m));
    }
    expect(worker.state).to.not.equal('running');
  });
});
