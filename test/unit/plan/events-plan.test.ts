import { expect } from 'chai';
import type { LaunchAction, TerminateAction } from '../../../src/domain/actions.js';
import { offerKey } from '../../../src/domain/types.js';
import { plan } from '../../../src/plan/plan.js';
import { applyStateEvents, withWarnedOffers } from '../../../src/service/observe.js';
import { T0, instance, policy, snapshot } from '../../support/builders.js';

const launches = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');

describe('EC2 events in the plan: facts in, decisions out', () => {
  it('an interruption warning makes the instance leave (EC2 reclaims it: no terminate) and its replacement launch now', () => {
    const warned = instance({ az: 'us-east-1b' });
    const other = instance({ az: 'us-east-1a' });
    const s = snapshot({
      desired: { 'bld-linux64': 2 },
      instances: [warned, other],
      events: { warned: { [warned.id]: { at: T0 - 10_000, region: 'us-east-1' } }, rebalance: {} },
      // what observe derives from the warning: the warned offer is kept out for a while
      unavailable: { [offerKey(warned)]: T0 + 170_000 },
    });
    const p = plan(s, [policy()], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    const l = launches(p);
    expect(l).to.have.length(1);
    expect(l[0]?.cause, 'it stands in for the warned instance').to.equal('warning');
    expect(offerKey(l[0] as LaunchAction)).to.not.equal(offerKey(warned));
  });

  it('without the warning nothing happens: the same pool is whole', () => {
    const s = snapshot({ desired: { 'bld-linux64': 2 }, instances: [instance({ az: 'us-east-1b' }), instance({ az: 'us-east-1a' })] });
    expect(plan(s, [policy()], 'releng').actions).to.deep.equal([]);
  });

  it('a rebalance recommendation gets a replacement first, in an offer no warning touches; the old one leaves once it runs', () => {
    const atRisk = instance({ az: 'us-east-1b' });
    const other = instance({ az: 'us-east-1a' });
    const events = { warned: {}, rebalance: { [atRisk.id]: { at: T0 - 60_000, region: 'us-east-1' } } };
    const p = plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: [atRisk, other], events }), [policy()], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    const [move] = launches(p);
    expect(move?.replaces).to.equal(atRisk.id);
    expect(move?.cause).to.equal('recommendation');
    expect(`${move?.az}:${move?.instanceType}`).to.not.equal(`${atRisk.az}:${atRisk.instanceType}`);

    const replacement = instance({
      az: move?.az,
      instanceType: move?.instanceType,
      replaces: atRisk.id,
      cause: 'recommendation',
      launchTime: T0 - 30_000,
    });
    const next = plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: [atRisk, other, replacement], events }), [policy()], 'releng');
    expect(terminations(next).map((t) => [t.instanceId, t.cause])).to.deep.equal([[atRisk.id, 'recommendation']]);
    expect(launches(next)).to.deep.equal([]);
  });

  it('no replacement for a rebalance recommendation when no better offer exists', () => {
    const atRisk = instance({ az: 'us-east-1b' });
    const onlyOffer = policy({ instanceTypes: ['c5.xlarge'], regions: { 'us-east-1': { subnets: ['subnet-b'], securityGroups: [] } } });
    const events = { warned: {}, rebalance: { [atRisk.id]: { at: T0 - 60_000, region: 'us-east-1' } } };
    const p = plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [atRisk], events }), [onlyOffer], 'releng');
    expect(p.actions).to.deep.equal([]);
  });

  it('observe: a warned spot instance keeps its offer out from the warning on, for the capacity TTL', () => {
    const warned = instance({ az: 'us-east-1b' });
    const out = withWarnedOffers({}, [warned], { [warned.id]: { at: T0 - 60_000, region: 'us-east-1' } }, T0, 180_000);
    expect(out).to.deep.equal({ [offerKey(warned)]: T0 + 120_000 });
    expect(withWarnedOffers({}, [warned], { [warned.id]: { at: T0 - 200_000, region: 'us-east-1' } }, T0, 180_000)).to.deep.equal({});
    expect(withWarnedOffers({}, [warned], {}, T0, 180_000)).to.deep.equal({});
  });

  it('observe: a state-change event ends an instance the listing still shows live, and dates an undated end', () => {
    const live = instance({ state: 'running' });
    const ended = instance({ state: 'terminated' });
    const untouched = instance({ state: 'running' });
    const states = {
      [live.id]: { state: 'shutting-down' as const, at: T0 - 5_000, region: 'us-east-1' },
      [ended.id]: { state: 'terminated' as const, at: T0 - 9_000, region: 'us-east-1' },
      [untouched.id]: { state: 'running' as const, at: T0 - 5_000, region: 'us-east-1' },
    };
    const [a, b, c] = applyStateEvents([live, ended, untouched], states, T0);
    expect(a).to.include({ state: 'shutting-down', endedAt: T0 - 5_000 });
    expect(b).to.include({ state: 'terminated', endedAt: T0 - 9_000 });
    expect(c).to.deep.equal(untouched);
  });
});
