import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { loadPolicies } from '../../../src/config/policies.js';
import { parsePolicy } from '../../../src/config/policy-schema.js';
import { configWarnings } from '../../../src/config/warnings.js';
import { inputError } from '../../support/expect.js';
import { testConfig } from '../../support/sim-fleet.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The smallest valid policy: only the keys without a default. */
const MINIMAL = {
  pool: 'bld-linux64',
  instanceTypes: [{ type: 'c5.xlarge' }],
  regions: { 'us-east-1': { subnets: ['subnet-0a1b'] } },
};

/** SPEC §3's example, verbatim. */
const SPEC_EXAMPLE = {
  pool: 'bld-linux64',
  instanceTypes: [
    { type: 'c5.xlarge', weight: 1 },
    { type: 'm5.xlarge', weight: 1 },
  ],
  regions: { 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: ['sg-0c2d'] } },
  productDescription: 'Linux/UNIX',
  keyName: 'releng',
  instanceProfile: 'bld-worker',
  userData: '#cloud-config ...',
  size: { min: 0, max: 100 },
  spot: { maxPrice: '100%', fallbackAfter: 300 },
  onDemand: { max: 10 },
  scaleDown: 'terminate',
  freshness: { grace: 10800, retireBudget: '10%', drainBudget: '50%', canary: 1, bake: 900, guard: { window: 900, failures: 3 } },
  names: 'bld-linux64-spot-{nnn}',
  stopTimeout: 3600,
  maxLifetime: 0,
  demand: {
    minIdle: 0,
    scaleFactor: 1,
    idleTimeout: 600,
    maxWaitSeconds: 300,
    schedule: [{ cron: '0 13 * * 1-5', durationSeconds: 32400, min: 10, timezone: 'UTC' }],
  },
};

/** A deep copy of MINIMAL with `path` (dot-separated) set to `value`. */
function withValue(path: string, value: unknown, base: object = MINIMAL): unknown {
  const doc = structuredClone(base) as Record<string, unknown>;
  const keys = path.split('.');
  let at: Record<string, unknown> = doc;
  for (const key of keys.slice(0, -1)) {
    at[key] ??= {};
    at = at[key] as Record<string, unknown>;
  }
  at[keys[keys.length - 1]!] = value;
  return doc;
}

