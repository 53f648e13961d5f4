import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectStore, StoredObject, WriteCondition } from '../../src/cloud/port.js';
import { parseDesired } from '../../src/manifest/desired.js';
import { type InputOptions, InputReader, type InputResult, desiredInput } from '../../src/shared/inputs.js';
import { redactLocation } from '../../src/shared/location.js';
import { capturedLogger } from '../support/log-capture.js';
import { policy } from '../support/builders.js';
import { testConfig } from '../support/sim-fleet.js';
import { silentLogger } from '../../src/service/logger.js';
import { DirectoryStateStore, type StateStore, type Versioned } from '../../src/shared/state-store.js';
import { SimObjects } from '../../src/fake-cloud/s3.js';

type Desired = Record<string, number>;

interface LastGoodDoc {
  readonly location: string;
  readonly text: string;
  readonly savedAt: number;
}

const LAST_GOOD = 'last-good-desired.json';
const GOOD = '{"bld-linux64": 12, "tst-linux64": 40}';
const GOOD_VALUE = { 'bld-linux64': 12, 'tst-linux64': 40 };
const OTHER = '{"bld-linux64": 3}';
const OTHER_VALUE = { 'bld-linux64': 3 };

/** A state store that records every write it is asked for (and passes it on). */
class RecordingState implements StateStore {
  readonly writes: { name: string; doc: unknown; etag: string | undefined }[] = [];
  constructor(private readonly inner: StateStore) {}
  get where(): string {
    return this.inner.where;
  }
  read<T>(name: string): Promise<Versioned<T> | undefined> {
    return this.inner.read<T>(name);
  }
  write<T>(name: string, doc: T, etag: string | undefined): Promise<string> {
    this.writes.push({ name, doc, etag });
    return this.inner.write(name, doc, etag);
  }
}

/** An ObjectStore that records the arguments of every get (to see If-None-Match on the wire). */
class RecordingObjects implements ObjectStore {
  readonly gets: { bucket: string; key: string; ifNoneMatch: string | undefined }[] = [];
  /** swappable, to make objects disappear behind a running reader */
  constructor(public inner: ObjectStore) {}
  get(bucket: string, key: string, ifNoneMatch?: string): Promise<StoredObject | 'not-modified' | undefined> {
    this.gets.push({ bucket, key, ifNoneMatch });
    return this.inner.get(bucket, key, ifNoneMatch);
  }
  put(bucket: string, key: string, body: string, condition?: WriteCondition): Promise<{ etag: string }> {
    return this.inner.put(bucket, key, body, condition);
  }
}

/** An ObjectStore that must never be used (inputs read from files and URLs). */
const noObjects: ObjectStore = {
  get: () => Promise.reject(new Error('the object store must not be used here')),
  put: () => Promise.reject(new Error('the object store must not be used here')),
};

let dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-inputs-'));
  dirs.push(dir);
  return dir;
}
function removeTempDirs(): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
}

function desiredReader(
  location: string,
  state: StateStore,
  objects: ObjectStore = noObjects,
  now = () => 1_000,
  options: InputOptions = {},
): InputReader<Desired> {
  return new InputReader<Desired>('desired', location, parseDesired, objects, state, silentLogger(), now, options);
}

/** A reader of a loopback test server's plain http:// URL, which the configuration must allow. */
function httpReader(url: string, state: StateStore, options: InputOptions = {}): InputReader<Desired> {
  return desiredReader(url, state, noObjects, () => 1_000, { allowHttp: true, ...options });
}

async function lastGood(state: StateStore): Promise<LastGoodDoc | undefined> {
  return (await state.read<LastGoodDoc>(LAST_GOOD))?.doc;
}

function expectResult(result: InputResult<Desired>, source: InputResult<Desired>['source'], value: Desired | undefined): void {
  expect(result.source, JSON.stringify(result)).to.equal(source);
  if (value === undefined) expect(result.value).to.equal(undefined);
  else expect(result.value).to.deep.equal(value);
}

