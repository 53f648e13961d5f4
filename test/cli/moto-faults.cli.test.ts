// The built binary against moto_server behind the fault proxy, with the network failing as a real
// one does: lost answers, a lost batch answer, a leader whose calls hang past its lease. moto does
// not keep client tokens; the proxy does, as EC2 does (test/support/fault-proxy.ts). Judged from
// the proxy's log of every call on the wire and from moto's own DescribeInstances.

import { type ChildProcess, spawn } from 'node:child_process';
import { DescribeImagesCommand, DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2';
import { expect } from 'chai';
import { slotFromTags } from '../../src/cloud/tags.js';
import { BIN, fleet } from '../support/cli.js';
import type { ProxiedCall } from '../support/fault-proxy.js';
import { useMoto } from '../support/moto.js';
import { type MotoFleet, motoFleet } from '../support/moto-fleet.js';

const EC2_MUTATING = new Set(['RunInstances', 'TerminateInstances', 'CreateTags']);
const LIVE = ['pending', 'running'];

/** Mozilla's amis.json form, one entry per image, the newest last. */
function manifest(amis: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    amis.map((id, n) => [
      id,
      {
        id,
        region: 'us-east-1',
        name: `bld-linux64-${n}`,
        state: 'available',
        tags: { 'moz-type': 'bld-linux64', 'moz-created': String(1763000000 + n * 86_400) },
      },
    ]),
  );
}

/** The fleet's instances as moto holds them, asked of moto directly (not through the proxy). */
async function instances(world: MotoFleet): Promise<Instance[]> {
  const out = await world.ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'tag:fleet:managed-by', Values: ['releng'] }] }));
  return (out.Reservations ?? []).flatMap((r) => r.Instances ?? []);
}

const live = (all: readonly Instance[]) => all.filter((i) => LIVE.includes(i.State?.Name ?? ''));
const tagsOf = (i: Instance) => Object.fromEntries((i.Tags ?? []).map((t) => [t.Key as string, t.Value as string]));
/** The name a worker reads from its own tags: Name, or its entry in fleet:names by launch index. */
const nameOf = (i: Instance) => slotFromTags(tagsOf(i), i.AmiLaunchIndex ?? 0).name;

