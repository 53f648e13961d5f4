// Busy workers on moto_server, through the binary: the CI's desired document lists the busy
// workers; a busy worker fleet wants gone is tagged fleet:retire (never terminated), an idle one is
// terminated at once, and one still there at its deadline is terminated.

import { expect } from 'chai';
import { CreateTagsCommand, type Instance } from '@aws-sdk/client-ec2';
import { useMoto } from '../support/moto.js';
import { fleet } from '../support/cli.js';
import { type MotoFleet, fleetInstances, motoFleet, tagsOf } from '../support/moto-fleet.js';

describe('cli against moto_server: busy workers are asked to leave', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let world: MotoFleet;

  before(async () => {
    world = await motoFleet(moto().endpoint, { desired: 2, policy: { scaleDownAfter: 0, stopTimeout: 1800 } });
  });
  after(async () => world?.proxy.close());

  it('tags a busy worker with fleet:retire and terminates an idle one at once; one still there at its deadline is terminated', async () => {
    const { env, config, ec2 } = world;
    const up = await fleet(['reconcile', '--once', '--config', config], env);
    expect(up.code, up.stderr).to.equal(0);
    const [busy, idle] = (await fleetInstances(ec2)).sort((a, b) => String(tagsOf(a).Name).localeCompare(String(tagsOf(b).Name)));
    const busyName = tagsOf(busy as Instance).Name as string;

    await world.put('fleet-control', 'desired.json', { 'bld-linux64': { desired: 0, running: 1, busy: [busyName] } });
    const plan = await fleet(['plan', '--json', '--config', config], env);
    expect(plan.code, plan.stderr).to.equal(0);
    const actions = (JSON.parse(plan.stdout) as { actions: { kind: string; instanceId: string; cause: string; deadline?: string }[] })
      .actions;
    expect(actions.map((a) => [a.kind, a.instanceId, a.cause]).sort()).to.deep.equal(
      [
        ['retire', busy?.InstanceId, 'scale-down'],
        ['terminate', idle?.InstanceId, 'scale-down'],
      ].sort(),
    );
    expect(actions.find((a) => a.kind === 'retire')?.deadline).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const down = await fleet(['reconcile', '--once', '--config', config], env);
    expect(down.code, down.stderr).to.equal(0);
    const after = new Map((await fleetInstances(ec2)).map((i) => [i.InstanceId, i]));
    expect(after.get(idle?.InstanceId)?.State?.Name).to.be.oneOf(['shutting-down', 'terminated']);
    const asked = after.get(busy?.InstanceId) as Instance;
    expect(asked.State?.Name).to.equal('running');
    expect(tagsOf(asked)).to.include({ 'fleet:retire-cause': 'scale-down' });
    expect(Date.parse(tagsOf(asked)['fleet:retire'] as string)).to.be.greaterThan(Date.now());

    // Still busy, and never terminated before its deadline: a second cycle waits.
    const wait = await fleet(['reconcile', '--once', '--config', config], env);
    expect(wait.code, wait.stderr).to.equal(0);
    expect((await fleetInstances(ec2)).find((i) => i.InstanceId === busy?.InstanceId)?.State?.Name).to.equal('running');

    // Its deadline passes (written here rather than waited for): the next cycle terminates it.
    await ec2.send(
      new CreateTagsCommand({ Resources: [busy?.InstanceId as string], Tags: [{ Key: 'fleet:retire', Value: '2020-01-01T00:00:00Z' }] }),
    );
    const late = await fleet(['reconcile', '--once', '--config', config], env);
    expect(late.code, late.stderr).to.equal(0);
    const ended = late.stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"terminate"'))
      .map((l) => JSON.parse(l) as { instance: string; cause: string; retireEnd?: string });
    expect(ended.map((e) => [e.instance, e.cause, e.retireEnd])).to.deep.equal([[busy?.InstanceId, 'scale-down', 'deadline']]);
    expect((await fleetInstances(ec2)).find((i) => i.InstanceId === busy?.InstanceId)?.State?.Name).to.be.oneOf([
      'shutting-down',
      'terminated',
    ]);
  });
});