describe('inputs: InputReader from a file', () => {
  afterEach(removeTempDirs);

  let dir: string;
  let file: string;
  let state: RecordingState;

  beforeEach(() => {
    dir = tempDir();
    file = join(dir, 'desired.json');
    state = new RecordingState(new DirectoryStateStore(join(dir, 'state')));
  });

  it('reads a good file as fresh and keeps it as the last good copy, with its location', async () => {
    writeFileSync(file, GOOD);
    const result = await desiredReader(file, state, noObjects, () => 4_242).read();
    expectResult(result, 'fresh', GOOD_VALUE);
    expect(result.problem).to.equal(undefined);
    expect(await lastGood(state)).to.deep.equal({ location: file, text: GOOD, savedAt: 4_242 });
  });

  it('answers unchanged for the same text, and does not save the last good copy again', async () => {
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, state);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expect(state.writes.map((w) => w.name)).to.deep.equal([LAST_GOOD]);
  });

  it('reads a changed file as fresh and saves the new text, conditionally on the old copy', async () => {
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, state);
    await reader.read();
    const before = await state.read<LastGoodDoc>(LAST_GOOD);
    writeFileSync(file, OTHER);
    expectResult(await reader.read(), 'fresh', OTHER_VALUE);
    expect(state.writes).to.have.length(2);
    expect(state.writes[0]?.etag, 'the first copy is created').to.equal(undefined);
    expect(state.writes[1]?.etag, 'the second replaces the first only if unchanged').to.equal(before?.etag);
    expect((await lastGood(state))?.text).to.equal(OTHER);
  });

  it('replaces invalid JSON by the last good copy in memory, and never saves the bad text', async () => {
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, state);
    await reader.read();
    // Take the copy out of the state store: what follows can only come from memory.
    rmSync(join(dir, 'state', LAST_GOOD));
    writeFileSync(file, '{"bld-linux64": 12,');
    const result = await reader.read();
    expectResult(result, 'last-good', GOOD_VALUE);
    expect(result.problem).to.match(/not JSON/);
    expect(state.writes).to.have.length(1);
    expect(existsSync(join(dir, 'state', LAST_GOOD))).to.equal(false);
  });

  it('replaces a copy that fails validation, and a file that disappeared, by the last good copy', async () => {
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, state);
    await reader.read();
    writeFileSync(file, '{"bld-linux64": -1}');
    const invalid = await reader.read();
    expectResult(invalid, 'last-good', GOOD_VALUE);
    expect(invalid.problem).to.match(/non-negative integer/);
    rmSync(file);
    const missing = await reader.read();
    expectResult(missing, 'last-good', GOOD_VALUE);
    expect(missing.problem).to.match(/cannot read desired/);
    expect((await lastGood(state))?.text).to.equal(GOOD);
  });

  it('goes back to fresh once the file is good again', async () => {
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, state);
    await reader.read();
    writeFileSync(file, 'not json');
    expectResult(await reader.read(), 'last-good', GOOD_VALUE);
    writeFileSync(file, OTHER);
    expectResult(await reader.read(), 'fresh', OTHER_VALUE);
  });

  it('in a fresh process, replaces a bad file by the last good copy from the state store', async () => {
    writeFileSync(file, GOOD);
    await desiredReader(file, state).read();
    writeFileSync(file, '{oops');
    const fresh = desiredReader(file, state);
    const first = await fresh.read();
    expectResult(first, 'last-good', GOOD_VALUE);
    expect(first.problem).to.match(/not JSON/);
    // ... and keeps it in memory from then on, even if the state store loses it.
    rmSync(join(dir, 'state', LAST_GOOD));
    expectResult(await fresh.read(), 'last-good', GOOD_VALUE);
  });

  it('in a fresh process, replaces a missing file by the last good copy from the state store', async () => {
    writeFileSync(file, GOOD);
    await desiredReader(file, state).read();
    rmSync(file);
    expectResult(await desiredReader(file, state).read(), 'last-good', GOOD_VALUE);
  });

  it('with no copy anywhere, answers none with no value, and does not throw', async () => {
    const missing = await desiredReader(join(dir, 'nowhere.json'), state).read();
    expectResult(missing, 'none', undefined);
    expect(missing.problem)
      .to.be.a('string')
      .and.match(/cannot read desired/);
    writeFileSync(file, '[1, 2]');
    const invalid = await desiredReader(file, state).read();
    expectResult(invalid, 'none', undefined);
    expect(invalid.problem).to.match(/expected an object/);
    expect(state.writes).to.deep.equal([]);
  });

  it('never uses a last good copy saved for another location', async () => {
    const elsewhere = join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, GOOD);
    expectResult(await desiredReader(elsewhere, state).read(), 'fresh', GOOD_VALUE);
    expect((await lastGood(state))?.location).to.equal(elsewhere);
    writeFileSync(file, 'garbage');
    expectResult(await desiredReader(file, state).read(), 'none', undefined);
  });

  it('saves the copy again, for its own location, when the stored copy has the same text but another location', async () => {
    const elsewhere = join(dir, 'elsewhere.json');
    writeFileSync(elsewhere, GOOD);
    writeFileSync(file, GOOD);
    await desiredReader(elsewhere, state).read();
    await desiredReader(file, state).read();
    expect(await lastGood(state)).to.include({ location: file, text: GOOD });
    expect(state.writes).to.have.length(2);
    // So a fresh process reading `file` is now covered.
    writeFileSync(file, 'garbage');
    expectResult(await desiredReader(file, state).read(), 'last-good', GOOD_VALUE);
  });

  it('does not save again in a fresh process that reads the text already kept', async () => {
    writeFileSync(file, GOOD);
    await desiredReader(file, state).read();
    expectResult(await desiredReader(file, state).read(), 'fresh', GOOD_VALUE);
    expect(state.writes).to.have.length(1);
  });

  it('answers none, without throwing, when the kept copy no longer passes validation', async () => {
    await state.write<LastGoodDoc>(LAST_GOOD, { location: file, text: '{"bld-linux64": "many"}', savedAt: 1 }, undefined);
    writeFileSync(file, 'garbage');
    expectResult(await desiredReader(file, state).read(), 'none', undefined);
  });

  it('answers none, without throwing, when the state store cannot be read', async () => {
    const broken: StateStore = {
      where: 'broken',
      read: () => Promise.reject(new Error('state store unreachable')),
      write: () => Promise.reject(new Error('state store unreachable')),
    };
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, broken);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    writeFileSync(file, 'garbage');
    expectResult(await reader.read(), 'last-good', GOOD_VALUE);
    expectResult(await desiredReader(file, broken).read(), 'none', undefined);
  });

  it('writes nothing with a read-only state store (the runtime passes one whose write is a no-op)', async () => {
    const inner = new DirectoryStateStore(join(dir, 'state'));
    const readOnly: StateStore = { where: inner.where, read: (name) => inner.read(name), write: async () => '' };
    writeFileSync(file, GOOD);
    const reader = desiredReader(file, readOnly);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    writeFileSync(file, 'garbage');
    expectResult(await reader.read(), 'last-good', GOOD_VALUE);
    expect(existsSync(join(dir, 'state', LAST_GOOD))).to.equal(false);
  });
});

