import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fleet, workspace } from '../support/cli.js';

const POLICY = {
  pool: 'bld-linux64',
  instanceTypes: ['c5.xlarge'],
  regions: { 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: ['sg-0c2d'] } },
  size: { min: 0, max: 10 },
  names: 'bld-linux64-spot-{nnn}',
};

/** One `fleet: ...` line on stderr and exit 2: a usage mistake, with no help text. */
async function usageError(args: string[], pattern: RegExp, env: Record<string, string> = {}): Promise<void> {
  const r = await fleet(args, env, { timeoutMs: 150_000 });
  expect(r.code, `${args.join(' ')}: ${r.stderr}${r.stdout}`).to.equal(2);
  expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
  expect(r.stderr.trim(), args.join(' '))
    .to.match(/^fleet: /)
    .and.to.match(pattern);
  expect(r.stderr, args.join(' ')).not.to.match(/Usage:|Options:/);
}

describe('cli: operator mistakes get one line and exit 2', function () {
  this.timeout(300_000);

  it('fleet --version prints the package version', async () => {
    const r = await fleet(['--version']);
    expect(r.code).to.equal(0);
    expect(r.stdout.trim()).to.equal((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version);
  });

  it('a bad option value is one line naming the option and its bounds, never the whole help', async () => {
    // Side by side: each is a process start, slow on a loaded machine.
    await Promise.all([
      usageError(['sim', '--hours', '99999999999999999999'], /--hours: expected an integer from 1 to 8784/),
      usageError(['sim', '--hours', 'many'], /--hours/),
      usageError(['sim', '--seed', '-3'], /--seed/),
      usageError(['sim', '--throttle', '1.5'], /--throttle: expected a number from 0 to 1/),
      usageError(['sim', '--interruptions', '7'], /--interruptions: expected a number from 0 to 1/),
      usageError(['sim', '--capacity', '1e12'], /--capacity/),
    ]);
    await Promise.all([
      usageError(['sim', '--exhaust', 'spot:*:us-east-1a@6-99999999'], /--exhaust: hour 99999999/),
      usageError(['amis', 'prune', '--keep', 'all'], /--keep/),
      usageError(['frobnicate'], /unknown command 'frobnicate'/),
      usageError(['drain'], /--ami/),
    ]);
  });

  it('sim --start refuses dates that do not exist instead of rolling them over', async () => {
    await usageError(['sim', '--start', '2026-02-30T00:00:00Z'], /--start: expected an existing ISO 8601 date/);
    await usageError(['sim', '--start', '2026-11-16T25:00:00Z'], /--start/);
    await usageError(['sim', '--start', 'next tuesday'], /--start/);
  });

  it('a --report path that cannot be written is a usage error naming the path, found before the run', async () => {
    await usageError(
      ['sim', '--hours', '1', '--report', '/nonexistent-dir/report.html'],
      /^fleet: --report \/nonexistent-dir\/report\.html: directory \/nonexistent-dir does not exist$/,
    );
  });

  it('config check refuses an interval past its bound, naming the key and the bounds', async () => {
    const ws = workspace({ manifest: 'amis.json', desired: 'desired.json', interval: 3_000_000 }, [POLICY]);
    await usageError(['config', 'check', '--config', ws.config], /interval: must be an integer from 1 to 3600 \(got 3000000\)/);
  });

  it("config check refuses an unknown {placeholder} in a policy's userData", async () => {
    const ws = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [{ ...POLICY, userData: '#!/bin/sh\necho {name} {zone}\n' }]);
    await usageError(['config', 'check', '--config', ws.config], /bld-linux64\.json\.userData: unknown placeholder \{zone\}/);
  });

  it('config check with EC2 out of reach still passes, with a warning that instance types were not checked', async () => {
    const ws = workspace({ manifest: 'amis.json', desired: 'desired.json' }, [POLICY]);
    const r = await fleet(['config', 'check', '--config', ws.config], {
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^warning: instance types not checked in us-east-1: EC2 could not be asked/m);
  });

  it("--debug logs each cycle's inputs, decisions with reasons and cloud calls with outcomes, never user data", async () => {
    const r = await fleet(['sim', '--hours', '1', '--debug']);
    expect(r.code, r.stderr.slice(-2000)).to.equal(0);
    const lines = r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const messages = new Set(lines.map((l) => l.msg));
    for (const msg of ['input', 'cycle inputs', 'pool counts', 'decided: launch', 'cloud call']) expect(messages, msg).to.include(msg);
    expect(lines.find((l) => l.msg === 'input')).to.include.keys('input', 'location', 'source', 'ageSeconds');
    expect(lines.find((l) => l.msg === 'decided: launch')).to.include.keys('pool', 'reason');
    expect(lines.find((l) => l.msg === 'cloud call')).to.include.keys('region', 'action', 'outcome');
    expect(r.stderr).not.to.match(/userData|cloud-config/);
  });
});
