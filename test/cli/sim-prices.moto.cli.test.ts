import { expect } from 'chai';
import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultProxy } from '../support/fault-proxy.js';
import { useMoto } from '../support/moto.js';
import { fleet } from '../support/cli.js';
import { motoFleet } from '../support/moto-fleet.js';

// moto answers DescribeSpotPriceHistory with one constant price per type and zone (dated 2006):
// enough to prove the path from the account's history to the replay, not the prices themselves.
describe('cli against moto_server: fleet sim --prices aws:REGION', function () {
  this.timeout(60_000);
  const moto = useMoto(this);
  let proxy: FaultProxy;
  let env: Record<string, string>;
  let config: string;
  let dir: string;

  before(async () => {
    ({ proxy, env, config } = await motoFleet(moto().endpoint));
    dir = mkdtempSync(join(tmpdir(), 'fleet-prices-'));
  });
  after(async () => proxy?.close());

  const priceCalls = () => proxy.calls.filter((c) => c.action === 'DescribeSpotPriceHistory');

  it("reads the last N days for the pools' types, writes the cache in describe-spot-price-history form, and replays it", async () => {
    const cache = join(dir, 'prices.json');
    proxy.clearCalls();
    const before = Date.now();
    // Noon UTC within the two days read: the simulated CI's day wants workers then, at any hour the test runs.
    const noon = new Date(before - 86_400_000);
    noon.setUTCHours(12, 0, 0, 0);
    const start = noon.toISOString();
    const r = await fleet(
      [
        'sim',
        '--config',
        config,
        '--prices',
        'aws:us-east-1',
        '--days',
        '2',
        '--prices-cache',
        cache,
        '--hours',
        '2',
        '--start',
        start,
        '--json',
      ],
      env,
    );
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`wrote the last 2 days of spot prices in us-east-1 to ${cache}`);
    expect(priceCalls().length).to.be.greaterThan(0);
    for (const call of priceCalls()) {
      expect(call.params.get('InstanceType.1')).to.equal('c5.xlarge');
      const start = Date.parse(call.params.get('StartTime') as string);
      const end = Date.parse(call.params.get('EndTime') as string);
      expect(end - start).to.equal(2 * 86_400_000);
      expect(end).to.be.within(before - 1000, Date.now() + 1000);
    }
    const doc = JSON.parse(readFileSync(cache, 'utf8'));
    expect(Date.parse(doc.EndTime) - Date.parse(doc.StartTime)).to.equal(2 * 86_400_000);
    expect(doc.SpotPriceHistory.length).to.be.greaterThan(0);
    for (const e of doc.SpotPriceHistory) {
      expect(e).to.have.all.keys('AvailabilityZone', 'InstanceType', 'ProductDescription', 'SpotPrice', 'Timestamp');
      expect(e).to.include({ InstanceType: 'c5.xlarge', ProductDescription: 'Linux/UNIX' });
      expect(e.SpotPrice).to.be.a('string');
    }
    const summary = JSON.parse(r.stdout);
    expect(summary.market.rule).to.equal('capacity');
    expect(summary.market.replay.source).to.equal(cache);
    expect(Date.parse(summary.start)).to.equal(Date.parse(start));
    expect(summary.cycles).to.equal(120);
    expect(summary.pools[0].launches.spot).to.be.greaterThan(0);
  });

  it('reuses a cache younger than a day without asking EC2, and refreshes an older one', async () => {
    const cache = join(dir, 'prices.json');
    const written = statSync(cache).mtimeMs;
    proxy.clearCalls();
    const again = await fleet(
      ['sim', '--config', config, '--prices', 'aws:us-east-1', '--days', '2', '--prices-cache', cache, '--hours', '1', '--json'],
      env,
    );
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.include(`reusing ${cache}`);
    expect(priceCalls()).to.have.length(0);
    expect(statSync(cache).mtimeMs).to.equal(written);

    const dayAndAMinute = (Date.now() - 86_460_000) / 1000;
    utimesSync(cache, dayAndAMinute, dayAndAMinute);
    const stale = await fleet(
      ['sim', '--config', config, '--prices', 'aws:us-east-1', '--days', '2', '--prices-cache', cache, '--hours', '1', '--json'],
      env,
    );
    expect(stale.code, stale.stderr).to.equal(0);
    expect(priceCalls().length).to.be.greaterThan(0);
    expect(statSync(cache).mtimeMs).to.be.greaterThan(dayAndAMinute * 1000);
  });

  it('writes the default cache file in the working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'fleet-cwd-'));
    const r = await fleet(['sim', '--config', config, '--prices', 'aws:us-east-1', '--days', '1', '--hours', '1'], env, { cwd });
    expect(r.code, r.stderr).to.equal(0);
    expect(existsSync(join(cwd, '.fleet-prices-us-east-1-1d.json'))).to.equal(true);
  });

  it('asks EC2 nothing when --days is out of range', async () => {
    proxy.clearCalls();
    const r = await fleet(
      ['sim', '--config', config, '--prices', 'aws:us-east-1', '--days', '91', '--prices-cache', join(dir, 'never.json')],
      env,
    );
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--days: expected an integer from 1 to 90/);
    expect(priceCalls()).to.have.length(0);
    expect(existsSync(join(dir, 'never.json'))).to.equal(false);
  });
});