interface Served {
  status: number;
  body: string;
  etag?: string;
}

/** A loopback HTTP server serving `served` (mutable), with ETag and If-None-Match; records request headers. */
async function serve(served: Served): Promise<{ url: string; requests: IncomingHttpHeaders[]; close: () => Promise<void> }> {
  const requests: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.headers);
    if (served.status !== 200) {
      res.writeHead(served.status, { 'Content-Type': 'text/plain' });
      res.end('the server is unwell');
      return;
    }
    if (served.etag !== undefined && req.headers['if-none-match'] === served.etag) {
      res.writeHead(304, { ETag: served.etag });
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json', ...(served.etag !== undefined ? { ETag: served.etag } : {}) });
    res.end(served.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/desired.json`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (it was just closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('inputs: InputReader over HTTP', () => {
  afterEach(removeTempDirs);

  let state: RecordingState;
  let served: Served;
  let server: Awaited<ReturnType<typeof serve>>;

  beforeEach(async () => {
    state = new RecordingState(new DirectoryStateStore(join(tempDir(), 'state')));
    served = { status: 200, body: GOOD, etag: '"v1"' };
    server = await serve(served);
  });
  afterEach(async () => {
    await server.close();
  });

  it('reads fresh, then sends If-None-Match and takes a 304 as unchanged', async () => {
    const reader = httpReader(server.url, state);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    expect(server.requests[0]?.['if-none-match'], 'the first request is unconditional').to.equal(undefined);
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expect(server.requests).to.have.length(2);
    expect(server.requests[1]?.['if-none-match']).to.equal('"v1"');
    expect(state.writes).to.have.length(1);
  });

  it('reads a new version (new ETag) as fresh, and then asks with the new ETag', async () => {
    const reader = httpReader(server.url, state);
    await reader.read();
    served.body = OTHER;
    served.etag = '"v2"';
    expectResult(await reader.read(), 'fresh', OTHER_VALUE);
    expect(server.requests[1]?.['if-none-match']).to.equal('"v1"');
    expectResult(await reader.read(), 'unchanged', OTHER_VALUE);
    expect(server.requests[2]?.['if-none-match']).to.equal('"v2"');
    expect((await lastGood(state))?.text).to.equal(OTHER);
  });

  it('takes the newest ETag even when the content did not change, so the next request can be answered 304', async () => {
    const reader = httpReader(server.url, state);
    await reader.read();
    served.etag = '"v1-republished"';
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expect(server.requests[2]?.['if-none-match']).to.equal('"v1-republished"');
  });

  it('replaces an HTTP 500 by the last good copy, without throwing', async () => {
    const reader = httpReader(server.url, state);
    await reader.read();
    served.status = 500;
    const result = await reader.read();
    expectResult(result, 'last-good', GOOD_VALUE);
    expect(result.problem).to.match(/HTTP 500/);
    // A fresh process gets it from the state store.
    expectResult(await httpReader(server.url, state).read(), 'last-good', GOOD_VALUE);
  });

  it('after restarting on the kept copy, becomes conditional again once the server answers', async () => {
    await httpReader(server.url, state).read();
    served.status = 500;
    const restarted = httpReader(server.url, state);
    expectResult(await restarted.read(), 'last-good', GOOD_VALUE);
    served.status = 200;
    expect((await restarted.read()).value).to.deep.equal(GOOD_VALUE);
    expectResult(await restarted.read(), 'unchanged', GOOD_VALUE);
    expect(server.requests.at(-1)?.['if-none-match'], 'the request after a 200 carries its ETag').to.equal('"v1"');
  });

  it('answers none for an HTTP 500 with no copy anywhere', async () => {
    served.status = 500;
    const result = await httpReader(server.url, state).read();
    expectResult(result, 'none', undefined);
    expect(result.problem).to.match(/HTTP 500/);
  });

  it('replaces an invalid body by the last good copy', async () => {
    const reader = httpReader(server.url, state);
    await reader.read();
    served.body = '<html>maintenance</html>';
    served.etag = '"maintenance"';
    expectResult(await reader.read(), 'last-good', GOOD_VALUE);
    expect((await lastGood(state))?.text).to.equal(GOOD);
  });

  it('works without an ETag: every read downloads, the same text is unchanged', async () => {
    delete served.etag;
    const reader = httpReader(server.url, state);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expect(server.requests.map((h) => h['if-none-match'])).to.deep.equal([undefined, undefined]);
  });

  it('replaces a server that cannot be reached by the last good copy, without throwing', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/desired.json`;
    // Keep a copy for this very URL, as an earlier process would have.
    await state.write<LastGoodDoc>(LAST_GOOD, { location: url, text: GOOD, savedAt: 1 }, undefined);
    const result = await httpReader(url, state).read();
    expectResult(result, 'last-good', GOOD_VALUE);
    expect(result.problem).to.match(/cannot read desired/);
  });

  it('answers none for a server that cannot be reached and no copy anywhere', async () => {
    const port = await closedPort();
    const result = await httpReader(`http://127.0.0.1:${port}/desired.json`, state).read();
    expectResult(result, 'none', undefined);
  });

  it('in one process, falls back to memory when the server goes away', async () => {
    const reader = httpReader(server.url, state);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    rmSync(join(state.where, LAST_GOOD));
    await server.close();
    expectResult(await reader.read(), 'last-good', GOOD_VALUE);
  });
});

