import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config.js';
import { InputError } from '../../src/domain/errors.js';
import { parseLocation } from '../../src/service/location.js';
import { openStateStore } from '../../src/service/state-store.js';
import { SimObjects } from '../../src/sim/s3.js';

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
      expect(fromFile).to.match(new RegExp(`\\b${field}\\b`)).and.to.include('ftp://');
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

  it('keeps s3://, https://, http:// and plain paths working', () => {
    const config = load({ manifest: 's3://golden-amis/amis.json', desired: 'https://example.com/desired.json', state: 'state:dir/with:colons' });
    expect(config.manifest).to.equal('s3://golden-amis/amis.json');
    expect(config.desired).to.equal('https://example.com/desired.json');
    expect(config.state).to.equal(join(dir, 'state:dir/with:colons'));
    expect(parseLocation('http://127.0.0.1:9/d.json', 'desired')).to.deep.equal({ kind: 'https', url: 'http://127.0.0.1:9/d.json' });
    expect(parseLocation('relative/amis.json', 'manifest')).to.deep.equal({ kind: 'file', path: 'relative/amis.json' });
    expect(parseLocation('/abs/ftp:/amis.json', 'manifest')).to.deep.equal({ kind: 'file', path: '/abs/ftp:/amis.json' });
  });
});
