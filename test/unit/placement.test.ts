import { expect } from 'chai';
import type { LaunchAction, TerminateAction } from '../../src/domain/actions.js';
import type { SpotPrice } from '../../src/domain/types.js';
import { offerKey } from '../../src/domain/types.js';
import { plan } from '../../src/plan/plan.js';
import { offerScore, spreadCap } from '../../src/policy/placement.js';
import { PriceBook } from '../../src/policy/prices.js';
import { DEFAULT_PRICES, T0, instance, policy, snapshot, spot } from '../support/builders.js';

const launches = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is LaunchAction => a.kind === 'launch');
const terminations = (p: ReturnType<typeof plan>) => p.actions.filter((a): a is TerminateAction => a.kind === 'terminate');
const HOUR = 3600_000;
const at = (p: SpotPrice, minutesAgo: number, price: number): SpotPrice => ({ ...p, price, timestamp: T0 - minutesAgo * 60_000 });
const offer = (az: string, instanceType = 'c5.xlarge') => ({ region: 'us-east-1', az, instanceType, weight: 1 });

describe('placement: what an offer is expected to cost', () => {
  const p = policy();

  it('is the price now when the offer had no trouble over the horizon', () => {
    const prices = new PriceBook([at(spot('us-east-1a', 'c5.xlarge', 0), 120, 0.2), at(spot('us-east-1a', 'c5.xlarge', 0), 5, 0.1)], {});
    expect(offerScore({ policy: p, prices, now: T0 }, offer('us-east-1a'), 0.5)).to.equal(0.1);
  });

  it('counts each interruption episode over the horizon against the offer, once per ten minutes', () => {
    const prices = new PriceBook([spot('us-east-1a', 'c5.xlarge', 0.1)], {});
    const key = offerKey({ lifecycle: 'spot', instanceType: 'c5.xlarge', az: 'us-east-1a' });
    const score = (times: number[]) => offerScore({ policy: p, prices, now: T0, interruptions: { [key]: times } }, offer('us-east-1a'));
    const quiet = score([]) as number;
    const once = score([T0 - HOUR]) as number;
    expect(once).to.be.greaterThan(quiet);
    expect(score([T0 - HOUR, T0 - HOUR + 60_000, T0 - HOUR + 5 * 60_000])).to.equal(once);
    expect(score([T0 - 3 * HOUR, T0 - HOUR])).to.be.greaterThan(once);
    // The default horizon is six hours: an interruption seven hours ago no longer counts.
    expect(score([T0 - 7 * HOUR])).to.equal(quiet);
  });

  it('counts a price above the cap (where EC2 interrupts) like an interruption, one per run above it', () => {
    const base = spot('us-east-1a', 'c5.xlarge', 0);
    const spiky = new PriceBook(
      [at(base, 300, 0.1), at(base, 200, 5), at(base, 199, 6), at(base, 190, 0.1), at(base, 100, 4), at(base, 90, 0.1)],
      {},
    );
    expect(spiky.spotSpikes('us-east-1', 'us-east-1a', 'c5.xlarge', 'Linux/UNIX', T0 - 6 * HOUR, T0, 1)).to.deep.equal([
      T0 - 200 * 60_000,
      T0 - 100 * 60_000,
    ]);
    const calm = new PriceBook([at(base, 300, 0.1)], {});
    const spikyScore = offerScore({ policy: p, prices: spiky, now: T0 }, offer('us-east-1a'), 1) as number;
    const calmScore = offerScore({ policy: p, prices: calm, now: T0 }, offer('us-east-1a'), 1) as number;
    expect(spikyScore).to.be.greaterThan(calmScore);
    // Without a cap nothing is a spike.
    expect(offerScore({ policy: p, prices: spiky, now: T0 }, offer('us-east-1a'))).to.equal(calmScore);
  });

  it('a scale-up goes to a steady offer rather than a slightly cheaper one that was interrupted lately', () => {
    const key = offerKey({ lifecycle: 'spot', instanceType: 'c5.xlarge', az: 'us-east-1b' });
    const s = snapshot({ desired: { 'bld-linux64': 1 }, interruptions: { [key]: [T0 - HOUR, T0 - 3 * HOUR, T0 - 5 * HOUR] } });
    const [launch] = launches(plan(s, [policy({ instanceTypes: ['c5.xlarge'] })], 'releng'));
    // 1b is the cheapest (0.06) but was interrupted three times in six hours; 1a (0.07) is next.
    expect(launch?.az).to.equal('us-east-1a');
    const calm = launches(plan(snapshot({ desired: { 'bld-linux64': 1 } }), [policy({ instanceTypes: ['c5.xlarge'] })], 'releng'));
    expect(calm[0]?.az).to.equal('us-east-1b');
  });
});

