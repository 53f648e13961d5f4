import { expect } from 'chai';
import type { LaunchAction, TerminateAction } from '../../src/domain/actions.js';
import { offerKey } from '../../src/domain/types.js';
import { plan } from '../../src/plan/plan.js';
import { T0, image, instance, pendingLaunch, policy, snapshot, spot } from '../support/builders.js';

const launches = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');

describe('plan: scaling up on spot', () => {
  it('launches the shortfall on the cheapest offer, from the current AMI, with lowest-first names', () => {
    const p = plan(snapshot({ desired: { 'bld-linux64': 3 } }), [policy()], 'releng');
    const l = launches(p);
    expect(l).to.have.length(3);
    for (const a of l) {
      expect(a).to.include({
        lifecycle: 'spot',
        az: 'us-east-1b',
        subnetId: 'subnet-b',
        instanceType: 'c5.xlarge',
        ami: 'ami-new',
        price: 0.06,
      });
      expect(a.cause).to.equal('scale-up');
    }
    expect(l.map((a) => a.name)).to.deep.equal(['bld-linux64-spot-001', 'bld-linux64-spot-002', 'bld-linux64-spot-003']);
    expect(l.filter((a) => a.resumes !== undefined)).to.deep.equal([]);
  });

  it("uses the pool's own product description: a cheaper Windows price elsewhere is ignored", () => {
    const prices = [
      spot('us-east-1a', 'c5.xlarge', 0.01, 'Windows'),
      spot('us-east-1c', 'c5.xlarge', 0.02, 'Windows (Amazon VPC)'),
      spot('us-east-1a', 'c5.xlarge', 0.07),
      spot('us-east-1b', 'c5.xlarge', 0.065, 'Linux/UNIX (Amazon VPC)'),
      spot('us-east-1c', 'c5.xlarge', 0.08),
    ];
    const p = plan(snapshot({ desired: { 'bld-linux64': 2 }, spotPrices: prices }), [policy({ instanceTypes: ['c5.xlarge'] })], 'releng');
    expect(launches(p).map((a) => [a.az, a.price])).to.deep.equal([
      ['us-east-1b', 0.065],
      ['us-east-1b', 0.065],
    ]);
  });

  it('a Windows pool places on Windows prices', () => {
    const prices = [
      spot('us-east-1a', 'c5.xlarge', 0.3, 'Windows'),
      spot('us-east-1b', 'c5.xlarge', 0.06),
      spot('us-east-1c', 'c5.xlarge', 0.25, 'Windows'),
    ];
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 1 }, spotPrices: prices }),
      [policy({ instanceTypes: ['c5.xlarge'], productDescription: 'Windows', onDemandPrice: 0.5 })],
      'releng',
    );
    expect(launches(p).map((a) => [a.az, a.price])).to.deep.equal([['us-east-1c', 0.25]]);
  });

  it('compares prices per unit of weight', () => {
    const p = plan(
      snapshot({
        desired: { 'bld-linux64': 1 },
        spotPrices: [spot('us-east-1a', 'c5.xlarge', 0.06), spot('us-east-1a', 'm5.xlarge', 0.1)],
      }),
      [
        policy({
          instanceTypes: [
            { type: 'c5.xlarge', weight: 1 },
            { type: 'm5.xlarge', weight: 2 },
          ],
        }),
      ],
      'releng',
    );
    expect(launches(p)[0]).to.include({ instanceType: 'm5.xlarge', price: 0.1 });
  });

  it('skips offers above the max price, in dollars or as a share of on-demand', () => {
    const dollars = plan(snapshot({ desired: { 'bld-linux64': 1 } }), [policy({ spot: { maxPrice: 0.065 } })], 'releng');
    expect(launches(dollars)[0]).to.include({ az: 'us-east-1b', instanceType: 'c5.xlarge', maxPrice: 0.065 });
    const none = plan(snapshot({ desired: { 'bld-linux64': 1 } }), [policy({ spot: { maxPrice: 0.05 } })], 'releng');
    expect(launches(none)).to.have.length(0);
    expect(none.pools[0]?.notes.join('\n')).to.match(/above max price/);
    // 30% of the policy's $0.20 on-demand price: $0.06 passes, nothing above it.
    const share = plan(snapshot({ desired: { 'bld-linux64': 1 } }), [policy({ spot: { maxPrice: '30%' } })], 'releng');
    expect(launches(share)[0]).to.include({ az: 'us-east-1b', price: 0.06, maxPrice: 0.06 });
  });

  it('prefers the Pricing API figure over the policy onDemandPrice for percentage caps', () => {
    const s = snapshot({
      desired: { 'bld-linux64': 1 },
      onDemandPrices: { 'us-east-1:c5.xlarge:Linux/UNIX': 0.1, 'us-east-1:m5.xlarge:Linux/UNIX': 0.1 },
    });
    const p = plan(s, [policy({ spot: { maxPrice: '50%' } })], 'releng');
    expect(launches(p)).to.have.length(0);
  });

  it('keeps offers that recently failed for capacity out, and uses the next cheapest', () => {
    const unavailable = { [offerKey({ lifecycle: 'spot', instanceType: 'c5.xlarge', az: 'us-east-1b' })]: T0 + 60_000 };
    const p = plan(snapshot({ desired: { 'bld-linux64': 1 }, unavailable }), [policy()], 'releng');
    expect(launches(p)[0]).to.include({ az: 'us-east-1a', instanceType: 'c5.xlarge' });
    const expired = { [offerKey({ lifecycle: 'spot', instanceType: 'c5.xlarge', az: 'us-east-1b' })]: T0 - 1 };
    expect(launches(plan(snapshot({ desired: { 'bld-linux64': 1 }, unavailable: expired }), [policy()], 'releng'))[0]).to.include({
      az: 'us-east-1b',
    });
  });

  it('skips ignored zones and subnets that do not exist', () => {
    const p = plan(
      snapshot({ desired: { 'bld-linux64': 1 } }),
      [
        policy({
          ignoredAzs: ['us-east-1b'],
          regions: { 'us-east-1': { subnets: ['subnet-a', 'subnet-b', 'subnet-zzz'], securityGroups: [] } },
        }),
      ],
      'releng',
    );
    expect(launches(p)[0]).to.include({ az: 'us-east-1a' });
  });

  it('ignores policy regions this fleet does not manage', () => {
    const p = plan(snapshot({ desired: { 'bld-linux64': 1 }, regions: ['us-west-2'] }), [policy()], 'releng');
    expect(launches(p)).to.have.length(0);
  });

  it('spreads: no offer takes more than its share of the pool', () => {
    const p = plan(snapshot({ desired: { 'bld-linux64': 4 } }), [policy({ spread: '50%' })], 'releng');
    const perOffer = new Map<string, number>();
    for (const a of launches(p)) perOffer.set(`${a.az}:${a.instanceType}`, (perOffer.get(`${a.az}:${a.instanceType}`) ?? 0) + 1);
    expect([...perOffer.values()]).to.deep.equal([2, 2]);
    expect([...perOffer.keys()]).to.deep.equal(['us-east-1b:c5.xlarge', 'us-east-1a:c5.xlarge']);
  });

  it('reuses free names lowest first', () => {
    const existing = [
      instance({ name: 'bld-linux64-spot-001' }),
      instance({ name: 'bld-linux64-spot-003' }),
      instance({ name: 'bld-linux64-spot-002', state: 'terminated' }),
    ];
    const p = plan(snapshot({ desired: { 'bld-linux64': 4 }, instances: existing }), [policy()], 'releng');
    expect(launches(p).map((a) => a.name)).to.deep.equal(['bld-linux64-spot-002', 'bld-linux64-spot-004']);
  });

  it('never launches a drained AMI: the newest non-drained one is current', () => {
    const p = plan(snapshot({ desired: { 'bld-linux64': 1 }, drained: new Set(['ami-new']) }), [policy()], 'releng');
    expect(launches(p)[0]?.ami).to.equal('ami-old');
    const none = plan(snapshot({ desired: { 'bld-linux64': 1 }, drained: new Set(['ami-new', 'ami-old']) }), [policy()], 'releng');
    expect(launches(none)).to.have.length(0);
  });

  it('gives a missing pool its min and clamps counts to [min, max]', () => {
    expect(launches(plan(snapshot({ desired: {} }), [policy({ size: { min: 2, max: 5 } })], 'releng'))).to.have.length(2);
    expect(launches(plan(snapshot({ desired: { 'bld-linux64': 50 } }), [policy({ size: { min: 0, max: 5 } })], 'releng'))).to.have.length(
      5,
    );
  });

  it('changes nothing without desired counts or a manifest', () => {
    const running = [instance(), instance()];
    for (const s of [
      snapshot({ desired: undefined, instances: running }),
      snapshot({ images: undefined, instances: running, desired: { 'bld-linux64': 0 } }),
    ]) {
      const p = plan(s, [policy()], 'releng');
      expect(p.actions).to.deep.equal([]);
      expect(p.blocked).to.match(/nothing is launched or retired/);
    }
  });

  it('counts pending launches as capacity and resumes unconfirmed ones by their call’s token', () => {
    const confirmed = pendingLaunch({ instanceId: 'i-seen-later', name: 'bld-linux64-spot-001' });
    const unconfirmed = pendingLaunch({ name: 'bld-linux64-spot-002', clientToken: 'fleet-abc' });
    const p = plan(snapshot({ desired: { 'bld-linux64': 3 }, pendingLaunches: [confirmed, unconfirmed] }), [policy()], 'releng');
    const l = launches(p);
    expect(l).to.have.length(2);
    expect(l[0]).to.include({ name: 'bld-linux64-spot-002', resumes: 'fleet-abc' });
    expect(l.map((a) => a.cause)).to.deep.equal(['resume', 'scale-up']);
    expect(l[1]).to.include({ name: 'bld-linux64-spot-003' });
  });
});