/** Wait for something the processes under test do on their own (polled; no time is asserted). */
async function until(what: string, condition: () => boolean | Promise<boolean>, log: () => string = () => ''): Promise<void> {
  for (let n = 0; !(await condition()); n++) {
    if (n > 1200) throw new Error(`never happened: ${what}\n${log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('cli against moto_server through a faulty network', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let world: MotoFleet;

  beforeEach(async () => {
    await moto().reset();
  });
  afterEach(async () => world?.proxy.close());

  it('reconcile --once whose launch answers are all lost exits non-zero; after a drain of that image, no resend of it, and the pool ends whole on the previous image', async () => {
    world = await motoFleet(moto().endpoint, { desired: 3 });
    const images = await world.ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const linux = (images.Images ?? []).filter((i) => String(i.Platform ?? '').toLowerCase() !== 'windows').map((i) => i.ImageId as string);
    const [previous, newest] = [linux.find((id) => id !== world.ami) as string, world.ami];
    await world.put('golden-amis', 'amis.json', manifest([previous, newest]));

    // No RunInstances gets an answer: the probe's request is lost on the way (moto never sees it; the
    // journal keeps it unconfirmed), the batch's answer on the way back (moto made it; its listing
    // carries the token).
    world.proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'lose-request' }, when: (c) => c.params.get('MaxCount') === '1' });
    world.proxy.addNetworkRule({ action: 'RunInstances', fault: { kind: 'lose-response' } });
    const lost = await fleet(['reconcile', '--once', '--config', world.config], world.env);
    expect(lost.code, lost.stderr).to.equal(1);
    expect(lost.stderr).to.match(/^fleet: 3 action\(s\) failed \(ECONNRESET ×3\)/m);
    const sent = world.proxy.calls.filter((c) => c.action === 'RunInstances');
    expect(
      sent.every((c) => c.params.get('ImageId') === newest && ['lost-request', 'lost-response', 'replayed'].includes(c.outcome)),
    ).to.equal(true);
    // Each retry carried its call's token: moto made the batch's instances once.
    expect(sent.filter((c) => c.forwarded).map((c) => c.params.get('MaxCount'))).to.deep.equal(['2']);
    expect(live(await instances(world)).map((i) => i.ImageId)).to.deep.equal([newest, newest]);

    const drained = await fleet(['drain', '--ami', newest, '--reason', 'boot loop', '--config', world.config], world.env);
    expect(drained.code, drained.stderr).to.equal(0);
    world.proxy.clearRules();
    world.proxy.clearCalls();
    for (let run = 0; run < 4; run++) {
      const r = await fleet(['reconcile', '--once', '--config', world.config], world.env);
      expect(r.code, r.stderr).to.equal(0);
      const now = live(await instances(world));
      expect(now.filter((i) => i.ImageId !== newest).length, `run ${run}`).to.be.at.most(3);
    }
    expect(world.proxy.calls.filter((c) => c.action === 'RunInstances' && c.params.get('ImageId') === newest)).to.deep.equal([]);
    const end = live(await instances(world));
    expect(end.map((i) => i.ImageId)).to.deep.equal([previous, previous, previous]);
    const names = end.map(nameOf);
    expect(new Set(names).size, names.join(', ')).to.equal(3);
  });

  it('a launch of five lands with five distinct names in each instance’s own tags; a lost batch answer re-sent with its token never doubles it', async () => {
    world = await motoFleet(moto().endpoint, { desired: 5 });
    // The batch of two loses its answer once; Name tags cannot be set, so names come from fleet:names.
    world.proxy.addNetworkRule({
      action: 'RunInstances',
      fault: { kind: 'lose-response' },
      times: 1,
      when: (c) => c.params.get('MaxCount') === '2',
    });
    world.proxy.addRule({ action: 'CreateTags', code: 'UnauthorizedOperation', status: 403 });
    const r = await fleet(['reconcile', '--once', '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/launched 5, terminated 0/);
    const runs = world.proxy.calls.filter((c) => c.action === 'RunInstances');
    const lostToken = runs.find((c) => c.outcome === 'lost-response')?.params.get('ClientToken');
    expect(runs.filter((c) => c.params.get('ClientToken') === lostToken).map((c) => c.outcome)).to.deep.equal([
      'lost-response',
      'replayed',
    ]);
    expect(runs.filter((c) => c.forwarded).map((c) => c.params.get('MaxCount'))).to.deep.equal(['1', '2', '2']);

    const made = await instances(world);
    expect(made).to.have.length(5);
    // The probe of one carries its Name from the launch; the batches' instances only fleet:names.
    expect(made.filter((i) => tagsOf(i).Name === undefined)).to.have.length(4);
    expect(made.map(nameOf).sort()).to.deep.equal([
      'bld-linux64-spot-001',
      'bld-linux64-spot-002',
      'bld-linux64-spot-003',
      'bld-linux64-spot-004',
      'bld-linux64-spot-005',
    ]);
    // Batches: launch indexes 0 and 1 within their calls.
    expect(made.map((i) => i.AmiLaunchIndex).sort()).to.deep.equal([0, 0, 0, 1, 1]);
  });

  it('a leader whose calls hang past its lease: the standby takes over, and the stalled one sends nothing after the standby’s first launch', async function () {
    // The lease lives 30 s at least: most of this test is waiting for it to run out.
    this.timeout(120_000);
    world = await motoFleet(moto().endpoint, { desired: 2 });
    const logs = { a: '', b: '' };
    const service = (id: 'a' | 'b'): ChildProcess => {
      const child = spawn(process.execPath, [BIN, 'reconcile', '--config', world.config], {
        env: {
          PATH: process.env.PATH ?? '',
          ...world.env,
          FLEET_INTERVAL: '1',
          FLEET_METRICS_PORT: '0',
          AWS_SDK_UA_APP_ID: `replica-${id}`,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr?.on('data', (d: Buffer) => (logs[id] += d.toString()));
      return child;
    };
    const stop = async (child: ChildProcess): Promise<number | null> => {
      if (child.exitCode !== null) return child.exitCode;
      const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      return closed;
    };
    const a = service('a');
    let b: ChildProcess | undefined;
    try {
      await until(
        'replica-a launches the first two',
        async () => live(await instances(world)).length === 2,
        () => logs.a,
      );
      b = service('b');
      await until(
        'replica-b stands by',
        () => /standby: another replica/.test(logs.b),
        () => logs.b,
      );

      // From its next launch on, every call of replica-a hangs (held before it reaches moto).
      let hanging = false;
      world.proxy.addNetworkRule({
        fault: { kind: 'hang', ms: 600_000 },
        when: (c) => c.agent === 'replica-a' && (hanging ||= c.action === 'RunInstances'),
      });
      await world.put('fleet-control', 'desired.json', { 'bld-linux64': 4 });
      const bFirst = () => world.proxy.calls.find((c) => c.agent === 'replica-b' && c.action === 'RunInstances');
      await until(
        'replica-b takes over and launches',
        () => bFirst() !== undefined,
        () => `${logs.a}\n----\n${logs.b}\n----\n${world.proxy.calls.map((c) => `${c.agent} ${c.action} ${c.outcome}`).join('\n')}`,
      );
      await until(
        'the pool is whole',
        async () => live(await instances(world)).length === 4,
        () => logs.b,
      );
      // replica-a's held calls go on now; it finds the lease taken.
      world.proxy.release();
      const releasedAt = world.proxy.calls.length;
      await until(
        'replica-a is heard from again',
        () => world.proxy.calls.slice(releasedAt).some((c) => c.agent === 'replica-a'),
        () => logs.a,
      );
      await until(
        'replica-a stands by',
        () => /standby: another replica/.test(logs.a),
        () => logs.a,
      );

      const first = bFirst() as ProxiedCall;
      const fromA = world.proxy.calls.filter((c) => c.agent === 'replica-a');
      const changes = (c: ProxiedCall) => EC2_MUTATING.has(c.action) || (c.method === 'PUT' && c.status >= 200 && c.status < 300);
      expect(
        fromA.filter((c) => changes(c) && c.arrivedSeq > first.arrivedSeq).map((c) => `${c.action} ${c.outcome}`),
        'sent by A after B’s first launch',
      ).to.deep.equal([]);
      expect(
        fromA
          .filter((c) => changes(c) && c.forwarded && (c.forwardedSeq as number) > first.arrivedSeq)
          .map((c) => `${c.action} ${c.outcome}`),
        'reached moto after B’s first launch',
      ).to.deep.equal([]);
      // A's own launch never reached moto: its fence gave it up, and the proxy dropped it unsent.
      expect(fromA.filter((c) => c.action === 'RunInstances').map((c) => c.outcome)).to.include('dropped');
    } finally {
      // Whatever happened, held calls go on, so that both services can finish and stop.
      world.proxy.clearRules();
      world.proxy.release();
      const codes = [await stop(a), b ? await stop(b) : 0];
      expect(codes, `${logs.a.slice(-2000)}\n${logs.b.slice(-2000)}`).to.deep.equal([0, 0]);
    }
    const end = live(await instances(world));
    expect(end).to.have.length(4);
    expect(new Set(end.map(nameOf)).size).to.equal(4);
  });
});
