import { expect } from 'chai';
import { InputError } from '../../../src/domain/errors.js';
import { DEFAULT_MARKET, Market, marketRuleAt } from '../../../src/fake-cloud/market.js';
import { Prng } from '../../../src/fake-cloud/prng.js';
import type { RecordedRow } from '../../../src/fake-cloud/price-files.js';
import { PriceRecording } from '../../../src/fake-cloud/price-recording.js';
import { replayWindow } from '../../../src/sim/recorded/window.js';

const T0 = Date.parse('2016-03-01T00:00:00Z');
const MIN = 60_000;

function row(az: string, minute: number, price: number, instanceType = 'm3.large'): RecordedRow {
  return { region: 'us-east-1', az, instanceType, productDescription: 'Linux/UNIX', price, t: T0 + minute * MIN };
}

const RECORDING = new PriceRecording('fixture', [
  row('us-east-1a', 10, 0.02),
  row('us-east-1a', 30, 0.5),
  row('us-east-1a', 31, 0.019),
  row('us-east-1b', 0, 0.03),
]);

function market(rule?: 'price' | 'capacity'): Market {
  return new Market(new Prng(1).fork('market'), { ...DEFAULT_MARKET, start: T0, recorded: RECORDING, ...(rule ? { rule } : {}) });
}

describe('market: replaying recorded prices', () => {
  it('the price in effect is the last recorded point at or before t; before the first point, the first price', () => {
    const m = market();
    const at = (minute: number) => m.spotPrice('us-east-1', 'us-east-1a', 'm3.large', 'Linux/UNIX', T0 + minute * MIN);
    expect([at(0), at(10), at(29.9), at(30), at(30.99), at(31), at(10_000)]).to.deep.equal([0.02, 0.02, 0.02, 0.5, 0.5, 0.019, 0.019]);
    expect(m.spotPrice('us-east-1', 'us-east-1a', 'm3.large', 'Linux/UNIX (Amazon VPC)', T0 + 30 * MIN)).to.equal(0.5);
  });

  it('sells on spot only what was recorded: other offers have no price, generated or otherwise', () => {
    const m = market();
    expect(m.spotPrice('us-east-1', 'us-east-1c', 'm3.large', 'Linux/UNIX', T0)).to.equal(undefined);
    expect(m.spotPrice('us-east-1', 'us-east-1a', 'c5.xlarge', 'Linux/UNIX', T0)).to.equal(undefined);
    expect(m.spotPrice('us-east-1', 'us-east-1a', 'm3.large', 'Windows', T0)).to.equal(undefined);
    expect(m.spotHistory('us-east-1', 'us-east-1c', 'm3.large', 'Linux/UNIX', T0, T0 + 60 * MIN)).to.deep.equal([]);
    // Without a recording every catalog type has a generated price.
    const generated = new Market(new Prng(1).fork('market'), { ...DEFAULT_MARKET, start: T0 });
    expect(generated.spotPrice('us-east-1', 'us-east-1c', 'm3.large', 'Linux/UNIX', T0)).to.be.a('number');
  });

  it('answers price history as EC2 does: the point in effect at the start, then the changes; before the first point, that point', () => {
    const m = market();
    const history = (from: number, to: number) =>
      m
        .spotHistory('us-east-1', 'us-east-1a', 'm3.large', 'Linux/UNIX', T0 + from * MIN, T0 + to * MIN)
        .map((p) => [(p.t - T0) / MIN, p.price]);
    expect(history(20, 40)).to.deep.equal([
      [10, 0.02],
      [30, 0.5],
      [31, 0.019],
    ]);
    expect(history(35, 35)).to.deep.equal([[31, 0.019]]);
    expect(history(0, 5)).to.deep.equal([[10, 0.02]]);
  });

  it('adds the recorded zones to the region, and knows which', () => {
    expect(market().recordedZones('us-east-1')).to.deep.equal(['us-east-1a', 'us-east-1b']);
    expect(market().recordedZones('us-west-2')).to.deep.equal([]);
  });

  it('under the price rule spot capacity is not traced: the price is the only limit', () => {
    const withCrunches = { ...DEFAULT_MARKET, start: T0, spotCapacity: 5, crunchesPerDay: 50, onDemandCapacity: 1000, recorded: RECORDING };
    const price = new Market(new Prng(1).fork('market'), { ...withCrunches, rule: 'price' });
    const capacity = new Market(new Prng(1).fork('market'), { ...withCrunches, rule: 'capacity' });
    const over = (m: Market) => Array.from({ length: 24 * 60 }, (_, k) => m.capacity('us-east-1a', 'm3.large', 'spot', T0 + k * MIN));
    expect(new Set(over(price))).to.deep.equal(new Set([1000]));
    expect(Math.max(...over(capacity))).to.be.lessThan(1000);
    expect(Math.min(...over(capacity))).to.be.lessThan(Math.max(...over(capacity)));
  });

  it('takes the rule of the era: price before December 2017, capacity after', () => {
    expect(marketRuleAt(Date.parse('2016-03-01T00:00:00Z'))).to.equal('price');
    expect(marketRuleAt(Date.parse('2017-11-30T23:59:59Z'))).to.equal('price');
    expect(marketRuleAt(Date.parse('2017-12-01T00:00:00Z'))).to.equal('capacity');
    expect(market().rule).to.equal('capacity');
    expect(market('price').rule).to.equal('price');
  });
});

describe('replay window', () => {
  const recording = { source: 'p.json', from: T0, to: T0 + 72 * 60 * MIN };

  it('is the whole recorded period by default, or the window --start and --hours name', () => {
    expect(replayWindow(recording)).to.deep.equal({ start: T0, hours: 72 });
    expect(replayWindow(recording, T0 + 24 * 60 * MIN)).to.deep.equal({ start: T0 + 24 * 60 * MIN, hours: 48 });
    expect(replayWindow(recording, undefined, 6)).to.deep.equal({ start: T0, hours: 6 });
    expect(replayWindow(recording, T0 + 60 * MIN, 71)).to.deep.equal({ start: T0 + 60 * MIN, hours: 71 });
  });

  it('refuses a window outside the recording, in one line', () => {
    expect(() => replayWindow(recording, T0 - MIN)).to.throw(
      InputError,
      '--start 2016-02-29T23:59:00Z: outside the recorded period 2016-03-01T00:00:00Z → 2016-03-04T00:00:00Z',
    );
    expect(() => replayWindow(recording, T0 + 60 * MIN, 72)).to.throw(
      InputError,
      '--hours 72: runs past the end of the recorded period 2016-03-01T00:00:00Z → 2016-03-04T00:00:00Z (at most 71 hours from 2016-03-01T01:00:00Z)',
    );
    expect(() => replayWindow({ ...recording, to: T0 })).to.throw(
      InputError,
      'p.json: the recorded prices cover a single instant (2016-03-01T00:00:00Z), no period to replay',
    );
  });
});
