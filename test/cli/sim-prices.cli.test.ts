import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet, workspace } from '../support/cli.js';

const FIXTURES = new URL('../fixtures/spot-prices/', import.meta.url).pathname;
const FIXTURE_2016 = join(FIXTURES, 'c5-2016.json');

// Two subnets: the replay puts them in the two zones the fixture records (us-east-1a, us-east-1b).
const POLICY = {
  pool: 'bld-linux64',
  instanceTypes: ['c5.xlarge'],
  regions: { 'us-east-1': { subnets: ['subnet-0a', 'subnet-0b'], securityGroups: [] } },
  size: { min: 4, max: 10 },
  names: 'bld-linux64-spot-{nnn}',
};

function sim(args: readonly string[]) {
  const ws = workspace({ fleet: 'releng', regions: ['us-east-1'], manifest: 'amis.json', desired: 'desired.json' }, [POLICY]);
  return { ws, run: fleet(['sim', '--config', ws.config, ...args]) };
}

describe('cli: fleet sim replaying recorded spot prices', function () {
  this.timeout(60_000);

  it('--prices FILE --hours 2 replays the file from its start and reports', async () => {
    const r = await sim(['--prices', FIXTURE_2016, '--hours', '2', '--json']).run;
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.start).to.equal('2016-03-01T00:00:00.000Z');
    expect(summary.end).to.equal('2016-03-01T02:00:00.000Z');
    expect(summary.cycles).to.equal(120);
    expect(summary.failedCycles).to.equal(0);
    expect(summary.market).to.deep.equal({
      rule: 'price',
      replay: { source: FIXTURE_2016, from: '2016-03-01T00:00:00.000Z', to: '2016-03-01T03:00:00.000Z', offers: 3 },
    });
    expect(summary.pools[0].launches.spot).to.be.greaterThan(0);
    expect(Object.keys(summary.launchesPerZone).sort()).to.deep.equal(['us-east-1a', 'us-east-1b']);
    expect(summary.spotShare).to.be.greaterThan(0.5);
  });

  it('runs over the whole recorded period without --hours, and says what it replays', async () => {
    const r = await sim(['--prices', FIXTURE_2016]).run;
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(
      `Spot prices replayed from ${FIXTURE_2016} (3 offers recorded 2016-03-01T00:00:00.000Z → 2016-03-01T03:00:00.000Z); market rule: price.`,
    );
    expect(r.stdout).to.include('Simulated 2016-03-01T00:00:00.000Z → 2016-03-01T03:00:00.000Z (seed 42): 180 cycles, 0 failed.');
  });

  it("under the price rule, instances with EC2's default max price are interrupted by the 1a spike; under the capacity rule they are not", async () => {
    // Without the Price List API fleet launches with no max price of its own.
    const quiet = ['--prices', FIXTURE_2016, '--no-pricing', '--interruptions', '0', '--crunches', '0', '--capacity', '1000', '--json'];
    const [price, capacity] = await Promise.all([
      sim([...quiet, '--market-rule', 'price']).run,
      sim([...quiet, '--market-rule', 'capacity']).run,
    ]);
    expect(price.code, price.stderr).to.equal(0);
    expect(capacity.code, capacity.stderr).to.equal(0);
    const interrupted = (out: string) => JSON.parse(out).pools[0].interruptions;
    expect(interrupted(price.stdout)).to.be.greaterThan(0);
    expect(interrupted(capacity.stdout)).to.equal(0);
    expect(JSON.parse(capacity.stdout).market.rule).to.equal('capacity');
  });

  it('refuses bad replay input with exit 2 and one line naming it', async () => {
    const { ws } = sim([]);
    const broken = join(ws.dir, 'broken.json');
    writeFileSync(
      broken,
      JSON.stringify({
        SpotPriceHistory: [
          {
            Timestamp: '2016-03-01T00:00:00Z',
            ProductDescription: 'Linux/UNIX',
            InstanceType: 'c5.xlarge',
            SpotPrice: 'free',
            AvailabilityZone: 'us-east-1a',
          },
        ],
      }),
    );
    const cases: [string[], RegExp][] = [
      [['--prices', broken], /^fleet: .*broken\.json: SpotPriceHistory\[0\]: SpotPrice "free" is not a positive number$/],
      [['--prices', join(ws.dir, 'missing.json')], /^fleet: --prices .*missing\.json: no such file or directory$/],
      [
        ['--prices', FIXTURE_2016, '--start', '2017-01-01T00:00:00Z'],
        /^fleet: --start 2017-01-01T00:00:00Z: outside the recorded period 2016-03-01T00:00:00Z → 2016-03-01T03:00:00Z$/,
      ],
      [['--prices', FIXTURE_2016, '--hours', '4'], /^fleet: --hours 4: runs past the end of the recorded period/],
      [['--prices', 'aws:us-east-1', '--days', '120'], /^fleet: error: .*--days: expected an integer from 1 to 90 \(got "120"\)$/],
      [['--prices', 'aws:us-east-1'], /^fleet: --prices aws:us-east-1: needs --days N/],
      [
        ['--prices', 'aws:mars-north-1', '--days', '7'],
        /^fleet: --prices aws:mars-north-1: the simulated cloud has no region mars-north-1/,
      ],
      [['--days', '7'], /^fleet: --days: only with --prices aws:REGION/],
      [['--prices', FIXTURE_2016, '--days', '7'], /^fleet: --days: only with --prices aws:REGION/],
      [['--prices', FIXTURE_2016, '--prices-cache', 'x.json'], /^fleet: --prices-cache: only with --prices aws:REGION/],
      [['--prices', FIXTURE_2016, '--market-rule', 'bids'], /market-rule/],
    ];
    const results = await Promise.all(cases.map(([args]) => fleet(['sim', '--config', ws.config, ...args])));
    results.forEach((r, n) => {
      const [args, message] = cases[n] as [string[], RegExp];
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).to.equal(2);
      if (!args.includes('--market-rule')) {
        expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
        expect(r.stderr.trim(), args.join(' ')).to.match(message);
      } else expect(r.stderr).to.match(message);
    });
  });
});