describe('placement: the spread cap', () => {
  const half = { kind: 'percent' as const, value: 50 };

  it('is a share of the desired size, at least one', () => {
    expect(spreadCap(half, 10, 6)).to.equal(5);
    expect(spreadCap({ kind: 'count', value: 0 }, 10, 20)).to.equal(1);
  });

  it('never asks more offers than are open: each may then hold an even share', () => {
    expect(spreadCap(half, 10, 1)).to.equal(10);
    expect(spreadCap({ kind: 'percent', value: 25 }, 10, 2)).to.equal(5);
    expect(spreadCap(half, 10, 0)).to.equal(10);
  });

  it('a pool whose other offers are out places its whole shortfall on spot in the open one, not on demand', () => {
    const out = (az: string, type: string) => [offerKey({ lifecycle: 'spot', instanceType: type, az }), T0 + 60_000] as const;
    const unavailable = Object.fromEntries([out('us-east-1a', 'c5.xlarge'), out('us-east-1c', 'c5.xlarge')]);
    const s = snapshot({ desired: { 'bld-linux64': 4 }, unavailable, timers: { 'bld-linux64': { shortfallSince: T0 - 3600_000 } } });
    const l = launches(plan(s, [policy({ spread: '50%', instanceTypes: ['c5.xlarge'] })], 'releng'));
    expect(l.map((a) => `${a.lifecycle} ${a.az}`)).to.deep.equal(Array(4).fill('spot us-east-1b'));
  });
});

describe('placement: the automatic spread (the default)', () => {
  const auto = (prices: SpotPrice[]) =>
    launches(
      plan(
        snapshot({ desired: { 'bld-linux64': 4 }, spotPrices: prices }),
        [policy({ spread: 'auto', instanceTypes: ['c5.xlarge'] })],
        'releng',
      ),
    );
  const zones = (l: LaunchAction[]) => l.map((a) => a.az).sort();

  it('spreads half the pool per offer while another offer is priced within minSaving of the best', () => {
    const close = [spot('us-east-1a', 'c5.xlarge', 0.1), spot('us-east-1b', 'c5.xlarge', 0.098), spot('us-east-1c', 'c5.xlarge', 0.2)];
    expect(zones(auto(close))).to.deep.equal(['us-east-1a', 'us-east-1a', 'us-east-1b', 'us-east-1b']);
  });

  it('takes the cheapest offer for the whole pool when every other is clearly dearer', () => {
    const apart = [spot('us-east-1a', 'c5.xlarge', 0.1), spot('us-east-1b', 'c5.xlarge', 0.08), spot('us-east-1c', 'c5.xlarge', 0.2)];
    expect(zones(auto(apart))).to.deep.equal(Array(4).fill('us-east-1b'));
  });

  it('a number set in the policy is a hard limit, whatever the prices', () => {
    const apart = [spot('us-east-1a', 'c5.xlarge', 0.1), spot('us-east-1b', 'c5.xlarge', 0.08), spot('us-east-1c', 'c5.xlarge', 0.2)];
    const l = launches(
      plan(
        snapshot({ desired: { 'bld-linux64': 4 }, spotPrices: apart }),
        [policy({ spread: '50%', instanceTypes: ['c5.xlarge'] })],
        'releng',
      ),
    );
    expect(zones(l)).to.deep.equal(['us-east-1a', 'us-east-1a', 'us-east-1b', 'us-east-1b']);
  });
});

