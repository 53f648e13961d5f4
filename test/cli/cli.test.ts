import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleet, workspace } from '../support/cli.js';

const POLICY = {
  pool: 'bld-linux64',
  instanceTypes: ['c5.xlarge'],
  regions: { 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: ['sg-0c2d'] } },
  userData: '#cloud-config\npassword: hunter2\n',
  size: { min: 0, max: 10 },
  names: 'bld-linux64-spot-{nnn}',
};

describe('cli: usage and configuration', function () {
  this.timeout(30_000);

  it('config check validates and prints the effective configuration with user data redacted', async () => {
    const ws = workspace({ fleet: 'releng', manifest: 'amis.json', desired: 'desired.json' }, [POLICY]);
    const r = await fleet(['config', 'check', '--config', ws.config]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/config OK: fleet releng, 1 pool\(s\): bld-linux64/);
    expect(r.stdout).to.include('"fallbackAfter": 300');
    expect(r.stdout).not.to.include('hunter2');
    expect(r.stdout).to.match(/"userData": "<redacted: \d+ bytes>"/);
    // Relative paths are taken from the config file's own directory.
    expect(r.stdout).to.include(JSON.stringify(join(ws.dir, 'policies')));
  });

  it('the repository default config and example policies pass config check', async () => {
    const r = await fleet(['config', 'check']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/bld-linux64, try-linux64, tst-linux64/);
  });

  it('a bad config value exits 2 with one line naming the key', async () => {
    const ws = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [POLICY]);
    const r = await fleet(['config', 'check', '--config', ws.config], { FLEET_INTERVAL: 'soon' });
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/interval/);
    expect(r.stderr).not.to.match(/\s+at /); // no stack trace without --debug
  });

  it('a manifest, desired or state with an unknown scheme exits 2 naming the field', async () => {
    for (const field of ['manifest', 'desired', 'state']) {
      const ws = workspace({ manifest: 'amis.json', desired: 'desired.json', [field]: 'ftp://x/y' }, [POLICY]);
      const r = await fleet(['config', 'check', '--config', ws.config]);
      expect(r.code, r.stdout).to.equal(2);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(new RegExp(`\\b${field}\\b.*unknown scheme ftp://`));
    }
  });

  it('a bad policy exits 2 naming the file and the field', async () => {
    const ws = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [{ ...POLICY, spot: { fallbackAfter: -5 } }]);
    const r = await fleet(['config', 'check', '--config', ws.config]);
    expect(r.code).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.match(/bld-linux64\.json\.spot\.fallbackAfter: expected an integer ≥ 0 \(got -5\)/);
  });

  it('an unknown key in a policy is refused, so typos never pass silently', async () => {
    const ws = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [{ ...POLICY, fallbackafter: 10 }]);
    const r = await fleet(['config', 'check', '--config', ws.config]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/unknown key "fallbackafter"/);
  });

  it('a missing config file named explicitly exits 2', async () => {
    const r = await fleet(['status', '--config', '/nonexistent/fleet.json']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/config \/nonexistent\/fleet.json: file not found/);
  });

  it('usage mistakes exit 2', async () => {
    expect((await fleet(['frobnicate'])).code).to.equal(2);
    expect((await fleet(['status', '--no-such-flag'])).code).to.equal(2);
    expect((await fleet(['sim', '--hours', 'many'])).code).to.equal(2);
    expect((await fleet(['--help'])).code).to.equal(0);
  });

  it('an unreachable cloud is a runtime failure: exit 1, one line', async () => {
    const ws = workspace({ manifest: 's3://nowhere-bucket/amis.json', desired: 's3://nowhere-bucket/desired.json', state: join('state') }, [
      POLICY,
    ]);
    writeFileSync(join(ws.dir, 'desired.json'), '{}');
    const r = await fleet(['status', '--config', ws.config], {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      AWS_REGION: 'us-east-1',
    });
    expect(r.code).to.equal(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('fleet:')),
    ).to.have.length(1);
  });
});

describe('cli: fleet sim', function () {
  this.timeout(60_000);

  it('runs the reconciler on the simulated cloud and prints a summary', async () => {
    const r = await fleet(['sim', '--hours', '2', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.cycles).to.equal(120);
    expect(summary.failedCycles).to.equal(0);
    expect(summary.spotShare).to.be.greaterThan(0.5);
    expect(summary.api.createNetworkInterface).to.equal(0);
    expect(Object.keys(summary.launchesPerZone).length).to.be.greaterThan(0);
    expect(summary.pools.map((p: { pool: string }) => p.pool).sort()).to.deep.equal(['bld-linux64', 'try-linux64', 'tst-linux64']);
  });

  it("carries the simulated CI's work in --json, for the run and each pool", async () => {
    const r = await fleet(['sim', '--hours', '1', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout);
    for (const figures of [summary, ...summary.pools]) {
      expect(figures.jobs).to.have.all.keys('completed', 'waitSeconds', 'killed', 'lostJobMinutes', 'costPerJob', 'workingHours');
      expect(figures.jobs.waitSeconds).to.have.all.keys('p50', 'p95', 'max');
      expect(figures.jobs.workingHours).to.have.all.keys('utc', 'completed', 'waitSeconds');
      expect(figures.jobs.workingHours.utc).to.equal('10:00-22:00');
      expect(figures).to.include.keys('idleWorkerHours', 'ended');
    }
    expect(summary.jobs.completed).to.be.greaterThan(0);
  });

  it('runs the office workload: no job at night', async () => {
    const r = await fleet(['sim', '--hours', '2', '--start', '2026-11-16T02:00:00Z', '--workload', 'office', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.jobs.completed).to.equal(0);
    expect(summary.jobs.workingHours.utc).to.equal('08:00-18:00');
    const refused = await fleet(['sim', '--hours', '1', '--workload', 'weekend']);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.match(/--workload/);
  });

  it('refuses an unknown --desired-form', async () => {
    const r = await fleet(['sim', '--hours', '1', '--desired-form', 'jobs']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/--desired-form/);
  });

  it('writes an HTML report when asked', async () => {
    const ws = workspace({}, [POLICY]);
    const report = join(ws.dir, 'report.html');
    const r = await fleet(['sim', '--hours', '1', '--report', report]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`Report written to ${report}`);
    const { readFileSync } = await import('node:fs');
    const html = readFileSync(report, 'utf8');
    expect(html).to.include('data-chart="bld-linux64/lifecycle"');
    expect(html).to.include('id="fleet-report-data"');
    // Self-contained: no script or stylesheet is fetched from anywhere.
    expect(html).to.not.match(/<script[^>]+src=|<link[^>]+href=/);
  });

  it('is reproducible from its seed', async () => {
    const a = await fleet(['sim', '--hours', '1', '--json', '--seed', '5']);
    const b = await fleet(['sim', '--hours', '1', '--json', '--seed', '5']);
    expect(JSON.parse(a.stdout)).to.deep.equal(JSON.parse(b.stdout));
  });
});
