import { expect } from 'chai';
import { parsePolicy } from '../../src/config/policy-schema.js';
import { listInstances, spotPriceHistory } from '../../src/cloud/pages.js';
import { createRuntime } from '../../src/service/runtime.js';
import { silentLogger } from '../../src/service/logger.js';
import { testConfig } from '../support/sim-fleet.js';
import { type ContractTarget, MUTATING, REGION, forEachTarget } from './targets.js';

forEachTarget('contract, whole reconciler', (current) => {
  let target: ContractTarget;

  async function setUp(desired: number, spread?: string) {
    target = current();
    await target.reset();
    const subnets = await target.subnets();
    const ami = await target.ami();
    await target.createBucket('fleet-contract');
    const created = new Date(target.now() - 3600_000).toISOString();
    await target.putObject(
      'fleet-contract',
      'amis.json',
      JSON.stringify({ images: [{ id: ami, pool: 'bld-linux64', region: REGION, created, name: 'golden' }] }),
    );
    await target.putObject('fleet-contract', 'desired.json', JSON.stringify({ 'bld-linux64': desired }));
    const policy = parsePolicy(
      {
        pool: 'bld-linux64',
        instanceTypes: ['c5.xlarge'],
        regions: { [REGION]: { subnets: subnets.slice(0, 2).map((s) => s.id), securityGroups: [] } },
        size: { min: 0, max: 10 },
        onDemandPrice: 0.17,
        names: 'bld-linux64-spot-{nnn}',
        ...(spread === undefined ? {} : { spread }),
      },
      'contract policy',
    );
    const config = testConfig({
      manifest: 's3://fleet-contract/amis.json',
      desired: 's3://fleet-contract/desired.json',
      state: 's3://fleet-contract/state/',
      imageOwners: await target.imageOwners(),
    });
    const runtime = (readOnly: boolean) =>
      createRuntime({
        config,
        policies: [policy],
        cloud: target.cloud(),
        clock: target.clock(),
        log: silentLogger(),
        random: () => 0,
        readOnly,
      });
    return { subnets, ami, runtime };
  }

  it('reconcile launches exactly the desired tagged spot instances in the chosen subnet, with no CreateNetworkInterface', async () => {
    // One offer may take the whole pool, so every launch goes to the cheapest subnet.
    const { ami, runtime } = await setUp(3, '100%');
    target.clearCalls();
    const result = await runtime(false).reconciler.cycle({ dryRun: false });
    const chosen = new Set(result.plan?.actions.map((a) => (a.kind === 'launch' ? a.subnetId : '')));
    expect(chosen.size).to.equal(1);
    const live = await listInstances(target.cloud().compute(REGION), 'releng');
    expect(live).to.have.length(3);
    for (const i of live) {
      expect(i).to.include({ pool: 'bld-linux64', lifecycle: 'spot', ami, subnetId: [...chosen][0] });
      expect(i.privateIp).to.be.a('string');
    }
    expect(live.map((i) => i.name).sort()).to.deep.equal(['bld-linux64-spot-001', 'bld-linux64-spot-002', 'bld-linux64-spot-003']);
    const calls = target.calls();
    // One offer: a probe of one (named at launch), then a batch of two (all or nothing), each then
    // named on its own.
    expect(calls.filter((c) => c === 'RunInstances')).to.have.length(2);
    expect(calls.filter((c) => c === 'CreateTags')).to.have.length(2);
    expect(calls).not.to.include('CreateNetworkInterface');

    // A second cycle changes nothing.
    target.clearCalls();
    const again = await runtime(false).reconciler.cycle({ dryRun: false });
    expect(again.plan?.actions).to.deep.equal([]);
    expect(target.calls().filter((c) => MUTATING.test(c) && c !== 'S3 PUT')).to.deep.equal([]);
  });

  it('the default spread gives one offer at most half the pool unless the other offers are clearly dearer', async () => {
    const { subnets, runtime } = await setUp(4);
    await runtime(false).reconciler.cycle({ dryRun: false });
    const live = await listInstances(target.cloud().compute(REGION), 'releng');
    expect(live).to.have.length(4);
    const compute = target.cloud().compute(REGION);
    const history = await spotPriceHistory(compute, {
      instanceTypes: ['c5.xlarge'],
      productDescription: 'Linux/UNIX',
      since: target.now() - 3600_000,
    });
    const latest = (az: string) => history.filter((p) => p.az === az).sort((a, b) => b.timestamp - a.timestamp)[0]?.price ?? Infinity;
    const priceOf = new Map(subnets.slice(0, 2).map((s) => [s.id, latest(s.az)]));
    const count = (id: string) => live.filter((i) => i.subnetId === id).length;
    const [a, b] = [...priceOf.keys()] as [string, string];
    const [cheap, dear] = (priceOf.get(a) as number) <= (priceOf.get(b) as number) ? [a, b] : [b, a];
    // auto: offers within 5% (rebalance.minSaving) of the best share the pool; a dearer one gets none.
    if ((priceOf.get(dear) as number) <= (priceOf.get(cheap) as number) * 1.05) expect([count(cheap), count(dear)]).to.deep.equal([2, 2]);
    else expect([count(cheap), count(dear)]).to.deep.equal([4, 0]);
  });

  it('plan and dry-run mutate nothing, as the call log shows', async () => {
    const { runtime } = await setUp(2);
    target.clearCalls();
    const { plan } = await runtime(true).reconciler.planOnly();
    expect(plan.actions.filter((a) => a.kind === 'launch')).to.have.length(2);
    const dry = await runtime(true).reconciler.cycle({ dryRun: true });
    expect(dry.plan?.actions).to.have.length(2);
    const calls = target.calls();
    expect(calls.length).to.be.greaterThan(0);
    expect(calls.filter((c) => MUTATING.test(c))).to.deep.equal([]);
    expect(await listInstances(target.cloud().compute(REGION), 'releng')).to.have.length(0);
  });

  it('scales down, terminating only its own instances', async () => {
    const { runtime, subnets, ami } = await setUp(3);
    const foreign = await target.foreignInstance(subnets[0]?.id as string, ami, 'someone-else');
    const rt = runtime(false);
    await rt.reconciler.cycle({ dryRun: false });
    await target.putObject('fleet-contract', 'desired.json', JSON.stringify({ 'bld-linux64': 1 }));
    const down = await rt.reconciler.cycle({ dryRun: false });
    expect(down.plan?.actions.filter((a) => a.kind === 'terminate')).to.have.length(2);
    const live = (await listInstances(target.cloud().compute(REGION), 'releng')).filter(
      (i) => i.state === 'pending' || i.state === 'running',
    );
    expect(live).to.have.length(1);
    const other = await listInstances(target.cloud().compute(REGION), 'someone-else');
    expect(other.map((i) => [i.id, i.state === 'pending' || i.state === 'running'])).to.deep.equal([[foreign, true]]);
  });
});
