import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { PACKAGED_CONFIG_FILE, defaultConfigFile, loadConfig, requireInputs, type FleetConfig } from '../../../src/config/config.js';
import { inputError } from '../../support/expect.js';
import { testConfig } from '../../support/sim-fleet.js';

describe('config: loadConfig', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(os.tmpdir(), 'fleet-config-'));
    file = join(dir, 'fleet.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (doc: unknown) => writeFileSync(file, typeof doc === 'string' ? doc : JSON.stringify(doc));
  const load = (doc: unknown, env: NodeJS.ProcessEnv = {}) => {
    write(doc);
    return loadConfig(file, env);
  };

  describe('defaults', () => {
    it('fills every key from an empty file', () => {
      const c = load({});
      expect(c.fleet).to.equal('fleet');
      expect(c.regions).to.deep.equal(['us-east-1']);
      expect(c.manifest).to.equal('');
      expect(c.desired).to.equal('');
      expect(c.interval).to.equal(60);
      expect(c.log.level).to.equal('info');
      expect(c.metrics.port).to.equal(9464);
      expect(c.metrics.host).to.equal('127.0.0.1');
      expect(c.manifestTags).to.deep.equal({ pool: 'moz-type', created: 'moz-created' });
      expect(c.capacityTtl).to.equal(180);
      expect(c.priceTtl).to.equal(300);
      expect(c.visibilityTimeout).to.equal(600);
      expect(c.ignoredPools).to.deep.equal([]);
    });

    it('keeps the webhook listener off by default on loopback, and never takes its secret from the file', () => {
      expect(load({}).webhooks).to.deep.equal({ port: 0, host: '127.0.0.1' });
      expect(load({ webhooks: { port: 8080 } }).webhooks?.port).to.equal(8080);
      expect(inputError(() => load({ webhooks: { port: 8080, secret: 'in-a-file' } }))).to.match(/webhooks\.secret/);
    });

    it('reads ignoredPools from the file, or comma-separated from FLEET_IGNORED_POOLS', () => {
      expect(load({ ignoredPools: ['legacy-pool'] }).ignoredPools).to.deep.equal(['legacy-pool']);
      expect(load({}, { FLEET_IGNORED_POOLS: 'a-pool, b-pool' }).ignoredPools).to.deep.equal(['a-pool', 'b-pool']);
    });

    it('reads the values a file sets', () => {
      const c = load({
        fleet: 'releng',
        regions: ['us-east-1', 'us-west-2'],
        manifest: 's3://golden-amis/amis.json',
        desired: 'https://control.example.com/desired.json',
        state: 's3://fleet-control/state/',
        interval: 30,
        log: { level: 'debug' },
        metrics: { port: 0 },
        manifestTags: { pool: 'worker-type', created: 'built-at' },
        capacityTtl: 60,
        priceTtl: 120,
        visibilityTimeout: 900,
      });
      expect(c.fleet).to.equal('releng');
      expect(c.regions).to.deep.equal(['us-east-1', 'us-west-2']);
      expect(c.manifest).to.equal('s3://golden-amis/amis.json');
      expect(c.desired).to.equal('https://control.example.com/desired.json');
      expect(c.state).to.equal('s3://fleet-control/state/');
      expect(c.interval).to.equal(30);
      expect(c.log.level).to.equal('debug');
      expect(c.metrics.port).to.equal(0);
      expect(c.manifestTags).to.deep.equal({ pool: 'worker-type', created: 'built-at' });
      expect(c.capacityTtl).to.equal(60);
      expect(c.priceTtl).to.equal(120);
      expect(c.visibilityTimeout).to.equal(900);
    });

    it('loads the shipped config/default.json', () => {
      const c = loadConfig(resolve('config/default.json'), {});
      expect(c.fleet).to.equal('releng');
      expect(c.policies).to.equal(resolve('policies'));
    });
  });

  describe('environment', () => {
    const cases: [string, string, (c: FleetConfig) => unknown, unknown][] = [
      ['FLEET_FLEET', 'ci-fleet', (c) => c.fleet, 'ci-fleet'],
      ['FLEET_REGIONS', 'us-east-1, eu-west-1', (c) => c.regions, ['us-east-1', 'eu-west-1']],
      ['FLEET_MANIFEST', 's3://bucket-one/amis.json', (c) => c.manifest, 's3://bucket-one/amis.json'],
      ['FLEET_DESIRED', 'https://x.example/desired.json', (c) => c.desired, 'https://x.example/desired.json'],
      ['FLEET_STATE', 's3://bucket-two/state/', (c) => c.state, 's3://bucket-two/state/'],
      ['FLEET_POLICIES', '/etc/fleet/policies', (c) => c.policies, '/etc/fleet/policies'],
      ['FLEET_INTERVAL', '15', (c) => c.interval, 15],
      ['FLEET_LOG_LEVEL', 'warn', (c) => c.log.level, 'warn'],
      ['FLEET_METRICS_PORT', '9100', (c) => c.metrics.port, 9100],
      ['FLEET_METRICS_HOST', '0.0.0.0', (c) => c.metrics.host, '0.0.0.0'],
      ['FLEET_MANIFEST_TAGS_POOL', 'type', (c) => c.manifestTags.pool, 'type'],
      ['FLEET_MANIFEST_TAGS_CREATED', 'created', (c) => c.manifestTags.created, 'created'],
      ['FLEET_CAPACITY_TTL', '90', (c) => c.capacityTtl, 90],
      ['FLEET_PRICE_TTL', '45', (c) => c.priceTtl, 45],
      ['FLEET_VISIBILITY_TIMEOUT', '1200', (c) => c.visibilityTimeout, 1200],
    ];
    for (const [variable, value, get, expected] of cases) {
      it(`${variable} sets its key`, () => {
        expect(get(load({}, { [variable]: value }))).to.deep.equal(expected);
      });
    }

    it('environment wins over the file', () => {
      const c = load(
        { fleet: 'from-file', interval: 10, log: { level: 'error' } },
        { FLEET_FLEET: 'from-env', FLEET_INTERVAL: '20', FLEET_LOG_LEVEL: 'trace' },
      );
      expect(c.fleet).to.equal('from-env');
      expect(c.interval).to.equal(20);
      expect(c.log.level).to.equal('trace');
    });

    it('FLEET_NAME is an alias of FLEET_FLEET and overrides the file', () => {
      expect(load({ fleet: 'from-file' }, { FLEET_NAME: 'alias' }).fleet).to.equal('alias');
    });

    it('FLEET_FLEET wins over FLEET_NAME', () => {
      expect(load({}, { FLEET_NAME: 'alias', FLEET_FLEET: 'proper' }).fleet).to.equal('proper');
    });

    it('a bad FLEET_NAME is rejected, naming fleet', () => {
      const message = inputError(() => load({}, { FLEET_NAME: 'has space' }));
      expect(message).to.match(/\bfleet\b/);
    });

    it('FLEET_CONFIG names the file when no file is given', () => {
      write({ fleet: 'via-env-file' });
      expect(loadConfig(undefined, { FLEET_CONFIG: file }).fleet).to.equal('via-env-file');
    });

    it('the explicit file wins over FLEET_CONFIG', () => {
      write({ fleet: 'explicit' });
      const other = join(dir, 'other.json');
      writeFileSync(other, JSON.stringify({ fleet: 'other' }));
      expect(loadConfig(file, { FLEET_CONFIG: other }).fleet).to.equal('explicit');
    });

    it('with neither, ./config/default.json when the working directory has one', () => {
      mkdirSync(join(dir, 'config'));
      writeFileSync(join(dir, 'config', 'default.json'), '{}');
      expect(defaultConfigFile(dir)).to.equal(join(dir, 'config', 'default.json'));
      expect(defaultConfigFile(process.cwd())).to.equal(resolve('config/default.json'));
    });

    it('with neither and no ./config/default.json, the config the package ships (an installed fleet runs from anywhere)', () => {
      expect(defaultConfigFile(dir)).to.equal(PACKAGED_CONFIG_FILE);
      expect(isAbsolute(PACKAGED_CONFIG_FILE)).to.equal(true);
      // The package's own file: in this checkout, the repository's config/default.json.
      expect(PACKAGED_CONFIG_FILE).to.equal(resolve('config/default.json'));
      const c = loadConfig(defaultConfigFile(dir), {});
      expect(c.fleet).to.equal('releng');
      expect(c.policies).to.equal(resolve('policies'));
    });
  });

  describe('relative paths', () => {
    it('are resolved against the directory of the file they appear in', () => {
      const c = load({ manifest: 'amis.json', desired: './in/desired.json', state: 'state', policies: '../policies' });
      expect(c.manifest).to.equal(join(dir, 'amis.json'));
      expect(c.desired).to.equal(join(dir, 'in', 'desired.json'));
      expect(c.state).to.equal(join(dir, 'state'));
      expect(c.policies).to.equal(resolve(dir, '..', 'policies'));
    });

    it('work from a config file in a sub-directory, given by a relative path', () => {
      mkdirSync(join(dir, 'conf'));
      const nested = join(dir, 'conf', 'fleet.json');
      writeFileSync(nested, JSON.stringify({ policies: '../pol' }));
      const viaRelative = relative(process.cwd(), nested);
      expect(isAbsolute(viaRelative)).to.equal(false);
      expect(loadConfig(viaRelative, {}).policies).to.equal(join(dir, 'pol'));
    });

    it('from the environment are resolved against the working directory', () => {
      const c = load(
        { manifest: 'file-manifest.json' },
        { FLEET_MANIFEST: 'env-manifest.json', FLEET_DESIRED: 'd/desired.json', FLEET_STATE: '.st', FLEET_POLICIES: 'pol' },
      );
      expect(c.manifest).to.equal(resolve(process.cwd(), 'env-manifest.json'));
      expect(c.desired).to.equal(resolve(process.cwd(), 'd/desired.json'));
      expect(c.state).to.equal(resolve(process.cwd(), '.st'));
      expect(c.policies).to.equal(resolve(process.cwd(), 'pol'));
    });

    it('leave absolute paths, s3:// and https:// locations alone', () => {
      const c = load({
        manifest: '/srv/amis.json',
        desired: 'https://example.com/d.json',
        state: 's3://fleet-state/prefix/',
        policies: 'http://example.com/p',
      });
      expect(c.manifest).to.equal('/srv/amis.json');
      expect(c.desired).to.equal('https://example.com/d.json');
      expect(c.state).to.equal('s3://fleet-state/prefix/');
      expect(c.policies).to.equal('http://example.com/p');
    });

    it('leave an unset manifest empty, so requireInputs can report it', () => {
      expect(load({}).manifest).to.equal('');
    });
  });

  describe('errors: one line, InputError, naming the key', () => {
    const bad: [string, unknown, NodeJS.ProcessEnv, RegExp][] = [
      ['an unknown top-level key', { colour: 'red' }, {}, /colour/],
      ['an unknown nested key', { log: { level: 'info', verbose: true } }, {}, /log\.verbose/],
      ['a negative interval', { interval: -1 }, {}, /\binterval\b/],
      ['a fractional interval', { interval: 1.5 }, {}, /\binterval\b/],
      ['a zero interval', { interval: 0 }, {}, /\binterval\b/],
      ['a non-numeric FLEET_INTERVAL', {}, { FLEET_INTERVAL: 'soon' }, /\binterval\b/],
      ['an empty fleet name', { fleet: '' }, {}, /\bfleet\b/],
      ['a fleet name with a slash', { fleet: 'a/b' }, {}, /\bfleet\b/],
      ['a fleet name of 64 characters', { fleet: 'a'.repeat(64) }, {}, /\bfleet\b/],
      ['an empty region list', { regions: [] }, {}, /\bregions\b/],
      ['a bad region', { regions: ['us-east-1', 'mars'] }, {}, /\bregions\b.*mars/],
      ['a bad FLEET_REGIONS', {}, { FLEET_REGIONS: 'useast1' }, /\bregions\b/],
      ['an empty FLEET_REGIONS', {}, { FLEET_REGIONS: '' }, /\bregions\b/],
      ['a log level that does not exist', { log: { level: 'loud' } }, {}, /log\.level/],
      ['a port out of range', { metrics: { port: 70000 } }, {}, /metrics\.port/],
      ['a non-numeric FLEET_METRICS_PORT', {}, { FLEET_METRICS_PORT: 'http' }, /metrics\.port/],
      ['a metrics host that is no address', { metrics: { host: 'http://0.0.0.0' } }, {}, /metrics\.host/],
      ['an s3 location with a bad bucket', { manifest: 's3://Bad_Bucket/amis.json' }, {}, /\bmanifest\b/],
      ['a non-string location', { desired: 5 }, {}, /\bdesired\b/],
      ['a zero capacityTtl', { capacityTtl: 0 }, {}, /\bcapacityTtl\b/],
      ['a negative FLEET_PRICE_TTL', {}, { FLEET_PRICE_TTL: '-5' }, /\bpriceTtl\b/],
      ['an interval of weeks (overflows timers)', { interval: 3_000_000 }, {}, /\binterval\b.*from 1 to 3600/],
      ['a FLEET_INTERVAL past the bound', {}, { FLEET_INTERVAL: '3601' }, /\binterval\b.*from 1 to 3600/],
      ['a capacityTtl past a day', { capacityTtl: 86_401 }, {}, /\bcapacityTtl\b.*from 1 to 86400/],
      ['a priceTtl past a day', { priceTtl: 10 ** 9 }, {}, /\bpriceTtl\b.*from 1 to 86400/],
      ['a visibilityTimeout under a minute', { visibilityTimeout: 5 }, {}, /\bvisibilityTimeout\b.*from 60 to 86400/],
      ['ignoredPools that is not a list', { ignoredPools: 5 }, {}, /\bignoredPools\b/],
      ['ignoredPools holding a non-name', { ignoredPools: ['ok', 'a b'] }, {}, /\bignoredPools\b.*"a b"/],
    ];
    for (const [what, doc, env, pattern] of bad) {
      it(`rejects ${what}`, () => {
        const message = inputError(() => load(doc, env));
        expect(message).to.match(pattern);
        expect(message).to.not.include('\n');
      });
    }

    it('names the file in the message', () => {
      expect(inputError(() => load({ interval: -1 }))).to.include(file);
    });

    it('reports every bad key on one line', () => {
      const message = inputError(() => load({ interval: -1, fleet: '' }));
      expect(message)
        .to.match(/\binterval\b/)
        .and.to.match(/\bfleet\b/);
      expect(message).to.not.include('\n');
    });

    it('rejects a file that is not JSON with one line', () => {
      const message = inputError(() => load('<html>\n<body>\nnot found\n</body>\n</html>'));
      expect(message).to.include(file).and.to.include('not valid JSON');
      expect(message).to.not.include('\n');
    });

    it('rejects a JSON file that is not an object', () => {
      expect(inputError(() => load('[1, 2]'))).to.include('expected a JSON object');
      expect(inputError(() => load('null'))).to.include('expected a JSON object');
    });

    it('rejects an explicit file that does not exist', () => {
      expect(inputError(() => loadConfig(join(dir, 'missing.json'), {})))
        .to.include('missing.json')
        .and.include('not found');
    });

    it('rejects a FLEET_CONFIG file that does not exist', () => {
      expect(inputError(() => loadConfig(undefined, { FLEET_CONFIG: join(dir, 'missing.json') }))).to.include('not found');
    });
  });
});

describe('config: requireInputs', () => {
  const base = (over: Partial<FleetConfig>): FleetConfig => testConfig(over);

  it('accepts a config with a manifest and desired counts', () => {
    expect(() => requireInputs(base({}))).to.not.throw();
  });

  it('rejects a missing manifest, naming the key and its variable', () => {
    const message = inputError(() => requireInputs(base({ manifest: '' })));
    expect(message).to.include('manifest').and.include('FLEET_MANIFEST');
  });

  it('rejects missing desired counts, naming the key and its variable', () => {
    const message = inputError(() => requireInputs(base({ desired: '' })));
    expect(message).to.include('desired').and.include('FLEET_DESIRED');
  });
});

describe('config: regions written as one string', () => {
  it('splits a comma-separated string in the file, as FLEET_REGIONS does', () => {
    const dir = mkdtempSync(join(os.tmpdir(), 'fleet-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ regions: 'us-east-1, us-west-2' }));
    expect(loadConfig(file, {}).regions).to.deep.equal(['us-east-1', 'us-west-2']);
  });
});