describe('plan: unanswered launches once desired dropped', () => {
  // Two slots of one call whose answer never came: re-sent, the call makes both or neither.
  const call = [
    pendingLaunch({ name: 'bld-linux64-spot-002', clientToken: 'fleet-lost' }),
    pendingLaunch({ name: 'bld-linux64-spot-003', clientToken: 'fleet-lost' }),
  ];
  const running = instance({ name: 'bld-linux64-spot-001' });

  it('are not re-sent while the pool is above desired, and still count: they may have landed', () => {
    const p = plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: [running], pendingLaunches: call }), [policy()], 'releng');
    expect(p.actions, 'no resend, no new launch, nothing terminated').to.deep.equal([]);
    expect(p.pools[0]?.live).to.equal(3);
    expect(p.pools[0]?.notes.join()).to.match(/2 unanswered launch slot\(s\) not re-sent: the pool is above desired/);
  });

  it('are re-sent once the pool needs them all', () => {
    const p = plan(snapshot({ desired: { 'bld-linux64': 3 }, instances: [running], pendingLaunches: call }), [policy()], 'releng');
    expect(launches(p).map((a) => [a.name, a.resumes])).to.deep.equal([
      ['bld-linux64-spot-002', 'fleet-lost'],
      ['bld-linux64-spot-003', 'fleet-lost'],
    ]);
  });
});

