import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/domain/errors.js';
import { parseLocation } from '../../src/shared/location.js';
import { openStateStore } from '../../src/shared/state-store.js';
import { SimObjects } from '../../src/fake-cloud/s3.js';

function inputError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return (e as Error).message;
  }
  return expect.fail('expected an InputError');
}

describe('locations with a scheme fleet does not read', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-location-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const load = (doc: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => {
    const file = join(dir, 'fleet.json');
    writeFileSync(file, JSON.stringify(doc));
    return loadConfig(file, env);
  };

  for (const field of ['manifest', 'desired', 'state'] as const) {
    it(`a ${field} of ftp://x/y is an InputError naming ${field}, in the file or from the environment`, () => {
      const fromFile = inputError(() => load({ [field]: 'ftp://x/y' }));
      expect(fromFile)
        .to.match(new RegExp(`\\b${field}\\b`))
        .and.to.include('ftp://');
      expect(fromFile).not.to.include('\n');
      const variable = `FLEET_${field.toUpperCase()}`;
      expect(inputError(() => load({}, { [variable]: 'ftp://x/y' }))).to.match(new RegExp(`\\b${field}\\b`));
    });
  }

  it('refuses any other scheme too, and never takes it for a relative file path', () => {
    for (const value of ['file:///etc/amis.json', 'gs://bucket/amis.json', 'S3://bucket/amis.json']) {
      expect(inputError(() => parseLocation(value, 'manifest'))).to.match(/^manifest: .*unknown scheme/);
      expect(inputError(() => load({ manifest: value }))).to.match(/\bmanifest\b/);
    }
    expect(inputError(() => openStateStore('ftp://x/y', new SimObjects()))).to.match(/^state: .*unknown scheme ftp:\/\//);
  });

  it('refuses a plain http:// manifest or desired unless allowHttp is set (file or FLEET_ALLOW_HTTP), naming the key', () => {
    for (const field of ['manifest', 'desired'] as const) {
      const message = inputError(() => load({ [field]: 'http://example.com/d.json?X-Amz-Signature=SECRET' }));
      expect(message).to.equal(
        `config ${field}: http://example.com/d.json: http:// is refused (it can be altered in transit); use https://, or set allowHttp (env FLEET_ALLOW_HTTP=true)`,
      );
      expect(load({ [field]: 'http://example.com/d.json', allowHttp: true })[field]).to.equal('http://example.com/d.json');
      expect(load({ [field]: 'http://example.com/d.json' }, { FLEET_ALLOW_HTTP: 'true' }).allowHttp).to.equal(true);
      expect(inputError(() => load({ [field]: 'http://example.com/d.json' }, { FLEET_ALLOW_HTTP: 'false' }))).to.match(
        /http:\/\/ is refused/,
      );
    }
    expect(load({}).allowHttp).to.equal(false);
    expect(inputError(() => load({ allowHttp: 'yes' }))).to.match(/allowHttp: must be true or false/);
    expect(inputError(() => load({}, { FLEET_ALLOW_HTTP: 'nope' }))).to.match(/allowHttp: must be true or false/);
  });

  it('never repeats a bad location in a config error (it may be a presigned URL)', () => {
    const message = inputError(() => load({ manifest: 's3://Bad_Bucket/x?sig=SECRET', desired: 'ftp://user:pw@host/x?sig=SECRET' }));
    expect(message).to.match(/manifest: .*desired: unknown scheme ftp:\/\//);
    expect(message).not.to.match(/SECRET|pw@/);
    expect(inputError(() => parseLocation('ftp://user:pw@host/x?sig=SECRET', 'desired'))).to.equal(
      'desired: "ftp://host/x": unknown scheme ftp:// (use s3://bucket/key, https://..., http://... or a file path)',
    );
  });

  it('keeps s3://, https://, http:// and plain paths working', () => {
    const config = load({
      manifest: 's3://golden-amis/amis.json',
      desired: 'https://example.com/desired.json',
      state: 'state:dir/with:colons',
    });
    expect(config.manifest).to.equal('s3://golden-amis/amis.json');
    expect(config.desired).to.equal('https://example.com/desired.json');
    expect(config.state).to.equal(join(dir, 'state:dir/with:colons'));
    expect(parseLocation('http://127.0.0.1:9/d.json', 'desired')).to.deep.equal({ kind: 'https', url: 'http://127.0.0.1:9/d.json' });
    expect(parseLocation('relative/amis.json', 'manifest')).to.deep.equal({ kind: 'file', path: 'relative/amis.json' });
    expect(parseLocation('/abs/ftp:/amis.json', 'manifest')).to.deep.equal({ kind: 'file', path: '/abs/ftp:/amis.json' });
  });
});
