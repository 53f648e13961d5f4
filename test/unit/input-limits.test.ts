import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDesired } from '../../src/manifest/desired.js';
import { parseManifest } from '../../src/manifest/manifest.js';
import { INPUT_MAX_BYTES, type InputOptions, InputReader } from '../../src/shared/inputs.js';
import { redactLocation } from '../../src/shared/location.js';
import { silentLogger } from '../../src/service/logger.js';
import { DirectoryStateStore } from '../../src/shared/state-store.js';
import { SimObjects } from '../../src/fake-cloud/s3.js';
import { serve } from '../support/http-routes.js';

const SMALL_CAP = 1024;
const GOOD = '{"bld-linux64": 2}';

let dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-limits-'));
  dirs.push(dir);
  return dir;
}

function reader(
  location: string,
  state: DirectoryStateStore,
  options: InputOptions = {},
  objects = new SimObjects(),
): InputReader<Record<string, number>> {
  return new InputReader('desired', location, parseDesired, objects, state, silentLogger(), () => 1_000, options);
}

describe('input limits', () => {
  afterEach(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    dirs = [];
  });

  it('caps are 16 MiB for the manifest and 1 MiB for desired counts', () => {
    expect(INPUT_MAX_BYTES).to.deep.equal({ manifest: 16 * 1024 * 1024, desired: 1024 * 1024 });
  });

  describe('over HTTP', function () {
    this.timeout(20_000);
    let server: Awaited<ReturnType<typeof serve>>;
    let other: Awaited<ReturnType<typeof serve>>;
    let state: DirectoryStateStore;
    let endlessClosed: Promise<void>;

    beforeEach(async () => {
      state = new DirectoryStateStore(join(tempDir(), 'state'));
      let closed: () => void = () => undefined;
      endlessClosed = new Promise((resolve) => (closed = resolve));
      other = await serve({ '/d.json': (_req, res) => res.writeHead(200).end(GOOD) });
      server = await serve({
        '/good.json': (_req, res) => res.writeHead(200).end(GOOD),
        '/big.json': (_req, res) => res.writeHead(200).end(`{"bld-linux64": 2, "pad": "${'x'.repeat(SMALL_CAP)}"}`),
        '/declared.json': (_req, res) => {
          res.writeHead(200, { 'Content-Length': String(100 * 1024 * 1024) });
          res.flushHeaders();
        },
        '/endless.json': (_req, res) => {
          res.writeHead(200);
          const more = () => {
            while (!res.destroyed && res.write('x'.repeat(16 * 1024)));
            if (!res.destroyed) res.once('drain', more);
          };
          res.on('close', () => closed());
          more();
        },
        '/away.json': (_req, res) => res.writeHead(302, { Location: `${other.base.replace('127.0.0.1', 'localhost')}/d.json` }).end(),
        '/here.json': (_req, res) => res.writeHead(307, { Location: '/good.json' }).end(),
        '/loop.json': (_req, res) => res.writeHead(302, { Location: '/loop.json' }).end(),
        '/token.json': (_req, res) => res.writeHead(200).end('ghp_s3cr3t-token not json'),
        '/error.json': (_req, res) => res.writeHead(500).end(),
      });
    });
    afterEach(async () => {
      await server.close();
      await other.close();
    });

    it('refuses plain http:// unless allowed, without a request', async () => {
      const result = await reader(`${server.base}/good.json`, state).read();
      expect(result).to.include({ source: 'none' });
      expect(result.problem).to.match(/http:\/\/ is refused \(set allowHttp, env FLEET_ALLOW_HTTP=true, to accept it\)$/);
      expect(server.asked).to.deep.equal([]);
      expect((await reader(`${server.base}/good.json`, state, { allowHttp: true }).read()).value).to.deep.equal({ 'bld-linux64': 2 });
    });

    it('keeps the last good copy under the location without its query string (a signature is not stored)', async () => {
      await reader(`${server.base}/good.json?X-Amz-Signature=SIG`, state, { allowHttp: true }).read();
      const kept = await state.read<{ location: string }>('last-good-desired.json');
      expect(kept?.doc.location).to.equal(`${server.base}/good.json`);
      server.asked.length = 0;
      const restarted = await reader(`${server.base}/error.json?X-Amz-Signature=OTHER`, state, { allowHttp: true }).read();
      expect(restarted).to.include({ source: 'none' });
    });

    it('refuses a body over the cap, and keeps no copy of it', async () => {
      const result = await reader(`${server.base}/big.json`, state, { allowHttp: true, maxBytes: SMALL_CAP }).read();
      expect(result).to.include({ source: 'none', problem: `cannot read desired ${server.base}/big.json: larger than the 1 KiB cap` });
      expect(await state.read('last-good-desired.json')).to.equal(undefined);
    });

    it('refuses a Content-Length over the cap without waiting for the body', async () => {
      const result = await reader(`${server.base}/declared.json`, state, { allowHttp: true }).read();
      expect(result.problem).to.equal(`cannot read desired ${server.base}/declared.json: larger than the 1 MiB cap`);
    });

    it('stops downloading an endless body at the cap', async () => {
      const result = await reader(`${server.base}/endless.json`, state, { allowHttp: true, maxBytes: 64 * 1024 }).read();
      expect(result.problem).to.match(/larger than the 64 KiB cap$/);
      await endlessClosed;
    });

    it('follows a redirect on the same origin, refuses one to another origin, and stops a loop', async () => {
      expect((await reader(`${server.base}/here.json`, state, { allowHttp: true }).read()).value).to.deep.equal({ 'bld-linux64': 2 });
      const away = await reader(`${server.base}/away.json`, state, { allowHttp: true }).read();
      expect(away.problem).to.match(/HTTP 302 redirect to another origin \(http:\/\/localhost:\d+\) refused: give the final URL$/);
      expect(other.asked).to.deep.equal([]);
      const loop = await reader(`${server.base}/loop.json`, state, { allowHttp: true }).read();
      expect(loop.problem).to.match(/more than 3 redirects$/);
    });

    it('never quotes the body in a parse error, nor the query string or user:password of the URL', async () => {
      const located = `http://user:pa55@127.0.0.1:${new URL(server.base).port}/token.json?X-Amz-Signature=SIG`;
      const result = await reader(located, state, { allowHttp: true }).read();
      expect(result.problem).to.equal('desired counts: not JSON (a syntax error)');
      const failed = await reader(`${server.base}/error.json?X-Amz-Signature=SIG`, state, { allowHttp: true }).read();
      expect(failed.problem).to.equal(`cannot read desired ${server.base}/error.json: HTTP 500`);
    });
  });

  it('refuses a file over the cap', async () => {
    const dir = tempDir();
    const file = join(dir, 'desired.json');
    writeFileSync(file, `{"bld-linux64": 2, "pad": "${'x'.repeat(SMALL_CAP)}"}`);
    const result = await reader(file, new DirectoryStateStore(join(dir, 'state')), { maxBytes: SMALL_CAP }).read();
    expect(result).to.include({ source: 'none', problem: `cannot read desired ${file}: larger than the 1 KiB cap` });
  });

  it('refuses an S3 object over the cap', async () => {
    const objects = new SimObjects();
    objects.createBucket('fleet-control');
    await objects.put('fleet-control', 'desired.json', `{"pad": "${'x'.repeat(SMALL_CAP)}"}`);
    const result = await reader(
      's3://fleet-control/desired.json',
      new DirectoryStateStore(join(tempDir(), 'state')),
      { maxBytes: SMALL_CAP },
      objects,
    ).read();
    expect(result.problem).to.equal('cannot read desired s3://fleet-control/desired.json: larger than the 1 KiB cap');
  });

  it('does not use a last good copy in the state store that is over the cap (kept by an older version)', async () => {
    const dir = tempDir();
    const state = new DirectoryStateStore(join(dir, 'state'));
    const file = join(dir, 'missing.json');
    // Valid counts, padded with white space past the cap.
    const text = `{"bld-linux64": 2${' '.repeat(SMALL_CAP)}}`;
    await state.write('last-good-desired.json', { location: file, text, savedAt: 0 }, undefined);
    expect(await reader(file, state, { maxBytes: 2 * SMALL_CAP }).read()).to.include({ source: 'last-good' });
    const result = await reader(file, state, { maxBytes: SMALL_CAP }).read();
    expect(result).to.include({ source: 'none' });
    // The next good copy replaces it.
    writeFileSync(file, GOOD);
    expect(await reader(file, state, { maxBytes: SMALL_CAP }).read()).to.include({ source: 'fresh' });
    expect((await state.read<{ text: string }>('last-good-desired.json'))?.doc.text).to.equal(GOOD);
  });

  it('JSON errors of the manifest and desired counts never quote the text', () => {
    for (const parse of [parseDesired, (t: string) => parseManifest(t)]) {
      for (const text of ['token=s3cr3t', '{"a": s3cr3t}', '{"s3cr3t": 1', '{"a": 1} s3cr3t']) {
        expect(() => parse(text)).to.throw(/not JSON \((a syntax error|a syntax error at byte \d+|the text ends early)\)$/);
        try {
          parse(text);
        } catch (e) {
          expect((e as Error).message).not.to.include('s3cr3t');
        }
      }
    }
  });
});

describe('redactLocation', () => {
  it('drops the query string, fragment and user:password of a URL, and leaves other locations alone', () => {
    expect(redactLocation('https://bucket.s3.amazonaws.com/amis.json?X-Amz-Signature=abc&X-Amz-Credential=AKIA')).to.equal(
      'https://bucket.s3.amazonaws.com/amis.json',
    );
    expect(redactLocation('https://user:token@example.com/d.json#frag')).to.equal('https://example.com/d.json');
    expect(redactLocation('http://user@example.com')).to.equal('http://example.com');
    expect(redactLocation('s3://fleet-control/desired.json')).to.equal('s3://fleet-control/desired.json');
    expect(redactLocation('/etc/fleet/desired.json')).to.equal('/etc/fleet/desired.json');
    expect(redactLocation('ftp://u:p@host/x?y')).to.equal('ftp://host/x');
  });
});
