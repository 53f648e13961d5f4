// An idle worker stands in for a busy one, through the binary against moto_server: a pool of two on
// an old image gets one replacement (the canary) for one of them; that one is busy when the canary
// has baked, so the idle old worker leaves in its place. The canary's `fleet:replaces` is re-pointed
// first, then the idle worker is terminated; the busy one stays, untagged, to finish its job.

import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Instance } from '@aws-sdk/client-ec2';
import { fleet } from '../support/cli.js';
import { useMoto } from '../support/moto.js';
import { type MotoFleet, fleetInstances, live, motoFleet, tagsOf } from '../support/moto-fleet.js';
import { journalProving, linuxImages, manifestOf } from '../support/moto-images.js';

const BAKE_S = 5;

describe('cli against moto_server: an idle outdated worker stands in for a busy pair target', function () {
  this.timeout(90_000);
  const moto = useMoto(this);
  let world: MotoFleet;
  let old: string;
  let fresh: string;
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();

  async function run(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    const r = await fleet([...args, '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
    return r;
  }

  before(async () => {
    world = await motoFleet(moto().endpoint, {
      desired: 2,
      manifest: () => ({ images: [] }),
      config: { manifest: 's3://fleet-control/amis.json' },
      policy: { freshness: { grace: 0, retireBudget: 1, canary: 1, bake: BAKE_S, guard: { window: 300, failures: 2 } } },
    });
    [old, fresh] = (await linuxImages(world.ec2)) as [string, string];
    await world.put('fleet-control', 'amis.json', manifestOf([old, hourAgo]));
    // The old image's canaries baked long ago: the pool starts on it at once.
    await journalProving(world, old);
    await run('reconcile', '--once');
    expect((await fleetInstances(world.ec2)).filter(live).map((i) => i.ImageId)).to.deep.equal([old, old]);
  });
  after(async () => world?.proxy.close());

  it('re-points the replacement to the idle worker, terminates that one, and leaves the busy one running and untagged', async () => {
    await world.put('fleet-control', 'amis.json', manifestOf([old, hourAgo], [fresh, new Date().toISOString()]));
    await run('reconcile', '--once');
    const canary = (await fleetInstances(world.ec2)).find((i) => i.ImageId === fresh && live(i)) as Instance;
    expect(canary, 'the canary was launched').to.not.equal(undefined);
    const targetId = tagsOf(canary)['fleet:replaces'] as string;
    const olds = (await fleetInstances(world.ec2)).filter((i) => i.ImageId === old && live(i));
    const target = olds.find((i) => i.InstanceId === targetId) as Instance;
    const idle = olds.find((i) => i.InstanceId !== targetId) as Instance;
    expect(target, 'the canary replaces one of the old workers').to.not.equal(undefined);

    // The CI reports the canary's target busy; the other old worker is idle.
    await world.put('fleet-control', 'desired.json', { 'bld-linux64': { desired: 2, busy: [tagsOf(target).Name] } });
    await sleep(BAKE_S * 1000 + 500);

    const plan = JSON.parse((await run('plan', '--json')).stdout) as {
      actions: { kind: string; instanceId?: string; cause?: string; standsInFor?: { replacement: string; busy: string } }[];
    };
    const leaving = plan.actions.filter((a) => a.kind === 'terminate' || a.kind === 'retire');
    expect(leaving.map((a) => [a.kind, a.instanceId, a.cause, a.standsInFor])).to.deep.equal([
      ['terminate', idle.InstanceId, 'canary', { replacement: canary.InstanceId, busy: target.InstanceId }],
    ]);

    const { stderr } = await run('reconcile', '--once');
    const ended = stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"terminate"'))
      .map((l) => JSON.parse(l) as { instance: string });
    expect(ended.map((e) => e.instance)).to.deep.equal([idle.InstanceId]);
    const after = new Map((await fleetInstances(world.ec2)).map((i) => [i.InstanceId, i]));
    expect(after.get(idle.InstanceId)?.State?.Name).to.be.oneOf(['shutting-down', 'terminated']);
    expect(tagsOf(after.get(canary.InstanceId) as Instance)['fleet:replaces']).to.equal(idle.InstanceId);
    const busy = after.get(target.InstanceId) as Instance;
    expect(busy.State?.Name).to.equal('running');
    expect(tagsOf(busy)).to.not.have.property('fleet:retire');
  });
});
