// Staged rollouts through the built binary against moto_server, over several `reconcile --once` runs:
// a broken image (the test ends its workers as soon as they appear, as a worker that fails its boot
// would) reaches at most max(canary, guard.failures) instances and is drained by the guard; a good one
// with a short bake turns the pool over. moto's instances run at once; the bake is real time.

import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { fleet } from '../support/cli.js';
import { useMoto } from '../support/moto.js';
import { type MotoFleet, fleetInstances, live, motoFleet } from '../support/moto-fleet.js';
import { journalProving, linuxImages, manifestOf } from '../support/moto-images.js';

const BAKE_S = 5;

describe('cli against moto_server: staged rollouts', function () {
  this.timeout(90_000);
  const moto = useMoto(this);
  let world: MotoFleet;
  let old: string;
  let broken: string;
  let good: string;
  const hourAgo = new Date(Date.now() - 3600_000).toISOString();

  async function reconcile(): Promise<string> {
    const r = await fleet(['reconcile', '--once', '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
    return r.stderr;
  }

  async function stateDoc(key: string): Promise<Record<string, Record<string, { by?: string }>>> {
    return JSON.parse(
      (await (await world.s3.send(new GetObjectCommand({ Bucket: 'fleet-control', Key: `state/${key}` }))).Body?.transformToString()) ??
        '{}',
    );
  }

  // A pool of 3 on `old`, an image the journal remembers as proved (its canaries baked long ago).
  before(async () => {
    world = await motoFleet(moto().endpoint, {
      desired: 3,
      manifest: () => ({ images: [] }),
      config: { manifest: 's3://fleet-control/amis.json' },
      policy: { freshness: { grace: 0, retireBudget: 3, canary: 1, bake: BAKE_S, guard: { window: 300, failures: 2 } } },
    });
    [old, broken, good] = (await linuxImages(world.ec2)) as [string, string, string];
    await world.put('fleet-control', 'amis.json', manifestOf([old, hourAgo]));
    await journalProving(world, old);
    await reconcile();
    expect((await fleetInstances(world.ec2)).filter(live).map((i) => i.ImageId)).to.deep.equal([old, old, old]);
  });
  after(async () => world?.proxy.close());

  it('a broken image reaches at most max(canary, guard.failures) instances; the guard drains it and the pool stays on the old image', async () => {
    await world.put('fleet-control', 'amis.json', manifestOf([old, hourAgo], [broken, new Date().toISOString()]));
    let tripLog = '';
    for (let run = 0; run < 6 && tripLog === ''; run++) {
      const stderr = await reconcile();
      tripLog = stderr.split('\n').find((l) => l.includes('"msg":"guard drains the AMI"')) ?? '';
      // Its workers give up as soon as they boot.
      const booted = (await fleetInstances(world.ec2)).filter((i) => i.ImageId === broken && live(i)).map((i) => i.InstanceId as string);
      if (booted.length > 0) await world.ec2.send(new TerminateInstancesCommand({ InstanceIds: booted }));
      const running = (await fleetInstances(world.ec2)).filter((i) => i.ImageId === old && i.State?.Name === 'running');
      expect(running, 'the old workers keep serving').to.have.length(3);
    }
    expect(tripLog, 'the guard tripped').to.not.equal('');
    const trip = JSON.parse(tripLog);
    expect(trip).to.include({ pool: 'bld-linux64', ami: broken });
    const ever = (await fleetInstances(world.ec2)).filter((i) => i.ImageId === broken);
    expect(ever.length).to.be.within(1, 2); // max(canary 1, failures 2)
    expect(trip.instances).to.have.members(ever.map((i) => i.InstanceId));
    expect((await stateDoc('drained.json')).amis?.[broken]).to.include({ by: 'guard' });
    await reconcile();
    expect((await fleetInstances(world.ec2)).filter((i) => i.ImageId === broken)).to.have.length(ever.length);
    expect((await fleetInstances(world.ec2)).filter(live).map((i) => i.ImageId)).to.deep.equal([old, old, old]);
  });

  it(`a good image with a ${BAKE_S} s bake turns the pool over: one canary first, the rest once it baked, old workers leave only after their replacements baked`, async () => {
    await world.put(
      'fleet-control',
      'amis.json',
      manifestOf([old, hourAgo], [broken, new Date(Date.now() - 60_000).toISOString()], [good, new Date().toISOString()]),
    );
    const first = await reconcile();
    const canaries = first
      .split('\n')
      .filter((l) => l.includes('"msg":"launch"'))
      .map((l) => JSON.parse(l));
    expect(canaries.map((l) => [l.ami, l.cause])).to.deep.equal([[good, 'canary']]);
    expect(first).to.not.include('"msg":"terminate"');
    let retired = 0;
    for (let run = 0; run < 5; run++) {
      const now = (await fleetInstances(world.ec2)).filter(live);
      if (now.length === 3 && now.every((i) => i.ImageId === good)) break;
      await sleep(BAKE_S * 1000 + 500);
      const started = Date.now();
      const stderr = await reconcile();
      const instances = await fleetInstances(world.ec2);
      // Running capacity never drops below desired: an old worker leaves only once its replacement runs.
      expect(instances.filter((i) => i.State?.Name === 'running').length).to.be.at.least(3);
      for (const t of stderr
        .split('\n')
        .filter((l) => l.includes('"msg":"terminate"'))
        .map((l) => JSON.parse(l))) {
        expect(['canary', 'outdated'], t.instance).to.include(t.cause);
        // Its replacement, on the good image, was launched BAKE_S or more before this run began: it had baked.
        // (An earlier canary of the broken image may have been launched for the same worker.)
        const replacement = instances.find(
          (i) => i.ImageId === good && i.Tags?.some((tag) => tag.Key === 'fleet:replaces' && tag.Value === t.instance),
        );
        expect(replacement, t.instance).to.not.equal(undefined);
        expect(started - (replacement?.LaunchTime?.getTime() ?? started), t.instance).to.be.at.least(BAKE_S * 1000);
        retired++;
      }
    }
    expect(retired, 'each old worker left through a pair').to.be.at.least(3);
    const after = await fleetInstances(world.ec2);
    expect(after.filter(live).map((i) => i.ImageId)).to.deep.equal([good, good, good]);
    expect(after.filter((i) => i.ImageId === old).every((i) => !live(i))).to.equal(true);
    expect(Object.keys((await stateDoc('reconciler.json')).established ?? {})).to.include(`bld-linux64 us-east-1 ${good}`);
  });
});