describe('rebalancing: moves to a clearly cheaper offer, launch first', () => {
  const cheapIn1b = [spot('us-east-1a', 'c5.xlarge', 0.1), spot('us-east-1b', 'c5.xlarge', 0.05), spot('us-east-1c', 'c5.xlarge', 0.1)];
  const c5 = (overrides: Record<string, unknown> = {}) =>
    policy({ instanceTypes: ['c5.xlarge'], rebalance: { enabled: true }, ...overrides });

  it('replaces a running spot instance whose offer costs clearly more than the best with room', () => {
    const dear = instance({ az: 'us-east-1a' });
    const p = plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: cheapIn1b }), [c5()], 'releng');
    expect(terminations(p)).to.deep.equal([]);
    const [move] = launches(p);
    expect(move?.az).to.equal('us-east-1b');
    expect(move?.replaces).to.equal(dear.id);
    expect(move?.cause).to.equal('rebalance');
    // Judged on the expected price of the offer moved to: half that of the one left.
    expect(move?.price).to.equal(0.05);
  });

  it('the old instance leaves once its replacement runs', () => {
    const dear = instance({ az: 'us-east-1a' });
    const moved = instance({ az: 'us-east-1b', subnetId: 'subnet-b', replaces: dear.id, launchTime: T0 - 60_000 });
    const p = plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear, moved], spotPrices: cheapIn1b }), [c5()], 'releng');
    expect(terminations(p).map((t) => t.instanceId)).to.deep.equal([dear.id]);
    expect(launches(p)).to.deep.equal([]);
  });

  it('hysteresis: no move for a saving below minSaving', () => {
    const dear = instance({ az: 'us-east-1a' });
    const close = [spot('us-east-1a', 'c5.xlarge', 0.1), spot('us-east-1b', 'c5.xlarge', 0.097), spot('us-east-1c', 'c5.xlarge', 0.1)];
    expect(plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: close }), [c5()], 'releng').actions).to.deep.equal(
      [],
    );
    const strict = c5({ rebalance: { enabled: true, minSaving: '60%' } });
    expect(
      plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: cheapIn1b }), [strict], 'releng').actions,
    ).to.deep.equal([]);
  });

  it('no move for a gap that opened minutes ago where the offers kept crossing over the horizon', () => {
    const dear = instance({ az: 'us-east-1a' });
    const a = spot('us-east-1a', 'c5.xlarge', 0);
    const b = spot('us-east-1b', 'c5.xlarge', 0);
    // Each zone cheaper half the time over the last six hours; 1b half the price of 1a for the last ten minutes.
    const crossing = Array.from({ length: 12 }, (_, n) => [
      at(a, 360 - n * 30, n % 2 ? 0.05 : 0.1),
      at(b, 360 - n * 30, n % 2 ? 0.1 : 0.05),
    ]).flat();
    const now = [...crossing, at(a, 10, 0.1), at(b, 10, 0.05), spot('us-east-1c', 'c5.xlarge', 0.2)];
    expect(plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: now }), [c5()], 'releng').actions).to.deep.equal(
      [],
    );
    // 1b cheaper over the whole horizon: the move pays.
    const lasting = [at(a, 360, 0.1), at(b, 360, 0.05), at(a, 10, 0.1), at(b, 10, 0.05), spot('us-east-1c', 'c5.xlarge', 0.2)];
    const moved = launches(plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: lasting }), [c5()], 'releng'));
    expect(moved.map((l) => `${l.cause} ${l.az}`)).to.deep.equal(['rebalance us-east-1b']);
  });

  it('no move when the saving over the horizon does not repay the move', () => {
    const dear = instance({ az: 'us-east-1a' });
    const short = c5({ rebalance: { enabled: true, horizon: 60 } });
    expect(
      plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: cheapIn1b }), [short], 'releng').actions,
    ).to.deep.equal([]);
  });

  it('not when rebalancing is off, nor for an instance still pending, nor while the pool is short', () => {
    const dear = instance({ az: 'us-east-1a' });
    const off = c5({ rebalance: { enabled: false } });
    expect(
      plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [dear], spotPrices: cheapIn1b }), [off], 'releng').actions,
    ).to.deep.equal([]);
    const booting = instance({ az: 'us-east-1a', state: 'pending' });
    expect(
      plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [booting], spotPrices: cheapIn1b }), [c5()], 'releng').actions,
    ).to.deep.equal([]);
    const short = launches(plan(snapshot({ desired: { 'bld-linux64': 2 }, instances: [dear], spotPrices: cheapIn1b }), [c5()], 'releng'));
    expect(short.map((l) => l.replaces)).to.deep.equal([undefined]);
  });

  it('moves at most the rebalance budget at once, moves in flight included', () => {
    const many = Array.from({ length: 10 }, () => instance({ az: 'us-east-1a' }));
    const wide = c5({ rebalance: { enabled: true, budget: '10%' } });
    const first = launches(plan(snapshot({ desired: { 'bld-linux64': 10 }, instances: many, spotPrices: cheapIn1b }), [wide], 'releng'));
    // budget 10% of 10
    expect(first.map((l) => l.replaces)).to.deep.equal([many[0]?.id]);
    const inFlight = instance({ az: 'us-east-1b', subnetId: 'subnet-b', replaces: many[0]?.id, state: 'pending', launchTime: T0 - 10_000 });
    const next = plan(
      snapshot({ desired: { 'bld-linux64': 10 }, instances: [...many, inFlight], spotPrices: cheapIn1b }),
      [wide],
      'releng',
    );
    expect(launches(next)).to.deep.equal([]);
  });

  it('an on-demand instance is not a rebalancing move (on-demand replacement has its own budget)', () => {
    const od = instance({ az: 'us-east-1a', lifecycle: 'on-demand' });
    const l = launches(plan(snapshot({ desired: { 'bld-linux64': 1 }, instances: [od], spotPrices: DEFAULT_PRICES }), [c5()], 'releng'));
    expect(l.map((a) => a.cause)).to.deep.equal(['on-demand-swap']);
  });
});