describe('plan: scaling down', () => {
  it('terminates on-demand first, then the most expensive, then the newest', () => {
    const cheapOld = instance({ az: 'us-east-1b', launchTime: T0 - 7200_000 });
    const cheapNew = instance({ az: 'us-east-1b', launchTime: T0 - 600_000 });
    const expensive = instance({ az: 'us-east-1a', instanceType: 'm5.xlarge' });
    const onDemand = instance({ lifecycle: 'on-demand', az: 'us-east-1c' });
    const s = snapshot({ desired: { 'bld-linux64': 1 }, instances: [cheapOld, cheapNew, expensive, onDemand] });
    // A spread that no offer exceeds, so that price and age alone decide.
    const t = terminations(plan(s, [policy({ spread: 10 })], 'releng'));
    expect(t.map((a) => a.instanceId)).to.deep.equal([onDemand.id, expensive.id, cheapNew.id]);
    expect(t.map((a) => a.cause)).to.deep.equal(['scale-down', 'scale-down', 'scale-down']);
  });

  it('an outdated image leaves before a crowded offer, and a crowded offer before a dear one', () => {
    const crowdedOld = instance({ az: 'us-east-1b', launchTime: T0 - 7200_000 });
    const crowdedNew = instance({ az: 'us-east-1b', launchTime: T0 - 600_000 });
    const alone = instance({ az: 'us-east-1a', instanceType: 'm5.xlarge' });
    const outdated = instance({ az: 'us-east-1c', ami: 'ami-old' });
    // Four workers, two wanted, at most half of them (one) per offer.
    const s = snapshot({ desired: { 'bld-linux64': 2 }, instances: [crowdedOld, crowdedNew, alone, outdated] });
    const t = terminations(plan(s, [policy({ spread: '50%' })], 'releng'));
    // Without the spread rule the dearer m5.xlarge (alone) would go second: the order shows which rule chose each.
    expect(t.map((a) => [a.instanceId, a.cause, a.ami, `${a.az} ${a.instanceType}`])).to.deep.equal([
      [outdated.id, 'scale-down', 'ami-old', 'us-east-1c c5.xlarge'],
      [crowdedNew.id, 'scale-down', crowdedNew.ami, 'us-east-1b c5.xlarge'],
    ]);
  });

  it('waits until a surplus has lasted scaleDownAfter before terminating', () => {
    const p = policy({ scaleDownAfter: 600 });
    const instances = [instance(), instance(), instance()];
    const first = plan(snapshot({ desired: { 'bld-linux64': 1 }, instances }), [p], 'releng');
    expect(first.actions).to.deep.equal([]);
    expect(first.timers['bld-linux64']?.surplusSince).to.equal(T0);
    expect(first.pools[0]?.notes.join()).to.match(/2 above desired; scale-down in 600s/);
    const early = plan(snapshot({ now: T0 + 599_000, desired: { 'bld-linux64': 1 }, instances, timers: first.timers }), [p], 'releng');
    expect(early.actions).to.deep.equal([]);
    const due = plan(snapshot({ now: T0 + 600_000, desired: { 'bld-linux64': 1 }, instances, timers: first.timers }), [p], 'releng');
    expect(terminations(due)).to.have.length(2);
    expect(due.timers).to.deep.equal({});
    // The queue came back before the delay: nothing is terminated and the timer is cleared.
    const back = plan(snapshot({ now: T0 + 300_000, desired: { 'bld-linux64': 3 }, instances, timers: first.timers }), [p], 'releng');
    expect(back.actions).to.deep.equal([]);
    expect(back.timers).to.deep.equal({});
  });

  it('leaves workers alone when scaleDown is none', () => {
    const s = snapshot({ desired: { 'bld-linux64': 0 }, instances: [instance(), instance()] });
    const p = plan(s, [policy({ scaleDown: 'none' })], 'releng');
    expect(p.actions).to.deep.equal([]);
    expect(p.pools[0]?.notes.join()).to.match(/scaleDown is none/);
  });

  it('never takes running capacity below desired while a replacement is still pending', () => {
    const od = instance({ lifecycle: 'on-demand' });
    const pendingSpot = instance({ state: 'pending', launchTime: T0 - 30_000 });
    const s = snapshot({ desired: { 'bld-linux64': 1 }, instances: [od, pendingSpot] });
    expect(terminations(plan(s, [policy()], 'releng'))).to.deep.equal([]);
    const nowRunning = snapshot({ desired: { 'bld-linux64': 1 }, instances: [od, { ...pendingSpot, state: 'running' }] });
    expect(terminations(plan(nowRunning, [policy()], 'releng')).map((a) => a.instanceId)).to.deep.equal([od.id]);
  });

  it('terminates pending instances freely when desired drops', () => {
    const running = [instance(), instance()];
    const pending = [instance({ state: 'pending', launchTime: T0 - 20_000 }), instance({ state: 'pending', launchTime: T0 - 10_000 })];
    const t = terminations(plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: [...running, ...pending] }), [policy()], 'releng'));
    expect(t.map((a) => a.instanceId).sort()).to.deep.equal(pending.map((i) => i.id).sort());
  });
});

