import { expect } from 'chai';
import type { FaultProxy } from '../support/fault-proxy.js';
import { useMoto } from '../support/moto.js';
import { fleet, workspace } from '../support/cli.js';
import { type MotoFleet, motoFleet } from '../support/moto-fleet.js';

const MUTATING = /^(Run|Terminate|Create|Delete|Modify|Put)/;
const fleetLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('fleet:'));

describe('cli against moto_server: operator mistakes are refused, never passed silently', function () {
  this.timeout(90_000);
  const moto = useMoto(this);
  let world: MotoFleet;
  let proxy: FaultProxy;

  before(async () => {
    world = await motoFleet(moto().endpoint);
    proxy = world.proxy;
    // A good document first, so a last good copy exists.
    const r = await fleet(['reconcile', '--once', '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
  });
  after(async () => proxy?.close());

  it('a desired document naming a pool no policy defines is refused: the last good copy is used, the log names the pool, plan says why', async () => {
    await world.put('fleet-control', 'desired.json', { 'bld-linux46': 4 });
    const plan = await fleet(['plan', '--config', world.config], world.env);
    expect(plan.code, plan.stderr).to.equal(0);
    expect(plan.stdout).to.match(/^INPUT desired: desired counts: no policy defines pool "bld-linux46".*; using the last good copy$/m);
    // Planned on the last good copy (3), not the pool's min (0): nothing to change.
    expect(plan.stdout).not.to.match(/terminate/);
    const once = await fleet(['reconcile', '--once', '--config', world.config], world.env);
    expect(once.code, once.stderr).to.equal(0);
    expect(once.stdout).to.match(/launched 0, terminated 0/);
    const errors = once.stderr
      .split('\n')
      .filter((l) => l.includes('"level":50'))
      .map((l) => JSON.parse(l) as { msg: string });
    expect(errors.map((e) => e.msg)).to.deep.equal([
      'desired refused: desired counts: no policy defines pool "bld-linux46" (a typo? list it in ignoredPools to allow it)',
    ]);
  });

  it('a pool listed in ignoredPools (FLEET_IGNORED_POOLS) is accepted and the rest of the document is used', async () => {
    await world.put('fleet-control', 'desired.json', {
      'bld-linux64': { pending: 1, running: 3, busy: ['bld-linux64-spot-001'] },
      'old-pool': 4,
    });
    const plan = await fleet(['plan', '--json', '--config', world.config], { ...world.env, FLEET_IGNORED_POOLS: 'old-pool,other' });
    expect(plan.code, plan.stderr).to.equal(0);
    const doc = JSON.parse(plan.stdout);
    expect(doc).not.to.have.key('inputProblems');
    expect(doc.pools[0]).to.include({ pool: 'bld-linux64', desired: 4 });
    expect(doc.actions.map((a: { kind: string }) => a.kind)).to.deep.equal(['launch']);
  });

  it('an invalid object form refuses the whole document in one line naming pool and field', async () => {
    await world.put('fleet-control', 'desired.json', { 'bld-linux64': { pending: -2, running: 3 } });
    const plan = await fleet(['plan', '--json', '--config', world.config], world.env);
    expect(plan.code, plan.stderr).to.equal(0);
    expect(JSON.parse(plan.stdout).inputProblems.desired).to.match(
      /^desired counts: "bld-linux64"\.pending must be a non-negative integer/,
    );
  });

  it('plan with no usable manifest says BLOCKED and never that the fleet matches', async () => {
    await world.put('fleet-control', 'desired.json', { 'bld-linux64': 12 });
    const env = { ...world.env, FLEET_STATE: 's3://fleet-control/state-blocked/', FLEET_MANIFEST: 's3://golden-amis/missing.json' };
    const plan = await fleet(['plan', '--config', world.config], env);
    expect(plan.code).to.equal(1);
    expect(plan.stdout).to.match(/^BLOCKED: no usable AMI manifest/m);
    expect(plan.stdout).not.to.match(/matches the desired state/);
    await world.put('fleet-control', 'desired.json', { 'bld-linux64': 3 });
  });

  it('drain of an AMI fleet has never seen is refused with exit 2 and one line, unless --force', async () => {
    proxy.clearCalls();
    const r = await fleet(['drain', '--ami', 'ami-0deadbeef', '--config', world.config], world.env);
    expect(r.code, r.stdout).to.equal(2);
    expect(fleetLines(r.stderr)).to.deep.equal([
      'fleet: drain --ami ami-0deadbeef: fleet has never seen this AMI (in no manifest, run by no managed instance); check the id, or use --force to drain it anyway',
    ]);
    expect(proxy.calls.filter((c) => MUTATING.test(c.action) || c.method === 'PUT')).to.deep.equal([]);
    const forced = await fleet(['drain', '--ami', 'ami-0deadbeef', '--force', '--config', world.config], world.env);
    expect(forced.code, forced.stderr).to.equal(0);
    expect(forced.stdout).to.match(/^drained ami-0deadbeef/);
    // Once drained it is known: undrain and a second drain need no --force.
    const again = await fleet(['drain', '--ami', 'ami-0deadbeef', '--config', world.config], world.env);
    expect(again.code, again.stderr).to.equal(0);
    expect(fleetLines(again.stderr)).to.deep.equal([]);
    expect((await fleet(['undrain', '--ami', 'ami-0deadbeef', '--config', world.config], world.env)).code).to.equal(0);
  });

  it("drain of the manifest's own AMI needs no --force", async () => {
    const r = await fleet(['drain', '--ami', world.ami, '--dry-run', '--config', world.config], world.env);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^would drain/);
  });

  it("config check refuses an instance type EC2 does not offer in the policy's region", async () => {
    const policy = {
      pool: 'bld-linux64',
      instanceTypes: ['c5.xlarge', 'c5.xlarg'],
      regions: { 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: [] } },
      size: { min: 0, max: 10 },
    };
    const bad = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [policy]);
    const r = await fleet(['config', 'check', '--config', bad.config], world.env);
    expect(r.code, r.stdout).to.equal(2);
    expect(fleetLines(r.stderr)).to.deep.equal([
      'fleet: policy bld-linux64: instanceTypes c5.xlarg: not offered by EC2 in us-east-1 (a typo?)',
    ]);
    const good = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [{ ...policy, instanceTypes: ['c5.xlarge'] }]);
    const ok = await fleet(['config', 'check', '--config', good.config], world.env);
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).not.to.match(/instance types not checked/);
  });
});