describe('inputs: InputReader over s3:// (simulated S3)', () => {
  afterEach(removeTempDirs);

  let sim: SimObjects;
  let objects: RecordingObjects;
  let state: RecordingState;
  const location = 's3://fleet-inputs/desired.json';

  beforeEach(() => {
    sim = new SimObjects();
    sim.createBucket('fleet-inputs');
    objects = new RecordingObjects(sim);
    state = new RecordingState(new DirectoryStateStore(join(tempDir(), 'state')));
  });

  const getResults = () => sim.log.filter((l) => l.action === 'GetObject' && l.key === 'desired.json').map((l) => l.result);

  it('reads fresh, then sends If-None-Match and S3 answers NotModified', async () => {
    sim.publish('fleet-inputs', 'desired.json', GOOD);
    const reader = desiredReader(location, state, objects);
    expectResult(await reader.read(), 'fresh', GOOD_VALUE);
    expectResult(await reader.read(), 'unchanged', GOOD_VALUE);
    expect(getResults()).to.deep.equal(['ok', 'NotModified']);
    const etag = (await sim.get('fleet-inputs', 'desired.json')) as StoredObject;
    expect(objects.gets.map((g) => g.ifNoneMatch)).to.deep.equal([undefined, etag.etag]);
    expect(objects.gets[0]).to.include({ bucket: 'fleet-inputs', key: 'desired.json' });
  });

  it('reads a republished object as fresh', async () => {
    sim.publish('fleet-inputs', 'desired.json', GOOD);
    const reader = desiredReader(location, state, objects);
    await reader.read();
    sim.publish('fleet-inputs', 'desired.json', OTHER);
    expectResult(await reader.read(), 'fresh', OTHER_VALUE);
    expectResult(await reader.read(), 'unchanged', OTHER_VALUE);
    expect(getResults()).to.deep.equal(['ok', 'ok', 'NotModified']);
  });

  it('replaces a missing key by the last good copy in memory', async () => {
    sim.publish('fleet-inputs', 'desired.json', GOOD);
    const reader = desiredReader(location, state, objects);
    await reader.read();
    rmSync(join(state.where, LAST_GOOD));
    const empty = new SimObjects();
    empty.createBucket('fleet-inputs');
    objects.inner = empty;
    const result = await reader.read();
    expectResult(result, 'last-good', GOOD_VALUE);
    expect(result.problem).to.match(/does not exist/);
    expect(empty.log.map((l) => l.result)).to.deep.equal(['NoSuchKey']);
  });

  it('in a fresh process, replaces a missing key by the last good copy from the state store, for that location only', async () => {
    sim.publish('fleet-inputs', 'desired.json', GOOD);
    await desiredReader(location, state, objects).read();
    const empty = new SimObjects();
    empty.createBucket('fleet-inputs');
    objects.inner = empty;
    expectResult(await desiredReader(location, state, objects).read(), 'last-good', GOOD_VALUE);
    // The kept copy belongs to `location`, not to another key.
    expectResult(await desiredReader('s3://fleet-inputs/desired-moved.json', state, objects).read(), 'none', undefined);
  });

  it('after restarting on the kept copy (S3 unreachable at first), reads conditionally again once S3 answers', async () => {
    sim.publish('fleet-inputs', 'desired.json', GOOD);
    await desiredReader(location, state, objects).read();
    const unreachable: ObjectStore = {
      get: () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' })),
      put: () => Promise.reject(new Error('unused')),
    };
    objects.inner = unreachable;
    const restarted = desiredReader(location, state, objects);
    expectResult(await restarted.read(), 'last-good', GOOD_VALUE);
    objects.inner = sim;
    expect((await restarted.read()).value).to.deep.equal(GOOD_VALUE);
    expectResult(await restarted.read(), 'unchanged', GOOD_VALUE);
    expectResult(await restarted.read(), 'unchanged', GOOD_VALUE);
    expect(getResults()).to.deep.equal(['ok', 'ok', 'NotModified', 'NotModified']);
  });

  it('answers none for a missing key with no copy anywhere, and for a missing bucket, without throwing', async () => {
    const missingKey = await desiredReader(location, state, objects).read();
    expectResult(missingKey, 'none', undefined);
    expect(missingKey.problem).to.match(/does not exist/);
    expect(getResults()).to.deep.equal(['NoSuchKey']);
    const missingBucket = await desiredReader('s3://no-such-bucket/desired.json', state, objects).read();
    expectResult(missingBucket, 'none', undefined);
  });

  it('answers none for a location with an invalid bucket name, without throwing', async () => {
    const result = await desiredReader('s3://Not_A_Bucket/desired.json', state, objects).read();
    expectResult(result, 'none', undefined);
    expect(result.problem).to.match(/bucket/);
    expect(objects.gets).to.deep.equal([]);
  });
});