describe('plan: on-demand fallback', () => {
  const noSpot = { spot: { fallbackAfter: 300 }, onDemand: { max: 2 } };

  it('starts the shortfall timer and waits fallbackAfter before launching on demand', () => {
    const s = snapshot({ desired: { 'bld-linux64': 3 }, spotPrices: [] });
    const first = plan(s, [policy(noSpot)], 'releng');
    expect(first.actions).to.deep.equal([]);
    expect(first.timers['bld-linux64']?.shortfallSince).to.equal(T0);
    expect(first.pools[0]?.notes.join()).to.match(/on-demand fallback in 300s/);

    const early = plan({ ...s, now: T0 + 299_000, timers: first.timers }, [policy(noSpot)], 'releng');
    expect(early.actions).to.deep.equal([]);
    expect(early.timers['bld-linux64']?.shortfallSince).to.equal(T0);

    const due = plan({ ...s, now: T0 + 300_000, timers: first.timers }, [policy(noSpot)], 'releng');
    const l = launches(due);
    expect(l).to.have.length(2); // the on-demand limit
    for (const a of l) expect(a).to.include({ lifecycle: 'on-demand' });
    expect(l.map((a) => a.cause)).to.deep.equal(['fallback', 'fallback']);
    expect(due.pools[0]?.notes.join()).to.match(/on-demand limit 2 reached/);
  });

  it('keeps the timer while the pool is short, even when spot launches could be planned, and clears it once the pool is whole', () => {
    const short = snapshot({ desired: { 'bld-linux64': 1 }, timers: { 'bld-linux64': { shortfallSince: T0 - 100_000 } } });
    const p = plan(short, [policy(noSpot)], 'releng');
    expect(launches(p)[0]).to.include({ lifecycle: 'spot' });
    expect(p.timers['bld-linux64']?.shortfallSince).to.equal(T0 - 100_000);
    const whole = plan({ ...short, instances: [instance({ state: 'pending' })] }, [policy(noSpot)], 'releng');
    expect(whole.actions).to.deep.equal([]);
    expect(whole.timers).to.deep.equal({});
  });

  it('once fallback is due, still prefers spot while an offer is open: a spread it cannot honour yields, not on demand', () => {
    const prices = [spot('us-east-1b', 'c5.xlarge', 0.06)];
    const s = snapshot({ desired: { 'bld-linux64': 3 }, spotPrices: prices, timers: { 'bld-linux64': { shortfallSince: T0 - 400_000 } } });
    const l = launches(plan(s, [policy({ ...noSpot, spread: 1, instanceTypes: ['c5.xlarge'] })], 'releng'));
    expect(l.map((a) => a.lifecycle)).to.deep.equal(['spot', 'spot', 'spot']);
  });

  it('once fallback is due, goes on demand for what spot cannot place', () => {
    const s = snapshot({
      desired: { 'bld-linux64': 3 },
      spotPrices: [],
      timers: { 'bld-linux64': { shortfallSince: T0 - 400_000 } },
      instances: [instance({ lifecycle: 'spot' })],
    });
    const l = launches(plan(s, [policy({ ...noSpot, instanceTypes: ['c5.xlarge'] })], 'releng'));
    expect(l.map((a) => a.lifecycle)).to.deep.equal(['on-demand', 'on-demand']);
  });

  it('counts on-demand instances already running against the on-demand limit', () => {
    const s = snapshot({
      desired: { 'bld-linux64': 4 },
      spotPrices: [],
      timers: { 'bld-linux64': { shortfallSince: T0 - 600_000 } },
      instances: [instance({ lifecycle: 'on-demand' })],
    });
    expect(launches(plan(s, [policy(noSpot)], 'releng'))).to.have.length(1);
  });

  it('replaces on-demand by spot gradually once spot is back: launch first, then retire', () => {
    const od = [instance({ lifecycle: 'on-demand' }), instance({ lifecycle: 'on-demand' })];
    const p1 = plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: od }), [policy()], 'releng');
    expect(terminations(p1)).to.deep.equal([]);
    expect(launches(p1)).to.have.length(1);
    expect(launches(p1)[0]).to.include({ lifecycle: 'spot' });
    expect(launches(p1)[0]?.cause).to.equal('on-demand-swap');

    // The replacement is pending: nothing more until it runs.
    const replacement = instance({ state: 'pending', az: 'us-east-1b' });
    const p2 = plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: [...od, replacement] }), [policy()], 'releng');
    expect(p2.actions).to.deep.equal([]);

    // It runs: one on-demand leaves, and the next replacement starts.
    const p3 = plan(
      snapshot({ desired: { 'bld-linux64': 2 }, instances: [...od, { ...replacement, state: 'running' }] }),
      [policy()],
      'releng',
    );
    expect(terminations(p3)).to.have.length(1);
    expect(terminations(p3)[0]?.lifecycle).to.equal('on-demand');
    expect(launches(p3)).to.have.length(1);
  });

  it('does not replace on-demand workers of a pool that scales down by itself', () => {
    const od = [instance({ lifecycle: 'on-demand' })];
    expect(
      plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: od }), [policy({ scaleDown: 'none' })], 'releng').actions,
    ).to.deep.equal([]);
  });

  it('never replaces above the pool max', () => {
    const od = [instance({ lifecycle: 'on-demand' }), instance({ lifecycle: 'on-demand' })];
    expect(
      plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: od }), [policy({ size: { min: 0, max: 2 } })], 'releng').actions,
    ).to.deep.equal([]);
  });
});