describe('policy schema: parsePolicy', () => {
  describe('defaults', () => {
    it('a minimal policy gets every SPEC default', () => {
      const p = parsePolicy(MINIMAL, 'bld.json');
      expect(p.pool).to.equal('bld-linux64');
      expect(p.productDescription).to.equal('Linux/UNIX');
      expect(p.spot.maxPrice).to.deep.equal({ kind: 'percent', value: 100 });
      expect(p.spot.fallbackAfter).to.equal(300);
      expect(p.freshness.grace).to.equal(10800);
      expect(p.scaleDown).to.equal('terminate');
      expect(p.freshness.guard).to.deep.equal({ window: 900, failures: 3 });
      expect(p.freshness.retireBudget).to.deep.equal({ kind: 'percent', value: 10 });
      expect(p.freshness.drainBudget).to.deep.equal({ kind: 'percent', value: 50 });
      expect(p.freshness.canary).to.deep.equal({ kind: 'count', value: 1 });
      expect(p.freshness.bake).to.equal(900);
      expect(p.size).to.deep.equal({ min: 0, max: 100 });
      expect(p.names).to.equal('bld-linux64-{nnn}');
      expect(p.instanceTypes).to.deep.equal([{ type: 'c5.xlarge', weight: 1 }]);
      expect(p.regions).to.deep.equal({ 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: [] } });
      expect(p.ignoredAzs).to.deep.equal([]);
      expect(p.spread).to.deep.equal({ kind: 'percent', value: 50, auto: true });
      expect(p.onDemand.max).to.equal(100);
      expect(p.onDemand.replaceBudget).to.deep.equal({ kind: 'percent', value: 50 });
      expect(p.rebalance).to.deep.equal({ enabled: true, minSaving: 0.05, horizon: 21600, budget: { kind: 'percent', value: 50 } });
    });

    it('spread: "auto" is the default; a number set is a hard limit', () => {
      expect(parsePolicy({ ...MINIMAL, spread: 'auto' }, 'bld.json').spread).to.deep.equal({ kind: 'percent', value: 50, auto: true });
      expect(parsePolicy({ ...MINIMAL, spread: '50%' }, 'bld.json').spread).to.deep.equal({ kind: 'percent', value: 50 });
      expect(parsePolicy({ ...MINIMAL, spread: 3 }, 'bld.json').spread).to.deep.equal({ kind: 'count', value: 3 });
      expect(() => parsePolicy({ ...MINIMAL, spread: 'most' }, 'bld.json')).to.throw(/spread: expected a count/);
    });

    it('leaves the optional keyName, instanceProfile, userData and onDemandPrice out', () => {
      const p = parsePolicy(MINIMAL, 'bld.json');
      expect(p).to.not.have.any.keys('keyName', 'instanceProfile', 'userData', 'onDemandPrice');
    });

    it('fills defaults inside a partly given section', () => {
      const p = parsePolicy({ ...MINIMAL, spot: { maxPrice: 0.2 }, freshness: { guard: { window: 60 } } }, 'bld.json');
      expect(p.spot).to.deep.equal({ maxPrice: { kind: 'dollars', value: 0.2 }, fallbackAfter: 300 });
      expect(p.freshness.grace).to.equal(10800);
      expect(p.freshness.guard).to.deep.equal({ window: 60, failures: 3 });
      // The bake defaults to the guard's window: an image is trusted once it has outlived the guard.
      expect(p.freshness.bake).to.equal(60);
    });

    it('a min above 100 with no max makes max = min', () => {
      expect(parsePolicy(withValue('size', { min: 150 }), 'p').size).to.deep.equal({ min: 150, max: 150 });
    });

    it('accepts instance types as plain strings with weight 1', () => {
      expect(parsePolicy(withValue('instanceTypes', ['c5.xlarge', 'm5.2xlarge']), 'p').instanceTypes).to.deep.equal([
        { type: 'c5.xlarge', weight: 1 },
        { type: 'm5.2xlarge', weight: 1 },
      ]);
    });
  });

  describe('work keys: stopTimeout, maxLifetime, demand', () => {
    it('defaults to an hour to stop, no lifetime, and the plain queue estimator', () => {
      const p = parsePolicy(MINIMAL, 'p');
      expect(p.stopTimeoutSeconds).to.equal(3600);
      expect(p.maxLifetimeSeconds).to.equal(0);
      expect(p.demand).to.deep.equal({ minIdle: 0, scaleFactor: 1, idleTimeoutSeconds: 600, maxWaitSeconds: 300, schedule: [] });
    });

    it('refuses a schedule with a bad cron expression or time zone, naming the window', () => {
      const window = { cron: '61 * * * *', durationSeconds: 60, min: 1 };
      expect(inputError(() => parsePolicy(withValue('demand', { schedule: [window] }), 'p'))).to.match(/p\.demand\.schedule\.0: .*minute/);
      const zone = { cron: '0 8 * * *', durationSeconds: 60, min: 1, timezone: 'Mars/Base' };
      expect(inputError(() => parsePolicy(withValue('demand', { schedule: [zone] }), 'p'))).to.match(/p\.demand\.schedule\.0: .*timezone/i);
    });

    it('refuses negative or absurd durations and unknown demand keys', () => {
      expect(inputError(() => parsePolicy(withValue('stopTimeout', -1), 'p'))).to.match(/p\.stopTimeout/);
      expect(inputError(() => parsePolicy(withValue('maxLifetime', 1e12), 'p'))).to.match(/p\.maxLifetime: expected seconds/);
      expect(inputError(() => parsePolicy(withValue('demand', { scaleFactor: 0 }), 'p'))).to.match(/p\.demand\.scaleFactor/);
      expect(inputError(() => parsePolicy(withValue('demand', { minidle: 1 }), 'p'))).to.match(/unknown key "minidle"/);
    });

    it('reads one source of demand: prometheus, sqs or github', () => {
      const prometheus = { url: 'http://127.0.0.1:9090', pending: 'ci_jobs_pending', running: 'ci_jobs_running' };
      expect(parsePolicy(withValue('demand', { source: { prometheus } }), 'p').demand.source).to.deep.equal({
        kind: 'prometheus',
        ...prometheus,
      });
      const queueUrl = 'https://sqs.us-east-1.amazonaws.com/123456789012/ci-jobs';
      expect(parsePolicy(withValue('demand', { source: { sqs: { queueUrl } } }), 'p').demand.source).to.deep.equal({
        kind: 'sqs',
        queueUrl,
      });
      expect(
        parsePolicy(withValue('demand', { source: { github: { labels: ['self-hosted', 'Linux'] } } }), 'p').demand.source,
      ).to.deep.equal({ kind: 'github', labels: ['self-hosted', 'linux'] });
    });

    it('refuses a source that is not exactly one known kind, or has a wrong key', () => {
      const source = (s: unknown) => inputError(() => parsePolicy(withValue('demand', { source: s }), 'p'));
      expect(source({})).to.match(/p\.demand\.source: expected exactly one of prometheus, sqs, github/);
      expect(source({ sqs: { queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q' }, github: { labels: ['a'] } })).to.match(
        /exactly one/,
      );
      expect(source({ kafka: {} })).to.match(/unknown key "kafka"/);
      expect(source({ prometheus: { url: 'ftp://x', pending: 'a', running: 'b' } })).to.match(/p\.demand\.source\.prometheus\.url/);
      expect(source({ prometheus: { url: 'http://x:9090', pending: 'a' } })).to.match(/p\.demand\.source\.prometheus\.running/);
      expect(source({ sqs: { queueUrl: 'not a url' } })).to.match(/p\.demand\.source\.sqs\.queueUrl/);
      expect(source({ github: { labels: [] } })).to.match(/p\.demand\.source\.github\.labels: expected at least one label/);
      expect(source({ github: { labels: ['has space'] } })).to.match(/labels\[0\]/);
    });
  });

  describe('the SPEC example', () => {
    it('parses, keeping every value it gives', () => {
      const p = parsePolicy(SPEC_EXAMPLE, 'spec.json');
      expect(p.pool).to.equal('bld-linux64');
      expect(p.instanceTypes).to.deep.equal([
        { type: 'c5.xlarge', weight: 1 },
        { type: 'm5.xlarge', weight: 1 },
      ]);
      expect(p.regions).to.deep.equal({ 'us-east-1': { subnets: ['subnet-0a1b'], securityGroups: ['sg-0c2d'] } });
      expect(p.keyName).to.equal('releng');
      expect(p.instanceProfile).to.equal('bld-worker');
      expect(p.userData).to.equal('#cloud-config ...');
      expect(p.size).to.deep.equal({ min: 0, max: 100 });
      expect(p.spot).to.deep.equal({ maxPrice: { kind: 'percent', value: 100 }, fallbackAfter: 300 });
      expect(p.onDemand.max).to.equal(10);
      expect(p.scaleDown).to.equal('terminate');
      expect(p.freshness).to.deep.equal({
        grace: 10800,
        retireBudget: { kind: 'percent', value: 10 },
        drainBudget: { kind: 'percent', value: 50 },
        canary: { kind: 'count', value: 1 },
        bake: 900,
        guard: { window: 900, failures: 3 },
      });
      expect(p.names).to.equal('bld-linux64-spot-{nnn}');
      expect(p.stopTimeoutSeconds).to.equal(3600);
      expect(p.maxLifetimeSeconds).to.equal(0);
      expect(p.demand).to.deep.equal({
        minIdle: 0,
        scaleFactor: 1,
        idleTimeoutSeconds: 600,
        maxWaitSeconds: 300,
        schedule: [{ cron: '0 13 * * 1-5', durationSeconds: 32400, min: 10, timezone: 'UTC' }],
      });
    });

    it('the shipped example policies parse', () => {
      const policies = loadPolicies(resolve('policies'));
      expect(policies.map((p) => p.pool)).to.have.members(['bld-linux64', 'tst-linux64', 'try-linux64']);
    });
  });

  describe('values', () => {
    it('maxPrice takes dollars as a number or a numeric string, or a percentage', () => {
      const price = (v: unknown) => parsePolicy(withValue('spot.maxPrice', v), 'p').spot.maxPrice;
      expect(price(0.25)).to.deep.equal({ kind: 'dollars', value: 0.25 });
      expect(price('0.25')).to.deep.equal({ kind: 'dollars', value: 0.25 });
      expect(price('80%')).to.deep.equal({ kind: 'percent', value: 80 });
      expect(price(' 12.5 % ')).to.deep.equal({ kind: 'percent', value: 12.5 });
    });

    it('budgets take a count or a percentage up to 100%', () => {
      const budget = (v: unknown) => parsePolicy(withValue('freshness.retireBudget', v), 'p').freshness.retireBudget;
      expect(budget(0)).to.deep.equal({ kind: 'count', value: 0 });
      expect(budget(3)).to.deep.equal({ kind: 'count', value: 3 });
      expect(budget('3')).to.deep.equal({ kind: 'count', value: 3 });
      expect(budget('0%')).to.deep.equal({ kind: 'percent', value: 0 });
      expect(budget('100%')).to.deep.equal({ kind: 'percent', value: 100 });
    });

    it('scaleDown accepts none', () => {
      expect(parsePolicy(withValue('scaleDown', 'none'), 'p').scaleDown).to.equal('none');
    });

    it('productDescription accepts each EC2 product, with or without "(Amazon VPC)"', () => {
      for (const pd of ['Linux/UNIX', 'SUSE Linux', 'Red Hat Enterprise Linux', 'Windows', 'Windows (Amazon VPC)']) {
        expect(parsePolicy(withValue('productDescription', pd), 'p').productDescription).to.equal(pd);
      }
    });

    it('productDescription is checked as the planner reads it: the "(Amazon VPC)" suffix in any case', () => {
      expect(parsePolicy(withValue('productDescription', 'Linux/UNIX (amazon vpc)'), 'p').productDescription).to.equal(
        'Linux/UNIX (amazon vpc)',
      );
      expect(() => parsePolicy(withValue('productDescription', 'linux/unix'), 'p')).to.throw(/productDescription/);
    });

    it('keeps publicIp, security groups and several regions', () => {
      const p = parsePolicy(
        withValue('regions', {
          'us-east-1': { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], publicIp: false },
          'eu-central-1': { subnets: ['subnet-3'] },
        }),
        'p',
      );
      expect(p.regions).to.deep.equal({
        'us-east-1': { subnets: ['subnet-1', 'subnet-2'], securityGroups: ['sg-1'], publicIp: false },
        'eu-central-1': { subnets: ['subnet-3'], securityGroups: [] },
      });
    });

    it('keeps ignoredAzs, spread, onDemand and onDemandPrice', () => {
      const p = parsePolicy(
        { ...MINIMAL, ignoredAzs: ['us-east-1e'], spread: '40%', onDemand: { max: 4, replaceBudget: 2 }, onDemandPrice: 0.17 },
        'p',
      );
      expect(p.ignoredAzs).to.deep.equal(['us-east-1e']);
      expect(p.spread).to.deep.equal({ kind: 'percent', value: 40 });
      expect(p.onDemand).to.deep.equal({ max: 4, replaceBudget: { kind: 'count', value: 2 } });
      expect(p.onDemandPrice).to.equal(0.17);
    });

    it('accepts an empty userData (it is free text)', () => {
      expect(parsePolicy(withValue('userData', ''), 'p').userData).to.equal('');
    });

    it('never echoes a userData of the wrong type (it can hold secrets), nor an object or a long value', () => {
      expect(inputError(() => parsePolicy(withValue('userData', 123456789), 'p'))).to.equal('p.userData: expected a string (got a number)');
      expect(inputError(() => parsePolicy(withValue('userData', ['TOKEN=s3cr3t']), 'p'))).to.equal(
        'p.userData: expected a string (got an array)',
      );
      expect(inputError(() => parsePolicy(withValue('userData', { token: 's3cr3t' }), 'p'))).to.equal(
        'p.userData: expected a string (got an object)',
      );
      expect(inputError(() => parsePolicy(withValue('keyName', { token: 's3cr3t' }), 'p'))).to.equal(
        'p.keyName: expected a non-empty string (got an object)',
      );
      expect(inputError(() => parsePolicy(withValue('scaleDown', `drain-${'x'.repeat(60)}`), 'p'))).to.match(
        /^p\.scaleDown: .* \(got a string\)$/,
      );
      expect(inputError(() => parsePolicy(withValue('scaleDown', 'drain'), 'p'))).to.match(/\(got "drain"\)$/);
    });

    it('refuses an unknown {placeholder} in userData, naming it and never echoing the text', () => {
      const message = inputError(() => parsePolicy(withValue('userData', 'password: hunter2\nhost: {zone}-{name}'), 'p.json'));
      expect(message).to.equal('p.json.userData: unknown placeholder {zone} (only {name}, {pool}, {region}, {az} exist)');
    });

    it('accepts the four placeholders, shell ${VARS}, {{ templates }} and {a,b} brace lists', () => {
      const text = 'echo {name} {pool} {region} {az} ${HOME} {{ var }} {{x}} {a,b}';
      expect(parsePolicy(withValue('userData', text), 'p').userData).to.equal(text);
    });

    it('property: any integer budget ≥ 0 and any percentage in [0, 100] is accepted as given', () => {
      fc.assert(
        fc.property(fc.nat(10_000), fc.integer({ min: 0, max: 100 }), (count, pct) => {
          const p = parsePolicy({ ...MINIMAL, freshness: { retireBudget: count, drainBudget: `${pct}%` } }, 'p');
          expect(p.freshness.retireBudget).to.deep.equal({ kind: 'count', value: count });
          expect(p.freshness.drainBudget).to.deep.equal({ kind: 'percent', value: pct });
        }),
      );
    });

    it('property: a size with min ≤ max is kept, min > max is rejected naming size.max', () => {
      fc.assert(
        fc.property(fc.nat(1000), fc.nat(1000), (min, max) => {
          const doc = withValue('size', { min, max });
          if (min <= max) expect(parsePolicy(doc, 'p').size).to.deep.equal({ min, max });
          else expect(inputError(() => parsePolicy(doc, 'p'))).to.match(/^p\.size\.max: /);
        }),
      );
    });
  });

  describe('errors name the exact key path', () => {
    const bad: [string, unknown, string][] = [
      ['a negative fallbackAfter', withValue('spot.fallbackAfter', -1), 'spot.fallbackAfter'],
      ['a string fallbackAfter', withValue('spot.fallbackAfter', '300'), 'spot.fallbackAfter'],
      ['a fractional fallbackAfter', withValue('spot.fallbackAfter', 1.5), 'spot.fallbackAfter'],
      ['a zero maxPrice', withValue('spot.maxPrice', 0), 'spot.maxPrice'],
      ['a 0% maxPrice', withValue('spot.maxPrice', '0%'), 'spot.maxPrice'],
      ['a word as maxPrice', withValue('spot.maxPrice', 'cheap'), 'spot.maxPrice'],
      ['a negative maxPrice', withValue('spot.maxPrice', -0.1), 'spot.maxPrice'],
      ['size.max below size.min', withValue('size', { min: 5, max: 2 }), 'size.max'],
      ['a negative size.min', withValue('size.min', -1), 'size.min'],
      ['a fractional size.max', withValue('size.max', 2.5), 'size.max'],
      ['a bad subnet id', withValue('regions', { 'us-east-1': { subnets: ['sn-0a1b'] } }), 'regions.us-east-1.subnets[0]'],
      ['a second bad subnet id', withValue('regions', { 'us-east-1': { subnets: ['subnet-1', 42] } }), 'regions.us-east-1.subnets[1]'],
      ['no subnet', withValue('regions', { 'us-east-1': { subnets: [] } }), 'regions.us-east-1.subnets'],
      ['missing subnets', withValue('regions', { 'us-east-1': {} }), 'regions.us-east-1.subnets'],
      [
        'a bad security group',
        withValue('regions', { 'us-east-1': { subnets: ['subnet-1'], securityGroups: ['sg-1', 'default'] } }),
        'regions.us-east-1.securityGroups[1]',
      ],
      [
        'a non-boolean publicIp',
        withValue('regions', { 'us-east-1': { subnets: ['subnet-1'], publicIp: 'yes' } }),
        'regions.us-east-1.publicIp',
      ],
      ['an unknown key in a region', withValue('regions', { 'us-east-1': { subnets: ['subnet-1'], vpc: 'vpc-1' } }), 'regions.us-east-1'],
      ['a region that is not a region', withValue('regions', { 'us-east': { subnets: ['subnet-1'] } }), 'regions'],
      ['no region', withValue('regions', {}), 'regions'],
      ['regions as an array', withValue('regions', ['us-east-1']), 'regions'],
      ['scaleDown drain', withValue('scaleDown', 'drain'), 'scaleDown'],
      ['scaleDown as a boolean', withValue('scaleDown', true), 'scaleDown'],
      ['names with no placeholder', withValue('names', 'bld-linux64'), 'names'],
      ['names with two placeholders', withValue('names', 'bld-{nn}-{nnn}'), 'names'],
      ['names with a stray brace', withValue('names', 'bld-{pool}-{nnn}'), 'names'],
      ['an empty names', withValue('names', ''), 'names'],
      ['a missing pool', { instanceTypes: MINIMAL.instanceTypes, regions: MINIMAL.regions }, 'pool'],
      ['a pool with a space', withValue('pool', 'bld linux'), 'pool'],
      ['no instance types', withValue('instanceTypes', []), 'instanceTypes'],
      ['missing instance types', { pool: 'p', regions: MINIMAL.regions }, 'instanceTypes'],
      ['a malformed instance type', withValue('instanceTypes', [{ type: 'c5' }]), 'instanceTypes[0].type'],
      ['a malformed string instance type', withValue('instanceTypes', ['c5.xlarge', 'huge']), 'instanceTypes[1]'],
      ['a zero weight', withValue('instanceTypes', [{ type: 'c5.xlarge', weight: 0 }]), 'instanceTypes[0].weight'],
      ['an instance type listed twice', withValue('instanceTypes', ['c5.xlarge', { type: 'c5.xlarge', weight: 2 }]), 'instanceTypes'],
      ['an unknown key in an instance type', withValue('instanceTypes', [{ type: 'c5.xlarge', price: 1 }]), 'instanceTypes[0]'],
      ['an unknown product', withValue('productDescription', 'BeOS'), 'productDescription'],
      ['an empty keyName', withValue('keyName', ''), 'keyName'],
      ['a numeric instanceProfile', withValue('instanceProfile', 7), 'instanceProfile'],
      ['a non-string userData', withValue('userData', ['#!/bin/sh']), 'userData'],
      ['a zero onDemandPrice', withValue('onDemandPrice', 0), 'onDemandPrice'],
      ['a fractional onDemand.max', withValue('onDemand.max', 1.5), 'onDemand.max'],
      ['a bad onDemand.replaceBudget', withValue('onDemand.replaceBudget', 'some'), 'onDemand.replaceBudget'],
      ['a string grace', withValue('freshness.grace', '3h'), 'freshness.grace'],
      ['a retireBudget above 100%', withValue('freshness.retireBudget', '101%'), 'freshness.retireBudget'],
      ['a negative drainBudget', withValue('freshness.drainBudget', -1), 'freshness.drainBudget'],
      ['a fractional count drainBudget', withValue('freshness.drainBudget', 1.5), 'freshness.drainBudget'],
      ['zero guard failures', withValue('freshness.guard.failures', 0), 'freshness.guard.failures'],
      ['a negative guard window', withValue('freshness.guard.window', -900), 'freshness.guard.window'],
      ['a bad spread', withValue('spread', '150%'), 'spread'],
      ['an ignored AZ that is a region', withValue('ignoredAzs', ['us-east-1']), 'ignoredAzs[0]'],
      ['size as a number', withValue('size', 10), 'size'],
      ['spot as null', withValue('spot', null), 'spot'],
    ];
    for (const [what, doc, path] of bad) {
      it(`${what} → ${path}`, () => {
        const message = inputError(() => parsePolicy(doc, 'pol.json'));
        // the path is named exactly: followed by ": ", not by more of a longer path
        expect(message).to.match(new RegExp(`^pol\\.json\\.${escape(path)}: `));
        expect(message).to.not.include('\n');
      });
    }

    it('keys starting with $ or _ are comments, anywhere', () => {
      const policy = parsePolicy(
        { ...MINIMAL, $comment: 'build workers', _owner: 'releng', spot: { _why: 'cheap', fallbackAfter: 60 } },
        'pol.json',
      );
      expect(policy.spot.fallbackAfter).to.equal(60);
    });

    it('an unknown top-level key is named', () => {
      const message = inputError(() => parsePolicy({ ...MINIMAL, colour: 'red' }, 'pol.json'));
      expect(message).to.match(/^pol\.json: unknown key "colour"/);
    });

    for (const [section, key] of [
      ['spot', 'maxprice'],
      ['size', 'maximum'],
      ['onDemand', 'min'],
      ['freshness', 'budget'],
      ['freshness.guard', 'windw'],
    ] as const) {
      it(`an unknown key in ${section} is named`, () => {
        const message = inputError(() => parsePolicy(withValue(`${section}.${key}`, 1), 'pol.json'));
        expect(message).to.match(new RegExp(`^pol\\.json\\.${escape(section)}: unknown key "${key}"`));
      });
    }

    it('a document that is not an object is rejected', () => {
      for (const doc of [null, [], 'bld-linux64', 3]) {
        expect(inputError(() => parsePolicy(doc, 'pol.json'))).to.match(/^pol\.json: expected an object/);
      }
    });

    it('a subnet error says what a subnet looks like', () => {
      expect(inputError(() => parsePolicy(withValue('regions', { 'us-east-1': { subnets: ['sn-1'] } }), 'p'))).to.include('subnet id');
    });
  });
});

describe('policy schema: loadPolicies', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(os.tmpdir(), 'fleet-policies-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const put = (name: string, doc: unknown) => writeFileSync(join(dir, name), typeof doc === 'string' ? doc : JSON.stringify(doc));
  const pool = (name: string) => ({ ...MINIMAL, pool: name });

  it('loads every *.json directly in the directory, sorted by file name', () => {
    put('b.json', pool('tst-linux64'));
    put('a.json', pool('bld-linux64'));
    expect(loadPolicies(dir).map((p) => p.pool)).to.deep.equal(['bld-linux64', 'tst-linux64']);
  });

  it('never reads iam/ or any other sub-directory, even one named *.json', () => {
    put('bld.json', pool('bld-linux64'));
    mkdirSync(join(dir, 'iam'));
    writeFileSync(join(dir, 'iam', 'fleet-service.json'), JSON.stringify({ Version: '2012-10-17', Statement: [] }));
    mkdirSync(join(dir, 'old.json'));
    writeFileSync(join(dir, 'old.json', 'x.json'), JSON.stringify(pool('old')));
    mkdirSync(join(dir, 'archive'));
    writeFileSync(join(dir, 'archive', 'tst.json'), JSON.stringify(pool('tst-linux64')));
    expect(loadPolicies(dir).map((p) => p.pool)).to.deep.equal(['bld-linux64']);
  });

  it('ignores files that are not *.json', () => {
    put('bld.json', pool('bld-linux64'));
    put('README.md', '# policies');
    put('tst.json.bak', pool('tst-linux64'));
    put('try.yaml', 'pool: try');
    expect(loadPolicies(dir).map((p) => p.pool)).to.deep.equal(['bld-linux64']);
  });

  it('rejects two files defining the same pool, naming both', () => {
    put('a.json', pool('bld-linux64'));
    put('b.json', pool('bld-linux64'));
    const message = inputError(() => loadPolicies(dir));
    expect(message).to.include('bld-linux64').and.include('a.json').and.include('b.json');
  });

  it('rejects an empty directory', () => {
    expect(inputError(() => loadPolicies(dir))).to.include('no pool policy');
  });

  it('rejects a directory holding only sub-directories and other files', () => {
    mkdirSync(join(dir, 'iam'));
    writeFileSync(join(dir, 'iam', 'policy.json'), '{}');
    put('notes.txt', 'hello');
    expect(inputError(() => loadPolicies(dir))).to.include('no pool policy');
  });

  it('rejects a directory that does not exist', () => {
    expect(inputError(() => loadPolicies(join(dir, 'nope')))).to.include('not found');
  });

  it('rejects a file that is not JSON on one line, naming the file', () => {
    put('bld.json', '{\n  "pool": "bld-linux64",\n  oops\n}');
    const message = inputError(() => loadPolicies(dir));
    expect(message).to.include(join(dir, 'bld.json')).and.include('not valid JSON');
    expect(message).to.not.include('\n');
  });

  it('names the file and key of a bad policy', () => {
    put('bld.json', { ...pool('bld-linux64'), scaleDown: 'drain' });
    expect(inputError(() => loadPolicies(dir))).to.equal(
      `${join(dir, 'bld.json')}.scaleDown: expected "none" or "terminate" (got "drain")`,
    );
  });

  it('reports a dangling *.json symlink as an input error, not a crash', () => {
    put('bld.json', pool('bld-linux64'));
    symlinkSync(join(dir, 'gone.json'), join(dir, 'tst.json'));
    expect(inputError(() => loadPolicies(dir))).to.include('tst.json');
  });
});

describe('policies: checks across pools', () => {
  it('refuses two pools sharing a name template, and warns about regions the fleet does not manage', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'fleet-policies-'));
    mkdirSync(join(dir, 'ok'));
    const base = {
      instanceTypes: ['c5.xlarge'],
      regions: { 'us-east-1': { subnets: ['subnet-1'] }, 'eu-west-1': { subnets: ['subnet-2'] } },
    };
    writeFileSync(join(dir, 'a.json'), JSON.stringify({ ...base, pool: 'a', names: 'worker-{nnn}' }));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...base, pool: 'b', names: 'worker-{nnn}' }));
    expect(inputError(() => loadPolicies(dir))).to.match(/b\.json\.names: "worker-\{nnn\}" is already the name template of pool a$/);
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({ ...base, pool: 'b', regions: { 'eu-west-1': { subnets: ['subnet-2'] } }, onDemand: { max: 0 } }),
    );
    const config = testConfig({ regions: ['us-east-1'] });
    expect(configWarnings(config, loadPolicies(dir))).to.deep.equal([
      'pool a: regions eu-west-1 are not in config regions and are ignored',
      'pool b: none of its regions (eu-west-1) is managed (config regions: us-east-1); it can never launch',
      'pool b: onDemand.max is 0, so spot shortfalls never fall back to on-demand',
    ]);
  });
});