describe('inputs: last good copy file contents', () => {
  afterEach(removeTempDirs);

  it('is a JSON document naming its location and the exact text', async () => {
    const dir = tempDir();
    const file = join(dir, 'desired.json');
    writeFileSync(file, `${GOOD}\n`);
    await desiredReader(file, new DirectoryStateStore(join(dir, 'state')), noObjects, () => 7).read();
    const saved = JSON.parse(readFileSync(join(dir, 'state', LAST_GOOD), 'utf8')) as LastGoodDoc;
    expect(saved).to.deep.equal({ location: file, text: `${GOOD}\n`, savedAt: 7 });
  });
});

describe('inputs: the desired document checked against the policies', () => {
  afterEach(removeTempDirs);

  it('refuses a document naming a pool no policy defines: the last good copy is kept, an error names the pool', async () => {
    const dir = tempDir();
    const file = join(dir, 'desired.json');
    const state = new DirectoryStateStore(join(dir, 'state'));
    const { log, lines } = capturedLogger();
    const reader = desiredInput(testConfig({ desired: file }), [policy({ pool: 'bld-linux64' })], noObjects, state, log, () => 1_000);
    writeFileSync(file, '{"bld-linux64": 7}');
    expect((await reader.read()).value?.counts).to.deep.equal({ 'bld-linux64': 7 });
    writeFileSync(file, '{"bld-linux46": 4}');
    const refused = await reader.read();
    expect(refused.source).to.equal('last-good');
    expect(refused.value?.counts).to.deep.equal({ 'bld-linux64': 7 });
    expect(refused.problem).to.match(/no policy defines pool "bld-linux46"/);
    const errors = lines().filter((l) => l.level === 50);
    expect(errors.map((l) => l.msg)).to.deep.equal(['desired refused: ' + refused.problem]);
  });

  it('accepts a pool config ignoredPools lists, and carries the object form through', async () => {
    const dir = tempDir();
    const file = join(dir, 'desired.json');
    writeFileSync(file, JSON.stringify({ 'bld-linux64': { pending: 2, running: 3, busy: ['bld-linux64-spot-001'] }, 'old-pool': 5 }));
    const reader = desiredInput(
      testConfig({ desired: file, ignoredPools: ['old-pool'] }),
      [policy({ pool: 'bld-linux64' })],
      noObjects,
      new DirectoryStateStore(join(dir, 'state')),
      silentLogger(),
      () => 1_000,
    );
    const result = await reader.read();
    expect(result.source).to.equal('fresh');
    expect(result.value).to.deep.equal({
      counts: { 'bld-linux64': 5 },
      demand: { 'bld-linux64': { pending: 2, running: 3, busy: ['bld-linux64-spot-001'] } },
    });
  });

  it('redacts query strings and user info of a URL location', () => {
    expect(redactLocation('https://user:secret@example.com/desired.json?X-Amz-Signature=abc#x')).to.equal(
      'https://example.com/desired.json',
    );
    expect(redactLocation('/etc/fleet/desired.json')).to.equal('/etc/fleet/desired.json');
  });
});