describe('plan: multiple pools and regions', () => {
  it('plans each pool on its own images', () => {
    const tst = policy({ pool: 'tst-linux64', names: 'tst-{nnn}' });
    const s = snapshot({
      desired: { 'bld-linux64': 1, 'tst-linux64': 1 },
      images: [image('ami-bld', 1), image('ami-tst', 2, 'tst-linux64')],
    });
    const l = launches(plan(s, [policy(), tst], 'releng'));
    expect(l.map((a) => [a.pool, a.ami, a.name])).to.deep.equal([
      ['bld-linux64', 'ami-bld', 'bld-linux64-spot-001'],
      ['tst-linux64', 'ami-tst', 'tst-001'],
    ]);
  });
});

describe('plan: spread while no spot offer is open', () => {
  // No spot price known (or a max price that is a share of an unknown on-demand price): spot has no
  // offer, and the spread's even share is over the on-demand offers a fallback would use.
  const noSpot = { spread: '50%', spot: { fallbackAfter: 300 }, onDemand: { max: 4 } };

  it('on-demand fallback keeps to the spread cap', () => {
    const s = snapshot({ desired: { 'bld-linux64': 2 }, spotPrices: [], timers: { 'bld-linux64': { shortfallSince: T0 - 400_000 } } });
    const l = launches(plan(s, [policy(noSpot)], 'releng'));
    expect(l.map((a) => a.lifecycle)).to.deep.equal(['on-demand', 'on-demand']);
    expect(new Set(l.map((a) => `${a.az} ${a.instanceType}`)).size, 'two offers').to.equal(2);
  });

  it('scale-down takes the crowded offer first', () => {
    const crowded = [
      instance({ launchTime: T0 - 7200_000 }),
      instance({ launchTime: T0 - 7100_000 }),
      instance({ launchTime: T0 - 7000_000 }),
    ];
    const newest = instance({ az: 'us-east-1c', subnetId: 'subnet-c', instanceType: 'm5.xlarge', launchTime: T0 - 600_000 });
    const s = snapshot({ desired: { 'bld-linux64': 2 }, spotPrices: [], instances: [...crowded, newest] });
    const t = terminations(plan(s, [policy(noSpot)], 'releng'));
    expect(t.map((a) => a.instanceId).sort()).to.deep.equal([crowded[1]?.id, crowded[2]?.id].sort());
  });
});
